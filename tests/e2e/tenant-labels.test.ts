/**
 * In open mode the tenant is the caller's credential: a secret-looking one (an operator Bearer key such as
 * `sk-live-…`) never appears verbatim in the logs, the request log or /metrics — only as `key-` and a short
 * hash — while plain names stay readable.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { tenantLabel } from '../../adapters/control/tenant-label';
import { loadSettings } from '../../bin/config';
import { startGateway, type Gateway } from '../../bin/gateway';

const SECRET = 'sk-live-4f9a8b7c6d5e4f3a2b1c';
const OPERATOR = '/api/v1/operators/image-search';

let gateway: Gateway;
let dataDir: string;
let logged = '';

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'isg-labels-'));
  const sink = new Writable({ write: (chunk, _enc, done) => ((logged += chunk.toString()), done()) });
  gateway = await startGateway(loadSettings({ port: 0, host: '127.0.0.1', dataDir }, {}), pino({ level: 'info' }, sink));
  for (const [key, name] of [[SECRET, 'secret-shelf'], ['team-b', 'plain-shelf']]) {
    const res = await fetch(`${gateway.url}${OPERATOR}/library/create`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
      body: JSON.stringify({ library_name: name, mode: 'general_search' }),
    });
    expect(res.status).toBe(200);
  }
});

afterAll(async () => {
  await gateway?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('the rule: secret-looking credentials are hashed, names are not, and verify mode shows config ids as they are', () => {
  expect(tenantLabel('open', SECRET)).toMatch(/^key-[0-9a-f]{10}$/);
  expect(tenantLabel('open', 'LTAI5tAbCdEf')).toMatch(/^key-/);
  expect(tenantLabel('open', 'f0e1d2c3b4a5968778695a4b')).toMatch(/^key-/);
  for (const name of ['default', 'acme', 'team-b', 'my-test-tenant']) expect(tenantLabel('open', name)).toBe(name);
  expect(tenantLabel('verify', SECRET)).toBe(SECRET);
});

test('the key is in none of the logs, the request log or /metrics; its label and the plain name are', async () => {
  const label = tenantLabel('open', SECRET);
  const requests = await (await fetch(`${gateway.url}/_gateway/requests`)).text();
  const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
  for (const text of [logged, requests, metrics]) {
    expect(text).not.toContain(SECRET);
    expect(text).toContain(label);
  }
  expect(metrics).toContain(`isg_store_images{tenant="${label}",library="secret-shelf"} 0`);
  expect(metrics).toContain('isg_store_images{tenant="team-b",library="plain-shelf"} 0');
  expect(requests).toContain('"tenant":"team-b"');
});

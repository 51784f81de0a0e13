/**
 * Slow and silent clients are cut off (server.timeouts): a socket that never finishes its header block, one
 * that sends nothing at all, and one that stops half-way through its body are each closed by the gateway,
 * which keeps answering others. Small timeouts are configured so the test waits little; it asserts that the
 * close happens, never how long it took.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadSettings } from '../../bin/config';
import { startGateway, type Gateway } from '../../bin/gateway';
import { DEFAULT_SERVER_TIMEOUTS } from '../../bin/server-timeouts';

let gateway: Gateway;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'isg-slow-'));
  const settings = loadSettings({ port: 0, host: '127.0.0.1', dataDir }, {});
  settings.timeouts = { headersMs: 300, requestMs: 600, idleMs: 400, keepAliveMs: 300 };
  gateway = await startGateway(settings, pino({ level: 'silent' }));
});

afterAll(async () => {
  await gateway?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Connects, writes `sent`, then waits (without writing more) until the server closes; what it answered. */
function holdUntilClosed(sent: string): Promise<string> {
  const { hostname, port } = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(sent));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve(answer) : reject(err)));
    socket.on('close', () => resolve(answer));
  });
}

/** What a cut-off client sees: nothing, or Node's 408 before the close. */
const cutOff = (answer: string) => answer === '' || answer.startsWith('HTTP/1.1 408 ');

// Node's own defaults would close these only after a minute or more: the tests' limit (30 s) is far above
// the configured timeouts and far below those defaults.
const LIMIT = 30_000;

test('the defaults bound every phase of a request', () => {
  for (const ms of Object.values(DEFAULT_SERVER_TIMEOUTS)) expect(ms).toBeGreaterThan(0);
  expect(DEFAULT_SERVER_TIMEOUTS.headersMs).toBeLessThan(DEFAULT_SERVER_TIMEOUTS.requestMs);
});

test('a header block that never ends is closed', async () => {
  const answer = await holdUntilClosed('GET /_gateway/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: a');
  expect(cutOff(answer)).toBe(true);
}, LIMIT);

test('a socket that sends nothing is closed', async () => {
  expect(cutOff(await holdUntilClosed(''))).toBe(true);
}, LIMIT);

test('a body that stops half-way is closed, and the gateway still answers others', async () => {
  const head = 'POST /api/v1/operators/image-search/library/list HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n';
  const answer = await holdUntilClosed(`${head}{"libr`);
  expect(cutOff(answer)).toBe(true);
  expect((await fetch(`${gateway.url}/_gateway/health`)).status).toBe(200);
}, LIMIT);

/**
 * A fifth vendor through the adapter contract alone: tests/fixtures/fake-vendor/adapter.ts is passed in the
 * vendor list (startGateway's `vendors`) and gets routes, auth, its own errors, fault injection, the request
 * log, metrics labels, an OpenAPI document and migration routing, with no edit outside its folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { VENDORS } from '../../adapters/vendors';
import { PREFIX as OPERATOR } from '../../adapters/operator/limits';
import { loadSettings } from '../../bin/config';
import { startGateway, type Gateway } from '../../bin/gateway';
import { ERRORS, FAKE, FAULT_OPERATIONS, ROUTES } from '../fixtures/fake-vendor/adapter';
import { get, post } from '../helpers/gateway';

const FAKE_API = '/fake/v1';
let gw: Gateway;
let dir: string;
let upstream: http.Server;
let upstreamCalls: string[];

beforeAll(async () => {
  // The fake vendor's "own endpoint", for the migration check: it answers every request itself.
  upstreamCalls = [];
  upstream = http.createServer((req, res) => {
    upstreamCalls.push(`${req.method} ${req.url}`);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ from: 'upstream' }));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

  dir = mkdtempSync(path.join(os.tmpdir(), 'isg-fake-vendor-'));
  const settings = loadSettings({ port: 0, host: '127.0.0.1', dataDir: dir }, {});
  // Shelves named "moved" are served by the vendor's endpoint; the rest locally.
  settings.gateway = { ...settings.gateway, migration: { fake: { upstream: upstreamUrl, mode: 'local', libraries: { moved: 'upstream' } } } };
  gw = await startGateway(settings, pino({ level: 'silent' }), { vendors: [...VENDORS, FAKE] });
});

afterAll(async () => {
  await gw.close();
  await new Promise((resolve) => upstream.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const key = { 'x-fake-key': 'shelf-tenant' };

test('its routes reach the engine under the tenant its auth names, shared with the other APIs', async () => {
  expect((await post(`${gw.url}${FAKE_API}/shelves/books`, { note: 'paper' }, key)).body).toEqual({ created: 'books' });
  // The same tenant through another vendor's API sees the library.
  const listed = await post(`${gw.url}${OPERATOR}/library/list`, {}, { authorization: 'Bearer shelf-tenant' });
  expect(listed.body.data.libraries.map((l: { library_name: string }) => l.library_name)).toContain('books');
  expect((await get(`${gw.url}${FAKE_API}/shelves`, key)).body).toEqual({ shelves: ['books'] });
  // Another tenant does not.
  expect((await get(`${gw.url}${FAKE_API}/shelves`, { 'x-fake-key': 'someone-else' })).body).toEqual({ shelves: [] });
});

test('its own errors: auth refusal, engine errors, unknown routes', async () => {
  const noKey = await get(`${gw.url}${FAKE_API}/shelves`);
  expect([noKey.status, noKey.body]).toEqual([ERRORS.NO_KEY, { fault: 'NO_KEY' }]);
  await post(`${gw.url}${FAKE_API}/shelves/twice`, {}, key);
  const again = await post(`${gw.url}${FAKE_API}/shelves/twice`, {}, key);
  expect([again.status, again.body]).toEqual([ERRORS.EXISTS, { fault: 'EXISTS' }]);
  const unknown = await get(`${gw.url}${FAKE_API}/nowhere`, key);
  expect([unknown.status, unknown.body]).toEqual([ERRORS.NO_SUCH_ROUTE, { fault: 'NO_SUCH_ROUTE' }]);
});

test('fault injection takes its codes and operations, and it answers in its own words', async () => {
  const catalog = (await get(`${gw.url}/_gateway/faults`)).body.catalog;
  expect(catalog.fake).toEqual({ codes: Object.keys(ERRORS), throttle: 'BUSY', operations: FAULT_OPERATIONS });
  expect(FAULT_OPERATIONS).toEqual(ROUTES.map((r) => r.operation));
  expect((await post(`${gw.url}/_gateway/faults`, { vendor: 'fake', operation: 'nope', code: 'BROKEN' })).status).toBe(400);
  expect((await post(`${gw.url}/_gateway/faults`, { vendor: 'fake', operation: 'listShelves', code: 'NOT_A_CODE' })).status).toBe(400);
  expect((await post(`${gw.url}/_gateway/faults`, { vendor: 'fake', operation: 'listShelves', throttle: true, times: 1 })).status).toBe(201);
  const throttled = await get(`${gw.url}${FAKE_API}/shelves`, key);
  expect([throttled.status, throttled.body]).toEqual([ERRORS.BUSY, { fault: 'BUSY' }]);
  expect((await get(`${gw.url}${FAKE_API}/shelves`, key)).status).toBe(200);
});

test('the request log and metrics label its requests by its name and operations', async () => {
  await get(`${gw.url}${FAKE_API}/shelves`, key);
  const logged = (await get(`${gw.url}/_gateway/requests?vendor=fake&operation=listShelves&limit=1`)).body.requests;
  expect(logged.map((r: any) => [r.vendor, r.operation, r.status])).toEqual([['fake', 'listShelves', 200]]);
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  expect(metrics).toMatch(/isg_requests_total\{vendor="fake",operation="listShelves",status="200",error_code=""\} [1-9]/);
  expect(metrics).toMatch(/isg_requests_total\{vendor="fake",operation="createShelf",status="409",error_code="EXISTS"\} [1-9]/);
});

test('an OpenAPI document from its route table and schema folder, listed on /docs', async () => {
  const doc = (await get(`${gw.url}/docs/fake.json`)).body;
  expect(doc.servers).toEqual([{ url: FAKE_API }]);
  expect(doc.paths['/shelves/{shelf}'].post.operationId).toBe('createShelf');
  expect(doc.paths['/shelves/{shelf}'].post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/shelf-create' });
  expect(doc.components.schemas['shelf-create'].properties.note).toEqual({ type: 'string', maxLength: 200 });
  expect(doc.paths['/shelves'].get.operationId).toBe('listShelves');
  expect(await (await fetch(`${gw.url}/docs`)).text()).toContain('Fake shelves API');
});

test('migration routes its requests by its owns() and classify(): a library set to upstream goes to its endpoint', async () => {
  upstreamCalls.length = 0;
  const moved = await post(`${gw.url}${FAKE_API}/shelves/moved`, {}, key);
  expect(moved.body).toEqual({ from: 'upstream' });
  expect(upstreamCalls).toEqual([`POST ${FAKE_API}/shelves/moved`]);
  // Another shelf stays local.
  expect((await post(`${gw.url}${FAKE_API}/shelves/kept`, {}, key)).body).toEqual({ created: 'kept' });
  expect(upstreamCalls).toHaveLength(1);
  const status = (await get(`${gw.url}/_gateway/migration`)).body;
  expect(status.vendors).toEqual([expect.objectContaining({ vendor: 'fake', mode: 'local', libraries: { moved: 'upstream' } })]);
});

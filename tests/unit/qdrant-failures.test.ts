/**
 * Qdrant unreachable, hanging or failing → core's UnavailableError, after bounded retries for idempotent
 * reads and without retrying writes → the adapters' service-unavailable answer. "Qdrant" here is a real
 * HTTP server on 127.0.0.1 (tests/helpers/qdrant-fake-server.ts): the client talks real HTTP to it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { PREFIX as OPERATOR_PREFIX } from '../../adapters/operator/limits';
import { STATUS as OPERATOR_STATUS } from '../../adapters/operator/errors';
import { loadSettings } from '../../bin/config';
import { startGateway, type Gateway } from '../../bin/gateway';
import { EngineError, UnavailableError } from '../../core/errors';
import { QdrantStore } from '../../core/store/qdrant';
import { post } from '../helpers/gateway';
import { ok, refusingUrl, startFakeQdrant, type FakeAnswer, type FakeQdrant, type RecordedRequest } from '../helpers/qdrant-fake-server';

const REF = { tenant: 't', name: 'lib' };
const READ_RETRIES = 2;

/** Answers a healthy, empty Qdrant would give to what the store asks first. */
function emptyQdrant(req: RecordedRequest): FakeAnswer {
  if (req.path.endsWith('/exists')) return ok({ exists: true });
  if (req.path.endsWith('/index')) return ok({ operation_id: 1, status: 'completed' });
  if (req.path.endsWith('/points/scroll')) return ok({ points: [], next_page_offset: null });
  if (req.method === 'POST' && req.path.endsWith('/points')) return ok([]); // retrieve
  return ok({ operation_id: 1, status: 'completed' });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
}

describe('qdrant store failures', () => {
  let fake: FakeQdrant | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  it('connection refused → unavailable', async () => {
    const store = new QdrantStore({ url: await refusingUrl(), readRetries: READ_RETRIES });
    const e = await rejection(store.getLibrary(REF));
    expect(e).toBeInstanceOf(UnavailableError);
    expect((e as Error).message).toMatch(/unreachable/);
  });

  it('a Qdrant that never answers → unavailable after 1 + readRetries attempts of a read', async () => {
    fake = await startFakeQdrant(() => 'hang');
    const store = new QdrantStore({ url: fake.url, timeoutMs: 150, readRetries: READ_RETRIES });
    const e = await rejection(store.listLibraries('t'));
    expect(e).toBeInstanceOf(UnavailableError);
    expect((e as Error).message).toMatch(/timed out/);
    expect(fake.requests).toHaveLength(1 + READ_RETRIES);
  });

  it.each([503, 502, 429])('HTTP %i on a read → retried, then unavailable', async (status) => {
    fake = await startFakeQdrant(() => ({ status, body: { status: { error: 'busy' }, time: 0 } }));
    const store = new QdrantStore({ url: fake.url, readRetries: READ_RETRIES });
    expect(await rejection(store.getTask('t', 'x'))).toBeInstanceOf(UnavailableError);
    expect(fake.requests).toHaveLength(1 + READ_RETRIES);
  });

  it('a read that recovers within the retries succeeds', async () => {
    let calls = 0;
    fake = await startFakeQdrant((req) => (++calls === 1 ? { status: 503, body: {} } : emptyQdrant(req)));
    const store = new QdrantStore({ url: fake.url, readRetries: READ_RETRIES });
    expect(await store.getLibrary(REF)).toBeUndefined();
  });

  it('a failing write is tried once and not acknowledged', async () => {
    fake = await startFakeQdrant((req) => (req.method === 'PUT' && req.path === '/collections/isg_meta/points' ? { status: 503, body: {} } : emptyQdrant(req)));
    const store = new QdrantStore({ url: fake.url, readRetries: READ_RETRIES });
    const e = await rejection(store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0 }));
    expect(e).toBeInstanceOf(UnavailableError);
    const writes = fake.requests.filter((r) => r.method === 'PUT' && r.path === '/collections/isg_meta/points');
    expect(writes).toHaveLength(1);
    // the write asked to be applied before answering, and to insert only
    expect(writes[0].query.get('wait')).toBe('true');
    expect(writes[0].body).toMatchObject({ update_mode: 'insert_only', points: [{ payload: { kind: 'library', tenant: 't', name: 'lib' } }] });
  });

  it('a request Qdrant refuses as wrong (4xx) is a bug: an internal error, not unavailable, not retried', async () => {
    fake = await startFakeQdrant(() => ({ status: 400, body: { status: { error: 'Wrong input: bad filter' }, time: 0 } }));
    const store = new QdrantStore({ url: fake.url, readRetries: READ_RETRIES });
    const e = await rejection(store.getLibrary(REF));
    expect(e).not.toBeInstanceOf(EngineError);
    expect((e as Error).message).toContain('Wrong input: bad filter');
    expect(fake.requests).toHaveLength(1);
  });
});

describe('adapters while Qdrant is down', () => {
  let fake: FakeQdrant;
  let gateway: Gateway;
  let dir: string;
  let mode: 'up' | 'hang' | 'fail' = 'up';

  beforeAll(async () => {
    fake = await startFakeQdrant((req) => (mode === 'hang' ? 'hang' : mode === 'fail' ? { status: 503, body: {} } : emptyQdrant(req)));
    dir = mkdtempSync(path.join(os.tmpdir(), 'isg-qdrant-down-'));
    const settings = loadSettings({ port: 0, host: '127.0.0.1', dataDir: dir }, { ISG_STORE: 'qdrant', ISG_QDRANT_URL: fake.url });
    settings.store = { kind: 'qdrant', qdrant: { url: fake.url, timeoutMs: 200, readRetries: 1 } };
    gateway = await startGateway(settings, pino({ level: 'silent' }));
  });
  afterAll(async () => {
    mode = 'up';
    await gateway.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // One row per adapter: a read-only request and how its vendor says "service unavailable".
  const adapters = [
    {
      name: 'operator',
      send: () => post(`${gateway.url}${OPERATOR_PREFIX}/library/describe`, { library_name: 'lib' }),
      expectUnavailable: (res: { status: number; body: any }) =>
        expect([res.status, res.body.status, res.body.data]).toEqual([503, OPERATOR_STATUS.serviceUnavailable, null]),
    },
  ];

  it.each(adapters.flatMap((a) => (['hang', 'fail'] as const).map((m) => [a.name, m, a] as const)))(
    '%s answers service unavailable when Qdrant is %s',
    async (_name, m, adapter) => {
      mode = m;
      adapter.expectUnavailable(await adapter.send());
    },
  );

  it('the settings pick the Qdrant store from ISG_STORE / ISG_QDRANT_URL', () => {
    const settings = loadSettings({ dataDir: dir }, { ISG_STORE: 'qdrant', ISG_QDRANT_URL: 'http://q:6333', ISG_QDRANT_API_KEY: 'k' });
    expect(settings.store).toEqual({ kind: 'qdrant', qdrant: { url: 'http://q:6333', apiKey: 'k' } });
    expect(() => loadSettings({ dataDir: dir }, { ISG_STORE: 'qdrant' })).toThrow(/url/);
    expect(loadSettings({ dataDir: dir }, {}).store).toEqual({ kind: 'embedded', dir: path.join(dir, 'store'), annThreshold: undefined });
  });
});

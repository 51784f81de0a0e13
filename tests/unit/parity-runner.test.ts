/**
 * The parity runner against a small scripted HTTP server on loopback: waiting for a write to show (only the
 * last answer recorded, every try counted), cleanup after a failed step, the request bound, the dry run.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runScenario } from '../../adapters/parity/runner';
import type { ParityRequest, ScenarioContext, VendorParity } from '../../adapters/parity/types';

let server: http.Server;
let base: string;
let received: string[] = [];
/** Answers of GET /count: the scripted sequence, then the last one again. */
let counts: number[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    received.push(`${req.method} ${req.url}`);
    res.setHeader('content-type', 'application/json; charset=utf-8');
    if (req.url === '/count') res.end(JSON.stringify({ count: counts.length > 1 ? counts.shift() : counts[0], request_id: `req-${received.length}-0123456789` }));
    else if (req.url === '/boom') req.socket.destroy();
    else res.end(JSON.stringify({ ok: true }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  received = [];
});

const get = (path: string): ParityRequest => ({ method: 'GET', path });

function vendor(main: (ctx: ScenarioContext) => Promise<void>): VendorParity {
  return {
    vendor: 'test',
    scenarioVersion: 1,
    credentialsShape: '{}',
    async session() {
      return {
        known: [],
        secrets: [],
        sign: () => ({ authorization: 'Bearer secret-value' }),
        main,
        cleanup: async (ctx) => void (await ctx.step('cleanup', get('/cleanup'))),
      };
    },
  };
}

test('a step with until is sent again until the answer satisfies it; only the last answer is recorded', async () => {
  counts = [0, 1, 3];
  const v = vendor(async (ctx) => void (await ctx.step('wait-for-three', get('/count'), { until: (r) => (r.body as { count: number }).count === 3 })));
  const result = await runScenario(v, { endpoint: base, credentials: undefined, pollIntervalMs: 0, maxWaitMs: 10 });
  expect(received).toEqual(['GET /count', 'GET /count', 'GET /count', 'GET /cleanup']);
  expect(result.steps.map((s) => s.step)).toEqual(['wait-for-three', 'cleanup']);
  expect(result.steps[0].response).toEqual({ status: 200, contentType: 'application/json', body: { count: 3, request_id: '<request-id>' } });
  expect(result.stopped).toBeUndefined();
});

test('waiting ends at the max wait, with the last answer recorded', async () => {
  counts = [0];
  const v = vendor(async (ctx) => void (await ctx.step('never', get('/count'), { until: () => false })));
  const result = await runScenario(v, { endpoint: base, credentials: undefined, pollIntervalMs: 1, maxWaitMs: 3 });
  expect(received.filter((r) => r === 'GET /count')).toHaveLength(4);
  expect(result.steps[0].response).toMatchObject({ status: 200, body: { count: 0 } });
});

test('a failed step stops the scenario; cleanup still runs and is recorded', async () => {
  const v = vendor(async (ctx) => {
    await ctx.step('first', get('/one'));
    await ctx.step('broken', get('/boom'));
    await ctx.step('never-sent', get('/two'));
  });
  const result = await runScenario(v, { endpoint: base, credentials: undefined });
  expect(received).toEqual(['GET /one', 'GET /boom', 'GET /cleanup']);
  expect(result.steps.map((s) => s.step)).toEqual(['first', 'broken', 'cleanup']);
  expect(result.steps[1].response).toMatchObject({ error: expect.stringMatching(/^request failed/) });
  expect(result.stopped).toMatch(/^the scenario stopped/);
});

test('a failed cleanup step does not stop the next one', async () => {
  const v: VendorParity = {
    ...vendor(async () => undefined),
    async session() {
      return {
        known: [],
        secrets: [],
        sign: () => ({}),
        main: async (ctx) => void (await ctx.step('made', get('/made'))),
        cleanup: async (ctx) => {
          await ctx.step('cleanup-1', get('/boom'));
          await ctx.step('cleanup-2', get('/cleanup'));
        },
      };
    },
  };
  const result = await runScenario(v, { endpoint: base, credentials: undefined });
  expect(received).toEqual(['GET /made', 'GET /boom', 'GET /cleanup']);
  expect(result.steps.map((s) => s.step)).toEqual(['made', 'cleanup-1', 'cleanup-2']);
  expect(result.stopped).toBe('cleanup steps failed: cleanup-1 (delete what they name by hand)');
});

test('the bound counts every try; cleanup goes past it', async () => {
  counts = [0];
  const v = vendor(async (ctx) => {
    await ctx.step('polls', get('/count'), { until: () => false });
    await ctx.step('after', get('/after'));
  });
  const result = await runScenario(v, { endpoint: base, credentials: undefined, maxRequests: 2, pollIntervalMs: 0, maxWaitMs: 100 });
  expect(received).toEqual(['GET /count', 'GET /count', 'GET /cleanup']);
  expect(result.stopped).toBe('stopped at the request bound (2) before step after');
});

test('a dry run prints every request with the secrets removed and sends nothing', async () => {
  const lines: string[] = [];
  const v = vendor(async (ctx) => {
    expect(await ctx.step('one', get('/one'))).toBeUndefined();
  });
  const result = await runScenario(v, { endpoint: base, credentials: undefined, dryRun: true, print: (l) => lines.push(l) });
  expect(received).toEqual([]);
  expect(result.steps.map((s) => s.step)).toEqual(['one', 'cleanup']);
  expect(lines.join('\n')).toContain('authorization: <removed>');
  expect(lines.join('\n')).not.toContain('secret-value');
});

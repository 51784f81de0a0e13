/**
 * The control plane for test suites and operators, over HTTP against a real gateway: health, reset (all
 * tenants, one tenant, LocalStack and moto aliases, configured libraries restored), fault injection per
 * vendor answered in each vendor's own words (read from its errors.ts), the request log, Prometheus
 * metrics, admin keys in verify mode, the OpenAPI documents, and graceful shutdown.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { PREFIX as OPERATOR } from '../../adapters/operator/limits';
import { STATUS } from '../../adapters/operator/errors';
import { GATEWAY, IS } from '../../adapters/huawei/errors';
import { ERRORS as ALIBABA_ERRORS } from '../../adapters/alibaba/errors';
import { ERRORS as QINIU_ERRORS } from '../../adapters/qiniu/errors';
import { FAULT_CATALOG as OPERATOR_FAULTS } from '../../adapters/operator';
import { FAULT_CATALOG as HUAWEI_FAULTS } from '../../adapters/huawei';
import { FAULT_CATALOG as ALIBABA_FAULTS } from '../../adapters/alibaba';
import { FAULT_CATALOG as QINIU_FAULTS } from '../../adapters/qiniu';
import { DOCS, SCHEMAS_DIR } from '../../adapters/control/openapi';
import { rpc } from '../helpers/alibaba';
import { get, post, startTestGateway, type TestGateway } from '../helpers/gateway';
import { hw } from '../helpers/huawei-client';
import { productImage } from '../helpers/product-images';

let gw: TestGateway;
const CONFIGURED = { tenant: 'cfg', name: 'fixed', mode: 'general_search' };
const op = (p: string, body: unknown, tenant?: string) => post(`${gw.url}${OPERATOR}/${p}`, body, tenant ? { authorization: `Bearer ${tenant}` } : {});
const fault = (rule: unknown) => post(`${gw.url}/_gateway/faults`, rule);
const del = (p: string) => fetch(`${gw.url}${p}`, { method: 'DELETE' });
const huaweiAuth = { authorization: `SDK-HMAC-SHA256 Access=hw, SignedHeaders=host;x-sdk-date, Signature=${'0'.repeat(64)}`, 'x-sdk-date': '20260101T000000Z' };
const libraries = async (tenant: string) => (await op('library/list', {}, tenant)).body.data.libraries.map((l: any) => l.library_name);

beforeAll(async () => {
  gw = await startTestGateway({ libraries: [CONFIGURED] });
});
afterAll(() => gw?.destroy());
afterEach(async () => {
  await del('/_gateway/faults');
});

describe('health and reset', () => {
  test('health, ready and the LocalStack health alias', async () => {
    expect(await get(`${gw.url}/_gateway/health`)).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await get(`${gw.url}/_gateway/ready`)).toEqual({ status: 200, body: { ready: true } });
    expect((await get(`${gw.url}/_localstack/health`)).status).toBe(200);
  });

  test('reset one tenant, then all; configured libraries come back; aliases do the same', async () => {
    const image = (await productImage('red', 'circle')).toString('base64');
    for (const t of ['alpha', 'beta']) {
      expect((await op('library/create', { library_name: `${t}-lib`, mode: 'general_search' }, t)).status).toBe(200);
      expect((await op('image/add', { library_name: `${t}-lib`, image_id: 'a', image_uri: 'a.jpg', image_base64: image }, t)).status).toBe(200);
    }
    const one = await post(`${gw.url}/_gateway/state/reset`, { tenant: 'alpha' });
    expect([one.status, one.body.reset]).toEqual([200, 'alpha']);
    console.log(`reset of one tenant took ${one.body.ms} ms`);
    expect(await libraries('alpha')).toEqual([]);
    expect(await libraries('beta')).toEqual(['beta-lib']);

    const all = await post(`${gw.url}/_gateway/state/reset`, '');
    expect([all.status, all.body.reset]).toEqual([200, 'all']);
    console.log(`reset of all tenants took ${all.body.ms} ms`);
    expect(await libraries('beta')).toEqual([]);
    expect(await libraries(CONFIGURED.tenant)).toEqual([CONFIGURED.name]);

    await op('library/create', { library_name: 'again', mode: 'general_search' }, 'beta');
    expect((await post(`${gw.url}/moto-api/reset`, '')).status).toBe(200);
    expect(await libraries('beta')).toEqual([]);
    await op('library/create', { library_name: 'again', mode: 'general_search' }, 'beta');
    expect((await post(`${gw.url}/_localstack/state/reset?tenant=beta`, '')).body.reset).toBe('beta');
    expect(await libraries('beta')).toEqual([]);
    expect(await libraries(CONFIGURED.tenant)).toEqual([CONFIGURED.name]);
  });

  test('a reset body that is not the schema is a control-plane 400, not a crash', async () => {
    const bad = await post(`${gw.url}/_gateway/state/reset`, { tenant: 5 });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'INVALID_ARGUMENT']);
    const notJson = await post(`${gw.url}/_gateway/state/reset`, '{');
    expect([notJson.status, notJson.body.error.code]).toEqual([400, 'INVALID_ARGUMENT']);
    // A NUL in the tenant (which once truncated SQL text built by concatenation), in the body or the query.
    for (const nul of [await post(`${gw.url}/_gateway/state/reset`, '{"tenant":"\\u0000"}'), await post(`${gw.url}/_gateway/state/reset?tenant=%00`, '')]) {
      expect([nul.status, nul.body.error.code, nul.body.error.message]).toEqual([400, 'INVALID_ARGUMENT', 'tenant has characters that are not allowed']);
    }
    // A tenant named like SQL is only a name: it resets nothing of anyone else's.
    expect((await post(`${gw.url}/_gateway/state/reset`, { tenant: "x' OR '1'='1" })).status).toBe(200);
    expect(await libraries(CONFIGURED.tenant)).toEqual([CONFIGURED.name]);
  });

  test('a fault rule nested 3,000 levels deep is a 400, not a crash', async () => {
    const deep = `{"vendor":"qiniu","throttle":true,"seed":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}`;
    const res = await post(`${gw.url}/_gateway/faults`, deep);
    expect([res.status, res.body.error.code]).toEqual([400, 'INVALID_ARGUMENT']);
  });
});

describe('fault injection in each vendor\'s own words', () => {
  test('throttling: operator 429, Huawei APIGW.0308, Alibaba DeniedRequest, Qiniu 571', async () => {
    for (const vendor of ['operator', 'huawei', 'alibaba', 'qiniu']) expect((await fault({ vendor, throttle: true, times: 1 })).status).toBe(201);

    const operator = await op('library/list', {});
    expect([operator.status, operator.body.status]).toEqual([429, STATUS.tooManyRequests]);
    const huawei = await hw(gw.url, 'GET', '/v1/p1/service/any', undefined, huaweiAuth);
    expect([huawei.status, huawei.body.error_code, huawei.body.error_msg]).toEqual([GATEWAY.throttled.http, GATEWAY.throttled.code, GATEWAY.throttled.msg]);
    const alibaba = await rpc(gw.url, 'Detail', { InstanceName: 'any' });
    expect([alibaba.status, alibaba.body.Code, alibaba.body.Message]).toEqual([ALIBABA_ERRORS.DeniedRequest[0], 'DeniedRequest', ALIBABA_ERRORS.DeniedRequest[1]]);
    const qiniu = await get(`${gw.url}/v1/image/group`);
    expect(qiniu).toEqual({ status: QINIU_ERRORS.overload.http, body: { error: QINIU_ERRORS.overload.message } });

    // times: 1 → spent; the next call of each is served normally.
    expect((await op('library/list', {})).status).toBe(200);
    expect((await get(`${gw.url}/v1/image/group`)).status).toBe(200);
  });

  test('a named code on one operation only; probability 0 never fires; the rule counts what it fired', async () => {
    const created = await fault({ vendor: 'huawei', operation: 'queryInstance', code: IS.serviceNotRunning.code });
    await fault({ vendor: 'operator', code: STATUS.internalError, probability: 0 });
    const hit = await hw(gw.url, 'GET', '/v1/p1/service/any', undefined, huaweiAuth);
    expect([hit.status, hit.body]).toEqual([400, { error_code: IS.serviceNotRunning.code, error_msg: IS.serviceNotRunning.msg }]);
    const other = await hw(gw.url, 'POST', '/v1/p1/any/image/check', { path: 'x' }, huaweiAuth);
    expect(other.body.error_code).toBe(IS.noInstance.code); // not the injected one
    for (let i = 0; i < 5; i++) expect((await op('library/list', {})).status).toBe(200);
    const rules = (await get(`${gw.url}/_gateway/faults`)).body.faults;
    expect(rules.map((r: any) => [r.id, r.fired])).toEqual([[created.body.id, 1], [expect.any(String), 0]]);
    expect((await del(`/_gateway/faults/${created.body.id}`)).status).toBe(204);
    expect((await del(`/_gateway/faults/${created.body.id}`)).status).toBe(404);
  });

  test('the same seed gives the same sequence of failures', async () => {
    const run = async () => {
      await fault({ vendor: 'operator', operation: 'library/list', code: STATUS.serviceUnavailable, probability: 0.5, seed: 42 });
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await op('library/list', {})).status);
      await del('/_gateway/faults');
      return statuses;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    expect(new Set(first)).toEqual(new Set([200, 503]));
  });

  test('codes and operations not in the vendor\'s table are refused; the catalog lists them', async () => {
    const catalog = (await get(`${gw.url}/_gateway/faults`)).body.catalog;
    expect(catalog).toEqual(JSON.parse(JSON.stringify({ operator: OPERATOR_FAULTS, huawei: HUAWEI_FAULTS, alibaba: ALIBABA_FAULTS, qiniu: QINIU_FAULTS })));
    expect(catalog.alibaba.codes).toEqual(Object.keys(ALIBABA_ERRORS));
    const cases = [
      { vendor: 'alibaba', code: 'NoSuchCode' },
      { vendor: 'qiniu', operation: 'nope' },
      { vendor: 'operator', code: STATUS.internalError, throttle: true },
      { vendor: 'elsewhere' },
      { vendor: 'qiniu', probability: 2 },
    ];
    for (const c of cases) {
      const res = await fault(c);
      expect([res.status, res.body.error.code]).toEqual([400, 'INVALID_ARGUMENT']);
    }
  });
});

describe('request log and metrics', () => {
  test('recent calls per vendor with status and error code; never the query string', async () => {
    await del('/_gateway/requests');
    await fault({ vendor: 'alibaba', operation: 'Detail', code: 'ServiceUnavailable', times: 1 });
    await rpc(gw.url, 'Detail', { InstanceName: 'x' });
    await post(`${gw.url}${OPERATOR}/library/describe?api_key=secret-looking`, { library_name: 'missing' }, { authorization: 'Bearer logged' });
    await get(`${gw.url}/v1/image/group/none/info`);

    const all = (await get(`${gw.url}/_gateway/requests`)).body.requests;
    expect(all.map((r: any) => [r.vendor, r.operation, r.status, r.errorCode])).toEqual([
      ['qiniu', 'groupInfo', 400, '400'],
      ['operator', 'library/describe', 404, STATUS.libraryNotFound],
      ['alibaba', 'Detail', 503, 'ServiceUnavailable'],
    ]);
    expect(all[2]).toMatchObject({ fault: 'ServiceUnavailable', path: '/', method: 'POST' });
    expect(all[1]).toMatchObject({ tenant: 'logged', path: `${OPERATOR}/library/describe` });
    expect(JSON.stringify(all)).not.toContain('secret-looking');
    const operatorOnly = (await get(`${gw.url}/_gateway/requests?vendor=operator&limit=5`)).body.requests;
    expect(operatorOnly.map((r: any) => r.vendor)).toEqual(['operator']);
  });

  test('Prometheus: requests by vendor/operation/status/code, latency, embedding batches and queue wait, store size', async () => {
    await op('library/create', { library_name: 'metered', mode: 'general_search' }, 'meter');
    const image = (await productImage('blue', 'square')).toString('base64');
    await Promise.all([1, 2, 3].map((i) => op('image/add', { library_name: 'metered', image_id: `m${i}`, image_uri: `m${i}.jpg`, image_base64: image }, 'meter')));
    await op('library/describe', { library_name: 'nope' }, 'meter');

    const res = await fetch(`${gw.url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    const value = (line: string) => Number(text.split('\n').find((l) => l.startsWith(line))?.slice(line.length + 1));
    expect(value('isg_requests_total{vendor="operator",operation="image/add",status="200",error_code=""}')).toBeGreaterThanOrEqual(3);
    expect(value(`isg_requests_total{vendor="operator",operation="library/describe",status="404",error_code="${STATUS.libraryNotFound}"}`)).toBeGreaterThanOrEqual(1);
    expect(value('isg_request_duration_seconds_count{vendor="operator",operation="image/add"}')).toBeGreaterThanOrEqual(3);
    expect(value('isg_embed_batch_size_sum{model="default",tower="visual"}')).toBeGreaterThanOrEqual(3);
    expect(value('isg_embed_queue_wait_seconds_count{model="default",tower="visual"}')).toBeGreaterThanOrEqual(3);
    expect(value('isg_store_images{tenant="meter",library="metered"}')).toBe(3);
    expect(text).toContain('isg_process_cpu_user_seconds_total');
  });
});

describe('verify mode', () => {
  test('without control.adminKeys the control endpoints are refused; with them, only to their bearers', async () => {
    const tenants = [{ id: 't', operator: { apiKeys: ['tenant-key-1'] } }];
    const locked = await startTestGateway({ auth: { mode: 'verify', tenants } });
    try {
      const res = await post(`${locked.url}/_gateway/state/reset`, '');
      expect([res.status, res.body.error.code]).toEqual([403, 'CONTROL_DISABLED']);
      expect((await get(`${locked.url}/_gateway/health`)).status).toBe(200);
      // /metrics names every tenant and library: behind the admin keys by default in verify mode.
      expect((await fetch(`${locked.url}/metrics`)).status).toBe(403);
    } finally {
      await locked.destroy();
    }
    const keyed = await startTestGateway({ auth: { mode: 'verify', tenants }, control: { adminKeys: ['admin-key-123'] } });
    try {
      expect((await post(`${keyed.url}/_gateway/faults`, { vendor: 'qiniu', throttle: true }, { authorization: 'Bearer tenant-key-1' })).status).toBe(401);
      expect((await get(`${keyed.url}/_gateway/requests`)).status).toBe(401);
      expect((await post(`${keyed.url}/moto-api/reset`, '', { authorization: 'Bearer admin-key-123' })).status).toBe(200);
      expect((await fetch(`${keyed.url}/metrics`, { headers: { authorization: 'Bearer tenant-key-1' } })).status).toBe(401);
      expect((await fetch(`${keyed.url}/metrics`, { headers: { authorization: 'Bearer admin-key-123' } })).status).toBe(200);
    } finally {
      await keyed.destroy();
    }
    const scraped = await startTestGateway({ auth: { mode: 'verify', tenants }, control: { metrics: 'open' } });
    try {
      expect((await fetch(`${scraped.url}/metrics`)).status).toBe(200);
    } finally {
      await scraped.destroy();
    }
  });
});

describe('OpenAPI documents at /docs', () => {
  const vendors = { operator: OPERATOR_FAULTS, huawei: HUAWEI_FAULTS, alibaba: ALIBABA_FAULTS, qiniu: QINIU_FAULTS };

  test.each(Object.keys(vendors) as Array<keyof typeof vendors>)('%s: every schema and every operation of the adapter is in the document', async (vendor) => {
    const doc = (await get(`${gw.url}/docs/${vendor}.json`)).body;
    expect(doc.openapi).toBe('3.1.0');
    const operations = Object.values(doc.paths).flatMap((methods: any) => Object.values(methods).map((o: any) => o.operationId));
    expect(operations).toEqual(expect.arrayContaining([...vendors[vendor].operations]));
    const refs = JSON.stringify(doc.paths).match(/#\/components\/schemas\/[^"]+/g) ?? [];
    const schemaFiles = readdirSync(path.join(SCHEMAS_DIR, vendor)).filter((f) => f.endsWith('.json') && !f.startsWith('_') && f !== 'import-line.json');
    expect(new Set(refs.map((r) => `${r.split('/').pop()}.json`))).toEqual(new Set(schemaFiles));
    // Every $ref inside the document resolves.
    const resolve = (ref: string) => ref.slice(2).split('/').reduce((node: any, key) => node?.[key], doc);
    for (const ref of JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? []) expect(resolve(ref.slice(8, -1))).toBeDefined();
  });

  test('the index page lists every API', async () => {
    const html = await (await fetch(`${gw.url}/docs`)).text();
    for (const d of Object.values(DOCS)) expect(html).toContain(d.title.replace(/&/g, '&#38;'));
  });
});

describe('graceful shutdown', () => {
  test('close() lets a request in flight finish, then refuses new connections', async () => {
    const own = await startTestGateway();
    try {
      // A slow request: the fault adds latency only (no error), and counts when the request reaches it.
      await post(`${own.url}/_gateway/faults`, { vendor: 'operator', operation: 'library/list', latencyMs: 500 });
      const inFlight = post(`${own.url}${OPERATOR}/library/list`, {});
      while ((await get(`${own.url}/_gateway/faults`)).body.faults[0].fired === 0);
      const closed = own.close();
      const answer = await inFlight;
      expect([answer.status, answer.body.status]).toEqual([200, STATUS.success]);
      await closed;
      await expect(fetch(`${own.url}/_gateway/health`)).rejects.toThrow();
    } finally {
      await own.destroy();
    }
  });
});

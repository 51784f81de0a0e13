/**
 * Shadow mode on a known set. The "vendor" is a second gateway in verify mode (it checks the client's
 * Qiniu signature with the real secret); the gateway under test is in open mode in front of it with the
 * group in shadow mode. Writes through the gateway reach both sides; three images exist at the vendor
 * only (added before the gateway was put in front). Every search answer the client gets is the vendor's,
 * so the expected overlap@k is computed from it: the local library holds exactly the images added through
 * the gateway, and it uses the same model, so equal images must score equally (score delta 0).
 */
import * as qiniu from 'qiniu';
import { ERRORS as QINIU_ERRORS } from '../../adapters/qiniu/errors';
import { OVERLAP_K_MAX } from '../../adapters/migration/limits';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { productImage, type Shape } from '../helpers/product-images';
import { dataUri } from '../helpers/qiniu';

const KEY = { ak: 'ShadowAccessKey', sk: 'ShadowSecretKey' };
const mac = new qiniu.auth.digest.Mac(KEY.ak, KEY.sk);
const GROUP = 'shop';

let vendor: TestGateway;
let gw: TestGateway;
const images = new Map<string, Buffer>();

async function call(base: string, method: 'GET' | 'POST', route: string, body?: unknown) {
  const url = `${base}${route}`;
  const data = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { Authorization: qiniu.util.generateAccessTokenV2(mac, url, method, data === undefined ? '' : 'application/json', data) };
  if (data !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: data });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const addBody = (ids: string[]) => ({ data: ids.map((id) => ({ uri: dataUri(images.get(id)!), attribute: { id, label: id } })) });

/** The migration figures once every shadow replay has run. */
async function settledFigures(expect: (lib: any) => boolean): Promise<any> {
  for (;;) {
    const status = (await (await fetch(`${gw.url}/_gateway/migration`)).json()) as any;
    const lib = status.libraries.find((l: any) => l.vendor === 'qiniu' && l.library === GROUP);
    if (lib && lib.pending === 0 && expect(lib)) return lib;
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  const palette: Array<[string, string, Shape]> = [
    ['red-circle', '#d02020', 'circle'],
    ['red-square', '#d02020', 'square'],
    ['blue-circle', '#2040d0', 'circle'],
    ['blue-ring', '#2040d0', 'ring'],
    ['green-triangle', '#20a040', 'triangle'],
    ['green-circle', '#20a040', 'circle'],
  ];
  for (const [id, color, shape] of palette) images.set(id, await productImage(color, shape));
  vendor = await startTestGateway({ auth: { mode: 'verify', tenants: [{ id: 'acme', qiniu: { accessKeys: [KEY] } }] }, qiniu: { searchThreshold: 0 } });
  gw = await startTestGateway({ qiniu: { searchThreshold: 0 }, migration: { qiniu: { upstream: vendor.url, mode: 'upstream', libraries: { [GROUP]: 'shadow' } } } });
});
afterAll(async () => {
  await gw.destroy();
  await vendor.destroy();
});

test('writes reach both sides; searches answer from the vendor and record overlap@k, score deltas and latency', async () => {
  // Before the gateway: the group exists at the vendor with three images the gateway never sees.
  const vendorOnly = ['red-square', 'blue-ring', 'green-circle'];
  expect((await call(vendor.url, 'POST', `/v1/image/group/${GROUP}/new`, addBody(vendorOnly))).status).toBe(200);

  // Through the gateway (shadow): the local side has no such group yet, so `add` fails there → disagreement.
  const first = await call(gw.url, 'POST', `/v1/image/group/${GROUP}/add`, addBody(['red-circle']));
  expect(first.status).toBe(200);
  expect((await settledFigures((l) => l.writes.replayed === 1)).writes).toEqual({ replayed: 1, agreed: 0, disagreed: 1 });
  // The operator creates the group locally (an import would), then adds go to both.
  await gw.engine.createLibrary(KEY.ak, { name: GROUP, mode: 'general_search' });
  const shared = ['red-circle', 'blue-circle', 'green-triangle'];
  expect((await call(gw.url, 'POST', `/v1/image/group/${GROUP}/add`, addBody(shared))).status).toBe(200);
  let lib = await settledFigures((l) => l.writes.replayed === 2);
  expect(lib.writes).toEqual({ replayed: 2, agreed: 1, disagreed: 1 });

  // The vendor holds six images, the local library the three shared ones.
  expect((await call(vendor.url, 'GET', `/v1/image/group/${GROUP}/info`)).body).toEqual({ count: 6 });
  expect(await gw.engine.countImages({ tenant: KEY.ak, name: GROUP })).toBe(3);

  const expectedOverlaps: number[] = [];
  for (const query of ['red-circle', 'blue-ring', 'green-triangle']) {
    const answer = await call(gw.url, 'POST', '/v1/image/groups/search', { data: { uri: dataUri(images.get(query)!) }, params: { groups: [GROUP], limit: 4, threshold: 0 } });
    expect(answer.status).toBe(200);
    const ids: string[] = answer.body.result.map((r: any) => r.id);
    // The client got the vendor's answer: it ranks images the local side does not have.
    expect(ids.some((id) => vendorOnly.includes(id))).toBe(true);
    const k = Math.min(OVERLAP_K_MAX, ids.length);
    expectedOverlaps.push(ids.slice(0, k).filter((id) => shared.includes(id)).length / k);
  }
  lib = await settledFigures((l) => l.searches.compared === 3);
  const mean = expectedOverlaps.reduce((a, b) => a + b, 0) / expectedOverlaps.length;
  expect(lib.searches.meanOverlapAtK).toBeCloseTo(mean, 6);
  expect(lib.searches.meanOverlapAtK).toBeLessThan(1);
  expect(lib.searches.meanScoreDelta).toBe(0);
  expect(lib.searches.localFailed).toBe(0);
  expect(lib.upstream.byStatus).toEqual({ '200': 5 });
  expect(lib.upstream.latencyMs.p50).toEqual(expect.any(Number));
  expect(lib.local.latencyMs.p95).toEqual(expect.any(Number));
  expect(lib.mode).toBe('shadow');
});

test('a library moved to local is served by the gateway alone', async () => {
  const local = await startTestGateway({ qiniu: { searchThreshold: 0 }, migration: { qiniu: { upstream: vendor.url, mode: 'upstream', libraries: { [GROUP]: 'local' } } } }, gw.dataDir + '-local');
  try {
    await local.engine.createLibrary(KEY.ak, { name: GROUP, mode: 'general_search' });
    expect((await call(local.url, 'GET', `/v1/image/group/${GROUP}/info`)).body).toEqual({ count: 0 });
    // Another group still goes to the vendor, which does not know it.
    const other = await call(local.url, 'GET', '/v1/image/group/elsewhere/info');
    expect(other.body).toEqual({ error: QINIU_ERRORS.groupNotExists('elsewhere').message });
    expect(((await (await fetch(`${local.url}/_gateway/migration`)).json()) as any).libraries.map((l: any) => [l.library, l.mode])).toEqual([['elsewhere', 'upstream']]);
  } finally {
    await local.destroy();
  }
});

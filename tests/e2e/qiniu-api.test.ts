/**
 * The Qiniu API end to end over HTTP against a real gateway (embedded store, sharp, onnxruntime): URL
 * images through the SSRF-guarded fetcher, search merged across groups, the system threshold from the
 * config, paging with markers, group capacity, concurrent adds of one id, restarts, and paths the adapter
 * must leave to others.
 */
import { ERRORS } from '../../adapters/qiniu/errors';
import { LIST_LIMIT_MAX } from '../../adapters/qiniu/limits';
import { get, post, startTestGateway, type TestGateway } from '../helpers/gateway';
import { productImage, type Shape } from '../helpers/product-images';
import { dataUri, startImageServer } from '../helpers/qiniu';

const SYSTEM_THRESHOLD = 0.9;
const SHAPES: Array<[string, string, Shape]> = [
  ['red-circle', '#d02020', 'circle'],
  ['blue-square', '#2040d0', 'square'],
  ['green-triangle', '#20a040', 'triangle'],
  ['black-ring', '#202020', 'ring'],
  ['orange-square', '#e08020', 'square'],
];

let gw: TestGateway;
let server: { url: string; close(): Promise<void> };
const pictures = new Map<string, Buffer>();
const served = new Map<string, Buffer>();
const url = (id: string) => `${server.url}/img/${id}.jpg`;
const api = (path: string) => `${gw.url}/v1/image${path}`;

beforeAll(async () => {
  for (const [id, color, shape] of SHAPES) {
    pictures.set(id, await productImage(color, shape));
    served.set(`/img/${id}.jpg`, pictures.get(id)!);
  }
  server = await startImageServer(served);
  gw = await startTestGateway({
    fetch: { allowHosts: ['127.0.0.1'], maxBytes: 20 * 1024 * 1024, timeoutMs: 10_000 },
    qiniu: { searchThreshold: SYSTEM_THRESHOLD },
  });
  // Two groups: the first three shapes in "a", the rest in "b", all from URLs.
  const a = await post(api('/group/a/new'), { data: SHAPES.slice(0, 3).map(([id]) => ({ uri: url(id), attribute: { id, label: id } })) });
  const b = await post(api('/group/b/new'), { data: SHAPES.slice(3).map(([id]) => ({ uri: url(id), attribute: { id, label: id } })) });
  expect([a.body.errors, b.body.errors]).toEqual([[null, null, null], [null, null]]);
});
afterAll(async () => {
  await gw.destroy();
  await server.close();
});

test('multi-group search ranks across the groups, each hit naming its group; the config threshold is the floor', async () => {
  const res = await post(api('/groups/search'), { data: { uri: url('orange-square') }, params: { groups: ['a', 'b'], limit: -1, threshold: 0 } });
  expect(res.status).toBe(200);
  const hits = res.body.result;
  expect(hits[0]).toEqual({ desc: '', group: 'b', id: 'orange-square', label: 'orange-square', score: expect.any(Number) });
  const scores = hits.map((h: any) => h.score);
  expect(scores).toEqual([...scores].sort((x: number, y: number) => y - x));
  expect(scores.every((s: number) => s >= SYSTEM_THRESHOLD)).toBe(true);

  // The engine's own ranking of the same query: the answer is exactly its hits at or above the floor, and the
  // floor did cut something (threshold 0 was raised, not honoured).
  const refs = ['a', 'b'].map((name) => ({ tenant: 'default', name }));
  const all = await gw.engine.searchByImage(refs, { bytes: pictures.get('orange-square')!, limits: {} }, { limit: 10 });
  expect(hits.map((h: any) => h.id)).toEqual(all.hits.filter((h) => h.score >= SYSTEM_THRESHOLD).map((h) => h.record.id));
  expect(all.hits.some((h) => h.score < SYSTEM_THRESHOLD)).toBe(true);
});

test('a requested threshold above the floor is honoured', async () => {
  const res = await post(api('/groups/search'), { data: { uri: dataUri(pictures.get('red-circle')!) }, params: { groups: ['a', 'b'], limit: 10, threshold: 0.999 } });
  expect(res.body.result.every((h: any) => h.score >= 0.999)).toBe(true);
  expect(res.body.result.map((h: any) => h.id)).toContain('red-circle');
});

test('paging: markers walk the group once; the last page has marker ""; bad limits and markers are 406', async () => {
  const seen: string[] = [];
  let marker = '';
  let pages = 0;
  do {
    const res = await get(api(`/group/a?marker=${encodeURIComponent(marker)}&limit=2`));
    expect(res.status).toBe(200);
    seen.push(...res.body.result.map((r: any) => r.id));
    marker = res.body.marker;
    pages++;
  } while (marker !== '' && pages < 10);
  expect(seen).toEqual(SHAPES.slice(0, 3).map(([id]) => id));
  expect(pages).toBe(2);
  for (const limit of ['0', String(LIST_LIMIT_MAX + 1), 'ten', '-1']) {
    const res = await get(api(`/group/a?limit=${limit}`));
    expect([res.status, res.body]).toEqual([ERRORS.invalidListLimit.http, { error: ERRORS.invalidListLimit.message }]);
  }
  const bad = await get(api('/group/a?marker=not-a-marker'));
  expect([bad.status, bad.body]).toEqual([ERRORS.invalidMarker.http, { error: ERRORS.invalidMarker.message }]);
});

test('a full group refuses the images past its capacity, one by one', async () => {
  await gw.engine.createLibrary('default', { name: 'small', mode: 'general_search', capacity: 2 });
  const res = await post(api('/group/small/add'), { data: SHAPES.slice(0, 3).map(([id]) => ({ uri: url(id), attribute: { id } })) });
  const full = ERRORS.groupFull('small', 2);
  expect(res.body).toEqual({ images: ['red-circle', 'blue-square', ''], errors: [null, null, { code: full.http, message: full.message }] });
  expect((await get(api('/group/small/info'))).body).toEqual({ count: 2 });
});

test('concurrent adds of one id: exactly one succeeds, the others get "id already exists"', async () => {
  await post(api('/group/race/new'), { data: [{ uri: url('black-ring'), attribute: { id: 'seed' } }] });
  const body = { data: [{ uri: dataUri(pictures.get('green-triangle')!), attribute: { id: 'same' } }] };
  const answers = await Promise.all(Array.from({ length: 4 }, () => post(api('/group/race/add'), body)));
  const won = answers.filter((a) => a.body.images[0] === 'same');
  expect(won).toHaveLength(1);
  for (const a of answers.filter((x) => x !== won[0])) expect(a.body.errors[0]).toEqual({ code: ERRORS.idAlreadyExists.http, message: ERRORS.idAlreadyExists.message });
  expect((await get(api('/group/race/info'))).body).toEqual({ count: 2 });
});

test('URLs to private or metadata addresses are refused without a connection', async () => {
  const res = await post(api('/group/a/add'), { data: [{ uri: 'http://169.254.169.254/latest/meta-data/x.jpg' }, { uri: 'http://10.0.0.1/x.jpg' }] });
  expect(res.status).toBe(200);
  expect(res.body.images).toEqual(['', '']);
  for (const e of res.body.errors) expect(e.code).toBe(400);
  const search = await post(api('/groups/search'), { data: { uri: 'http://10.0.0.1/q.jpg' }, params: { groups: ['a'] } });
  expect(search.status).toBe(400);
});

test('groups, labels, desc and etags survive a restart', async () => {
  const inline = pictures.get('blue-square')!;
  await post(api('/group/kept/new'), { data: [{ uri: dataUri(inline), attribute: { id: 'k1', label: 'keep', desc: { n: 1 } } }] });
  const before = (await post(api('/group/kept/image'), { id: 'k1' })).body;
  gw = await gw.restart();
  const after = (await post(api('/group/kept/image'), { id: 'k1' })).body;
  expect(after).toEqual(before);
  expect(after).toEqual({ desc: { n: 1 }, label: 'keep' });
  const stored = await gw.engine.getImage({ tenant: 'default', name: 'kept' }, 'k1');
  expect(stored.extra?.qiniu).toMatchObject({ label: 'keep', etag: expect.stringMatching(/^[A-Za-z0-9_-]{28}$/) });
  expect((await get(api('/group'))).body.result).toEqual(expect.arrayContaining(['a', 'b', 'kept']));
});

test('paths outside /v1/image are left to the other adapters', async () => {
  for (const path of ['/v1/0a1b2c3d4e5f60718293a4b5c6d7e8f9/service', '/v1/images', '/v2/image/group']) {
    const res = await fetch(`${gw.url}${path}`);
    const text = await res.text();
    expect(text).not.toContain(ERRORS.routeNotFound.message);
    expect(text).not.toContain(ERRORS.badToken.message);
  }
});

/**
 * The Qiniu adapter against every example of the vendor page (tests/fixtures/qiniu/examples.json):
 * each documented request, its placeholders filled in, sent to the documented route, answers the
 * documented response, with exactly the documented fields (a strict decoder refuses any other). Then the
 * rules of the page (tests/fixtures/qiniu/limits.json) and of shared/specs/qiniu.md §4 and §7, with the
 * messages of adapters/qiniu/errors.ts and the numbers of adapters/qiniu/limits.ts.
 */
import sharp from 'sharp';
import { ERRORS } from '../../adapters/qiniu/errors';
import { DESC_MAX_BYTES, IMAGE_LIMITS, SEARCH_LIMIT_MAX, SEARCH_MAX_GROUPS, SEARCH_THRESHOLD_DEFAULT } from '../../adapters/qiniu/limits';
import { get, post, startTestGateway, type TestGateway } from '../helpers/gateway';
import { shapeOf } from '../helpers/json-examples';
import { productImage } from '../helpers/product-images';
import { fixture } from '../helpers/fixtures';
import { dataUri, fill, requestLine, requestTemplate, responseExample, startImageServer, type Section } from '../helpers/qiniu';

let gw: TestGateway;
let images: { url: string; close(): Promise<void> };
const served = new Map<string, Buffer>();
const pictures: Record<string, Buffer> = {};

/** The documented path of a section with its placeholders replaced. */
const pathOf = (section: Section, values: Record<string, string>) =>
  requestLine(section).path.replace(/<([^<>]+)>/g, (_m, name: string) => encodeURIComponent(values[name]));
/** The documented URI http://xx.com/xxx, on the loopback image server, one path per image. */
const uriOf = (id: string) => `${images.url}/xxx/${id}.jpg`;

// The labels the page's examples give ids 1, 2 and 4 (list and search examples); 3 is the "bag" of the image-info example.
const LABELS: Record<string, string> = { '1': 'shoes', '2': 'shoes', '3': 'bag', '4': 'dress', '5': 'hat' };

beforeAll(async () => {
  pictures['1'] = await productImage('#c03020', 'circle');
  pictures['2'] = await productImage('#b03828', 'circle', { background: '#f8f8f0' });
  pictures['3'] = await productImage('#203080', 'square');
  pictures['4'] = await productImage('#208040', 'triangle');
  pictures['5'] = await productImage('#806020', 'ring');
  for (const [id, bytes] of Object.entries(pictures)) served.set(`/xxx/${id}.jpg`, bytes);
  images = await startImageServer(served);
  gw = await startTestGateway({ fetch: { allowHosts: ['127.0.0.1'], maxBytes: 20 * 1024 * 1024, timeoutMs: 10_000 } });
});
afterAll(async () => {
  await gw.destroy();
  await images.close();
});

/** The documented new/add body, its item template repeated for each id. */
function addBody(section: '新建图像库' | '添加图片', ids: string[]) {
  const template = fill(requestTemplate(section)!, { id: ['?'], label: ['?'], 'additional information': [''] });
  const item = template.data[0];
  return { data: ids.map((id) => ({ ...item, uri: item.uri.replace('http://xx.com/xxx', uriOf(id)), attribute: { ...item.attribute, id, label: LABELS[id] } })) };
}

describe('the documented examples, in the order of the page', () => {
  test('新建图像库: new with the four documented ids answers the documented body exactly', async () => {
    const expected = responseExample('新建图像库');
    const res = await post(`${gw.url}${pathOf('新建图像库', { group_id: '1' })}`, addBody('新建图像库', expected.images));
    expect([res.status, res.body]).toEqual([200, expected]);
  });

  test('显示指定图像库信息: info counts the four images', async () => {
    const res = await get(`${gw.url}${pathOf('显示指定图像库信息', { group_id: '1' })}`);
    expect([res.status, res.body]).toEqual([200, responseExample('显示指定图像库信息')]);
  });

  test('添加图片: add answers the documented body exactly', async () => {
    const expected = responseExample('添加图片');
    const res = await post(`${gw.url}${pathOf('添加图片', { group_id: '1' })}`, addBody('添加图片', expected.images));
    expect([res.status, res.body]).toEqual([200, expected]);
  });

  test('显示所有图像库: list groups answers the documented body exactly', async () => {
    const expected = responseExample('显示所有图像库');
    for (const group of expected.result.filter((g: string) => g !== '1')) {
      expect((await post(`${gw.url}${pathOf('新建图像库', { group_id: group })}`, { data: [{ uri: dataUri(pictures['5']) }] })).status).toBe(200);
    }
    const res = await get(`${gw.url}${requestLine('显示所有图像库').path}`);
    expect([res.status, res.body]).toEqual([200, expected]);
  });

  test('显示所有图片: the documented entries, the last page marked by marker ""', async () => {
    const expected = responseExample('显示所有图片');
    const res = await get(`${gw.url}${pathOf('显示所有图片', { group_id: '1', marker: '', limit: '1000' })}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ code: expected.code, marker: '', message: expected.message });
    expect(res.body.result.slice(0, expected.result.length)).toEqual(expected.result);
    // Every entry has exactly the documented fields: no uri, no etag.
    for (const entry of res.body.result) expect(Object.keys(entry.value).sort()).toEqual(Object.keys(expected.result[0].value).sort());
  });

  test('显示指定图片信息: image info answers the documented label and desc', async () => {
    const body = fill(requestTemplate('显示指定图片信息')!, {});
    const res = await post(`${gw.url}${pathOf('显示指定图片信息', { group_id: '1' })}`, { ...body, id: '3' });
    expect([res.status, res.body]).toEqual([200, responseExample('显示指定图片信息')]);
  });

  test('图片搜索: multi-group search answers the documented shape, best first, every score over the threshold', async () => {
    const expected = responseExample('图片搜索');
    const body = fill(requestTemplate('图片搜索')!, { group_id: ['1'] });
    body.data.uri = uriOf('1');
    const res = await post(`${gw.url}${requestLine('图片搜索').path}`, body);
    expect(res.status).toBe(200);
    expect({ ...res.body, result: [] }).toEqual({ ...expected, result: [] });
    const [best] = res.body.result;
    expect(best).toMatchObject({ ...expected.result[0], score: expect.any(Number) });
    expect(best.score).toBeGreaterThan(0.99);
    expect(res.body.result.length).toBeLessThanOrEqual(body.params.limit);
    for (const hit of res.body.result) {
      expect(Object.keys(hit)).toEqual(Object.keys(expected.result[0]));
      expect(hit.score).toBeGreaterThanOrEqual(body.params.threshold);
      expect(hit.group).toBe('1');
    }
    const scores = res.body.result.map((h: any) => h.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  test('图片搜索(旧版本): the legacy search answers the documented shape, without group', async () => {
    const expected = responseExample('图片搜索(旧版本)');
    const body = fill(requestTemplate('图片搜索(旧版本)')!, {});
    body.data.uri = uriOf('4');
    const res = await post(`${gw.url}${pathOf('图片搜索(旧版本)', { group_id: '1' })}`, body);
    expect(res.status).toBe(200);
    expect(res.body.result).toHaveLength(body.params.limit);
    expect(res.body.result[0]).toMatchObject({ ...expected.result[2], score: expect.any(Number) });
    expect(Object.keys(res.body.result[0])).toEqual(Object.keys(expected.result[0]));
    expect(shapeOf({ ...res.body, result: [] })).toEqual(shapeOf({ ...expected, result: [] }));
  });

  test('删除图片: delete answers the documented empty body and the image is gone', async () => {
    const body = fill(requestTemplate('删除图片')!, { image_id: ['5'] });
    const res = await post(`${gw.url}${pathOf('删除图片', { group_id: '1' })}`, body);
    expect([res.status, res.body]).toEqual([200, responseExample('删除图片')]);
    expect((await get(`${gw.url}${pathOf('显示指定图像库信息', { group_id: '1' })}`)).body.count).toBe(4);
  });

  test('删除图像库: remove answers the documented empty body, with no request body, and the group is gone', async () => {
    const res = await fetch(`${gw.url}${pathOf('删除图像库', { group_id: '2' })}`, { method: 'POST' });
    expect([res.status, await res.json()]).toEqual([200, responseExample('删除图像库')]);
    expect((await get(`${gw.url}/v1/image/group`)).body.result).toEqual(['1']);
  });
});

describe('rules of the spec (qiniu.md §4, §7)', () => {
  const search = (body: unknown) => post(`${gw.url}/v1/image/groups/search`, body);
  const query = () => ({ uri: dataUri(pictures['1']) });

  test('group-level errors: new on an existing group, add/delete/info/search/list/image on a missing one', async () => {
    expect((await post(`${gw.url}/v1/image/group/1/new`, { data: [{ uri: dataUri(pictures['1']) }] })).body).toEqual({ error: ERRORS.groupAlreadyExists.message });
    const missing = ERRORS.groupNotExists('nope');
    for (const res of [
      await post(`${gw.url}/v1/image/group/nope/add`, { data: [{ uri: dataUri(pictures['1']) }] }),
      await post(`${gw.url}/v1/image/group/nope/delete`, { images: ['1'] }),
      await get(`${gw.url}/v1/image/group/nope/info`),
      await get(`${gw.url}/v1/image/group/nope`),
      await post(`${gw.url}/v1/image/group/nope/image`, { id: '1' }),
      await search({ data: query(), params: { groups: ['1', 'nope'] } }),
      await post(`${gw.url}/v1/image/group/nope/search`, { data: query() }),
    ]) {
      expect([res.status, res.body]).toEqual([missing.http, { error: missing.message }]);
    }
  });

  test('remove of a missing group is 200 {} as the server answers', async () => {
    const res = await post(`${gw.url}/v1/image/group/never-existed/remove`, '');
    expect([res.status, res.body]).toEqual([200, {}]);
  });

  test('new/add: generated ids, duplicate ids and long desc fail per image with HTTP 200', async () => {
    const desc = { note: 'x'.repeat(DESC_MAX_BYTES) };
    const fits = 'y'.repeat(DESC_MAX_BYTES - 2); // a JSON string of exactly DESC_MAX_BYTES bytes
    const res = await post(`${gw.url}/v1/image/group/1/add`, {
      data: [
        { uri: dataUri(pictures['5']), attribute: { label: 'no id' } },
        { uri: dataUri(pictures['5']), attribute: { id: '1' } },
        { uri: dataUri(pictures['5']), attribute: { id: 'long', desc } },
        { uri: dataUri(pictures['5']), attribute: { id: 'twice' } },
        { uri: dataUri(pictures['5']), attribute: { id: 'twice' } },
        { uri: dataUri(pictures['5']), attribute: { id: 'fits', desc: fits } },
      ],
    });
    expect(res.status).toBe(200);
    const item = (e: { http: number; message: string }) => ({ code: e.http, message: e.message });
    expect(res.body.errors).toEqual([null, item(ERRORS.idAlreadyExists), item(ERRORS.descTooLong), null, item(ERRORS.idAlreadyExists), null]);
    expect(res.body.images[0]).toMatch(/^[A-Za-z0-9_-]{8,}$/);
    expect(res.body.images.slice(1)).toEqual(['', '', 'twice', '', 'fits']);
    const info = await post(`${gw.url}/v1/image/group/1/image`, { id: res.body.images[0] });
    expect(info.body).toEqual({ desc: '', label: 'no id' });
    // The etag of an inline image is kept with the record (for export), not put on the wire.
    const stored = await gw.engine.getImage({ tenant: 'default', name: '1' }, res.body.images[0]);
    expect((stored.extra?.qiniu as { etag?: string }).etag).toMatch(/^[A-Za-z0-9_-]{28}$/);
    expect((await post(`${gw.url}/v1/image/group/1/image`, { id: 'fits' })).body.desc).toBe(fits);
  });

  test('desc keeps any JSON value', async () => {
    const values = [true, 12.5, 'text', [1, 'a'], { sku: '123', tags: ['a'] }];
    const res = await post(`${gw.url}/v1/image/group/1/add`, { data: values.map((desc, i) => ({ uri: dataUri(pictures['5']), attribute: { id: `desc-${i}`, desc } })) });
    expect(res.body.errors).toEqual(values.map(() => null));
    for (const [i, desc] of values.entries()) {
      expect((await post(`${gw.url}/v1/image/group/1/image`, { id: `desc-${i}` })).body.desc).toEqual(desc);
    }
  });

  test('image file rules fail per image with 400 (spec §3)', async () => {
    const tooSmall = await productImage('#000000', 'circle', { width: IMAGE_LIMITS.minWidth! - 1, height: 200 });
    const tooLarge = await productImage('#000000', 'circle', { width: IMAGE_LIMITS.maxWidth! + 1, height: 40 });
    const tooManyBytes = Buffer.alloc(IMAGE_LIMITS.maxBytes! + 1, 0xff);
    const notAnImage = Buffer.from('plain text, not an image');
    const res = await post(`${gw.url}/v1/image/group/1/add`, {
      data: [tooSmall, tooLarge, tooManyBytes, notAnImage].map((b) => ({ uri: dataUri(b) })).concat([
        { uri: `data:image/jpeg;base64,${pictures['1'].toString('base64')}` },
        { uri: pictures['1'].toString('base64') },
        { uri: '' },
        { uri: `${images.url}/missing.jpg` },
      ]),
    });
    expect(res.status).toBe(200);
    expect(res.body.images).toEqual(Array(8).fill(''));
    const [small, large, bytes, format, otherDataUri, rawBase64, blank, unreachable] = res.body.errors;
    for (const e of [small, large, bytes, format, otherDataUri, rawBase64, unreachable]) expect(e.code).toBe(400);
    expect(small.message).toContain(`${IMAGE_LIMITS.minWidth}x${IMAGE_LIMITS.minHeight}`);
    expect(large.message).toContain(`${IMAGE_LIMITS.maxWidth}x${IMAGE_LIMITS.maxHeight}`);
    expect(bytes.message).toContain('10MB');
    expect(format.message).toContain('format');
    expect([otherDataUri.message, rawBase64.message]).toEqual([ERRORS.invalidUri.message, ERRORS.invalidUri.message]);
    expect(blank).toEqual({ code: ERRORS.noEnoughArguments.http, message: ERRORS.noEnoughArguments.message });
    expect(unreachable.message).toBe('fetch uri failed');
  });

  test('images with an alpha channel are refused per image with 400 (不能包含alpha通道); a GIF’s transparency is no alpha channel', async () => {
    expect(fixture('qiniu', 'limits').imageFiles.alphaChannel).toBe(false);
    expect(IMAGE_LIMITS.refuseAlpha).toBe(true);
    const translucent = { width: 64, height: 64, channels: 4 as const, background: { r: 200, g: 40, b: 40, alpha: 0.5 } };
    const pngAlpha = await sharp({ create: translucent }).png().toBuffer();
    const webpAlpha = await sharp({ create: translucent }).webp().toBuffer();
    const opaquePng = await sharp({ create: { ...translucent, channels: 3 as const, background: '#c82828' } }).png().toBuffer();
    const gif = await sharp({ create: translucent }).gif().toBuffer();
    const res = await post(`${gw.url}/v1/image/group/1/add`, {
      data: [pngAlpha, webpAlpha, opaquePng, gif].map((b, i) => ({ uri: dataUri(b), attribute: { id: `alpha-${i}` } })),
    });
    expect(res.status).toBe(200);
    expect(res.body.images).toEqual(['', '', 'alpha-2', 'alpha-3']);
    const [png, webp] = res.body.errors;
    expect(png).toEqual(webp);
    expect(png.code).toBe(400);
    expect(png.message).toContain('alpha channel');
    expect(res.body.errors.slice(2)).toEqual([null, null]);
    const search = await post(`${gw.url}/v1/image/groups/search`, { data: { uri: dataUri(pngAlpha) }, params: { groups: ['1'] } });
    expect([search.status, search.body]).toEqual([400, { error: png.message }]);
  });

  test('groups per search: the page’s maximum (最多2个) answers, one more is refused', async () => {
    const { max } = fixture('qiniu', 'limits').searchGroups;
    expect(SEARCH_MAX_GROUPS).toBe(max);
    const groups = ['1', ...Array.from({ length: max }, (_, i) => `more-${i}`)];
    for (const group of groups.slice(1)) expect((await post(`${gw.url}/v1/image/group/${group}/new`, { data: [{ uri: dataUri(pictures['5']) }] })).status).toBe(200);
    expect((await search({ data: query(), params: { groups: groups.slice(0, max) } })).status).toBe(200);
    const over = await search({ data: query(), params: { groups: groups.slice(0, max + 1) } });
    expect([over.status, over.body]).toEqual([ERRORS.tooManyGroups.http, { error: ERRORS.tooManyGroups.message }]);
    expect(ERRORS.tooManyGroups.message).toBe(`cannot search in more than ${max} groups at one time`);
  });

  test('search arguments: uri, groups, limit and threshold, with the documented errors', async () => {
    const cases: Array<[unknown, { http: number; message: string }]> = [
      [{ data: {}, params: { groups: ['1'] } }, ERRORS.noEnoughArguments],
      [{ data: { uri: '  ' }, params: { groups: ['1'] } }, ERRORS.noEnoughArguments],
      [{ data: query(), params: {} }, ERRORS.groupsEmpty],
      [{ data: query(), params: { groups: [] } }, ERRORS.groupsEmpty],
      [{ data: query(), params: { groups: Array.from({ length: SEARCH_MAX_GROUPS + 1 }, (_, i) => `g${i}`) } }, ERRORS.tooManyGroups],
      [{ data: query(), params: { groups: ['1'], limit: SEARCH_LIMIT_MAX + 1 } }, ERRORS.invalidLimit],
      [{ data: query(), params: { groups: ['1'], threshold: 1.01 } }, ERRORS.invalidThreshold],
      [{ data: query(), params: { groups: ['1'], threshold: -0.1 } }, ERRORS.invalidThreshold],
    ];
    for (const [body, error] of cases) {
      const res = await search(body);
      expect([res.status, res.body]).toEqual([error.http, { error: error.message }]);
    }
  });

  test('search limit: default 1, 0 is 1, -1 is all; groups are de-duplicated', async () => {
    const count = (await get(`${gw.url}/v1/image/group/1/info`)).body.count;
    const low = { groups: Array(SEARCH_MAX_GROUPS + 3).fill('1'), threshold: 0 };
    expect((await search({ data: query(), params: low })).body.result).toHaveLength(1);
    expect((await search({ data: query(), params: { ...low, limit: 0 } })).body.result).toHaveLength(1);
    const all = (await search({ data: query(), params: { ...low, limit: -1 } })).body.result;
    // threshold 0 is raised to the system threshold: every image at or above it, none below.
    expect(all.length).toBeLessThanOrEqual(count);
    expect(all.every((h: any) => h.score >= SEARCH_THRESHOLD_DEFAULT)).toBe(true);
    expect(all.map((h: any) => h.id)).toContain('1');
  });

  test('an unknown image is 612 no such entry; a blank id is 406', async () => {
    const res = await post(`${gw.url}/v1/image/group/1/image`, { id: 'nope' });
    expect([res.status, res.body]).toEqual([ERRORS.noSuchEntry.http, { error: ERRORS.noSuchEntry.message }]);
    const blank = await post(`${gw.url}/v1/image/group/1/image`, {});
    expect([blank.status, blank.body]).toEqual([ERRORS.noEnoughArguments.http, { error: ERRORS.noEnoughArguments.message }]);
  });

  test('bad JSON, wrong types, unknown routes and methods answer in the vendor shape', async () => {
    const json = await post(`${gw.url}/v1/image/group/1/add`, '{"data": [');
    expect([json.status, json.body]).toEqual([ERRORS.invalidJson.http, { error: ERRORS.invalidJson.message }]);
    const types = await post(`${gw.url}/v1/image/groups/search`, { data: query(), params: { groups: '1' } });
    expect(types.status).toBe(406);
    expect(types.body.error).toContain('params.groups');
    const route = await get(`${gw.url}/v1/image/nothing`);
    expect([route.status, route.body]).toEqual([ERRORS.routeNotFound.http, { error: ERRORS.routeNotFound.message }]);
    const method = await get(`${gw.url}/v1/image/groups/search`);
    expect([method.status, method.body]).toEqual([ERRORS.methodNotAllowed.http, { error: ERRORS.methodNotAllowed.message }]);
  });
});

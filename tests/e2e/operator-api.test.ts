/** The operator API end to end over HTTP: real store, real model, real images. */
import { PREFIX } from '../../adapters/operator/limits';
import { STATUS } from '../../adapters/operator/errors';
import { get, post, startTestGateway, type TestGateway } from '../helpers/gateway';
import { blankImage, productImage } from '../helpers/product-images';
import { makeScene, nearDuplicate } from '../helpers/synthetic-images';

let gw: TestGateway;
const op = (path: string, body: unknown, headers?: Record<string, string>) => post(`${gw.url}${PREFIX}/${path}`, body, headers);
const b64 = (b: Buffer) => b.toString('base64');

beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.destroy());

describe('libraries', () => {
  test('create, list with counts, describe, refuse duplicates and bad modes, delete', async () => {
    const created = await op('library/create', { library_name: 'lib-a', mode: 'general_search', description: 'tops' });
    expect(created.status).toBe(200);
    expect(created.body.data).toMatchObject({ library_name: 'lib-a', mode: 'general_search', description: 'tops', image_count: 0, model: 'default' });

    const dup = await op('library/create', { library_name: 'lib-a', mode: 'item_search' });
    expect([dup.status, dup.body.status, dup.body.data]).toEqual([400, STATUS.libraryAlreadyExists, null]);

    const badMode = await op('library/create', { library_name: 'lib-b', mode: 'face_search' });
    expect([badMode.status, badMode.body.status]).toEqual([400, STATUS.invalidParameter]);
    expect(badMode.body.message).toContain('mode');

    await op('image/add', { library_name: 'lib-a', image_id: 'x', image_uri: 'x.jpg', image_base64: b64(await productImage('red', 'circle')) });
    const list = await op('library/list', {});
    expect(list.body.data.libraries).toEqual([expect.objectContaining({ library_name: 'lib-a', image_count: 1 })]);

    expect((await op('library/delete', { library_name: 'lib-a' })).status).toBe(200);
    const gone = await op('library/describe', { library_name: 'lib-a' });
    expect([gone.status, gone.body.status]).toEqual([404, STATUS.libraryNotFound]);
    const again = await op('library/delete', { library_name: 'lib-a' });
    expect(again.status).toBe(404);
  });
});

describe('images and search', () => {
  const scenes: Buffer[] = [];
  beforeAll(async () => {
    await op('library/create', { library_name: 'scenes', mode: 'general_search' });
    for (let seed = 0; seed < 12; seed++) {
      scenes.push(await makeScene(seed, 640, 480));
      const res = await op('image/add', {
        library_name: 'scenes',
        image_id: `s${seed}`,
        image_uri: `scenes/${seed}.jpg`,
        image_base64: b64(scenes[seed]),
        tags: { parity: seed % 2 === 0 ? 'even' : 'odd', seed, family: `f${seed % 6}` },
        save_image: seed !== 3,
      });
      expect(res.status).toBe(200);
    }
  });

  test.each(['jpeg_q40', 'resize_25', 'crop_10', 'brightness_20'] as const)('a %s near-duplicate finds its original first', async (kind) => {
    const query = await nearDuplicate(scenes[7], kind);
    const res = await op('search/by-image', { library_name: 'scenes', image_base64: b64(query), top_k: 3 });
    expect(res.status).toBe(200);
    const [first, second] = res.body.data.results;
    expect(first).toMatchObject({ image_id: 's7', image_uri: 'scenes/7.jpg', tags: { parity: 'odd', seed: 7, family: 'f1' } });
    expect(first.score).toBeGreaterThan(0.9);
    expect(second.score).toBeLessThan(first.score);
  });

  test('top_k, tag_filter and sorting hold together', async () => {
    const res = await op('search/by-image', {
      library_name: 'scenes',
      image_base64: b64(scenes[2]),
      top_k: 4,
      tag_filter: [{ field: 'parity', op: '=', value: 'even' }, { or: [{ field: 'seed', op: '<', value: 5 }, { field: 'family', op: 'in', value: ['f4', 'f5'] }] }],
    });
    const results = res.body.data.results;
    expect(results.map((r: any) => r.image_id).sort()).toEqual(['s0', 's10', 's2', 's4']);
    expect(results[0].image_id).toBe('s2');
    for (let i = 1; i < results.length; i++) expect(results[i - 1].score).toBeGreaterThanOrEqual(results[i].score);
  });

  test('image_base64 is null for an image imported with save_image=false', async () => {
    const res = await op('search/by-image', { library_name: 'scenes', image_base64: b64(scenes[3]), top_k: 1 });
    expect(res.body.data.results[0]).toMatchObject({ image_id: 's3', image_base64: null });
  });

  test('image/list pages through every image once, and filters', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await op('image/list', { library_name: 'scenes', limit: 5, ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      seen.push(...res.body.data.images.map((i: any) => i.image_id));
      cursor = res.body.data.next_cursor ?? undefined;
    } while (cursor);
    expect(seen.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `s${i}`).sort());
    const odd = await op('image/list', { library_name: 'scenes', tag_filter: { field: 'parity', op: '=', value: 'odd' } });
    expect(odd.body.data.images).toHaveLength(6);
    expect(odd.body.data.next_cursor).toBeNull();
  });

  test('one image_id with several image_uri; delete one pair, then the rest by image_id', async () => {
    await op('library/create', { library_name: 'angles', mode: 'general_search' });
    for (const uri of ['front.jpg', 'back.jpg', 'side.jpg']) {
      await op('image/add', { library_name: 'angles', image_id: 'p1', image_uri: uri, image_base64: b64(await productImage('green', 'triangle')) });
    }
    const listed = await op('image/list', { library_name: 'angles', image_id: 'p1' });
    expect(listed.body.data.images.map((i: any) => i.image_uri).sort()).toEqual(['back.jpg', 'front.jpg', 'side.jpg']);
    expect((await op('image/delete', { library_name: 'angles', image_id: 'p1', image_uri: 'back.jpg' })).body.data.deleted_count).toBe(1);
    expect((await op('image/delete', { library_name: 'angles', image_id: 'p1' })).body.data.deleted_count).toBe(2);
    expect((await op('library/describe', { library_name: 'angles' })).body.data.image_count).toBe(0);
  });

  test('item_search: a query with no subject answers an empty list, still SUCCESS', async () => {
    await op('library/create', { library_name: 'items', mode: 'item_search' });
    await op('image/add', { library_name: 'items', image_id: 'i1', image_uri: 'i1.jpg', image_base64: b64(await productImage('red', 'square')) });
    const res = await op('search/by-image', { library_name: 'items', image_base64: b64(await blankImage()) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'SUCCESS', message: null, data: { results: [] } });
    const found = await op('search/by-image', { library_name: 'items', image_base64: b64(await productImage('red', 'square', { width: 900, height: 500 })) });
    expect(found.body.data.results[0].image_id).toBe('i1');
  });
});

describe('bad input gets the documented 400 shape, never a crash', () => {
  beforeAll(async () => {
    await op('library/create', { library_name: 'strict', mode: 'general_search' });
  });
  const cases: Array<[string, string, unknown, number, string]> = [
    ['malformed JSON', 'search/by-image', '{"library_name": ', 400, STATUS.invalidParameter],
    ['a JSON array body', 'search/by-image', '[1,2]', 400, STATUS.invalidParameter],
    ['no library_name', 'search/by-image', { image_base64: 'AAAA' }, 400, STATUS.invalidParameter],
    ['no image', 'search/by-image', { library_name: 'strict' }, 400, STATUS.invalidParameter],
    ['top_k 0', 'search/by-image', { library_name: 'strict', image_base64: 'AAAA', top_k: 0 }, 400, STATUS.invalidParameter],
    ['top_k as a string', 'search/by-image', { library_name: 'strict', image_base64: 'AAAA', top_k: '5' }, 400, STATUS.invalidParameter],
    ['return_frame as a string', 'search/by-image', { library_name: 'strict', image_base64: 'AAAA', return_frame: 'no' }, 400, STATUS.invalidParameter],
    ['a bad tag_filter op', 'search/by-image', { library_name: 'strict', image_base64: 'AAAA', tag_filter: { field: 'a', op: '~', value: 1 } }, 400, STATUS.invalidParameter],
    ['in with a scalar', 'search/by-image', { library_name: 'strict', image_base64: 'AAAA', tag_filter: [{ field: 'a', op: 'in', value: 'x' }] }, 400, STATUS.invalidParameter],
    ['not Base64', 'search/by-image', { library_name: 'strict', image_base64: '***not base64***' }, 400, STATUS.invalidImage],
    ['Base64 of text', 'search/by-image', { library_name: 'strict', image_base64: Buffer.from('hello, not an image').toString('base64') }, 400, STATUS.invalidImage],
    ['a data: URI', 'image/add', { library_name: 'strict', image_id: 'a', image_uri: 'a', image_base64: 'data:image/png;base64,AAAA' }, 400, STATUS.invalidParameter],
    ['a missing library', 'search/by-text', { library_name: 'nope', query_text: 'red' }, 404, STATUS.libraryNotFound],
    ['tags with an object value', 'image/add', { library_name: 'strict', image_id: 'a', image_uri: 'a', image_base64: 'AAAA', tags: { a: { b: 1 } } }, 400, STATUS.invalidParameter],
    ['a control character in image_id', 'image/add', { library_name: 'strict', image_id: 'a\u0001', image_uri: 'a', image_base64: 'AAAA' }, 400, STATUS.invalidParameter],
  ];
  test.each(cases)('%s', async (_what, path, body, http, status) => {
    const res = await op(path, body);
    expect([res.status, res.body.status, res.body.data]).toEqual([http, status, null]);
    expect(typeof res.body.message).toBe('string');
    expect(res.body.message).not.toMatch(/at \w+ \(|node_modules/); // no stack traces
  });

  test('a truncated JPEG and a pixel bomb are INVALID_IMAGE', async () => {
    const jpeg = await productImage('red', 'circle');
    const truncated = await op('image/add', { library_name: 'strict', image_id: 't', image_uri: 't', image_base64: b64(jpeg.subarray(0, jpeg.length / 2)) });
    expect([truncated.status, truncated.body.status]).toEqual([400, STATUS.invalidImage]);
    // A small PNG whose header declares 60000 x 60000 pixels.
    const bomb = Buffer.from(await productImage('red', 'circle', { format: 'png', width: 64, height: 64 }));
    bomb.writeUInt32BE(60000, 16);
    bomb.writeUInt32BE(60000, 20);
    const res = await op('search/by-image', { library_name: 'strict', image_base64: b64(bomb) });
    expect([res.status, res.body.status]).toEqual([400, STATUS.invalidImage]);
  });

  test('unknown routes, wrong methods and oversized bodies answer in the envelope', async () => {
    const unknown = await op('image/frobnicate', {});
    expect([unknown.status, unknown.body.status]).toEqual([404, STATUS.routeNotFound]);
    const wrongMethod = await get(`${gw.url}${PREFIX}/search/by-image`);
    expect([wrongMethod.status, wrongMethod.body.status]).toEqual([405, STATUS.methodNotAllowed]);
    const huge = await op('image/add', { library_name: 'strict', image_id: 'h', image_uri: 'h', image_base64: 'A'.repeat(33 * 1024 * 1024) });
    expect([huge.status, huge.body.status]).toEqual([413, STATUS.payloadTooLarge]);
    expect((await get(`${gw.url}/_gateway/health`)).status).toBe(200);
  });
});

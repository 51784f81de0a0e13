/**
 * The operator API against every request and response example of the vendor document and the image/add
 * example of the spec, as kept in tests/fixtures/operator/examples.json; the truncated Base64 placeholders
 * are replaced by real images.
 */
import { PREFIX } from '../../adapters/operator/limits';
import { fixture } from '../helpers/fixtures';
import { shapeOf } from '../helpers/json-examples';
import { post, startTestGateway, type TestGateway } from '../helpers/gateway';
import { productImage } from '../helpers/product-images';

const examples = fixture('operator', 'examples');
const requests: Array<{ path: string; body: any }> = examples.searchRequests.examples;
const responses: any[] = examples.searchResponses.examples;
const [byImageResponse, emptyResponse, byTextResponse, failureResponse] = responses;
const byImageRequest = requests.find((r) => r.path.endsWith('/search/by-image'))!;
const byTextRequest = requests.find((r) => r.path.endsWith('/search/by-text'))!;
const addExample = examples.imageAdd.example;

let gw: TestGateway;
let images: Record<string, Buffer>;
const api = (path: string) => `${gw.url}${path}`;

beforeAll(async () => {
  gw = await startTestGateway();
  images = {
    img001: await productImage('#f4f4f0', 'square', { background: '#333333' }), // a white top
    img002: await productImage('#1f4fd0', 'circle'), // a blue top
  };
  // The libraries the examples name: shop_a_tops is in item_search mode (the failure example says so).
  expect((await post(api(`${PREFIX}/library/create`), { library_name: 'shop_a_tops', mode: 'item_search' })).status).toBe(200);
  expect((await post(api(`${PREFIX}/library/create`), { library_name: 'general_clothing', mode: 'general_search' })).status).toBe(200);
  // The documented results, imported with their documented ids, URIs and tags.
  for (const result of byImageResponse.data.results) {
    const res = await post(api(`${PREFIX}/image/add`), {
      library_name: 'shop_a_tops',
      image_id: result.image_id,
      image_uri: result.image_uri,
      image_base64: images[result.image_id].toString('base64'),
      tags: result.tags,
    });
    expect([res.status, res.body.message]).toEqual([200, null]);
  }
});
afterAll(() => gw.destroy());

test('the document holds the examples this suite relies on', () => {
  expect(requests.map((r) => r.path)).toEqual([`${PREFIX}/search/by-image`, `${PREFIX}/search/by-text`]);
  expect(responses).toHaveLength(4);
  expect(addExample.library_name).toBe('shop_a_tops');
});

test('search/by-image: the request example answers in the documented shape', async () => {
  const body = { ...byImageRequest.body, image_base64: images.img002.toString('base64') };
  const res = await post(api(byImageRequest.path), body);
  expect(res.status).toBe(200);
  expect(shapeOf(res.body)).toEqual(shapeOf(byImageResponse));
  expect(res.body).toMatchObject({ status: 'SUCCESS', message: null });
  // The example's filter (color in [red, blue] and season = summer) keeps the blue top only.
  const [hit] = res.body.data.results;
  expect(res.body.data.results).toHaveLength(1);
  const documented = byImageResponse.data.results.find((r: any) => r.image_id === 'img002');
  expect({ image_id: hit.image_id, image_uri: hit.image_uri, tags: hit.tags }).toEqual({
    image_id: documented.image_id,
    image_uri: documented.image_uri,
    tags: documented.tags,
  });
  expect(hit.score).toBeGreaterThan(0.9);
  expect(Buffer.from(hit.image_base64, 'base64').equals(images.img002)).toBe(true);
});

test('search/by-image: both documented results come back, sorted by score, without the filter', async () => {
  const { tag_filter: _ignored, ...body } = byImageRequest.body;
  const res = await post(api(byImageRequest.path), { ...body, image_base64: images.img001.toString('base64') });
  expect(res.status).toBe(200);
  const results = res.body.data.results;
  expect(results.map((r: any) => r.image_id)).toEqual(['img001', 'img002']);
  expect(results[0].score).toBeGreaterThanOrEqual(results[1].score);
  for (const r of results) {
    const documented = byImageResponse.data.results.find((d: any) => d.image_id === r.image_id);
    expect({ image_uri: r.image_uri, tags: r.tags }).toEqual({ image_uri: documented.image_uri, tags: documented.tags });
    expect(r.score).toBeGreaterThanOrEqual(0);
    expect(r.score).toBeLessThanOrEqual(1);
  }
});

test('search/by-image: no match is the documented empty answer, byte for byte', async () => {
  const body = { ...byImageRequest.body, image_base64: images.img001.toString('base64'), tag_filter: { field: 'season', op: '=', value: 'winter' } };
  const res = await post(api(byImageRequest.path), body);
  expect(res.status).toBe(200);
  expect(res.body).toEqual(emptyResponse);
});

test('search/by-text: the documented failure example for an item_search library, exactly', async () => {
  const res = await post(api(byTextRequest.path), { ...byTextRequest.body, library_name: 'shop_a_tops' });
  expect(res.status).toBe(400);
  expect(res.body).toEqual(failureResponse);
});

test('search/by-text: the request example on a general_search library whose model has no text encoder', async () => {
  // The bundled descriptor has no text tower: text search needs a CLIP model (docs/models.md).
  const res = await post(api(byTextRequest.path), byTextRequest.body);
  expect(res.status).toBe(400);
  expect(shapeOf(res.body)).toEqual(shapeOf(failureResponse));
  expect(res.body.status).toBe(failureResponse.status);
  expect(res.body.message).toContain("Image library 'general_clothing'");
  expect(byTextResponse.status).toBe('SUCCESS'); // the success shape is that of search/by-image (checked above)
});

test('image/add: the spec example imports, idempotently, and return_frame=false gives null frames', async () => {
  const body = { ...addExample, image_base64: images.img001.toString('base64') };
  const first = await post(api(`${PREFIX}/image/add`), body);
  const again = await post(api(`${PREFIX}/image/add`), body);
  expect([first.status, again.status]).toEqual([200, 200]);
  expect(again.body).toMatchObject({ status: 'SUCCESS', message: null, data: { image_id: addExample.image_id, image_uri: addExample.image_uri } });
  const search = await post(api(`${PREFIX}/search/by-image`), {
    library_name: 'shop_a_tops',
    image_base64: images.img001.toString('base64'),
    return_frame: false,
  });
  const rows = search.body.data.results.filter((r: any) => r.image_uri === addExample.image_uri);
  expect(rows).toHaveLength(1); // overwritten, not doubled
  expect(search.body.data.results.every((r: any) => r.image_base64 === null)).toBe(true);
});

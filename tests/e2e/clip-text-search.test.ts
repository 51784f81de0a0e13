/**
 * Text → image search end to end on the generated tiny CLIP model (models/build-tiny-clip.ts), dropped
 * into the models directory in the Immich layout: operator library/create with `model`, image/add,
 * search/by-text (the vendor's documented request example, answered in its documented success shape),
 * search/by-image, and zero-shot categories through the engine.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PREFIX } from '../../adapters/operator/limits';
import { STATUS } from '../../adapters/operator/errors';
import { ALL_CATEGORIES, categoryPrompt, chooseCategory, OTHER_CATEGORY } from '../../adapters/alibaba/category';
import { COLOURS } from '../../models/build-tiny-clip';
import { startClipGateway, TINY_CLIP, type ClipGateway } from '../helpers/clip-models';
import { fixture } from '../helpers/fixtures';
import { shapeOf } from '../helpers/json-examples';
import { post } from '../helpers/gateway';
import { productImage } from '../helpers/product-images';

const examples = fixture('operator', 'examples');
const byTextRequest = (examples.searchRequests.examples as Array<{ path: string; body: any }>).find((r) => r.path.endsWith('/search/by-text'))!;
const byTextResponse = examples.searchResponses.examples[2];
const documentedHit = byTextResponse.data.results[0];

let gw: ClipGateway;
const api = (p: string) => `${gw.url}${PREFIX}/${p}`;
const LIBRARY = byTextRequest.body.library_name as string;

/** Product shots: a white top (the documented hit), tops in colours, and white pants the example's filter excludes. */
const PRODUCTS: Array<{ id: string; colour: string; tags: Record<string, string> }> = [
  { id: documentedHit.image_id, colour: '#f4f4f0', tags: { ...documentedHit.tags, category: 'tops' } },
  { id: 'red-top', colour: '#d01010', tags: { color: 'red', season: 'summer', category: 'tops' } },
  { id: 'blue-top', colour: '#1f4fd0', tags: { color: 'blue', season: 'summer', category: 'tops' } },
  { id: 'green-top', colour: '#10b020', tags: { color: 'green', season: 'summer', category: 'tops' } },
  { id: 'yellow-top', colour: '#f0d010', tags: { color: 'yellow', season: 'summer', category: 'tops' } },
  { id: 'white-pants', colour: '#f8f8f8', tags: { color: 'white', season: 'summer', category: 'pants' } },
];

beforeAll(async () => {
  gw = await startClipGateway();
  const created = await post(api('library/create'), { library_name: LIBRARY, mode: 'general_search', model: TINY_CLIP });
  expect([created.status, created.body.data?.model]).toEqual([200, TINY_CLIP]);
  for (const p of PRODUCTS) {
    const background = p.colour === '#f4f4f0' || p.colour === '#f8f8f8' ? '#888888' : '#ffffff';
    const image = await productImage(p.colour, 'square', { background });
    const res = await post(api('image/add'), {
      library_name: LIBRARY,
      image_id: p.id,
      image_uri: `https://example.com/${p.id}.jpg`,
      image_base64: image.toString('base64'),
      tags: p.tags,
    });
    expect([res.status, res.body.status]).toEqual([200, STATUS.success]);
  }
});
afterAll(() => gw?.destroy());

test("the vendor's by-text request example answers in the documented success shape, the white top first", async () => {
  const res = await post(`${gw.url}${byTextRequest.path}`, byTextRequest.body);
  expect(res.status).toBe(200);
  // Our products carry one more tag (category, which the example's filter reads) than the documented hit.
  const documentedTags = (tags: Record<string, unknown>) => Object.fromEntries(Object.keys(documentedHit.tags).map((k) => [k, tags[k]]));
  const results = res.body.data.results.map((r: any) => ({ ...r, tags: documentedTags(r.tags) }));
  expect(shapeOf({ ...res.body, data: { results } })).toEqual(shapeOf(byTextResponse));
  expect(res.body).toMatchObject({ status: byTextResponse.status, message: byTextResponse.message });
  const ids = res.body.data.results.map((r: any) => r.image_id);
  expect(ids[0]).toBe(documentedHit.image_id);
  expect(ids).not.toContain('white-pants'); // category != pants
  expect(res.body.data.results[0].tags).toMatchObject(documentedHit.tags);
});

test.each(COLOURS.filter((c) => ['red', 'blue', 'green', 'yellow'].includes(c.name)).flatMap((c) => c.words.map((w) => [c.name, w])))(
  'text naming %s (%s) ranks that colour\'s top first',
  async (colour, word) => {
    const res = await post(api('search/by-text'), { library_name: LIBRARY, query_text: `a ${word} T-shirt`, top_k: 3, return_frame: false });
    expect(res.status).toBe(200);
    expect(res.body.data.results[0].image_id).toBe(`${colour}-top`);
    expect(res.body.data.results[0].score).toBeGreaterThan(res.body.data.results[1].score + 0.2);
  },
);

test('search/by-image on the same library finds the same colour first', async () => {
  const query = await productImage('#e01818', 'circle');
  const res = await post(api('search/by-image'), { library_name: LIBRARY, image_base64: query.toString('base64'), top_k: 2, return_frame: false });
  expect(res.status).toBe(200);
  expect(res.body.data.results[0].image_id).toBe('red-top');
});

test('MODE_NOT_SUPPORTED for an item_search library on the CLIP model', async () => {
  await post(api('library/create'), { library_name: 'clip_items', mode: 'item_search', model: TINY_CLIP });
  const res = await post(api('search/by-text'), { library_name: 'clip_items', query_text: 'red' });
  expect([res.status, res.body.status]).toEqual([400, STATUS.modeNotSupported]);
});

test('a library keeps the model it was created with, and an unknown model is refused', async () => {
  const described = await post(api('library/describe'), { library_name: LIBRARY });
  expect(described.body.data.model).toBe(TINY_CLIP);
  const res = await post(api('library/create'), { library_name: 'nope', mode: 'general_search', model: 'not-installed' });
  expect([res.status, res.body.status]).toEqual([400, STATUS.invalidParameter]);
});

test('zero-shot categories: the engine ranks category names against an image', async () => {
  const image = { bytes: await productImage('#1f4fd0', 'ring'), limits: {} };
  const labels = ['red clothes', 'blue clothes', 'green clothes'];
  const ranked = await gw.engine.predictCategories(image, labels, TINY_CLIP);
  expect(ranked.map((r) => r.label)).toEqual(['blue clothes', expect.any(String), expect.any(String)]);
  expect(ranked[0].index).toBe(1);
  expect(ranked.reduce((s, r) => s + r.probability, 0)).toBeCloseTo(1, 6);
  await expect(gw.engine.predictCategories(image, labels, 'default')).rejects.toMatchObject({ kind: 'not_supported' });
});

test('Alibaba CategoryId: a product instance on a CLIP model takes the zero-shot choice; without a text tower, Other', async () => {
  const bytes = await productImage('#1f4fd0', 'square');
  const image = await gw.engine.prepareImage({ bytes, limits: {} });
  const library = await gw.engine.createLibrary('ali', { name: 'products', mode: 'item_search', model: TINY_CLIP });
  const candidates = ALL_CATEGORIES.filter((c) => c.Id !== OTHER_CATEGORY);
  const [best] = await gw.engine.predictCategories({ bytes, limits: {} }, candidates.map((c) => categoryPrompt(c.Name)), TINY_CLIP);
  expect(await chooseCategory({ library, image, engine: gw.engine })).toBe(candidates[best.index].Id);
  expect(await chooseCategory({ library, image, engine: gw.engine, given: 4 })).toBe(4);
  const plain = await gw.engine.createLibrary('ali', { name: 'plain', mode: 'item_search' });
  expect(await chooseCategory({ library: plain, image, engine: gw.engine })).toBe(OTHER_CATEGORY);
});

test('the generated model is small enough to build per test run', () => {
  const onnx = ['visual/model.onnx', 'textual/model.onnx'].map((f) => readFileSync(path.join(gw.modelsDir, TINY_CLIP, f)).length);
  expect(onnx.reduce((a, b) => a + b, 0)).toBeLessThan(300 * 1024);
});

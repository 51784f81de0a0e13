/**
 * Libraries that index each image by its views (Library.views, EngineOptions.views): which views a new
 * library gets, and that a mirrored, grey or cropped copy finds its original through them where the whole
 * picture alone scores it lower. Real sharp, real onnxruntime with the bundled default model, the real
 * embedded store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { PACKAGE_ROOT } from '../../bin/config';
import { ModelRegistry } from '../../core/embed/registry';
import { Engine } from '../../core/engine';
import { cropRect } from '../../core/image/views';
import { openStore } from '../../core/store/open-store';
import type { VectorStore } from '../../core/store/vector-store';
import { makeScene } from '../helpers/synthetic-images';

let dir: string;
let store: VectorStore;
let models: ModelRegistry;
const limits = {};

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'isg-library-views-'));
  store = await openStore({ kind: 'embedded', dir });
  models = new ModelRegistry(path.join(PACKAGE_ROOT, 'models'), 'default', {});
});

afterAll(async () => {
  await models.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('which views a new library gets', () => {
  test('by default the model\'s own (its manifest), or none, or the views named', async () => {
    const manifest = (await models.get('default')).manifest;
    expect(manifest.views?.[0]).toBe('whole');
    expect(manifest.views!.length).toBeGreaterThan(1);

    const byModel = await new Engine(store, models).createLibrary('t', { name: 'by-model', mode: 'general_search' });
    expect(byModel.views).toEqual(manifest.views);
    expect((await store.getLibrary(byModel))?.views).toEqual(manifest.views);

    const off = await new Engine(store, models, { views: 'off' }).createLibrary('t', { name: 'off', mode: 'general_search' });
    expect(off.views).toBeUndefined();
    const named = await new Engine(store, models, { views: 'off' }).createLibrary('t', { name: 'named', mode: 'general_search', views: ['whole', 'mirror'] });
    expect(named.views).toEqual(['whole', 'mirror']);
    const listed = await new Engine(store, models, { views: ['whole', 'grey'] }).createLibrary('t', { name: 'listed', mode: 'general_search' });
    expect(listed.views).toEqual(['whole', 'grey']);
  });

  test.each([[['mirror']], [['whole', 'whole']], [['whole', 'sideways']], [[]]])('refuses the views %j with invalid_argument', async (views) => {
    const engine = new Engine(store, models);
    await expect(engine.createLibrary('t', { name: `bad-${views.join('-')}`, mode: 'general_search', views })).rejects.toMatchObject({
      kind: 'invalid_argument',
      field: 'views',
    });
  });
});

describe('copies found through views', () => {
  const engine = () => new Engine(store, models, { views: 'off' });
  const plain = { tenant: 'q', name: 'plain' };
  const viewed = { tenant: 'q', name: 'viewed' };
  let pictures: Buffer[];

  beforeAll(async () => {
    pictures = await Promise.all(Array.from({ length: 12 }, (_, i) => makeScene(700 + i, 800, 600)));
    await engine().createLibrary('q', { name: 'plain', mode: 'general_search' });
    await engine().createLibrary('q', { name: 'viewed', mode: 'general_search', views: (await models.get('default')).manifest.views });
    for (const ref of [plain, viewed]) {
      const results = await engine().addImages(ref, pictures.map((bytes, i) => ({ id: `p${i}`, image: { bytes, limits } })));
      expect(results.every((r) => r.ok)).toBe(true);
    }
  });

  // Synthetic scenes keep much of their layout when turned grey, so the whole picture already scores a grey
  // copy high: there the views must find it first and score it no lower, not higher.
  const edits: Array<[string, (jpeg: Buffer) => Promise<Buffer>, 'higher' | 'no lower']> = [
    ['mirrored', (j) => sharp(j).flop().jpeg({ quality: 85 }).toBuffer(), 'higher'],
    ['grey', (j) => sharp(j).greyscale().jpeg({ quality: 85 }).toBuffer(), 'no lower'],
    ['cropped to its top-left half', (j) => sharp(j).extract(cropRect('crop-tl', 800, 600)).jpeg({ quality: 85 }).toBuffer(), 'higher'],
  ];

  test.each(edits)('a %s copy finds its original first, scoring %s than without views', async (_name, edit, compared) => {
    for (const i of [0, 5, 9]) {
      const query = { bytes: await edit(pictures[i]), limits };
      const withViews = (await engine().searchByImage([viewed], query, { limit: 3 })).hits;
      const without = (await engine().searchByImage([plain], query, { limit: 12 })).hits;
      expect(withViews[0].record.id).toBe(`p${i}`);
      expect(withViews[0].score).toBeGreaterThan(0.85);
      const plainScore = without.find((h) => h.record.id === `p${i}`)!.score;
      if (compared === 'higher') expect(withViews[0].score).toBeGreaterThan(plainScore);
      else expect(withViews[0].score).toBeGreaterThan(plainScore - 0.001);
      expect(new Set(withViews.map((h) => h.record.id)).size).toBe(withViews.length); // one hit per image
    }
  });

  test('the unedited picture scores 1: the query is embedded as the stored whole-picture vector was', async () => {
    const { hits } = await engine().searchByImage([viewed], { bytes: pictures[3], limits }, { limit: 1 });
    expect(hits[0].record.id).toBe('p3');
    expect(hits[0].score).toBeCloseTo(1, 4);
  });

  test('search by a stored image ranks it first with score 1, each image once, scored as a query would be', async () => {
    const { hits } = await engine().searchByStoredImage(viewed, 'p4', { limit: 12 });
    expect(hits[0].record.id).toBe('p4');
    expect(hits[0].score).toBeCloseTo(1, 4);
    expect(new Set(hits.map((h) => h.record.id)).size).toBe(12);
    const byBytes = (await engine().searchByImage([viewed], { bytes: pictures[4], limits }, { limit: 12 })).hits;
    expect(hits.map((h) => h.record.id)).toEqual(byBytes.map((h) => h.record.id));
    hits.forEach((h, i) => expect(h.score).toBeCloseTo(byBytes[i].score, 4));
  });

  test('a library with views and one without can be searched together', async () => {
    const { hits } = await engine().searchByImage([viewed, plain], { bytes: pictures[7], limits }, { limit: 2 });
    expect(hits.map((h) => [h.library, h.record.id]).sort()).toEqual([
      ['plain', 'p7'],
      ['viewed', 'p7'],
    ]);
  });
});

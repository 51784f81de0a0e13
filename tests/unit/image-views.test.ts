/**
 * Views (core/image/views.ts, Engine.embedViews): each view of one decode lands next to the whole-picture
 * vector of the same edit made by hand, so a mirrored, grey, cropped or rotated copy finds its original's
 * view. Real sharp, real onnxruntime with the bundled default model, the real embedded store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { PACKAGE_ROOT } from '../../bin/config';
import { ModelRegistry } from '../../core/embed/registry';
import { Engine } from '../../core/engine';
import { cropRect, DEFAULT_VIEWS, VIEW_NAMES, type ViewName } from '../../core/image/views';
import { openStore } from '../../core/store/open-store';
import type { VectorStore } from '../../core/store/vector-store';
import { makeScene } from '../helpers/synthetic-images';

let dir: string;
let store: VectorStore;
let models: ModelRegistry;
let engine: Engine;
let picture: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'isg-views-'));
  store = await openStore({ kind: 'embedded', dir });
  models = new ModelRegistry(path.join(PACKAGE_ROOT, 'models'), 'default', {});
  engine = new Engine(store, models);
  picture = await makeScene(4242, 1024, 768, 'landscape');
});

afterAll(async () => {
  await models.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const limits = {};
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);
const whole = async (bytes: Buffer) => (await engine.embedViews({ bytes, limits }, ['whole']))[0];

async function viewOf(view: ViewName): Promise<Float32Array> {
  const all = await engine.embedViews({ bytes: picture, limits }, VIEW_NAMES);
  return all[VIEW_NAMES.indexOf(view)];
}

test('one vector per view, unit length, in the order asked, from one batched model run', async () => {
  const model = await models.get('default');
  const batched = jest.spyOn(model, 'embedGroup');
  try {
    const vectors = await engine.embedViews({ bytes: picture, limits }, DEFAULT_VIEWS);
    expect(batched).toHaveBeenCalledTimes(1);
    expect(batched.mock.calls[0][0]).toHaveLength(DEFAULT_VIEWS.length);
    expect(vectors).toHaveLength(DEFAULT_VIEWS.length);
    for (const v of vectors) {
      expect(v).toHaveLength(model.manifest.dimension);
      expect(Math.abs(dot(v, v) - 1)).toBeLessThan(1e-3);
    }
    // Asking in another order gives the same vectors in that order.
    const reversed = await engine.embedViews({ bytes: picture, limits }, [...DEFAULT_VIEWS].reverse());
    expect(dot(reversed[0], vectors[vectors.length - 1])).toBeGreaterThan(0.9999);
  } finally {
    batched.mockRestore();
  }
});

test('the whole view is the vector a normal search embeds', async () => {
  const vector = await whole(picture);
  // compareImages embeds both sides through the ordinary path (one resize straight to the model size).
  const a = await engine.compareImages({ bytes: picture, limits }, { bytes: picture, limits });
  expect(a).toBeGreaterThan(0.999);
  const library = await engine.createLibrary('t', { name: 'views-whole', mode: 'general_search' });
  await engine.addImage(library, { id: 'p', image: { bytes: picture, limits } });
  const stored = (await store.getVector(library, 'p'))!;
  expect(dot(vector, stored)).toBeGreaterThan(0.99);
});

test.each([
  ['mirror', (s: Sharp) => s.flop()],
  ['grey', (s: Sharp) => s.greyscale()],
] as const)('the %s view matches a %s copy better than the whole picture does', async (view, edit) => {
  const copy = await whole(await edit(sharp(picture)).jpeg({ quality: 85 }).toBuffer());
  const viewVector = await viewOf(view);
  expect(dot(copy, viewVector)).toBeGreaterThan(0.97);
  expect(dot(copy, viewVector)).toBeGreaterThan(dot(copy, await whole(picture)));
});

test.each(['crop-tl', 'crop-tr', 'crop-bl', 'crop-br', 'crop-c'] as const)('the %s view matches that half-area crop', async (view) => {
  const rect = cropRect(view, 1024, 768);
  expect(Math.abs((rect.width * rect.height) / (1024 * 768) - 0.5)).toBeLessThan(0.01);
  const copy = await whole(await sharp(picture).extract(rect).jpeg({ quality: 85 }).toBuffer());
  const viewVector = await viewOf(view);
  expect(dot(copy, viewVector)).toBeGreaterThan(0.95);
  expect(dot(copy, viewVector)).toBeGreaterThan(dot(copy, await whole(picture)));
});

test.each(['strip-top', 'strip-bottom'] as const)('the %s view matches a copy cut to that strip', async (view) => {
  const rect = cropRect(view, 1024, 768);
  expect([rect.width, Math.abs(rect.height / 768 - 0.35) < 0.01]).toEqual([1024, true]);
  const copy = await whole(await sharp(picture).extract(rect).jpeg({ quality: 85 }).toBuffer());
  const viewVector = await viewOf(view);
  expect(dot(copy, viewVector)).toBeGreaterThan(0.95);
  expect(dot(copy, viewVector)).toBeGreaterThan(dot(copy, await whole(picture)));
});

test.each([
  ['rot+8', 8],
  ['rot-8', -8],
] as const)('the %s view matches a copy rotated by %i° and framed like the original', async (view, angle) => {
  const rotated = await sharp(picture).rotate(angle, { background: '#000000' }).toBuffer({ resolveWithObject: true });
  const framed = await sharp(rotated.data)
    .extract({ left: Math.floor((rotated.info.width - 1024) / 2), top: Math.floor((rotated.info.height - 768) / 2), width: 1024, height: 768 })
    .jpeg({ quality: 85 })
    .toBuffer();
  const copy = await whole(framed);
  const viewVector = await viewOf(view);
  expect(dot(copy, viewVector)).toBeGreaterThan(0.95);
  expect(dot(copy, viewVector)).toBeGreaterThan(dot(copy, await whole(picture)));
});

test('bad bytes get the engine’s image error, not a crash', async () => {
  await expect(engine.embedViews({ bytes: Buffer.from('not an image'), limits }, DEFAULT_VIEWS)).rejects.toMatchObject({ kind: 'image_invalid', reason: 'bad_format' });
});

/**
 * Engine.prepareImage: an image checked once serves subject detection, add, search and compare with the
 * same answers as raw bytes; a Library just read stands for its ref; engine errors name engine fields.
 * Real sharp, real onnxruntime with the bundled default model, the real embedded store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { PACKAGE_ROOT } from '../../bin/config';
import { ModelRegistry } from '../../core/embed/registry';
import { Engine } from '../../core/engine';
import { ImageInvalidError, InvalidArgumentError } from '../../core/errors';
import { openStore } from '../../core/store/open-store';
import type { VectorStore } from '../../core/store/vector-store';
import { productImage } from '../helpers/product-images';

let dir: string;
let store: VectorStore;
let models: ModelRegistry;
let engine: Engine;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'isg-prepared-'));
  store = await openStore({ kind: 'embedded', dir });
  models = new ModelRegistry(path.join(PACKAGE_ROOT, 'models'), 'default', {});
  engine = new Engine(store, models);
});

afterAll(async () => {
  await models.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const limits = { minWidth: 100, minHeight: 100 };

test('a prepared image gives the same subjects, search hits and scores as its raw bytes', async () => {
  const tenant = 't';
  const library = await engine.createLibrary(tenant, { name: 'products', mode: 'item_search' });
  const ref = { tenant, name: 'products' };
  const shapes = [await productImage('#d02020', 'circle'), await productImage('#2040d0', 'square'), await productImage('#20a040', 'triangle')];
  for (const [i, bytes] of shapes.entries()) {
    const image = await engine.prepareImage({ bytes, limits });
    await engine.addImage(library, { id: `p${i}`, image: { ...image, region: (await engine.detectSubjects(image, 1))[0] } });
  }
  const query = await productImage('#d02020', 'circle', { width: 500, height: 400 });
  const prepared = await engine.prepareImage({ bytes: query, limits });
  expect(prepared.checked).toMatchObject({ format: 'jpeg', width: 500, height: 400 });
  expect(await engine.detectSubjects(prepared)).toEqual(await engine.detectSubjects({ bytes: query, limits }));
  const raw = await engine.searchByImage([ref], { bytes: query, limits }, { limit: 3 });
  const fromPrepared = await engine.searchByImage([library], prepared, { limit: 3 });
  expect(fromPrepared).toEqual(raw);
  expect(raw.hits[0].record.id).toBe('p0');
  expect(await engine.compareImages(prepared, { bytes: shapes[0], limits })).toBeCloseTo(await engine.compareImages({ bytes: query, limits }, { bytes: shapes[0], limits }), 6);
  expect(await engine.countImages(library)).toBe(3);
});

test('a caller that refuses rotation flags learns of one before any other rule; others accept the image', async () => {
  const rotated = await sharp(await productImage('#d02020', 'circle', { width: 60, height: 60 })).withMetadata({ orientation: 6 }).jpeg().toBuffer();
  await expect(engine.prepareImage({ bytes: rotated, limits: { ...limits, refuseRotation: true } })).rejects.toMatchObject({ kind: 'image_invalid', reason: 'rotated' });
  await expect(engine.prepareImage({ bytes: rotated, limits })).rejects.toMatchObject({ reason: 'too_small' });
  const large = await sharp(await productImage('#d02020', 'circle')).withMetadata({ orientation: 6 }).jpeg().toBuffer();
  const accepted = await engine.prepareImage({ bytes: large, limits });
  expect([accepted.checked.width, accepted.checked.height]).toEqual([480, 640]);
  await expect(engine.prepareImage({ bytes: Buffer.from('not an image'), limits })).rejects.toBeInstanceOf(ImageInvalidError);
});

test('engine errors name engine fields', async () => {
  const refused = await engine.createLibrary('t', { name: 'x'.repeat(300), mode: 'general_search' }).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(InvalidArgumentError);
  expect((refused as InvalidArgumentError).field).toBe('library');
  await expect(engine.searchByText([], 'a', { limit: 1 })).rejects.toMatchObject({ field: 'libraries' });
  await engine.createLibrary('t', { name: 'ids', mode: 'general_search' });
  const [result] = await engine.addImages({ tenant: 't', name: 'ids' }, [{ id: '', image: { bytes: await productImage('#000000', 'ring'), limits } }]);
  expect(result.ok ? undefined : (result.error as InvalidArgumentError).field).toBe('id');
});

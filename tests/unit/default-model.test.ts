/**
 * The bundled default model: reproducible from its script, runs in onnxruntime-node, and meets its
 * quality bar on synthetic scenes with real sharp transforms (see docs/models.md for the full numbers).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { loadModel, type LoadedModel } from '../../core/embed/runner';
import { toTensor } from '../../core/image/tensor';
import { writeDefaultModel } from '../../models/build-default-model';
import { makeScene, nearDuplicate, NEAR_DUPLICATES, SCENE_FAMILIES } from '../helpers/synthetic-images';

const MODEL_DIR = path.join(__dirname, '../../models/default');

const cosine = (a: Float32Array, b: Float32Array): number => a.reduce((s, v, i) => s + v * b[i], 0);
const norm = (a: Float32Array): number => Math.sqrt(cosine(a, a));

describe('default model (isg-descriptor-v1)', () => {
  let model: LoadedModel;
  const embed = async (jpeg: Buffer): Promise<Float32Array> =>
    model.embedImage(await toTensor(sharp(jpeg), model.manifest.visual.preprocess));

  beforeAll(async () => {
    model = await loadModel(MODEL_DIR);
  });
  afterAll(async () => {
    await model?.close();
  });

  test('regenerating it gives byte-identical model.onnx and manifest.json', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'isg-model-'));
    try {
      writeDefaultModel(dir);
      for (const file of ['model.onnx', 'manifest.json']) {
        expect(readFileSync(path.join(dir, file)).equals(readFileSync(path.join(MODEL_DIR, file)))).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('manifest describes a normalised visual model with a small input', () => {
    const m = model.manifest;
    expect(m.name).toBe('isg-descriptor-v1');
    expect(m.normalized).toBe(true);
    expect(m.textual).toBeUndefined();
    expect(m.visual.preprocess.width).toBe(m.visual.preprocess.height);
    expect(readFileSync(path.join(MODEL_DIR, m.visual.file)).length).toBeLessThan(400_000);
  });

  test('outputs unit-norm vectors of the manifest dimension; a batch equals single runs', async () => {
    const jpegs = await Promise.all([0, 1, 2, 3, 4, 5].map((s) => makeScene(500 + s, 320, 240)));
    const tensors = await Promise.all(jpegs.map((j) => toTensor(sharp(j), model.manifest.visual.preprocess)));
    const batched = await model.embedImages(tensors);
    const single = await loadModel(MODEL_DIR, { maxBatch: 1 });
    try {
      for (let i = 0; i < tensors.length; i++) {
        expect(batched[i].length).toBe(model.manifest.dimension);
        expect(norm(batched[i])).toBeCloseTo(1, 4);
        const alone = await single.embedImage(tensors[i]);
        alone.forEach((v, k) => expect(v).toBeCloseTo(batched[i][k], 5));
      }
      expect(single.stats().maxBatch).toBe(1);
    } finally {
      await single.close();
    }
  });

  describe('quality on synthetic scenes', () => {
    // Two scenes of every generator family, 1024x768 JPEGs.
    const SEEDS = Array.from({ length: 2 * SCENE_FAMILIES.length }, (_, i) => i);
    const originals: Float32Array[] = [];
    const jpegs: Buffer[] = [];

    beforeAll(async () => {
      for (const seed of SEEDS) {
        const jpeg = await makeScene(seed);
        jpegs.push(jpeg);
        originals.push(await embed(jpeg));
      }
    });

    test.each(NEAR_DUPLICATES)('near-duplicate %s scores >= 0.9 against its original', async (kind) => {
      const scores: number[] = [];
      for (let i = 0; i < jpegs.length; i++) {
        scores.push(cosine(originals[i], await embed(await nearDuplicate(jpegs[i], kind))));
      }
      expect(Math.min(...scores)).toBeGreaterThanOrEqual(0.9);
    });

    test('unrelated scenes score low on average and below every near-duplicate', () => {
      const scores: number[] = [];
      for (let i = 0; i < originals.length; i++) {
        for (let j = i + 1; j < originals.length; j++) scores.push(cosine(originals[i], originals[j]));
      }
      const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
      expect(mean).toBeLessThanOrEqual(0.35);
      expect(Math.max(...scores)).toBeLessThan(0.9);
    });
  });
});

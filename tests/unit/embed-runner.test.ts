/** The model runner and its micro-batcher, on the real default model (no mocks). */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { MicroBatcher } from '../../core/embed/batcher';
import { loadModel, type LoadedModel } from '../../core/embed/runner';
import { QuotaExceededError } from '../../core/errors';
import { tensorSize, toTensor } from '../../core/image/tensor';
import { makeScene } from '../helpers/synthetic-images';

const MODEL_DIR = path.join(__dirname, '../../models/default');

/** A copy of the default model folder in a temp dir, with `edit` applied to it. */
function copyModel(edit: (dir: string) => void): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'isg-runner-'));
  mkdirSync(dir, { recursive: true });
  for (const f of ['manifest.json', 'model.onnx']) copyFileSync(path.join(MODEL_DIR, f), path.join(dir, f));
  edit(dir);
  return dir;
}

describe('loadModel / embedImage', () => {
  let model: LoadedModel;
  let tensors: Float32Array[];

  beforeAll(async () => {
    model = await loadModel(MODEL_DIR);
    const jpegs = await Promise.all(Array.from({ length: 12 }, (_, i) => makeScene(700 + i, 256, 192)));
    tensors = await Promise.all(jpegs.map((j) => toTensor(sharp(j), model.manifest.visual.preprocess)));
  });
  afterAll(async () => {
    await model?.close();
  });

  test('concurrent calls are batched, and give the same vectors as unbatched calls', async () => {
    const before = model.stats();
    const calls = Array.from({ length: 40 }, (_, i) => tensors[i % tensors.length]);
    const batched = await Promise.all(calls.map((t) => model.embedImage(t)));
    const after = model.stats();
    const batches = after.batches - before.batches;
    const items = after.items - before.items;
    expect(items).toBe(40);
    expect(batches).toBeLessThan(items);
    expect(after.maxBatch).toBeGreaterThan(1);
    expect(after.maxBatch).toBeLessThanOrEqual(32);

    const single = await loadModel(MODEL_DIR, { maxBatch: 1 });
    try {
      for (let i = 0; i < calls.length; i++) {
        const alone = await single.embedImage(calls[i]);
        expect(alone.length).toBe(model.manifest.dimension);
        alone.forEach((v, k) => expect(v).toBeCloseTo(batched[i][k], 5));
      }
      expect(single.stats()).toEqual({ batches: 40, items: 40, maxBatch: 1 });
    } finally {
      await single.close();
    }
  });

  test('a lone request runs at once, as a batch of one', async () => {
    const before = model.stats();
    const v = await model.embedImage(tensors[0]);
    expect(v.length).toBe(model.manifest.dimension);
    expect(model.stats().batches - before.batches).toBe(1);
    expect(model.stats().items - before.items).toBe(1);
  });

  test('embedImages keeps order and matches embedImage', async () => {
    const many = Array.from({ length: 100 }, (_, i) => tensors[(i * 7) % tensors.length]);
    const out = await model.embedImages(many);
    expect(out).toHaveLength(100);
    const check = await model.embedImage(many[57]);
    check.forEach((v, k) => expect(v).toBeCloseTo(out[57][k], 5));
  });

  test('a tensor of the wrong size is refused without affecting others', async () => {
    const ok = model.embedImage(tensors[1]);
    await expect(model.embedImage(new Float32Array(10))).rejects.toThrow(/expected/);
    await expect(ok).resolves.toHaveLength(model.manifest.dimension);
  });

  test('a full queue refuses with QuotaExceededError(queue)', async () => {
    const small = await loadModel(MODEL_DIR, { maxBatch: 2, maxQueue: 4 });
    try {
      // All submitted in one turn: nothing has started running yet, so only 4 fit.
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => small.embedImage(tensors[2])));
      const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
      expect(refused).toHaveLength(6);
      for (const r of refused) {
        expect(r.reason).toBeInstanceOf(QuotaExceededError);
        expect(r.reason.quota).toBe('queue');
        expect(r.reason.kind).toBe('quota_exceeded');
      }
      // Once drained, the queue accepts again.
      await expect(small.embedImage(tensors[2])).resolves.toHaveLength(small.manifest.dimension);
    } finally {
      await small.close();
    }
  });
});

describe('loadModel checks', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  test('refuses a model file whose sha256 does not match the manifest', async () => {
    const dir = copyModel((d) => {
      const bytes = readFileSync(path.join(d, 'model.onnx'));
      bytes[bytes.length - 1] ^= 0xff;
      writeFileSync(path.join(d, 'model.onnx'), bytes);
    });
    dirs.push(dir);
    await expect(loadModel(dir)).rejects.toThrow(/sha256 of model\.onnx/);
  });

  test('refuses a manifest whose sha256 is wrong', async () => {
    const dir = copyModel((d) => {
      const m = JSON.parse(readFileSync(path.join(d, 'manifest.json'), 'utf8'));
      m.sha256['model.onnx'] = '0'.repeat(64);
      writeFileSync(path.join(d, 'manifest.json'), JSON.stringify(m));
    });
    dirs.push(dir);
    await expect(loadModel(dir)).rejects.toThrow(/sha256/);
  });

  test('normalises outputs itself when the manifest says the model does not', async () => {
    const dir = copyModel((d) => {
      const m = JSON.parse(readFileSync(path.join(d, 'manifest.json'), 'utf8'));
      m.normalized = false;
      writeFileSync(path.join(d, 'manifest.json'), JSON.stringify(m));
    });
    dirs.push(dir);
    const m = await loadModel(dir);
    try {
      const t = new Float32Array(tensorSize(m.manifest.visual.preprocess)).map((_, i) => (i % 97) / 97);
      const v = await m.embedImage(t);
      expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    } finally {
      await m.close();
    }
  });

  test('a missing folder is a clear error', async () => {
    await expect(loadModel(path.join(tmpdir(), 'no-such-model-here'))).rejects.toThrow(/manifest\.json/);
  });
});

describe('MicroBatcher', () => {
  test('a failing run rejects only the callers of that batch', async () => {
    const seen: number[][] = [];
    const batcher = new MicroBatcher<number, number>(
      async (items) => {
        seen.push(items);
        if (items.includes(13)) throw new Error('bad batch');
        return items.map((x) => x * 2);
      },
      { maxBatch: 3, maxQueue: 100, onFull: () => new Error('full') },
    );
    const results = await Promise.allSettled([1, 2, 3, 13, 5, 6, 7].map((x) => batcher.submit(x)));
    expect(seen).toEqual([
      [1, 2, 3],
      [13, 5, 6],
      [7],
    ]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'x'))).toEqual([2, 4, 6, 'x', 'x', 'x', 14]);
    expect(batcher.stats()).toEqual({ batches: 3, items: 7, maxBatch: 3 });
  });

  test('requests arriving during a run form the next batch', async () => {
    const seen: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const batcher = new MicroBatcher<number, number>(
      async (items) => {
        seen.push(items);
        if (seen.length === 1) await gate;
        return items;
      },
      { maxBatch: 32, maxQueue: 100, onFull: () => new Error('full') },
    );
    const first = batcher.submit(0);
    await new Promise((r) => setImmediate(r)); // the first run has started
    const later = [1, 2, 3, 4].map((x) => batcher.submit(x));
    release();
    await Promise.all([first, ...later]);
    expect(seen).toEqual([[0], [1, 2, 3, 4]]);
  });
});

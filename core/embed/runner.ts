/**
 * Loads a model folder (manifest.json + ONNX file) into an onnxruntime-node session and embeds image
 * tensors through it. Concurrent embedImage calls are micro-batched (see batcher.ts) into one
 * [N, 3, H, W] session.run. The session lives in a worker thread (see session-worker.ts), so a run
 * never blocks this thread's event loop.
 *
 * Tensors come from core/image/tensor.ts `toTensor(pipeline, manifest.visual.preprocess)`.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { QuotaExceededError } from '../errors';
import { tensorSize } from '../image/tensor';
import { MicroBatcher, type BatcherStats } from './batcher';
import type { ModelManifest } from './manifest';
import { SessionWorker } from './session-worker';

export interface LoadModelOptions {
  /** Most images per session.run. Default 32. */
  maxBatch?: number;
  /** Most images waiting for a run; beyond, embedImage rejects with QuotaExceededError('queue'). Default 1024. */
  maxQueue?: number;
  /** onnxruntime intra-op threads. Default: the number of CPUs available to the process. */
  threads?: number;
  /**
   * Let onnxruntime's threads busy-wait between runs. Default false: on a machine that also decodes
   * images (sharp) on the same cores, spinning threads steal the CPU the decoder needs; measured on 2
   * busy cores, batch-32 throughput doubled with spinning off.
   */
  spinning?: boolean;
}

export interface LoadedModel {
  readonly manifest: ModelManifest;
  /** Absolute path of the model folder. */
  readonly dir: string;
  /** Embed one image tensor ([3, H, W] float32 as from toTensor); resolves to a unit-norm vector. */
  embedImage(tensor: Float32Array): Promise<Float32Array>;
  /**
   * Embed a text query into the image space; present only for models with a text tower
   * (manifest.textual). This runner does not load text towers yet, so it is always undefined here.
   */
  embedText?: (text: string) => Promise<Float32Array>;
  /** Embed many, in order (batched, without overfilling the queue). */
  embedImages(tensors: Float32Array[]): Promise<Float32Array[]>;
  /** Finish queued work, then release the session. */
  close(): Promise<void>;
  /** batches run, items embedded, largest batch so far. */
  stats(): BatcherStats;
}

export const DEFAULT_MAX_BATCH = 32;
export const DEFAULT_MAX_QUEUE = 1024;

async function readManifest(dir: string): Promise<ModelManifest> {
  const file = path.join(dir, 'manifest.json');
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(await readFile(file, 'utf8')) as ModelManifest;
  } catch (err) {
    throw new Error(`model ${dir}: cannot read manifest.json: ${(err as Error).message}`);
  }
  const v = manifest.visual;
  if (!manifest.name || !(manifest.dimension > 0) || !v?.file || !v.input || !v.output || !v.preprocess) {
    throw new Error(`model ${dir}: manifest.json lacks name, dimension or visual.{file,input,output,preprocess}`);
  }
  return manifest;
}

/** Refuse files whose sha256 differs from the manifest's. */
async function verifyChecksums(dir: string, manifest: ModelManifest): Promise<void> {
  for (const [file, expected] of Object.entries(manifest.sha256 ?? {})) {
    const actual = createHash('sha256')
      .update(await readFile(path.join(dir, file)))
      .digest('hex');
    if (actual !== expected.toLowerCase()) {
      throw new Error(
        `model ${manifest.name} (${dir}): sha256 of ${file} is ${actual}, manifest says ${expected}; ` +
          'the file is damaged or does not belong to this manifest',
      );
    }
  }
}

function l2normalise(v: Float32Array): Float32Array {
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += v[i] * v[i];
  if (ss > 0) {
    const inv = 1 / Math.sqrt(ss);
    for (let i = 0; i < v.length; i++) v[i] *= inv;
  }
  return v;
}

/** Load the model in `dir` (which holds manifest.json). Throws if a checksum does not match. */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  dir = path.resolve(dir);
  const manifest = await readManifest(dir);
  await verifyChecksums(dir, manifest);

  const { visual } = manifest;
  const spec = visual.preprocess;
  const size = tensorSize(spec);
  const dimension = manifest.dimension;
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  const maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;

  const session = await SessionWorker.start(path.join(dir, visual.file), {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    // One run at a time (the batcher serialises), each using every core.
    intraOpNumThreads: options.threads ?? availableParallelism(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    extra: { session: { intra_op: { allow_spinning: options.spinning ? '1' : '0' } } },
  });
  if (!session.inputNames.includes(visual.input) || !session.outputNames.includes(visual.output)) {
    await session.close();
    throw new Error(
      `model ${manifest.name}: the ONNX file has inputs [${session.inputNames}] and outputs [${session.outputNames}], ` +
        `manifest names input '${visual.input}' and output '${visual.output}'`,
    );
  }

  async function runBatch(tensors: Float32Array[]): Promise<Float32Array[]> {
    const n = tensors.length;
    const input = new Float32Array(n * size);
    tensors.forEach((t, i) => input.set(t, i * size));
    const { data, dims } = await session.run(visual.input, input, [n, 3, spec.height, spec.width], visual.output);
    if (dims.length !== 2 || dims[0] !== n || dims[1] !== dimension) {
      throw new Error(`model ${manifest.name}: output shape [${dims}], expected [${n}, ${dimension}]`);
    }
    const vectors: Float32Array[] = [];
    for (let i = 0; i < n; i++) {
      const v = data.slice(i * dimension, (i + 1) * dimension);
      vectors.push(manifest.normalized ? v : l2normalise(v));
    }
    return vectors;
  }

  const batcher = new MicroBatcher<Float32Array, Float32Array>(runBatch, {
    maxBatch,
    maxQueue,
    onFull: () => new QuotaExceededError('queue', 'embedding queue is full'),
  });

  function embedImage(tensor: Float32Array): Promise<Float32Array> {
    if (tensor.length !== size) {
      return Promise.reject(
        new Error(`model ${manifest.name}: tensor has ${tensor.length} values, expected ${size} (3x${spec.height}x${spec.width})`),
      );
    }
    return batcher.submit(tensor);
  }

  async function embedImages(tensors: Float32Array[]): Promise<Float32Array[]> {
    // Two batches in flight at a time: the next is queued while the current runs, and a long list
    // never fills the queue that concurrent single requests share.
    const window = 2 * maxBatch;
    const out: Float32Array[] = [];
    for (let i = 0; i < tensors.length; i += window) {
      out.push(...(await Promise.all(tensors.slice(i, i + window).map(embedImage))));
    }
    return out;
  }

  let closing: Promise<void> | undefined;
  return {
    manifest,
    dir,
    embedImage,
    embedImages,
    stats: () => batcher.stats(),
    close: () =>
      (closing ??= (async () => {
        await batcher.close();
        await session.close();
      })()),
  };
}

/**
 * Loads a model folder (manifest.json, or an Immich-layout CLIP folder) into onnxruntime-node sessions
 * and embeds image tensors and, when the model has a text tower, text through them. Concurrent
 * embedImage calls are micro-batched (see batcher.ts) into one [N, 3, H, W] session.run, and concurrent
 * embedText calls the same way into one [N, contextLength] run. Each session lives in a worker thread
 * (see session-worker.ts), so a run never blocks this thread's event loop. Text embeddings are kept in
 * an LRU cache (text-cache.ts).
 *
 * Tensors come from core/image/tensor.ts `toTensor(pipeline, manifest.visual.preprocess)`.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { InvalidArgumentError, QuotaExceededError } from '../errors';
import { tensorSize } from '../image/tensor';
import { MicroBatcher, type BatcherStats } from './batcher';
import type { ModelManifest } from './manifest';
import { readModelManifest } from './model-folder';
import { SessionWorker, type Feed } from './session-worker';
import { LruCache } from './text-cache';
import { ClipTokenizer, type TokenizedText } from './tokenizer';

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
  /** Text embeddings kept in the LRU cache. Default 1024; 0 disables the cache. */
  textCacheSize?: number;
  /** Told of every session run (metrics): the model, which tower, the batch size and each item's queue wait. */
  onBatch?: (event: BatchEvent) => void;
}

export interface BatchEvent {
  model: string;
  tower: 'visual' | 'textual';
  size: number;
  waitedMs: number[];
}

export interface TextStats extends BatcherStats {
  cacheHits: number;
  cacheMisses: number;
  cacheSize: number;
}

export interface LoadedModel {
  readonly manifest: ModelManifest;
  /** Absolute path of the model folder. */
  readonly dir: string;
  /** Embed one image tensor ([3, H, W] float32 as from toTensor); resolves to a unit-norm vector. */
  embedImage(tensor: Float32Array): Promise<Float32Array>;
  /**
   * Embed a text query into the image space (unit norm); present only for models with a text tower
   * (manifest.textual). Cached (LRU) by the cleaned text.
   */
  embedText?: (text: string) => Promise<Float32Array>;
  /** Text batches and cache counters; present with embedText. */
  textStats?: () => TextStats;
  /** Embed many, in order (batched, without overfilling the queue). */
  embedImages(tensors: Float32Array[]): Promise<Float32Array[]>;
  /** Embed the tensors of one picture (its views), admitted to the queue as one request; in order. */
  embedGroup(tensors: Float32Array[]): Promise<Float32Array[]>;
  /** Finish queued work, then release the session. */
  close(): Promise<void>;
  /** batches run, items embedded, largest batch so far. */
  stats(): BatcherStats;
}

export const DEFAULT_MAX_BATCH = 32;
export const DEFAULT_MAX_QUEUE = 1024;

/** Refuse files whose sha256 differs from the manifest's. */
async function verifyChecksums(dir: string, manifest: ModelManifest): Promise<void> {
  for (const [file, expected] of Object.entries(manifest.sha256 ?? {})) {
    const actual = await sha256File(path.join(dir, file));
    if (actual !== expected.toLowerCase()) {
      throw new Error(
        `model ${manifest.name} (${dir}): sha256 of ${file} is ${actual}, manifest says ${expected}; ` +
          'the file is damaged or does not belong to this manifest',
      );
    }
  }
}

/** sha256 of a file, streamed (CLIP towers are hundreds of MB). */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
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

/** Load the model in `dir` (manifest.json or an Immich layout). Throws if a checksum does not match. */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  dir = path.resolve(dir);
  const manifest = await readModelManifest(dir);
  await verifyChecksums(dir, manifest);

  const { visual } = manifest;
  const spec = visual.preprocess;
  const size = tensorSize(spec);
  const dimension = manifest.dimension;
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  const maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
  const sessionOptions: InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    // One run at a time per tower (each batcher serialises), each using every core.
    intraOpNumThreads: options.threads ?? availableParallelism(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    extra: { session: { intra_op: { allow_spinning: options.spinning ? '1' : '0' } } },
  };
  const onFull = () => new QuotaExceededError('queue', 'embedding queue is full');
  const onBatchOf = (tower: BatchEvent['tower']) =>
    options.onBatch && ((size: number, waitedMs: number[]) => options.onBatch!({ model: path.basename(dir), tower, size, waitedMs }));

  const session = await SessionWorker.start(path.join(dir, visual.file), sessionOptions);
  let text: TextTower | undefined;
  try {
    const imageInput = resolveName(manifest, 'visual input', visual.input, session.inputNames, ['image']);
    const imageOutput = resolveName(manifest, 'visual output', visual.output, session.outputNames, []);
    if (manifest.textual) text = await startTextTower(dir, manifest, sessionOptions);

    async function runBatch(tensors: Float32Array[]): Promise<Float32Array[]> {
      const n = tensors.length;
      const input = new Float32Array(n * size);
      tensors.forEach((t, i) => input.set(t, i * size));
      const out = await session.run(imageInput, input, [n, 3, spec.height, spec.width], imageOutput);
      return toVectors(manifest, out, n);
    }

    const batcher = new MicroBatcher<Float32Array, Float32Array>(runBatch, { maxBatch, maxQueue, onFull, onBatch: onBatchOf('visual') });

    const sizeError = (tensor: Float32Array) =>
      new Error(`model ${manifest.name}: tensor has ${tensor.length} values, expected ${size} (3x${spec.height}x${spec.width})`);

    function embedImage(tensor: Float32Array): Promise<Float32Array> {
      if (tensor.length !== size) return Promise.reject(sizeError(tensor));
      return batcher.submit(tensor);
    }

    function embedGroup(tensors: Float32Array[]): Promise<Float32Array[]> {
      const wrong = tensors.find((t) => t.length !== size);
      if (wrong) return Promise.reject(sizeError(wrong));
      return batcher.submitGroup(tensors);
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

    const textBatcher = text && new MicroBatcher<TokenizedText, Float32Array>(text.runBatch, { maxBatch, maxQueue, onFull, onBatch: onBatchOf('textual') });
    const cache = new LruCache<string, Promise<Float32Array>>(options.textCacheSize ?? DEFAULT_TEXT_CACHE_SIZE);

    function embedText(query: string): Promise<Float32Array> {
      const cleaned = text!.tokenizer.clean(query);
      if (cleaned.length === 0) return Promise.reject(new InvalidArgumentError('text', 'the text is empty'));
      let vector = cache.get(cleaned);
      if (!vector) {
        // The promise is cached, so concurrent identical queries share one run; a failure is not kept.
        vector = textBatcher!.submit(text!.tokenizer.encode(cleaned));
        vector.catch(() => cache.delete(cleaned));
        cache.set(cleaned, vector);
      }
      return vector.then((v) => v.slice());
    }

    let closing: Promise<void> | undefined;
    const tower = text;
    return {
      manifest,
      dir,
      embedImage,
      embedImages,
      embedGroup,
      embedText: tower ? embedText : undefined,
      textStats: textBatcher ? () => ({ ...textBatcher.stats(), ...cacheCounters(cache) }) : undefined,
      stats: () => batcher.stats(),
      close: () =>
        (closing ??= (async () => {
          await Promise.all([batcher.close(), textBatcher?.close()]);
          await Promise.all([session.close(), tower?.session.close()]);
        })()),
    };
  } catch (err) {
    await Promise.all([session.close(), text?.session.close()]);
    throw err;
  }
}

export const DEFAULT_TEXT_CACHE_SIZE = 1024;

function cacheCounters(cache: LruCache<string, unknown>) {
  const { hits, misses, size } = cache.stats();
  return { cacheHits: hits, cacheMisses: misses, cacheSize: size };
}

/**
 * The input or output a manifest names, or, when it leaves the name empty (Immich-layout folders),
 * the first of `preferred` the model has, else its first one (Immich feeds "image"/"text" and reads
 * output 0).
 */
function resolveName(manifest: ModelManifest, what: string, named: string, available: string[], preferred: string[]): string {
  const name = named || preferred.find((p) => available.includes(p)) || available[0];
  if (!name || !available.includes(name)) {
    throw new Error(`model ${manifest.name}: the ONNX file has [${available}], the manifest names ${what} '${named}'`);
  }
  return name;
}

function toVectors(manifest: ModelManifest, out: { data: Float32Array; dims: number[] }, n: number): Float32Array[] {
  const { data, dims } = out;
  const dimension = manifest.dimension;
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

interface TextTower {
  session: SessionWorker;
  tokenizer: ClipTokenizer;
  runBatch(items: TokenizedText[]): Promise<Float32Array[]>;
}

async function startTextTower(dir: string, manifest: ModelManifest, options: InferenceSession.SessionOptions): Promise<TextTower> {
  const textual = manifest.textual!;
  const tokenizer = await ClipTokenizer.load(dir, textual);
  const session = await SessionWorker.start(path.join(dir, textual.file), options);
  try {
    const input = resolveName(manifest, 'textual input', textual.input, session.inputNames, ['text', 'input_ids']);
    const output = resolveName(manifest, 'textual output', textual.output, session.outputNames, []);
    const mask = textual.attentionMask ?? (session.inputNames.includes('attention_mask') ? 'attention_mask' : undefined);
    // Immich's exports take int32 ids; Hugging Face exports usually int64.
    const int64 = session.inputs.find((i) => i.name === input)?.type === 'int64';
    const L = tokenizer.contextLength;
    const feedOf = (name: string, rows: Int32Array[]): Feed => {
      const n = rows.length;
      const ids = new Int32Array(n * L);
      rows.forEach((r, i) => ids.set(r, i * L));
      return int64
        ? { name, type: 'int64', data: BigInt64Array.from(ids, (v) => BigInt(v)), dims: [n, L] }
        : { name, type: 'int32', data: ids, dims: [n, L] };
    };
    return {
      session,
      tokenizer,
      async runBatch(items) {
        const feeds = [feedOf(input, items.map((t) => t.ids))];
        if (mask) feeds.push(feedOf(mask, items.map((t) => t.mask)));
        return toVectors(manifest, await session.runFeeds(feeds, output), items.length);
      },
    };
  } catch (err) {
    await session.close();
    throw err;
  }
}

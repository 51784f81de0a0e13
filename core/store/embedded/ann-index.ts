/**
 * The approximate-nearest-neighbour index of one large library: a usearch HNSW graph over inner product,
 * keyed by the images' stable integer keys. It is a cache: SQLite holds the truth, and the index can
 * always be rebuilt from it. Building runs in a worker thread (usearch's own threads inside it) so that
 * the event loop keeps serving while a big library is indexed; snapshots are files written atomically.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { Index, MetricKind, ScalarKind, exactSearch, type BatchMatches } from 'usearch';

export interface HnswParams {
  /** Graph degree (M). */
  connectivity: number;
  /** Candidate list size while inserting (efConstruction). */
  expansionAdd: number;
  /** Candidate list size while searching (ef) for libraries under 100k images; larger ones use more (searchExpansion). */
  expansionSearch: number;
  /** How the index stores vectors; similarities are always recomputed exactly in float32. */
  quantization: 'f32' | 'f16' | 'bf16';
}

export const DEFAULT_HNSW: HnswParams = {
  connectivity: 16,
  expansionAdd: 128,
  expansionSearch: 96,
  quantization: 'f32',
};

const THREADS = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);

/**
 * ef for a library of `size` images: HNSW recall falls as the graph grows, so the candidate list grows
 * with it. Measured on 512-d clustered vectors at 300k (npm run bench -- --scale 300000), recall@10 of the
 * bare index: ef 96 0.978, 128 0.988, 192 0.992, 256 0.995, 384 0.998; p99 1.1, 1.3, 1.6, 1.7–2.8, 2.4 ms.
 * usearch fixes ef when an index is made or opened, so it follows the size at the last build or load.
 */
export function searchExpansion(size: number, params: HnswParams): number {
  const scale = size < 100_000 ? 1 : size < 300_000 ? 4 / 3 : size < 1_000_000 ? 2 : 3;
  return Math.round(params.expansionSearch * scale);
}

function newIndex(dim: number, params: HnswParams, size: number): Index {
  return new Index({
    dimensions: dim,
    metric: MetricKind.IP,
    quantization: params.quantization as ScalarKind,
    connectivity: params.connectivity,
    expansion_add: params.expansionAdd,
    expansion_search: searchExpansion(size, params),
    multi: false,
  });
}

/**
 * One library's HNSW index. Either a mutable in-memory index (built here), or a snapshot file memory-mapped
 * read-only (usearch `view`: opening copies nothing and holds the event loop well under a second at a
 * million vectors, where `load` copied 2 GB for ~10 s; the vectors then live once, in the page cache) with
 * the writes made since kept beside it: additions in a small mutable `delta` index, removals as hidden
 * keys. Saving a mapped index that changed materialises it (load, apply, save: at close).
 */
export class AnnIndex {
  /** Additions made since a mapped snapshot (created on the first one). */
  private delta?: Index;
  /** The keys in `delta` (usearch cannot list them), for materialising on save. */
  private readonly deltaKeys = new Set<number>();
  /** Keys of a mapped snapshot removed since. */
  private readonly hidden = new Set<number>();

  private constructor(
    private readonly index: Index,
    readonly dim: number,
    private readonly params: HnswParams,
    private readonly madeFor: number,
    /** The file a mapped index views; undefined for a mutable one. */
    private readonly viewedFile?: string,
  ) {}

  /** `size`: the images the index is made for (it sets ef). */
  static create(dim: number, params: HnswParams, size: number): AnnIndex {
    return new AnnIndex(newIndex(dim, params, size), dim, params, size);
  }

  /**
   * Loads a snapshot file; undefined when it is missing, does not match its checksum (usearch crashes
   * the process on a damaged file, so it only ever sees verified bytes) or is of another dimension.
   */
  static load(file: string, dim: number, params: HnswParams, checksum: string, size: number): AnnIndex | undefined {
    if (!fs.existsSync(file)) return undefined;
    try {
      if (fileChecksum(file) !== checksum) return undefined;
      return AnnIndex.openVerified(file, dim, params, size);
    } catch {
      return undefined;
    }
  }

  /** Memory-maps a snapshot file whose checksum the caller has verified (fileChecksumAsync, or the build's own). */
  static openVerified(file: string, dim: number, params: HnswParams, size: number): AnnIndex | undefined {
    try {
      const index = newIndex(dim, params, size);
      index.view(file);
      if (index.dimensions() !== dim) return undefined;
      return new AnnIndex(index, dim, params, size, file);
    } catch {
      return undefined;
    }
  }

  get size(): number {
    return this.index.size() - this.hidden.size + this.deltaKeys.size;
  }

  contains(key: number): boolean {
    if (this.deltaKeys.has(key)) return true;
    return (this.index.contains(BigInt(key)) as boolean) && !this.hidden.has(key);
  }

  /** Adds vectors (row-major, keys.length x dim); keys must not be present. */
  add(keys: number[], vectors: Float32Array): void {
    if (keys.length === 0) return;
    const bigKeys = BigUint64Array.from(keys, (k) => BigInt(k));
    if (this.viewedFile === undefined) {
      this.index.add(bigKeys, vectors, keys.length > 64 ? THREADS : 1);
      return;
    }
    this.delta ??= newIndex(this.dim, this.params, this.madeFor);
    // One thread: concurrent inserts into a new, tiny graph can leave a vector unreachable (seen as a
    // flaky miss of an image's own vector); the delta stays small, so this costs little.
    this.delta.add(bigKeys, vectors, 1);
    for (const key of keys) this.deltaKeys.add(key);
  }

  /** Removes the keys that are present; resolves how many were. */
  remove(keys: number[]): number {
    let removed = 0;
    for (const key of keys) {
      const k = BigInt(key);
      if (this.deltaKeys.has(key)) {
        removed += this.delta!.remove(k) as number;
        this.deltaKeys.delete(key);
      } else if (this.viewedFile === undefined) {
        if (this.index.contains(k)) removed += this.index.remove(k) as number;
      } else if (!this.hidden.has(key) && this.index.contains(k)) {
        this.hidden.add(key);
        removed++;
      }
    }
    return removed;
  }

  /** Up to k keys, best first (approximately). */
  search(query: Float32Array, k: number): number[] {
    const scored: Array<[key: number, distance: number]> = [];
    const baseSize = this.index.size();
    if (baseSize > 0) {
      const m = this.index.search(query, Math.min(k + this.hidden.size, baseSize), 1);
      m.keys.forEach((key, i) => {
        if (!this.hidden.has(Number(key))) scored.push([Number(key), m.distances[i]]);
      });
    }
    if (this.delta && this.deltaKeys.size > 0) {
      const m = this.delta.search(query, Math.min(k, this.deltaKeys.size), 1);
      m.keys.forEach((key, i) => scored.push([Number(key), m.distances[i]]));
      scored.sort((a, b) => a[1] - b[1]);
    }
    return scored.slice(0, k).map(([key]) => key);
  }

  /**
   * search(), answered together with the other queries that arrive in the same turn of the event loop:
   * one usearch call over all of them on every core. Concurrent clients then use both cores, as a batched
   * caller of bare usearch does, where one query at a time used one. `query` must be an array of its own.
   */
  searchSoon(query: Float32Array, k: number): Promise<number[]> {
    return new Promise((resolve, reject) => {
      this.queued.push({ query, k, resolve, reject });
      if (this.queued.length === 1) setImmediate(() => this.searchQueued());
    });
  }

  private queued: Array<{ query: Float32Array; k: number; resolve: (keys: number[]) => void; reject: (e: unknown) => void }> = [];

  private searchQueued(): void {
    const batch = this.queued;
    this.queued = [];
    try {
      // One at a time when a mapped snapshot has changes beside it (they need merging per query).
      if (batch.length === 1 || this.hidden.size > 0 || this.deltaKeys.size > 0) {
        return batch.forEach((q) => q.resolve(this.search(q.query, q.k)));
      }
      const size = this.index.size();
      const k = Math.min(size, Math.max(...batch.map((q) => q.k)));
      if (k === 0) return batch.forEach((q) => q.resolve([]));
      const matrix = new Float32Array(batch.length * this.dim);
      batch.forEach((q, i) => matrix.set(q.query, i * this.dim));
      const results = this.index.search(matrix, k, THREADS) as unknown as BatchMatches;
      batch.forEach((q, i) => q.resolve(Array.from(results.get(i).keys.subarray(0, q.k), (key) => Number(key))));
    } catch (e) {
      batch.forEach((q) => q.reject(e));
    }
  }

  /**
   * Writes the index to `file` atomically (temporary file, fsync, rename); resolves its checksum. A mapped
   * snapshot with changes is materialised first: loaded, removals applied, additions re-added with their
   * vectors from `vectorOf`.
   */
  save(file: string, vectorOf: (key: number) => Float32Array | undefined): string {
    let index = this.index;
    if (this.viewedFile !== undefined && (this.hidden.size > 0 || this.deltaKeys.size > 0)) {
      index = newIndex(this.dim, this.params, this.madeFor);
      index.load(this.viewedFile);
      for (const key of this.hidden) index.remove(BigInt(key));
      const added: number[] = [];
      const vectors: Float32Array[] = [];
      for (const key of this.deltaKeys) {
        const v = vectorOf(key);
        if (v) (added.push(key), vectors.push(v));
      }
      if (added.length > 0) {
        const block = new Float32Array(added.length * this.dim);
        vectors.forEach((v, i) => block.set(v, i * this.dim));
        index.add(BigUint64Array.from(added, (k) => BigInt(k)), block, THREADS);
      }
    }
    const tmp = `${file}.tmp-${process.pid}`;
    index.save(tmp);
    const checksum = fileChecksum(tmp);
    commitFile(tmp, file);
    return checksum;
  }
}

/** Exact top-`count` keys by inner product over a dense matrix (usearch SIMD brute force). */
export function exactTopSlots(matrix: Float32Array, rows: number, query: Float32Array, count: number): number[] {
  const dim = query.length;
  const n = Math.min(count, rows);
  if (n <= 0) return [];
  // One thread below ~8M multiply-adds: fanning out costs more than it saves, and a busy second core
  // would stall the whole query.
  const threads = rows * dim < 1 << 23 ? 1 : THREADS;
  const result = exactSearch(matrix.subarray(0, rows * dim), query, dim, n, MetricKind.IP, threads);
  return Array.from(result.keys, (k) => Number(k));
}

/** sha256 of a file, read in chunks. */
export function fileChecksum(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(4 << 20);
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/** sha256 of a file, read a chunk per turn of the event loop: a 2 GB snapshot never holds the loop. */
export async function fileChecksumAsync(file: string): Promise<string> {
  const hash = createHash('sha256');
  const handle = await fs.promises.open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(4 << 20);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** fsync a finished temporary file, rename it over `file`, and fsync the directory. */
export function commitFile(tmp: string, file: string): void {
  const fd = fs.openSync(tmp, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  try {
    const dirFd = fs.openSync(path.dirname(file), 'r');
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
  } catch {
    /* some platforms cannot fsync a directory */
  }
}

// ---------------------------------------------------------------------------------------------------
// Background build

/** Runs in the worker: plain CommonJS so it needs no TypeScript loader in any environment. */
const BUILD_WORKER_SOURCE = `
const { parentPort, workerData } = require('worker_threads');
const fs = require('fs');
const { createHash } = require('crypto');
const { Index } = require(workerData.usearchPath);
const d = workerData;
(function build() {
try {
  const index = new Index({ dimensions: d.dim, metric: 'ip', quantization: d.params.quantization,
    connectivity: d.params.connectivity, expansion_add: d.params.expansionAdd,
    expansion_search: d.params.expansionSearch, multi: false });
  const vectors = new Float32Array(d.vectors);
  const keys = new BigUint64Array(d.keys);
  const cancel = new Int32Array(d.cancel);
  const n = keys.length;
  const CHUNK = 4096;
  for (let a = 0; a < n; a += CHUNK) {
    if (Atomics.load(cancel, 0) !== 0) { parentPort.postMessage({ cancelled: true }); return; }
    const b = Math.min(n, a + CHUNK);
    index.add(keys.slice(a, b), vectors.slice(a * d.dim, b * d.dim), d.threads);
  }
  index.save(d.out);
  const fd = fs.openSync(d.out, 'r+'); fs.fsyncSync(fd);
  const hash = createHash('sha256'); const buffer = Buffer.allocUnsafe(4 << 20);
  for (let pos = 0; ; ) { const n = fs.readSync(fd, buffer, 0, buffer.length, pos); if (n === 0) break; hash.update(buffer.subarray(0, n)); pos += n; }
  fs.closeSync(fd);
  parentPort.postMessage({ ok: true, size: index.size(), checksum: hash.digest('hex') });
} catch (e) {
  parentPort.postMessage({ error: String((e && e.message) || e) });
}
})();
`;

export interface BuildJob {
  /** Resolves the written index file (its caller loads and renames it) and its checksum. */
  done: Promise<{ file: string; checksum: string }>;
  cancel(): Promise<void>;
}

/**
 * Builds an index of `keys`/`vectors` (copied now, so the caller may keep mutating its own arrays)
 * in a worker thread and writes it to `out`.
 */
export function buildInWorker(
  dim: number,
  params: HnswParams,
  keys: number[],
  vectors: Float32Array,
  out: string,
): BuildJob {
  const keyBuffer = new SharedArrayBuffer(keys.length * 8);
  const keyView = new BigUint64Array(keyBuffer);
  for (let i = 0; i < keys.length; i++) keyView[i] = BigInt(keys[i]);
  const vectorBuffer = new SharedArrayBuffer(keys.length * dim * 4);
  new Float32Array(vectorBuffer).set(vectors.subarray(0, keys.length * dim));
  const cancelBuffer = new SharedArrayBuffer(4);
  const worker = new Worker(BUILD_WORKER_SOURCE, {
    eval: true,
    workerData: {
      usearchPath: require.resolve('usearch'),
      dim,
      params,
      keys: keyBuffer,
      vectors: vectorBuffer,
      cancel: cancelBuffer,
      out,
      threads: THREADS,
    },
  });
  worker.unref();
  let finished = false;
  const done = new Promise<{ file: string; checksum: string }>((resolve, reject) => {
    worker.once('message', (message: { ok?: boolean; checksum?: string; cancelled?: boolean; error?: string }) => {
      finished = true;
      if (message.ok && message.checksum) resolve({ file: out, checksum: message.checksum });
      else reject(new Error(message.error ?? 'index build cancelled'));
      void worker.terminate();
    });
    worker.once('error', (e) => {
      finished = true;
      reject(e);
    });
    worker.once('exit', (code) => {
      if (!finished) reject(new Error(`index build worker exited with code ${code}`));
    });
  });
  done.catch(() => undefined); // a cancelled build is not an unhandled rejection
  return {
    done,
    async cancel() {
      Atomics.store(new Int32Array(cancelBuffer), 0, 1);
      await done.catch(() => undefined);
      await worker.terminate();
    },
  };
}

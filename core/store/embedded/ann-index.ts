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
  /**
   * How the index stores vectors; similarities are always recomputed exactly in float32 from the
   * library's matrix, so a coarser kind costs recall only through the candidates it proposes, which
   * over-fetching (overFetch) wins back.
   */
  quantization: Quantization;
}

export type Quantization = 'f32' | 'f16' | 'bf16' | 'i8';

export const DEFAULT_HNSW: HnswParams = {
  connectivity: 16,
  expansionAdd: 128,
  expansionSearch: 96,
  // i8: a quarter of float32's bytes per vector in the index (and its snapshot), builds ~2x faster, and
  // with 4x over-fetching and exact rescoring answers with float32's recall (figures below). Measured
  // to 300k images; it is the default at every size.
  quantization: 'i8',
};

/**
 * How many candidates the index proposes per row wanted, by the bytes it keeps per scalar: the exact
 * float32 rescoring then picks the best. Measured on 300k 512-d clustered unit vectors (ef 192, top 10,
 * 300 queries): an i8 index's own top 10 holds 0.866 of the true top 10, its top 16 0.975, its top 40
 * and 64 0.995 — as much as a float32 index (0.996); f16's own top 10 holds 0.999.
 */
function overFetch(bytesPerScalar: number): number {
  return bytesPerScalar >= 2 ? 1 : 4;
}

const BYTES_PER_SCALAR: Record<Quantization, number> = { f32: 4, f16: 2, bf16: 2, i8: 1 };

/** The over-fetch factor of an index built with `quantization` (for figures and docs). */
export function overFetchOf(quantization: Quantization): number {
  return overFetch(BYTES_PER_SCALAR[quantization]);
}

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

  /** Candidates asked of `index` per row wanted (overFetch of the kind it stores). */
  private readonly fetch: number;

  private constructor(
    private readonly index: Index,
    readonly dim: number,
    private readonly params: HnswParams,
    private readonly madeFor: number,
    /** The file a mapped index views; undefined for a mutable one. */
    private readonly viewedFile?: string,
    /** Bytes per scalar of `index`: a snapshot keeps the kind it was built with, whatever params say now. */
    bytesPerScalar = BYTES_PER_SCALAR[params.quantization],
  ) {
    this.fetch = overFetch(bytesPerScalar);
  }

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
      return new AnnIndex(index, dim, params, size, file, snapshotBytesPerScalar(file, dim));
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

  /**
   * Candidates for the k best keys, best first (approximately): k of them from a float index, more
   * from a coarser one (overFetch), for the caller to rescore exactly. Fewer than k means the index holds
   * no more.
   */
  search(query: Float32Array, k: number): number[] {
    const want = k * this.fetch;
    const scored: Array<[key: number, distance: number]> = [];
    const baseSize = this.index.size();
    if (baseSize > 0) {
      const m = this.index.search(query, Math.min(want + this.hidden.size, baseSize), 1);
      keysAsNumbers(m.keys, 0, m.keys.length).forEach((key, i) => {
        if (!this.hidden.has(key)) scored.push([key, m.distances[i]]);
      });
    }
    if (this.delta && this.deltaKeys.size > 0) {
      const m = this.delta.search(query, Math.min(want, this.deltaKeys.size), 1);
      keysAsNumbers(m.keys, 0, m.keys.length).forEach((key, i) => scored.push([key, m.distances[i]]));
      scored.sort((a, b) => a[1] - b[1]);
    }
    return scored.slice(0, want).map(([key]) => key);
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
      const k = Math.min(size, Math.max(...batch.map((q) => q.k)) * this.fetch);
      if (k === 0) return batch.forEach((q) => q.resolve([]));
      const matrix = new Float32Array(batch.length * this.dim);
      batch.forEach((q, i) => matrix.set(q.query, i * this.dim));
      const results = this.index.search(matrix, k, THREADS) as unknown as BatchMatches;
      batch.forEach((q, i) => q.resolve(keysAsNumbers(results.keys, i * k, Math.min(Number(results.counts[i]), q.k * this.fetch))));
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

/**
 * keys[from, from + count) as numbers, read as pairs of 32-bit words: reading a BigUint64Array makes a BigInt
 * per key (with BatchMatches.get's copies, ~6 % of a batched search's main thread). Keys stay below 2^53;
 * the words are little-endian, as on every platform Node runs on.
 */
function keysAsNumbers(keys: BigUint64Array, from: number, count: number): number[] {
  const words = new Uint32Array(keys.buffer, keys.byteOffset + from * 8, count * 2);
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) out[i] = words[2 * i] + words[2 * i + 1] * 0x1_0000_0000;
  return out;
}

/**
 * A snapshot file's header: usearch writes the vectors first, after two uint32s (rows, bytes per vector).
 * Undefined when the file cannot be read.
 */
function snapshotHeader(file: string): { rows: number; bytesPerVector: number } | undefined {
  const head = Buffer.alloc(8);
  try {
    const fd = fs.openSync(file, 'r');
    try {
      if (fs.readSync(fd, head, 0, 8, 0) < 8) return undefined;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  return { rows: head.readUInt32LE(0), bytesPerVector: head.readUInt32LE(4) };
}

/** The bytes per scalar a snapshot file stores; 4 (float32) when the file cannot be read. */
function snapshotBytesPerScalar(file: string, dim: number): number {
  const header = snapshotHeader(file);
  return header ? header.bytesPerVector / dim : 4;
}

/**
 * The rows a snapshot file of `dim`-dimensional vectors holds, from its header, before its checksum is
 * verified; undefined when the header is unreadable or does not fit the file (a damaged file must not
 * size anything).
 */
export function snapshotRows(file: string, dim: number): number | undefined {
  const header = snapshotHeader(file);
  if (!header || ![1, 2, 4].some((bytes) => header.bytesPerVector === bytes * dim)) return undefined;
  try {
    return 8 + header.rows * header.bytesPerVector <= fs.statSync(file).size ? header.rows : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Exact top-`count` rows by inner product among the first `rows` rows of a dense matrix (usearch's SIMD
 * brute force), best first, with their distances (1 - inner product). `matrix` must start its buffer.
 */
export function exactTopRows(matrix: Float32Array, rows: number, query: Float32Array, count: number): { keys: number[]; distances: Float32Array } {
  const dim = query.length;
  const n = Math.min(count, rows);
  if (n <= 0) return { keys: [], distances: new Float32Array(0) };
  // One thread below ~8M multiply-adds: fanning out costs more than it saves, and a busy second core
  // would stall the whole query.
  const threads = rows * dim < 1 << 23 ? 1 : THREADS;
  const result = exactSearch(matrix.subarray(0, rows * dim), query, dim, n, MetricKind.IP, threads);
  return { keys: Array.from(result.keys, (k) => Number(k)), distances: result.distances };
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

/**
 * sha256 of a file, computed in a worker thread. Hashed on the event loop a chunk per turn, a snapshot
 * opened while its library's rows load got one chunk per load turn (seconds per million images before a
 * first answer); in a worker it runs beside the load, on the other core, and never holds the loop.
 */
export function fileChecksumAsync(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(CHECKSUM_WORKER_SOURCE, { eval: true, workerData: file });
    worker.once('message', (hex: string) => resolve(hex));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`checksum worker exited (${code})`))); // after a message: no effect
  });
}

// fileChecksum, in the worker (eval'd CommonJS).
const CHECKSUM_WORKER_SOURCE = `
const { parentPort, workerData } = require('worker_threads');
const fs = require('fs');
const hash = require('crypto').createHash('sha256');
const fd = fs.openSync(workerData, 'r');
const buffer = Buffer.allocUnsafe(4 << 20);
for (let n; (n = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0; ) hash.update(buffer.subarray(0, n));
fs.closeSync(fd);
parentPort.postMessage(hash.digest('hex'));
`;

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

/** Rows handed to the build worker per message (8 MB at 512 dimensions). */
const BUILD_CHUNK_ROWS = 4096;

/**
 * Chunks handed to the worker and not yet added, at most: the next one is ready while it adds one. Each
 * has a buffer of its own, shared with the worker and reused: a fresh 8 MB array per chunk, freed in the
 * other thread, left glibc's heap ~15 % of the raw vectors larger after a build that ran beside writes.
 */
const BUILD_CHUNKS_IN_FLIGHT = 2;

/**
 * Runs in the worker: plain CommonJS so it needs no TypeScript loader in any environment. It adds the
 * chunks of rows it is told of (which shared buffer, how many rows), counting the chunks added in a shared
 * word (the main thread reads it without waiting for a message) and asking for more when it starts and
 * after each; the vectors are never all in the worker at once beside the library's own matrix. The last
 * message has no rows: the index is then written and hashed.
 */
const BUILD_WORKER_SOURCE = `
const { parentPort, workerData } = require('worker_threads');
const fs = require('fs');
const { createHash } = require('crypto');
const { Index } = require(workerData.usearchPath);
const d = workerData;
const added = new Int32Array(d.added);
const keys = d.keys.map((b) => new BigUint64Array(b));
const vectors = d.vectors.map((b) => new Float32Array(b));
const index = new Index({ dimensions: d.dim, metric: 'ip', quantization: d.params.quantization,
  connectivity: d.params.connectivity, expansion_add: d.params.expansionAdd,
  expansion_search: d.params.expansionSearch, multi: false });
parentPort.on('message', (m) => {
  try {
    if (m.rows > 0) {
      index.add(keys[m.slot].subarray(0, m.rows), vectors[m.slot].subarray(0, m.rows * d.dim), d.threads);
      Atomics.add(added, 0, 1);
      parentPort.postMessage({ next: true });
      return;
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
});
parentPort.postMessage({ next: true });
`;

export interface BuildJob {
  /** Resolves the written index file (its caller loads and renames it) and its checksum. */
  done: Promise<{ file: string; checksum: string }>;
  cancel(): Promise<void>;
  /**
   * Hands the worker the source's new rows now if it has room for them. Called after writes: the worker's
   * own requests are messages, which a caller writing in a loop that never yields would never let in.
   */
  feed(): void;
}

/** The rows a build indexes, read a chunk at a time while it runs. */
export interface BuildSource {
  /**
   * Writes the next rows to index into `keys` and `vectors` (row-major), as many as fit, and returns how many
   * it wrote: none when there are none now. The source may grow while the build runs.
   */
  next(keys: BigUint64Array, vectors: Float32Array): number;
  /** Called once the source had nothing more to give and the build was told to end: rows from now on are not in it. */
  ended(): void;
}

/**
 * Builds an index of the source's rows in a worker thread and writes it to `out`. The rows are read on
 * this thread a chunk at a time, as the worker makes room for them, until the source has no more (it
 * may grow meanwhile), so no second copy of the whole matrix is ever made; the caller must account for
 * rows it changes while the build runs (library-runtime.ts replays them).
 */
export function buildInWorker(dim: number, params: HnswParams, source: BuildSource, out: string): BuildJob {
  const added = new Int32Array(new SharedArrayBuffer(4));
  const shared = (bytes: number) => Array.from({ length: BUILD_CHUNKS_IN_FLIGHT }, () => new SharedArrayBuffer(bytes));
  const keyBuffers = shared(BUILD_CHUNK_ROWS * 8);
  const vectorBuffers = shared(BUILD_CHUNK_ROWS * dim * 4);
  const worker = new Worker(BUILD_WORKER_SOURCE, {
    eval: true,
    workerData: { usearchPath: require.resolve('usearch'), dim, params, out, threads: THREADS, added: added.buffer, keys: keyBuffers, vectors: vectorBuffers },
  });
  worker.unref();
  let finished = false;
  let cancelled = false;
  let ending = false;
  let sent = 0; // chunks
  let fail: (e: Error) => void = () => undefined;
  /** Tells the worker the rows are all sent (it adds what it has, then writes the index). */
  const end = () => {
    ending = true;
    source.ended();
    worker.postMessage({ rows: 0 });
  };
  /** Sends chunks while the worker has room; resolves whether the source had rows left. */
  const feed = (): boolean => {
    if (finished || cancelled || ending) return false;
    try {
      while (sent - Atomics.load(added, 0) < BUILD_CHUNKS_IN_FLIGHT) {
        const slot = sent % BUILD_CHUNKS_IN_FLIGHT; // its previous chunk has been added
        const rows = source.next(new BigUint64Array(keyBuffers[slot]), new Float32Array(vectorBuffers[slot]));
        if (rows === 0) return false;
        sent++;
        worker.postMessage({ slot, rows });
      }
      return true;
    } catch (e) {
      fail(e as Error);
      return false;
    }
  };
  const done = new Promise<{ file: string; checksum: string }>((resolve, reject) => {
    fail = (e: Error) => {
      finished = true;
      reject(e);
      void worker.terminate();
    };
    worker.on('message', (message: { next?: boolean; ok?: boolean; checksum?: string; error?: string }) => {
      if (finished) return;
      if (message.next) {
        if (!feed() && !finished && !cancelled && !ending) end();
        return;
      }
      if (message.ok && message.checksum) {
        finished = true;
        // Resolved once the worker is gone: its index (a third of the raw vectors at i8) is freed with it,
        // and the caller maps the snapshot next; overlapping the two was the peak of a build.
        const result = { file: out, checksum: message.checksum };
        worker.terminate().then(() => resolve(result), () => resolve(result));
      } else fail(new Error(message.error ?? 'index build failed'));
    });
    worker.once('error', fail);
    worker.once('exit', (code) => {
      if (!finished) fail(new Error(cancelled ? 'index build cancelled' : `index build worker exited with code ${code}`));
    });
  });
  // The first chunks now; the end is only ever decided on the worker's asking (its first ask comes when it
  // has started), so a caller writing in a loop that never yields is followed until it stops.
  feed();
  done.catch(() => undefined); // a cancelled build is not an unhandled rejection
  return {
    done,
    feed: () => void feed(),
    async cancel() {
      cancelled = true;
      await worker.terminate();
      await done.catch(() => undefined);
    },
  };
}

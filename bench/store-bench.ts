/**
 * Embedded store benchmark: build time, warm search latency (limit 10, through the VectorStore interface)
 * and recall@10 of the ANN path against exact brute force, on clustered synthetic vectors.
 *
 *   npx tsx bench/store-bench.ts [--sizes 10000,100000] [--dimension 512] [--queries 1000]
 *
 * Data: a two-level gaussian mixture, normalised — clusters (categories) of items (products), each item
 * photographed a few times — the shape product-image embeddings have; queries are new photos of
 * existing items (half) and new items of existing clusters (half).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { prng } from '../tests/helpers/prng';
import os from 'node:os';
import path from 'node:path';
import { exactSearch, MetricKind } from 'usearch';
import { openEmbeddedStore, type EmbeddedStore } from '../core/store/embedded';
import { QdrantStore } from '../core/store/qdrant';
import type { VectorStore } from '../core/store/vector-store';
import type { LibraryRef } from '../core/records';
import { peakRssMiB } from './gateway-process';
import { quantile } from './stats';

export interface StoreBenchRow {
  size: number;
  buildSeconds: number;
  p50ms: number;
  p99ms: number;
  recallAt10: number;
  exactP50ms: number;
}

/**
 * How the bench opens and prepares a store: the embedded store by default, or Qdrant. `exactStore` opens
 * the same data searched without an index, for the exact-path column.
 */
export interface StoreBackend {
  name: string;
  open(dir: string): Promise<VectorStore>;
  /** Builds (or waits for) the library's index; resolves a short status for the last column. */
  prepare(store: VectorStore, ref: LibraryRef): Promise<string>;
  /** The path the last search took, when the store can say. */
  lastPath(store: VectorStore, ref: LibraryRef): Promise<string>;
  exactStore(dir: string): Promise<VectorStore>;
  /** Removes what `open` created. */
  cleanup(store: VectorStore): Promise<void>;
}

export const EMBEDDED_BACKEND: StoreBackend = {
  name: 'embedded',
  open: (dir) => openEmbeddedStore({ dir }),
  async prepare(store, ref) {
    const status = await (store as EmbeddedStore).ensureAnnIndex(ref);
    return status.state === 'ready' ? ` (index ${status.indexed})` : '';
  },
  lastPath: async (store, ref) => (await (store as EmbeddedStore).annStatus(ref)).lastSearchPath ?? '?',
  exactStore: (dir) => openEmbeddedStore({ dir, annThreshold: Number.MAX_SAFE_INTEGER, persistIndexOnClose: false }),
  cleanup: async () => undefined,
};

/** Qdrant at `url`, in collections of a fresh prefix dropped afterwards. */
export function qdrantBackend(url: string, apiKey?: string): StoreBackend {
  const prefix = `isgbench-${process.pid}`;
  return {
    name: `qdrant at ${url}`,
    open: async () => new QdrantStore({ url, apiKey, collectionPrefix: prefix, timeoutMs: 120_000 }),
    async prepare(store, ref) {
      const { indexed, points } = await (store as QdrantStore).waitUntilIndexed(ref);
      return ` (indexed ${indexed} of ${points})`;
    },
    lastPath: async () => 'qdrant',
    exactStore: async () => new QdrantStore({ url, apiKey, collectionPrefix: prefix, timeoutMs: 120_000, exactSearch: true }),
    cleanup: (store) => (store as QdrantStore).dropAll(),
  };
}

export interface StoreBenchOptions {
  /** Default: the embedded store. */
  backend?: StoreBackend;
  sizes: number[];
  /** Vector dimension; 0 or less = 512 (CLIP ViT-B sized). */
  dimension: number;
  queries: number;
  dir: string;
  log?: (line: string) => void;
}

const DEFAULT_DIMENSION = 512;
const K = 10;


function gaussian(rnd: () => number): number {
  const u = 1 - rnd();
  const v = rnd();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function normaliseInto(out: Float32Array, offset: number, dim: number): void {
  let s = 0;
  for (let j = 0; j < dim; j++) s += out[offset + j] ** 2;
  const n = Math.sqrt(s) || 1;
  for (let j = 0; j < dim; j++) out[offset + j] /= n;
}

export interface ClusteredData {
  dim: number;
  /** n x dim, row-major, every row unit length. */
  vectors: Float32Array;
  cluster: Int32Array;
  item: Int32Array;
  /** Draws a fresh query from the same distribution. */
  query(rnd: () => number): Float32Array;
}

/** n normalised vectors: clusters of items of a few images each (seeded, deterministic). */
export function clusteredVectors(n: number, dim: number, seed: number): ClusteredData {
  const rnd = prng(seed);
  const clusterCount = Math.max(8, Math.round(n / 400));
  const imagesPerItem = 4;
  const itemCount = Math.ceil(n / imagesPerItem);
  const centres = new Float32Array(clusterCount * dim);
  for (let i = 0; i < centres.length; i++) centres[i] = gaussian(rnd);
  for (let c = 0; c < clusterCount; c++) normaliseInto(centres, c * dim, dim);
  const spread = Float32Array.from({ length: clusterCount }, () => 0.7 + 0.6 * rnd()); // items around a centre
  const itemCluster = new Int32Array(itemCount);
  const items = new Float32Array(itemCount * dim);
  const unit = 1 / Math.sqrt(dim);
  const makeItem = (c: number, out: Float32Array, o: number) => {
    for (let j = 0; j < dim; j++) out[o + j] = centres[c * dim + j] + spread[c] * unit * gaussian(rnd);
    normaliseInto(out, o, dim);
  };
  for (let it = 0; it < itemCount; it++) {
    // Zipf-like cluster sizes: popular categories are bigger.
    const c = Math.min(clusterCount - 1, Math.floor(clusterCount * rnd() ** 1.5));
    itemCluster[it] = c;
    makeItem(c, items, it * dim);
  }
  const photoNoise = 0.35; // a new photo of the same item
  const makePhoto = (source: Float32Array, so: number, out: Float32Array, o: number) => {
    for (let j = 0; j < dim; j++) out[o + j] = source[so + j] + photoNoise * unit * gaussian(rnd);
    normaliseInto(out, o, dim);
  };
  const vectors = new Float32Array(n * dim);
  const cluster = new Int32Array(n);
  const item = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const it = Math.floor(i / imagesPerItem);
    item[i] = it;
    cluster[i] = itemCluster[it];
    makePhoto(items, it * dim, vectors, i * dim);
  }
  return {
    dim,
    vectors,
    cluster,
    item,
    query(qrnd) {
      const q = new Float32Array(dim);
      if (qrnd() < 0.5) {
        const it = Math.floor(qrnd() * itemCount);
        for (let j = 0; j < dim; j++) q[j] = items[it * dim + j] + photoNoise * unit * gaussian(qrnd);
      } else {
        const c = Math.floor(qrnd() * clusterCount);
        for (let j = 0; j < dim; j++) q[j] = centres[c * dim + j] + spread[c] * unit * gaussian(qrnd);
      }
      normaliseInto(q, 0, dim);
      return q;
    },
  };
}

/** Exact top-k ids (as image ids `v<index>`) by usearch's brute force over the raw data. */
function groundTruth(data: ClusteredData, n: number, queries: Float32Array[]): string[][] {
  return queries.map((q) => {
    const m = exactSearch(data.vectors.subarray(0, n * data.dim), q, data.dim, K, MetricKind.IP, 0);
    return Array.from(m.keys, (key) => `v${key}`);
  });
}


export async function runStoreBench(opts: StoreBenchOptions): Promise<StoreBenchRow[]> {
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const dim = opts.dimension > 0 ? opts.dimension : DEFAULT_DIMENSION;
  const rows: StoreBenchRow[] = [];
  const maxSize = Math.max(...opts.sizes);
  const data = clusteredVectors(maxSize, dim, 42);
  const qrnd = prng(7);
  const queries = Array.from({ length: opts.queries }, () => data.query(qrnd));
  const backend = opts.backend ?? EMBEDDED_BACKEND;
  log(`store: ${backend.name}, dimension ${dim}, ${opts.queries} queries, limit ${K} (target at 100k: p99 <= 5 ms, recall@10 >= 0.97)`);
  log(
    `${'size'.padStart(8)} ${'build s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'recall@10'.padStart(10)} ${'exact p50 ms'.padStart(13)}  path`,
  );
  for (const size of opts.sizes) {
    const dir = path.join(opts.dir, `store-${size}`);
    mkdirSync(dir, { recursive: true });
    const ref: LibraryRef = { tenant: 'bench', name: `lib-${size}` };
    const store = await backend.open(dir);
    const started = process.hrtime.bigint();
    await store.createLibrary({ ...ref, mode: 'general_search', model: 'bench', createdAt: Date.now() });
    const batch = 1000;
    for (let a = 0; a < size; a += batch) {
      const b = Math.min(size, a + batch);
      const writes = [];
      for (let i = a; i < b; i++) {
        writes.push({
          record: {
            id: `v${i}`,
            itemId: `item-${data.item[i]}`,
            tags: { cluster: data.cluster[i], shard: i % 10 },
            hasImage: false,
            createdAt: 0,
            updatedAt: 0,
          },
          vector: data.vectors.subarray(i * dim, (i + 1) * dim),
        });
      }
      await store.upsertImages(ref, writes);
    }
    const status = await backend.prepare(store, ref);
    const buildSeconds = Number(process.hrtime.bigint() - started) / 1e9;

    const truth = groundTruth(data, size, queries);
    for (let i = 0; i < Math.min(50, queries.length); i++) await store.search([ref], queries[i], { limit: K }); // warm
    const latencies: number[] = [];
    let found = 0;
    for (let i = 0; i < queries.length; i++) {
      const t0 = process.hrtime.bigint();
      const hits = await store.search([ref], queries[i], { limit: K });
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      const expected = new Set(truth[i]);
      for (const h of hits) if (expected.has(h.record.id)) found++;
    }
    const path_ = await backend.lastPath(store, ref);
    await store.close();

    // The exact path on the same data, for comparison: the same store with ANN switched off.
    const exactStore = await backend.exactStore(dir);
    const exactQueries = queries.slice(0, Math.min(queries.length, 200));
    for (let i = 0; i < Math.min(10, exactQueries.length); i++) await exactStore.search([ref], exactQueries[i], { limit: K });
    const exactLatencies: number[] = [];
    for (const q of exactQueries) {
      const t0 = process.hrtime.bigint();
      await exactStore.search([ref], q, { limit: K });
      exactLatencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    await backend.cleanup(exactStore);
    await exactStore.close();
    rmSync(dir, { recursive: true, force: true });

    latencies.sort((a, b) => a - b);
    exactLatencies.sort((a, b) => a - b);
    const row: StoreBenchRow = {
      size,
      buildSeconds,
      p50ms: quantile(latencies, 0.5),
      p99ms: quantile(latencies, 0.99),
      recallAt10: found / (queries.length * K),
      exactP50ms: quantile(exactLatencies, 0.5),
    };
    rows.push(row);
    log(
      `${String(size).padStart(8)} ${row.buildSeconds.toFixed(1).padStart(8)} ${row.p50ms.toFixed(2).padStart(8)} ${row.p99ms
        .toFixed(2)
        .padStart(8)} ${row.recallAt10.toFixed(4).padStart(10)} ${row.exactP50ms.toFixed(2).padStart(13)}  ${path_}${status}`,
    );
  }
  return rows;
}

if (require.main === module) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'isg-store-bench-'));
  runStoreBench({
    sizes: (arg('sizes') ?? '10000,100000').split(',').map(Number),
    dimension: Number(arg('dimension') ?? DEFAULT_DIMENSION),
    queries: Number(arg('queries') ?? 1000),
    dir,
  })
    .then(() => log(`peak RSS ${peakRssMiB(process.pid).toFixed(0)} MiB`))
    .catch((err: unknown) => {
      process.stderr.write(`store bench failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    })
    .finally(() => rmSync(dir, { recursive: true, force: true }));
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

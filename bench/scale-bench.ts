/**
 * npm run bench -- --scale N   (N = 300000 is the quick form, 1000000 the full one)
 *
 * One library of N clustered 512-dimensional unit vectors (store-bench.ts's data) in the embedded store,
 * through the store API, against bare usearch with the same HNSW settings, measured in the same run so
 * the ratios hold on any machine. Every side runs in a child process of its own, so that memory, start
 * time and event-loop stalls are its own: the parent writes the vectors and the exact answers to a
 * temporary folder, the children read them and print one JSON line of figures.
 *
 * Rows: build (insert + index), RSS after the build and at peak against the raw vector bytes, the data
 * folder on disk, one client's search p50/p99 (the steady state: a second pass over the queries; the first
 * pass right after the build is printed below it), recall@10 against exact, 8 concurrent clients (the
 * median of five passes, after an untimed one), filtered searches (a tag matching 10 % and 1 %), and the
 * restart: process start → first search answer, with the longest event-loop stall while the library
 * opened. Both sides are measured alike.
 *
 * `--quantization` sets how the index stores vectors (default: the store's, DEFAULT_HNSW) on both sides. The
 * store rescores the index's candidates exactly in float32 (over-fetching from an i8 index); bare usearch
 * answers with its own top 10, so its recall shows what the quantization alone keeps.
 *
 * With `--store qdrant` (QDRANT_URL names the server) the store side is a Qdrant, in collections of a
 * fresh prefix dropped afterwards; its memory and disk are the server's, not printed here.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { exactSearch, Index, MetricKind } from 'usearch';
import { f, type Filter } from '../core/filter';
import { DEFAULT_HNSW, overFetchOf, searchExpansion, type HnswParams, type Quantization } from '../core/store/embedded/ann-index';
import { openEmbeddedStore, type EmbeddedStore } from '../core/store/embedded';
import { QdrantStore } from '../core/store/qdrant';
import type { VectorStore } from '../core/store/vector-store';
import { prng } from '../tests/helpers/prng';
import { peakRssMiB } from './gateway-process';
import { clusteredVectors } from './store-bench';
import { quantile } from './stats';

const DIM = 512;
const K = 10;
const QUERIES = 500;
const CLIENTS = 8;
const INSERT_BATCH = 1000;
const REF = { tenant: 'bench', name: 'scale' };
const THREADS = os.availableParallelism();

/** The filters measured: the tag `g` matches 10 % of the images, `h` 1 %. */
const FILTERS: Array<{ name: string; filter: Filter; keep: (i: number) => boolean }> = [
  { name: '10%', filter: f.cmp('g', '=', 0), keep: (i) => i % 10 === 0 },
  { name: '1%', filter: f.cmp('h', '=', 0), keep: (i) => i % 100 === 0 },
];

interface Truth {
  all: number[][];
  filtered: Record<string, number[][]>;
}

// ---------------------------------------------------------------------------------------------------
// Shared figures


function recall(found: number[][], truth: number[][]): number {
  let hit = 0;
  let total = 0;
  found.forEach((keys, q) => {
    const want = new Set(truth[q]);
    total += want.size;
    for (const key of keys) if (want.has(key)) hit++;
  });
  return total === 0 ? 1 : hit / total;
}

function diskBytes(dir: string): number {
  let bytes = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) bytes += statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return bytes;
}

const mib = (bytes: number) => bytes / 2 ** 20;

/**
 * Timed passes of the eight clients on each side: one pass over the queries lasts a fraction of a second,
 * so a single one moved by a quarter with whatever else the machine ran; the median pass is reported.
 */
const CONCURRENT_PASSES = 5;

/** The pass of median QPS (with its own p99, where it has one). */
function medianPass<T extends { qps: number }>(passes: T[]): T {
  return [...passes].sort((a, b) => a.qps - b.qps)[Math.floor(passes.length / 2)];
}

/** Reads rows [from, to) of the vector file. */
function readRows(file: string, from: number, to: number): Float32Array {
  const out = new Float32Array((to - from) * DIM);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, new Uint8Array(out.buffer), 0, out.byteLength, from * DIM * 4);
  } finally {
    closeSync(fd);
  }
  return out;
}

/** The longest lateness of a 1 ms timer while `work` runs: how long the event loop was held. */
async function withStallMeter<T>(work: () => Promise<T>): Promise<{ value: T; stallMs: number }> {
  let worst = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 1);
    last = now;
  }, 1);
  try {
    const value = await work();
    worst = Math.max(worst, performance.now() - last - 1);
    return { value, stallMs: worst };
  } finally {
    clearInterval(timer);
  }
}

/**
 * One client's latency, on both sides alike: the first pass over the queries right after the build (the
 * index's memory not yet touched: a mapped snapshot faults its pages in) and the second, the steady state.
 */
function passFigures(first: number[], second: number[]): Record<string, number> {
  return { firstP50: quantile(first, 0.5), firstP99: quantile(first, 0.99), p50: quantile(second, 0.5), p99: quantile(second, 0.99) };
}

// ---------------------------------------------------------------------------------------------------
// Children: each prints one JSON line

interface Job {
  side: 'bare' | 'bare-restart' | 'store' | 'store-restart';
  dir: string;
  n: number;
  ef: number;
  quantization: Quantization;
  started: number;
  /** The Qdrant to measure instead of the embedded store, and the collection prefix to use there. */
  qdrant?: { url: string; apiKey?: string; prefix: string };
}

function openStore(job: Job): Promise<VectorStore> {
  if (job.qdrant) return Promise.resolve(new QdrantStore({ ...job.qdrant, collectionPrefix: job.qdrant.prefix, timeoutMs: 300_000 }));
  return openEmbeddedStore({ dir: path.join(job.dir, 'store'), hnsw: { quantization: job.quantization } });
}

/** Waits until the library's index is complete (embedded: built or loaded; Qdrant: every point indexed). */
async function indexReady(store: VectorStore): Promise<void> {
  if (store instanceof QdrantStore) await store.waitUntilIndexed(REF);
  else await (store as EmbeddedStore).ensureAnnIndex(REF);
}

function queries(job: Job): Float32Array[] {
  const all = new Float32Array(readFileSync(path.join(job.dir, 'queries.f32')).buffer.slice(0));
  return Array.from({ length: all.length / DIM }, (_, q) => all.slice(q * DIM, (q + 1) * DIM)); // fresh arrays: usearch ignores byteOffset
}

function truth(job: Job): Truth {
  return JSON.parse(readFileSync(path.join(job.dir, 'truth.json'), 'utf8')) as Truth;
}

function bareIndex(job: Job): Index {
  return new Index({
    dimensions: DIM,
    metric: MetricKind.IP,
    quantization: job.quantization,
    connectivity: DEFAULT_HNSW.connectivity,
    expansion_add: DEFAULT_HNSW.expansionAdd,
    expansion_search: job.ef,
    multi: false,
  } as never);
}

async function bareChild(job: Job): Promise<Record<string, number>> {
  const file = path.join(job.dir, 'vectors.f32');
  const index = bareIndex(job);
  const t0 = performance.now();
  for (let a = 0; a < job.n; a += 10_000) {
    const b = Math.min(job.n, a + 10_000);
    index.add(BigUint64Array.from({ length: b - a }, (_, i) => BigInt(a + i)), readRows(file, a, b), THREADS);
  }
  const buildS = (performance.now() - t0) / 1000;
  const rss = process.memoryUsage().rss;
  const qs = queries(job);
  const pass = () => {
    const times: number[] = [];
    const found = qs.map((q) => {
      const s = performance.now();
      const keys = Array.from(index.search(q, K, 1).keys, Number);
      times.push(performance.now() - s);
      return keys;
    });
    return { times, found };
  };
  const first = pass();
  const second = pass();
  // Eight clients at once, as usearch serves them best: one batched call on every core.
  const batch = new Float32Array(CLIENTS * DIM);
  const eight = () => {
    const t1 = performance.now();
    let answered = 0;
    for (let q = 0; q + CLIENTS <= qs.length; q += CLIENTS) {
      for (let c = 0; c < CLIENTS; c++) batch.set(qs[q + c], c * DIM);
      index.search(batch, K, THREADS);
      answered += CLIENTS;
    }
    return answered / ((performance.now() - t1) / 1000);
  };
  eight(); // untimed, as on the store's side
  const qps = medianPass(Array.from({ length: CONCURRENT_PASSES }, () => ({ qps: eight() }))).qps;
  index.save(path.join(job.dir, 'bare.usearch'));
  return {
    buildS,
    rssMiB: mib(rss),
    peakMiB: peakRssMiB(process.pid),
    ...passFigures(first.times, second.times),
    recall: recall(second.found, truth(job).all),
    qps,
    diskMiB: mib(statSync(path.join(job.dir, 'bare.usearch')).size),
  };
}

async function bareRestartChild(job: Job): Promise<Record<string, number>> {
  const q = queries(job)[0];
  const file = path.join(job.dir, 'bare.usearch');
  const loaded = bareIndex(job);
  let s = performance.now();
  loaded.load(file);
  loaded.search(q, K, 1);
  const loadMs = performance.now() - s;
  const viewed = bareIndex(job);
  s = performance.now();
  viewed.view(file);
  viewed.search(q, K, 1);
  const viewMs = performance.now() - s;
  return { loadMs, viewMs };
}

async function storeChild(job: Job): Promise<Record<string, number>> {
  const file = path.join(job.dir, 'vectors.f32');
  const store = await openStore(job);
  await store.createLibrary({ ...REF, mode: 'general_search', model: 'bench', createdAt: 0 });
  const t0 = performance.now();
  for (let a = 0; a < job.n; a += INSERT_BATCH) {
    const b = Math.min(job.n, a + INSERT_BATCH);
    const rows = readRows(file, a, b);
    await store.upsertImages(
      REF,
      Array.from({ length: b - a }, (_, i) => ({
        record: { id: String(a + i), tags: { g: (a + i) % 10, h: (a + i) % 100 }, hasImage: false, createdAt: 0, updatedAt: 0 },
        vector: rows.slice(i * DIM, (i + 1) * DIM),
      })),
    );
  }
  const insertS = (performance.now() - t0) / 1000;
  await indexReady(store);
  const buildS = (performance.now() - t0) / 1000;
  const rss = process.memoryUsage().rss;
  const qs = queries(job);
  const gt = truth(job);
  const one = async (filter?: Filter) => {
    const times: number[] = [];
    const found: number[][] = [];
    for (const q of qs) {
      const s = performance.now();
      const hits = await store.search([REF], q, { limit: K, filter });
      times.push(performance.now() - s);
      found.push(hits.map((h) => Number(h.record.id)));
    }
    return { times, found };
  };
  const first = await one();
  const plain = await one();
  const figures: Record<string, number> = {
    insertS,
    buildS,
    rssMiB: mib(rss),
    ...passFigures(first.times, plain.times),
    recall: recall(plain.found, gt.all),
  };
  for (const { name, filter } of FILTERS) {
    const r = await one(filter);
    figures[`f${name}p50`] = quantile(r.times, 0.5);
    figures[`f${name}p99`] = quantile(r.times, 0.99);
    figures[`f${name}recall`] = recall(r.found, gt.filtered[name]);
  }
  // Eight clients, each waiting for its answer before asking again.
  const eight = async () => {
    let next = 0;
    const latencies: number[] = [];
    const t1 = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next < qs.length) {
          const q = qs[next++];
          const s = performance.now();
          await store.search([REF], q, { limit: K });
          latencies.push(performance.now() - s);
        }
      }),
    );
    return { qps: qs.length / ((performance.now() - t1) / 1000), p99: quantile(latencies, 0.99) };
  };
  await eight(); // untimed, as on the bare side: the batched path's first run
  const passes: Array<{ qps: number; p99: number }> = [];
  for (let i = 0; i < CONCURRENT_PASSES; i++) passes.push(await eight());
  const concurrent = medianPass(passes);
  figures.qps = concurrent.qps;
  figures.concurrentP99 = concurrent.p99;
  await store.close();
  figures.peakMiB = peakRssMiB(process.pid);
  if (!job.qdrant) figures.diskMiB = mib(diskBytes(path.join(job.dir, 'store')));
  return figures;
}

async function storeRestartChild(job: Job): Promise<Record<string, number>> {
  const q = queries(job)[0];
  const { value: firstAnswerMs, stallMs } = await withStallMeter(async () => {
    const store = await openStore(job);
    await store.search([REF], q, { limit: K });
    (globalThis as { store?: unknown }).store = store;
    return Date.now() - job.started;
  });
  const store = (globalThis as { store?: VectorStore }).store!;
  const times: number[] = [];
  for (const query of queries(job).slice(0, 200)) {
    const s = performance.now();
    await store.search([REF], query, { limit: K });
    times.push(performance.now() - s);
  }
  if (store instanceof QdrantStore) await store.dropAll();
  await store.close();
  return { firstAnswerMs, stallMs, steadyP99: quantile(times, 0.99) };
}

// ---------------------------------------------------------------------------------------------------
// Parent

function runChild(job: Omit<Job, 'started'>): Promise<Record<string, number>> {
  const started = Date.now();
  const child = spawn(process.execPath, [__filename, '--child', JSON.stringify({ ...job, started })], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`scale bench child ${job.side} failed (exit ${code})`));
      else resolve(JSON.parse(line) as Record<string, number>);
    });
  });
}


export async function runScaleBench(opts: { n: number; qdrant?: { url: string; apiKey?: string }; quantization?: string; log: (line: string) => void }): Promise<void> {
  const { n, log } = opts;
  const quantization = (opts.quantization ?? DEFAULT_HNSW.quantization) as Quantization;
  const kinds: Array<HnswParams['quantization']> = ['f32', 'f16', 'bf16', 'i8'];
  if (!kinds.includes(quantization)) throw new Error(`--quantization ${quantization}: one of ${kinds.join(', ')}`);
  const qdrant = opts.qdrant && { ...opts.qdrant, prefix: `isgscale-${process.pid}` };
  const storeName = qdrant ? `Qdrant at ${qdrant.url}` : 'embedded store';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'isg-scale-'));
  try {
    log(`scale   ${n} x ${DIM} clustered unit vectors, one library, ${QUERIES} queries, top ${K}; children in ${dir}`);
    const started = performance.now();
    const data = clusteredVectors(n, DIM, 42);
    writeFileSync(path.join(dir, 'vectors.f32'), new Uint8Array(data.vectors.buffer, 0, n * DIM * 4));
    const qrnd = prng(7);
    const qs = Array.from({ length: QUERIES }, () => data.query(qrnd));
    writeFileSync(path.join(dir, 'queries.f32'), Buffer.concat(qs.map((q) => Buffer.from(q.buffer))));
    const exact = (rows: number[] | undefined, q: Float32Array): number[] => {
      if (!rows) return Array.from(exactSearch(data.vectors.subarray(0, n * DIM), q, DIM, K, MetricKind.IP, THREADS).keys, Number);
      const sub = new Float32Array(rows.length * DIM);
      rows.forEach((r, i) => sub.set(data.vectors.subarray(r * DIM, (r + 1) * DIM), i * DIM));
      return Array.from(exactSearch(sub, q, DIM, K, MetricKind.IP, THREADS).keys, (k) => rows[Number(k)]);
    };
    const gt: Truth = { all: qs.map((q) => exact(undefined, q)), filtered: {} };
    for (const { name, keep } of FILTERS) {
      const rows = Array.from({ length: n }, (_, i) => i).filter(keep);
      gt.filtered[name] = qs.map((q) => exact(rows, q));
    }
    writeFileSync(path.join(dir, 'truth.json'), JSON.stringify(gt));
    log(`  data and exact answers ready in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    const ef = searchExpansion(n, DEFAULT_HNSW); // the store's own choice for this size, so both sides use it
    const rawMiB = mib(n * DIM * 4);
    const bare = await runChild({ side: 'bare', dir, n, ef, quantization });
    const bareRestart = await runChild({ side: 'bare-restart', dir, n, ef, quantization });
    const store = await runChild({ side: 'store', dir, n, ef, quantization, qdrant });
    const restart = await runChild({ side: 'store-restart', dir, n, ef, quantization, qdrant });
    const server = 'on the server';
    const row = (label: string, s: string, b: string, goal: string) => log(`  ${label.padEnd(42)}${s.padStart(26)}  ${b.padStart(30)}   ${goal}`);
    const ms = (v: number) => `${v.toFixed(2)} ms`;
    log(`  settings: connectivity ${DEFAULT_HNSW.connectivity}, expansion_add ${DEFAULT_HNSW.expansionAdd}, expansion_search ${ef}, quantization ${quantization}${qdrant ? '' : ` (store: ${overFetchOf(quantization)}x candidates, rescored in f32)`}; raw vectors ${rawMiB.toFixed(0)} MiB`);
    row('figure', storeName, 'bare usearch', 'goal');
    row('build: insert + index (s)', `${store.insertS.toFixed(0)} + ${(store.buildS - store.insertS).toFixed(0)} = ${store.buildS.toFixed(0)}`, bare.buildS.toFixed(0), `<= 1.1x bare (${(store.buildS / bare.buildS).toFixed(2)}x)`);
    row('RSS after build / raw', qdrant ? server : `${store.rssMiB.toFixed(0)} MiB = ${(store.rssMiB / rawMiB).toFixed(2)}x`, `${bare.rssMiB.toFixed(0)} MiB = ${(bare.rssMiB / rawMiB).toFixed(2)}x`, '<= 1.3x raw');
    row('peak RSS / raw', qdrant ? server : `${store.peakMiB.toFixed(0)} MiB = ${(store.peakMiB / rawMiB).toFixed(2)}x`, `${bare.peakMiB.toFixed(0)} MiB = ${(bare.peakMiB / rawMiB).toFixed(2)}x`, '<= 1.6x raw');
    row('data on disk / raw', qdrant ? server : `${store.diskMiB.toFixed(0)} MiB = ${(store.diskMiB / rawMiB).toFixed(2)}x`, `${bare.diskMiB.toFixed(0)} MiB = ${(bare.diskMiB / rawMiB).toFixed(2)}x`, '<= 2x raw');
    row('one client: p50 / p99 (second pass)', `${ms(store.p50)} / ${ms(store.p99)}`, `${ms(bare.p50)} / ${ms(bare.p99)}`, 'p99 <= 2 ms');
    row('  first pass after the build', `${ms(store.firstP50)} / ${ms(store.firstP99)}`, `${ms(bare.firstP50)} / ${ms(bare.firstP99)}`, '');
    row('recall@10 against exact', store.recall.toFixed(4), bare.recall.toFixed(4), '>= 0.98');
    row(`${CLIENTS} clients: QPS (p99)`, `${store.qps.toFixed(0)} (${ms(store.concurrentP99)})`, `${bare.qps.toFixed(0)} (batched)`, `>= 0.8x bare (${(store.qps / bare.qps).toFixed(2)}x)`);
    for (const { name } of FILTERS) {
      row(`filtered ${name}: p50 / p99 / recall`, `${ms(store[`f${name}p50`])} / ${ms(store[`f${name}p99`])} / ${store[`f${name}recall`].toFixed(3)}`, '', 'p99 <= 10 ms, recall >= 0.98');
    }
    row('restart: start -> first answer', `${(restart.firstAnswerMs / 1000).toFixed(1)} s`, `load ${(bareRestart.loadMs / 1000).toFixed(1)} s, view ${(bareRestart.viewMs / 1000).toFixed(2)} s`, '<= 3 s');
    row('  longest event-loop stall while opening', `${(restart.stallMs / 1000).toFixed(2)} s`, '', '<= 0.1 s');
    row('  search p99 after the first answer', ms(restart.steadyP99), '', '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  const job = JSON.parse(process.argv[3]) as Job;
  const sides = { bare: bareChild, 'bare-restart': bareRestartChild, store: storeChild, 'store-restart': storeRestartChild };
  sides[job.side](job).then(
    (figures) => process.stdout.write(`${JSON.stringify(figures)}\n`),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? e}\n`);
      process.exit(1);
    },
  );
}


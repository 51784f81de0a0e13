/**
 * The large-library benchmark (issue 16): one library of N clustered unit vectors of 512 dimensions in the
 * embedded store, against bare usearch on the same vectors with the same HNSW settings, measured in the
 * same run so the ratios hold on any machine.
 *
 *   npm run bench -- --scale 300000      (the quick form; --scale 1000000 is the full one, ~15+ min on 2 cores)
 *
 * Every measurement runs in a child process of its own (this file, with --role), so that one side's memory
 * never counts for the other and a restart is a genuinely fresh process. Prints figures and ratios; asserts
 * nothing. RSS figures include the bench's own copy of the vectors while it holds one (noted per line).
 */
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Index, MetricKind, ScalarKind, exactSearch } from 'usearch';
import { prng } from '../core/prng';
import { f, type Filter } from '../core/filter';
import type { LibraryRef } from '../core/records';
import { hnswForSize } from '../core/store/embedded/ann-index';
import { clusteredVectors, type ClusteredData } from './store-bench';

const DIM = 512;
const K = 10;
const QUERIES = 300;
const CONCURRENT_CLIENTS = 8;
const THREADS = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
const BIG: LibraryRef = { tenant: 'bench', name: 'big' };
const SMALL: LibraryRef = { tenant: 'bench', name: 'small' };
const SMALL_SIZE = 2000;

/** Filters of the table: tag `shard` = i % 10 matches 10 %, tag `pct` = i % 100 matches 1 %. */
const FILTERS: { name: string; filter: Filter; member: (i: number) => boolean }[] = [
  { name: '10%', filter: f.cmp('shard', '=', 3), member: (i) => i % 10 === 3 },
  { name: '1%', filter: f.cmp('pct', '=', 7), member: (i) => i % 100 === 7 },
];

type Figures = Record<string, number | string>;

// ---------------------------------------------------------------------------------------------------
// Shared helpers

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function rssMiB(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return total;
}

/** The same queries in every process (seeded). */
function queriesOf(data: ClusteredData): Float32Array[] {
  const rnd = prng(7);
  return Array.from({ length: QUERIES }, () => data.query(rnd));
}

/** Exact top-10 indices of each query among the rows `member` admits (fresh arrays: see usearch-byte-offset test). */
function exactTruth(data: ClusteredData, n: number, queries: Float32Array[], member?: (i: number) => boolean): number[][] {
  let matrix = data.vectors.slice(0, n * DIM);
  let rowOf: number[] | undefined;
  if (member) {
    rowOf = [];
    for (let i = 0; i < n; i++) if (member(i)) rowOf.push(i);
    matrix = new Float32Array(rowOf.length * DIM);
    rowOf.forEach((row, j) => matrix.set(data.vectors.subarray(row * DIM, (row + 1) * DIM), j * DIM));
  }
  return queries.map((q) => {
    const m = exactSearch(matrix, Float32Array.from(q), DIM, K, MetricKind.IP, THREADS);
    return Array.from(m.keys, (k) => (rowOf ? rowOf[Number(k)] : Number(k)));
  });
}

function recall(found: number[][], truth: number[][]): number {
  let hit = 0;
  found.forEach((ids, i) => {
    const expected = new Set(truth[i]);
    for (const id of ids) if (expected.has(id)) hit++;
  });
  return hit / (truth.length * K);
}

// ---------------------------------------------------------------------------------------------------
// Child roles

/** Builds the store library, measures search, closes (saving the snapshot) and leaves the directory. */
async function embeddedRole(n: number, dir: string): Promise<Figures> {
  const { openEmbeddedStore } = await import('../core/store/embedded');
  let data: ClusteredData | undefined = clusteredVectors(n, DIM, 42);
  const queries = queriesOf(data);
  const truth = exactTruth(data, n, queries);
  const filteredTruth = FILTERS.map((fl) => exactTruth(data!, n, queries, fl.member));
  const store = await openEmbeddedStore({ dir });
  const hnsw = store.hnswFor(n);
  await store.createLibrary({ ...BIG, mode: 'general_search', model: 'bench', createdAt: Date.now() });
  await store.createLibrary({ ...SMALL, mode: 'general_search', model: 'bench', createdAt: Date.now() });
  const t0 = process.hrtime.bigint();
  for (let a = 0; a < n; a += 1000) {
    const writes = [];
    for (let i = a; i < Math.min(n, a + 1000); i++) {
      writes.push({
        record: { id: `v${i}`, tags: { shard: i % 10, pct: i % 100 }, hasImage: false, createdAt: 0, updatedAt: 0 },
        vector: data.vectors.slice(i * DIM, (i + 1) * DIM),
      });
    }
    await store.upsertImages(BIG, writes);
  }
  const insertS = ms(t0) / 1000;
  const small = [];
  for (let i = 0; i < SMALL_SIZE; i++) {
    small.push({ record: { id: `s${i}`, tags: {}, hasImage: false, createdAt: 0, updatedAt: 0 }, vector: data.vectors.slice(i * DIM, (i + 1) * DIM) });
  }
  await store.upsertImages(SMALL, small);
  const peakAfterInsert = peakRssMiB();
  data = undefined; // the bench's copy: freed before the index is built, so the index peak is the store's own
  collectGarbage();
  let peakDuringIndex = rssMiB();
  const sampler = setInterval(() => (peakDuringIndex = Math.max(peakDuringIndex, rssMiB())), 100);
  const t1 = process.hrtime.bigint();
  const status = await store.ensureAnnIndex(BIG);
  const indexS = ms(t1) / 1000;
  clearInterval(sampler);
  collectGarbage();
  const rssAfterBuild = rssMiB();

  const toIndex = (hits: { record: { id: string } }[]) => hits.map((h) => Number(h.record.id.slice(1)));
  for (let i = 0; i < 30; i++) await store.search([BIG], queries[i], { limit: K }); // warm
  const lat: number[] = [];
  const found: number[][] = [];
  for (const q of queries) {
    const s = process.hrtime.bigint();
    const hits = await store.search([BIG], q, { limit: K });
    lat.push(ms(s));
    found.push(toIndex(hits));
  }
  const path1 = (await store.annStatus(BIG)).lastSearchPath ?? '?';

  // 8 clients, each sending its next query when the previous one answers.
  const perClient = Math.max(25, Math.round(1000 / CONCURRENT_CLIENTS));
  const conc: number[] = [];
  const tc = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENT_CLIENTS }, async (_, c) => {
      for (let j = 0; j < perClient; j++) {
        const s = process.hrtime.bigint();
        await store.search([BIG], queries[(c * perClient + j) % QUERIES], { limit: K });
        conc.push(ms(s));
      }
    }),
  );
  const concQps = (CONCURRENT_CLIENTS * perClient) / (ms(tc) / 1000);

  const out: Figures = {
    insertS,
    indexS,
    indexState: `${status.state}/${status.indexed}`,
    peakAfterInsertMiB: peakAfterInsert,
    peakDuringIndexMiB: peakDuringIndex,
    rssAfterBuildMiB: rssAfterBuild,
    p50: percentile(lat, 0.5),
    p99: percentile(lat, 0.99),
    recall: recall(found, truth),
    path: path1,
    concQps,
    concP99: percentile(conc, 0.99),
    connectivity: hnsw.connectivity,
    expansionSearch: hnsw.expansionSearch,
  };
  for (const [fi, fl] of FILTERS.entries()) {
    const flat: number[] = [];
    const ffound: number[][] = [];
    for (const q of queries) {
      const s = process.hrtime.bigint();
      const hits = await store.search([BIG], q, { limit: K, filter: fl.filter });
      flat.push(ms(s));
      ffound.push(toIndex(hits));
    }
    out[`f${fl.name}p50`] = percentile(flat, 0.5);
    out[`f${fl.name}p99`] = percentile(flat, 0.99);
    out[`f${fl.name}recall`] = recall(ffound, filteredTruth[fi]);
    out[`f${fl.name}path`] = (await store.annStatus(BIG)).lastSearchPath ?? '?';
  }
  await store.close();
  out.diskBytes = dirBytes(dir);
  out.peakMiB = peakRssMiB();
  return out;
}

/**
 * A fresh process opens the store and asks the big library one question; meanwhile the event loop's
 * stalls are measured and the small library is searched every 20 ms (what health and other tenants see).
 */
async function embeddedRestartRole(dir: string): Promise<Figures> {
  const { openEmbeddedStore } = await import('../core/store/embedded');
  const q = clusteredVectors(64, DIM, 42).query(prng(5));
  const store = await openEmbeddedStore({ dir });
  const startedAt = performance.now(); // ms since this process started
  let opening = true;
  // The longest gap between turns of a 5 ms timer: how long the event loop was held at a time.
  let maxStall = 0;
  let lastTick = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    maxStall = Math.max(maxStall, now - lastTick - 5);
    lastTick = now;
  }, 5);
  const otherLatency: number[] = [];
  const pinger = (async () => {
    await store.search([SMALL], Float32Array.from(q), { limit: K }); // opened before the big one is asked
    while (opening) {
      await new Promise((r) => setTimeout(r, 20));
      const s = process.hrtime.bigint();
      await store.search([SMALL], Float32Array.from(q), { limit: K });
      otherLatency.push(ms(s));
    }
  })();
  await new Promise((r) => setTimeout(r, 30));
  await store.search([BIG], Float32Array.from(q), { limit: K });
  const firstAnswerMs = performance.now();
  opening = false;
  await pinger;
  clearInterval(ticker);
  const firstPath = (await store.annStatus(BIG)).lastSearchPath ?? '?';
  const steady: number[] = [];
  const rnd = prng(11);
  const big = clusteredVectors(1000, DIM, 42);
  for (let i = 0; i < 200; i++) {
    const s = process.hrtime.bigint();
    await store.search([BIG], big.query(rnd), { limit: K });
    steady.push(ms(s));
  }
  const out: Figures = {
    openStoreMs: startedAt,
    firstAnswerMs,
    firstPath,
    maxStallMs: maxStall,
    otherMaxMs: Math.max(0, ...otherLatency),
    otherCount: otherLatency.length,
    steadyP50: percentile(steady, 0.5),
    steadyP99: percentile(steady, 0.99),
    steadyPath: (await store.annStatus(BIG)).lastSearchPath ?? '?',
    rssMiB: rssMiB(),
  };
  await store.close();
  return out;
}

function bareIndex(connectivity: number, expansionSearch: number, expansionAdd: number, quantization: string): Index {
  return new Index({
    dimensions: DIM,
    metric: MetricKind.IP,
    quantization: quantization as ScalarKind,
    connectivity,
    expansion_add: expansionAdd,
    expansion_search: expansionSearch,
    multi: false,
  });
}

/** Bare usearch with the store's settings for this size: build, memory, search, save. */
async function bareRole(n: number, dir: string): Promise<Figures> {
  const hnsw = hnswForSize(n);
  let data: ClusteredData | undefined = clusteredVectors(n, DIM, 42);
  const queries = queriesOf(data);
  const truth = exactTruth(data, n, queries);
  const index = bareIndex(hnsw.connectivity, hnsw.expansionSearch, hnsw.expansionAdd, hnsw.quantization);
  const t0 = process.hrtime.bigint();
  for (let a = 0; a < n; a += 4096) {
    const b = Math.min(n, a + 4096);
    const keys = new BigUint64Array(b - a);
    for (let i = a; i < b; i++) keys[i - a] = BigInt(i);
    index.add(keys, data.vectors.slice(a * DIM, b * DIM), THREADS);
  }
  const buildS = ms(t0) / 1000;
  data = undefined;
  collectGarbage();
  const rssAfterBuild = rssMiB();
  const lat: number[] = [];
  const found: number[][] = [];
  for (let i = 0; i < 30; i++) index.search(queries[i], K, 1);
  for (const q of queries) {
    const s = process.hrtime.bigint();
    const m = index.search(q, K, 1);
    lat.push(ms(s));
    found.push(Array.from(m.keys, Number));
  }
  // 8 clients as batches of 8 queries on every core.
  const batch = new Float32Array(CONCURRENT_CLIENTS * DIM);
  const conc: number[] = [];
  const rounds = Math.max(25, Math.round(1000 / CONCURRENT_CLIENTS));
  const tc = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    for (let c = 0; c < CONCURRENT_CLIENTS; c++) batch.set(queries[(r * CONCURRENT_CLIENTS + c) % QUERIES], c * DIM);
    const s = process.hrtime.bigint();
    index.search(batch, K, THREADS);
    conc.push(ms(s));
  }
  const concQps = (rounds * CONCURRENT_CLIENTS) / (ms(tc) / 1000);
  const file = path.join(dir, 'bare.usearch');
  index.save(file);
  return {
    buildS,
    rssAfterBuildMiB: rssAfterBuild,
    peakMiB: peakRssMiB(),
    p50: percentile(lat, 0.5),
    p99: percentile(lat, 0.99),
    recall: recall(found, truth),
    concQps,
    concP99: percentile(conc, 0.99),
    diskBytes: statSync(file).size,
  };
}

/** Fresh process: usearch `load` and `view` of the saved bare index, each to its first answer. */
async function bareRestartRole(n: number, dir: string, how: 'load' | 'view'): Promise<Figures> {
  const hnsw = hnswForSize(n);
  const index = bareIndex(hnsw.connectivity, hnsw.expansionSearch, hnsw.expansionAdd, hnsw.quantization);
  const q = queriesOf(clusteredVectors(1000, DIM, 42))[0];
  const s = process.hrtime.bigint();
  index[how](path.join(dir, 'bare.usearch'));
  index.search(q, K, 1);
  return { openMs: ms(s), firstAnswerMs: performance.now() };
}

// ---------------------------------------------------------------------------------------------------
// Parent: runs the roles and prints the table

function runChild(args: string[]): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, args, { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: Figures | undefined;
    child.on('message', (m) => (result = m as Figures));
    child.on('error', reject);
    child.on('exit', (code) => (result && code === 0 ? resolve(result) : reject(new Error(`bench child ${args.join(' ')} exited with ${code}`))));
  });
}

export async function runScaleBench(opts: { scale: number; log: (line: string) => void }): Promise<void> {
  const { scale: n, log } = opts;
  const work = mkdtempSync(path.join(os.tmpdir(), 'isg-scale-bench-'));
  const storeDir = path.join(work, 'store');
  const bareDir = path.join(work, 'bare');
  mkdirSync(storeDir);
  mkdirSync(bareDir);
  try {
    const rawMiB = (n * DIM * 4) / 2 ** 20;
    log(`scale bench: ${n} x ${DIM} clustered unit vectors (raw ${rawMiB.toFixed(0)} MiB), ${QUERIES} queries, limit ${K}, ${THREADS} cores`);
    const e = await runChild(['--role', 'embedded', '--n', String(n), '--dir', storeDir]);
    log(`  settings for this size: connectivity ${e.connectivity}, expansion_search ${e.expansionSearch}; index ${e.indexState}`);
    const r = await runChild(['--role', 'embedded-restart', '--dir', storeDir]);
    const b = await runChild(['--role', 'bare', '--n', String(n), '--dir', bareDir]);
    const bl = await runChild(['--role', 'bare-restart', '--n', String(n), '--dir', bareDir, '--how', 'load']);
    const bv = await runChild(['--role', 'bare-restart', '--n', String(n), '--dir', bareDir, '--how', 'view']);
    const num = (x: number | string) => Number(x);
    const ratio = (a: number | string, c: number | string) => `${(num(a) / num(c)).toFixed(2)}x`;
    const mib = (x: number | string) => `${num(x).toFixed(0)} MiB`;
    const fx = (x: number | string, d = 2) => num(x).toFixed(d);
    const row = (figure: string, store: string, bare: string, note: string) =>
      log(`| ${figure} | ${store} | ${bare} | ${note} |`);
    log('| figure | embedded store | bare usearch | ratio / goal |');
    log('|---|---|---|---|');
    const buildS = num(e.insertS) + num(e.indexS);
    row('build (insert + index) s', `${fx(buildS, 1)} (insert ${fx(e.insertS, 1)}, index ${fx(e.indexS, 1)})`, fx(b.buildS, 1), `${ratio(buildS, b.buildS)} (goal <= 1.1x)`);
    row(
      'RSS after build / raw',
      `${mib(e.rssAfterBuildMiB)} = ${ratio(e.rssAfterBuildMiB, rawMiB)}`,
      `${mib(b.rssAfterBuildMiB)} = ${ratio(b.rssAfterBuildMiB, rawMiB)}`,
      `${ratio(e.rssAfterBuildMiB, b.rssAfterBuildMiB)} of bare (goal <= 1.3x raw)`,
    );
    row(
      'peak RSS during index build / raw',
      `${mib(e.peakDuringIndexMiB)} = ${ratio(e.peakDuringIndexMiB, rawMiB)}`,
      '',
      'goal <= 1.6x raw (bench copy freed first)',
    );
    row(
      'process peak RSS (incl. the bench copy, 1x raw)',
      `${mib(e.peakMiB)} = ${ratio(e.peakMiB, rawMiB)}`,
      `${mib(b.peakMiB)} = ${ratio(b.peakMiB, rawMiB)}`,
      `${ratio(e.peakMiB, b.peakMiB)} of bare`,
    );
    const rawBytes = n * DIM * 4;
    row('data dir on disk / raw', `${mib(num(e.diskBytes) / 2 ** 20)} = ${ratio(e.diskBytes, rawBytes)}`, `${mib(num(b.diskBytes) / 2 ** 20)} = ${ratio(b.diskBytes, rawBytes)}`, 'goal <= 2x raw');
    row('search top-10, one client p50 / p99 ms', `${fx(e.p50)} / ${fx(e.p99)} (${e.path})`, `${fx(b.p50)} / ${fx(b.p99)}`, 'goal p99 <= 2 ms');
    row('recall@10 vs exact', fx(e.recall, 4), fx(b.recall, 4), 'goal >= 0.98');
    row(`${CONCURRENT_CLIENTS} concurrent clients QPS / p99 ms`, `${fx(e.concQps, 0)} / ${fx(e.concP99)}`, `${fx(b.concQps, 0)} / ${fx(b.concP99)} (batched, ${THREADS} threads)`, `${ratio(e.concQps, b.concQps)} (goal >= 0.8x)`);
    for (const fl of FILTERS) {
      row(
        `filtered ${fl.name}: p50 / p99 ms / recall`,
        `${fx(e[`f${fl.name}p50`])} / ${fx(e[`f${fl.name}p99`])} / ${fx(e[`f${fl.name}recall`], 4)} (${e[`f${fl.name}path`]})`,
        '',
        'goal p99 <= 10 ms, recall >= 0.98',
      );
    }
    row(
      'restart: process start -> first search answer ms',
      `${fx(r.firstAnswerMs, 0)} (store open at ${fx(r.openStoreMs, 0)}; first path ${r.firstPath})`,
      `load ${fx(bl.firstAnswerMs, 0)} (load ${fx(bl.openMs, 0)}); view ${fx(bv.firstAnswerMs, 0)} (view ${fx(bv.openMs, 0)})`,
      `${ratio(r.firstAnswerMs, bv.firstAnswerMs)} of view (goal <= 3000 ms)`,
    );
    row(
      'while it opens: max event-loop stall / max other-library search ms',
      `${fx(r.maxStallMs, 0)} / ${fx(r.otherMaxMs, 0)} (${r.otherCount} searches)`,
      '',
      'goal <= 100 ms',
    );
    row('after restart: search p50 / p99 ms, RSS', `${fx(r.steadyP50)} / ${fx(r.steadyP99)} (${r.steadyPath}), ${mib(r.rssMiB)}`, '', '');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const role = arg('role');
  const n = Number(arg('n') ?? 0);
  const dir = arg('dir') ?? '';
  const work: Promise<Figures> =
    role === 'embedded'
      ? embeddedRole(n, dir)
      : role === 'embedded-restart'
        ? embeddedRestartRole(dir)
        : role === 'bare'
          ? bareRole(n, dir)
          : role === 'bare-restart'
            ? bareRestartRole(n, dir, arg('how') === 'view' ? 'view' : 'load')
            : Promise.reject(new Error(`unknown role ${role}`));
  work.then(
    (figures) => process.send!(figures, () => process.exit(0)),
    (err: unknown) => {
      process.stderr.write(`scale bench ${role} failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}

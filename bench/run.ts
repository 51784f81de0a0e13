/**
 * npm run bench [-- --quick] [-- --store embedded|qdrant]   (qdrant: QDRANT_URL names the server)
 * npm run bench -- --abuse   pixel bombs and 1,000 concurrent searches against a default gateway (abuse-bench.ts)
 * npm run bench -- --scale N [--quantization f32|f16|bf16|i8]  one library of N vectors in the embedded store against
 *   bare usearch with the same index settings (scale-bench.ts)
 * npm run bench -- --only clip  the CLIP line alone (clip-bench.ts), to iterate on it
 * Prints figures and ratios; it asserts nothing (machines are shared and noisy). Targets are printed beside
 * the figures so a reader can judge them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runIngestBench } from './ingest-bench';
import { QdrantClient } from '@qdrant/js-client-rest';
import { peakRssMiB } from './gateway-process';
import { EMBEDDED_BACKEND, qdrantBackend, runStoreBench, type StoreBackend } from './store-bench';

/** The store to measure; for qdrant, says plainly why it cannot when QDRANT_URL is unset or unreachable. */
async function backendFor(store: string): Promise<StoreBackend | undefined> {
  if (store === 'embedded') return EMBEDDED_BACKEND;
  if (store !== 'qdrant') throw new Error(`--store ${store}: the stores are embedded and qdrant`);
  const url = process.env.QDRANT_URL;
  if (!url) {
    process.stdout.write('bench --store qdrant cannot run: QDRANT_URL is not set (e.g. QDRANT_URL=http://127.0.0.1:6333)\n');
    return undefined;
  }
  try {
    await new QdrantClient({ url, apiKey: process.env.QDRANT_API_KEY, checkCompatibility: false, timeout: 5000 }).versionInfo();
  } catch (e) {
    process.stdout.write(`bench --store qdrant cannot run: Qdrant at ${url} is not reachable (${(e as Error).message})\n`);
    return undefined;
  }
  return qdrantBackend(url, process.env.QDRANT_API_KEY);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean' }, abuse: { type: 'boolean' }, scale: { type: 'string' }, quantization: { type: 'string' }, store: { type: 'string', default: 'embedded' }, only: { type: 'string' } },
  });
  if (values.scale !== undefined) {
    const n = Number(values.scale);
    if (!Number.isInteger(n) || n < 1000) throw new Error(`--scale ${values.scale}: give a number of vectors, at least 1000 (e.g. 300000 or 1000000)`);
    const backend = await backendFor(values.store!);
    if (!backend) {
      process.exitCode = 2;
      return;
    }
    const qdrant = values.store === 'qdrant' ? { url: process.env.QDRANT_URL!, apiKey: process.env.QDRANT_API_KEY } : undefined;
    return (await import('./scale-bench')).runScaleBench({ n, qdrant, quantization: values.quantization, log: (line) => process.stdout.write(`${line}\n`) });
  }
  if (values.only !== undefined && values.only !== 'clip') throw new Error(`--only ${values.only}: the one section that runs alone is clip`);
  if (values.only === 'clip') {
    const log = (line: string) => process.stdout.write(`${line}\n`);
    return (await import('./clip-bench')).runClipBench({ images: values.quick ? 32 : 96, queries: values.quick ? 10 : 30, concurrency: 32, log });
  }
  if (values.abuse) {
    const log = (line: string) => process.stdout.write(`${line}\n`);
    return (await import('./abuse-bench')).runAbuseBench({ bmpBombs: 4, gifBombs: 8, searches: 1000, log });
  }
  const backend = await backendFor(values.store!);
  if (!backend) {
    process.exitCode = 2;
    return;
  }
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(`image-search-gateway bench — node ${process.version}, ${os.cpus().length} cores, store ${values.store}`);

  await runIngestBench({ images: values.quick ? 60 : 300, concurrency: 8, log });
  await (await import('./views-bench')).runViewsBench({ images: values.quick ? 32 : 120, queries: values.quick ? 32 : 100, log });
  await (await import('./clip-bench')).runClipBench({ images: values.quick ? 32 : 96, queries: values.quick ? 10 : 30, concurrency: 32, log }); // 32 in flight: the batch size of the bare run

  const dir = mkdtempSync(path.join(os.tmpdir(), 'isg-store-bench-'));
  try {
    // 512 dimensions: the size of CLIP ViT-B vectors, the harder case (the bundled descriptor has 228).
    await runStoreBench({ backend, sizes: values.quick ? [10_000] : [10_000, 100_000], dimension: 512, queries: values.quick ? 200 : 1000, dir, log });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  log(`peak RSS ${peakRssMiB(process.pid).toFixed(0)} MiB`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err.stack ?? err}\n`);
  process.exit(1);
});

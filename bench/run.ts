/**
 * npm run bench [-- --quick] [-- --store embedded]
 * Prints figures and ratios; it asserts nothing (machines are shared and noisy). Targets are printed beside
 * the figures so a reader can judge them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runIngestBench } from './ingest-bench';
import { runStoreBench } from './store-bench';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, store: { type: 'string', default: 'embedded' } } });
  if (values.store !== 'embedded') throw new Error(`--store ${values.store}: only the embedded store exists yet`);
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(`image-search-gateway bench — node ${process.version}, ${os.cpus().length} cores, store ${values.store}`);

  await runIngestBench({ images: values.quick ? 60 : 300, concurrency: 8, log });

  const dir = mkdtempSync(path.join(os.tmpdir(), 'isg-store-bench-'));
  try {
    // 512 dimensions: the size of CLIP ViT-B vectors, the harder case (the bundled descriptor has 228).
    await runStoreBench({ sizes: values.quick ? [10_000] : [10_000, 100_000], dimension: 512, queries: values.quick ? 200 : 1000, dir, log });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err.stack ?? err}\n`);
  process.exit(1);
});

/**
 * The cost of views, for `npm run bench`: vectors per image, ingest images/s and search p50/p99 with the
 * default views against without, through the engine and the embedded store, on synthetic 1024x768 JPEGs.
 * (Quality figures are bench:quality's; this only prices the capability.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../bin/config';
import { ModelRegistry } from '../core/embed/registry';
import { Engine } from '../core/engine';
import { DEFAULT_VIEWS } from '../core/image/views';
import { openStore } from '../core/store/open-store';
import { makeScene } from '../tests/helpers/synthetic-images';
import { quantile } from './stats';

export async function runViewsBench(opts: { images: number; queries: number; log: (line: string) => void }): Promise<void> {
  const pictures = await Promise.all(Array.from({ length: opts.images }, async (_, i) => ({ id: `p${i}`, bytes: await makeScene(5000 + i, 1024, 768) })));
  const queries = pictures.slice(0, opts.queries);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'isg-views-bench-'));
  const store = await openStore({ kind: 'embedded', dir });
  const models = new ModelRegistry(path.join(PACKAGE_ROOT, 'models'), 'default', {});
  const engine = new Engine(store, models, { views: 'off' });
  try {
    const figures: string[] = [];
    for (const views of [undefined, DEFAULT_VIEWS]) {
      const ref = { tenant: 'bench', name: views ? 'views' : 'plain' };
      await engine.createLibrary(ref.tenant, { name: ref.name, mode: 'general_search', views: views ?? ['whole'] });
      const started = process.hrtime.bigint();
      for (let i = 0; i < pictures.length; i += 8) {
        const batch = pictures.slice(i, i + 8);
        await engine.addImages(ref, batch.map((p) => ({ id: p.id, itemId: p.id, image: { bytes: p.bytes, limits: {} } })));
      }
      const ingest = pictures.length / (Number(process.hrtime.bigint() - started) / 1e9);
      const times: number[] = [];
      for (const q of queries) {
        const t = process.hrtime.bigint();
        await engine.searchByImage([ref], { bytes: q.bytes, limits: {} }, { limit: 10, distinctItem: true });
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      figures.push(
        `${views ? views.length : 1} vector(s)/image, ingest ${ingest.toFixed(1)} img/s, search p50 ${quantile(times, 0.5).toFixed(1)} ms p99 ${quantile(times, 0.99).toFixed(1)} ms`,
      );
    }
    opts.log(`views   ${opts.images} JPEGs 1024x768 added in batches of 8; without: ${figures[0]}; with ${DEFAULT_VIEWS.length} views: ${figures[1]}`);
  } finally {
    await models.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Ingest throughput: images/s through operator image/add over HTTP (decode, validate, embed, store, with
 * the default save_image=true) against bare sharp decode+resize of the same JPEGs to the model's input
 * size, in the same run, as a ratio. Both sides run with the same number of requests in flight.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import sharp from 'sharp';
import { PREFIX } from '../adapters/operator/limits';
import type { ModelManifest } from '../core/embed/manifest';
import { loadSettings, PACKAGE_ROOT } from '../bin/config';
import { startGateway } from '../bin/gateway';
import { makeScene } from '../tests/helpers/synthetic-images';
import { postJson } from './http-client';

export interface IngestFigures {
  images: number;
  concurrency: number;
  sharpPerSecond: number;
  gatewayPerSecond: number;
  ratio: number;
}

async function runPool<T>(items: T[], concurrency: number, fn: (item: T, i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}

export async function runIngestBench(opts: { images: number; concurrency: number; log: (line: string) => void }): Promise<IngestFigures> {
  const { log } = opts;
  const jpegs: Buffer[] = [];
  for (let i = 0; i < opts.images; i++) jpegs.push(await makeScene(1000 + i, 1024, 768));
  const manifest: ModelManifest = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'models/default/manifest.json'), 'utf8'));
  const { width, height } = manifest.visual.preprocess;

  const bareOnce = () =>
    runPool(jpegs, opts.concurrency, async (jpeg) => {
      await sharp(jpeg).rotate().resize(width, height, { fit: 'fill' }).removeAlpha().raw().toBuffer();
    });
  await bareOnce(); // warm up libvips
  const sharpSeconds = await bareOnce();

  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'isg-bench-'));
  const gateway = await startGateway(loadSettings({ port: 0, host: '127.0.0.1', dataDir }, {}), pino({ level: 'silent' }));
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  try {
    const url = (p: string) => new URL(`${gateway.url}${PREFIX}/${p}`);
    await postJson(agent, url('library/create'), Buffer.from(JSON.stringify({ library_name: 'bench', mode: 'general_search' })));
    // Request bodies are encoded once, before timing, as a load generator would.
    const bodies = jpegs.map((j, i) =>
      Buffer.from(JSON.stringify({ library_name: 'bench', image_id: `img${i}`, image_uri: `bench/${i}.jpg`, image_base64: j.toString('base64'), tags: { i } })),
    );
    // Warm-up pass (model, sharp, SQLite), then the measured pass overwrites the same ids.
    await runPool(bodies.slice(0, 32), opts.concurrency, async (b) => void (await postJson(agent, url('image/add'), b)));
    let failures = 0;
    const gatewaySeconds = await runPool(bodies, opts.concurrency, async (b) => {
      if ((await postJson(agent, url('image/add'), b)) !== 200) failures++;
    });
    if (failures > 0) throw new Error(`${failures} image/add requests failed`);
    const figures: IngestFigures = {
      images: opts.images,
      concurrency: opts.concurrency,
      sharpPerSecond: opts.images / sharpSeconds,
      gatewayPerSecond: opts.images / gatewaySeconds,
      ratio: sharpSeconds / gatewaySeconds,
    };
    log(`ingest  ${opts.images} JPEGs 1024x768, ${opts.concurrency} in flight, model input ${width}x${height}`);
    log(`  bare sharp decode+resize   ${figures.sharpPerSecond.toFixed(1).padStart(8)} images/s`);
    log(`  operator image/add (HTTP)  ${figures.gatewayPerSecond.toFixed(1).padStart(8)} images/s`);
    log(`  ratio gateway/sharp        ${figures.ratio.toFixed(2).padStart(8)}   (target >= 0.80)`);
    return figures;
  } finally {
    agent.destroy();
    await gateway.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

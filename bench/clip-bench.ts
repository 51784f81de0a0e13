/**
 * CLIP speed on a model with the exact ViT-B/32 architecture and random weights (generated once into
 * .bench/, see models/clip/build-vit-b32-random.ts):
 * - ingest: images/s through operator image/add over HTTP (decode, preprocess, micro-batched embedding,
 *   store) against a bare onnxruntime session running the same model on the same images' tensors in
 *   batches of 32, in the same run, as a ratio (target >= 0.9: the model, not the gateway, is the cost).
 *   The gateway runs in a process of its own (gateway-process.ts), as it does for its clients, with the
 *   request bodies encoded before timing. The bare session runs in core/embed/session-worker.ts, as the
 *   gateway's do: a worker thread at the engine's background priority (core/background-threads.ts), so a
 *   busy neighbour on a shared machine slows both sides alike instead of only the gateway's nice-10 threads.
 *   Three passes of each, alternating, medians compared. Also the CPU each side spends per image (all
 *   threads: for the gateway, its process from /proc), which machine noise moves much less than images/s;
 * - text: search/by-text latency p50 over HTTP for distinct queries (each a text-tower run) and for
 *   the same queries again (answered from the text-embedding cache).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { PREFIX } from '../adapters/operator/limits';
import { PACKAGE_ROOT } from '../bin/config';
import { manifestFromImmichLayout } from '../core/embed/immich-layout';
import { SessionWorker } from '../core/embed/session-worker';
import { toTensor } from '../core/image/tensor';
import { writeVitB32Random } from '../models/clip/build-vit-b32-random';
import { makeScene } from '../tests/helpers/synthetic-images';
import { cpuByThread, cpuByThreadSince, cpuSeconds, startGatewayProcess, type ThreadKind } from './gateway-process';
import { postJson } from './http-client';
import { median } from './stats';

const MODEL_DIR = path.join(PACKAGE_ROOT, '.bench', 'vit-b32-random');
const MODEL = 'vit-b32-random';

/** One timed pass: wall seconds and CPU seconds (all threads) spent. */
interface Pass {
  seconds: number;
  cpuSeconds: number;
  /** The gateway's passes: CPU seconds per kind of thread. */
  threads?: Record<ThreadKind, number>;
}

export async function runClipBench(opts: { images: number; queries: number; concurrency: number; log: (line: string) => void }): Promise<void> {
  const { log } = opts;
  if (!existsSync(path.join(MODEL_DIR, 'textual', 'model.onnx'))) {
    log(`clip    generating the random-weight ViT-B/32 model into ${MODEL_DIR} (once, ~600 MB)`);
    writeVitB32Random(MODEL_DIR);
  }
  const manifest = await manifestFromImmichLayout(MODEL_DIR);
  const jpegs: Buffer[] = [];
  for (let i = 0; i < opts.images; i++) jpegs.push(await makeScene(3000 + i, 1024, 768));
  const threads = os.availableParallelism();

  // Bare session: the same model, the same images' tensors, batches of 32, nothing else.
  const tensors = await Promise.all(jpegs.map((j) => toTensor(sharp(j), manifest.visual.preprocess, undefined, { width: 1024, height: 768 })));
  const session = await SessionWorker.start(path.join(MODEL_DIR, manifest.visual.file), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const runBare = async (): Promise<Pass> => {
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    for (let i = 0; i < tensors.length; i += 32) {
      const batch = tensors.slice(i, i + 32);
      const input = new Float32Array(batch.length * tensors[0].length);
      batch.forEach((t, k) => input.set(t, k * t.length));
      await session.run(session.inputNames[0], input, [batch.length, 3, 224, 224], session.outputNames[0]);
    }
    const used = process.cpuUsage(cpu);
    return { seconds: Number(process.hrtime.bigint() - started) / 1e9, cpuSeconds: (used.user + used.system) / 1e6 };
  };

  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'isg-clip-bench-'));
  const modelsDir = path.join(dataDir, 'models');
  mkdirSync(modelsDir);
  symlinkSync(path.join(PACKAGE_ROOT, 'models', 'default'), path.join(modelsDir, 'default'));
  symlinkSync(MODEL_DIR, path.join(modelsDir, MODEL));
  const configFile = path.join(dataDir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ models: { dir: modelsDir } }));
  const gateway = await startGatewayProcess(path.join(dataDir, 'data'), { configFile });
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  try {
    const url = (p: string) => new URL(`${gateway.url}${PREFIX}/${p}`);
    await postJson(agent, url('library/create'), { library_name: 'clip', mode: 'general_search', model: MODEL });
    const bodies = jpegs.map((j, i) =>
      Buffer.from(JSON.stringify({ library_name: 'clip', image_id: `img${i}`, image_uri: `bench/${i}.jpg`, image_base64: j.toString('base64') })),
    );
    const addAll = async (): Promise<Pass> => {
      let next = 0;
      let failures = 0;
      const cpu = cpuSeconds(gateway.child.pid!);
      const threadsBefore = cpuByThread(gateway.child.pid!);
      const started = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: opts.concurrency }, async () => {
          while (next < bodies.length) if ((await postJson(agent, url('image/add'), bodies[next++])) !== 200) failures++;
        }),
      );
      if (failures > 0) throw new Error(`${failures} image/add requests failed`);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const threads = cpuByThreadSince(gateway.child.pid!, threadsBefore);
      return { seconds, cpuSeconds: cpuSeconds(gateway.child.pid!) - cpu, threads };
    };
    // Warm-ups, then alternating passes (the same ids are overwritten by each pass).
    await runBare();
    await addAll();
    const bare: Pass[] = [];
    const through: Pass[] = [];
    for (let pass = 0; pass < 3; pass++) {
      bare.push(await runBare());
      through.push(await addAll());
    }

    const queries = Array.from({ length: opts.queries }, (_, i) => `a photo of a red dress number ${i}`);
    const timeQueries = async () => {
      const times: number[] = [];
      for (const q of queries) {
        const started = process.hrtime.bigint();
        const status = await postJson(agent, url('search/by-text'), { library_name: 'clip', query_text: q, top_k: 10, return_frame: false });
        if (status !== 200) throw new Error(`search/by-text answered ${status}`);
        times.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
      return median(times);
    };
    const uncached = await timeQueries();
    const cached = await timeQueries();

    const rate = (passes: Pass[]) => opts.images / median(passes.map((p) => p.seconds));
    const cpuPerImage = (passes: Pass[]) => (1000 * median(passes.map((p) => p.cpuSeconds))) / opts.images;
    const ratio = rate(through) / rate(bare);
    log(`clip    ViT-B/32 architecture (random weights), ${opts.images} JPEGs 1024x768, ${opts.concurrency} in flight, ${threads} threads, medians of 3 passes`);
    log(`  bare onnxruntime, batches of 32 ${rate(bare).toFixed(1).padStart(8)} images/s   ${cpuPerImage(bare).toFixed(1).padStart(6)} ms CPU/image`);
    log(`  operator image/add (HTTP)       ${rate(through).toFixed(1).padStart(8)} images/s   ${cpuPerImage(through).toFixed(1).padStart(6)} ms CPU/image`);
    log(`  ratio gateway/bare              ${ratio.toFixed(2).padStart(8)}   (target >= 0.90; passes ${through.map((p, i) => (bare[i].seconds / p.seconds).toFixed(2)).join(' ')})`);
    log(`  CPU ratio bare/gateway          ${(cpuPerImage(bare) / cpuPerImage(through)).toFixed(2).padStart(8)}   (what the ratio would be with every core busy)`);
    const kinds: ThreadKind[] = ['onnxruntime', 'libvips', 'main', 'other'];
    const perKind = kinds.map((k) => `${k} ${((1000 * median(through.map((p) => p.threads![k]))) / opts.images).toFixed(1)}`);
    log(`  gateway CPU ms/image by thread  ${perKind.join(', ')}   (other: libuv pool, GC helpers)`);
    log(`  search/by-text p50, new text    ${uncached.toFixed(1).padStart(8)} ms`);
    log(`  search/by-text p50, cached text ${cached.toFixed(1).padStart(8)} ms`);
  } finally {
    agent.destroy();
    await Promise.all([session.close(), gateway.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

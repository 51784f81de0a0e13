/**
 * Ingest throughput: images/s through operator image/add over HTTP (decode, validate, embed, store, with
 * the default save_image=true) against bare sharp decode+resize of the same JPEGs to the model's input
 * size, in the same run, as a ratio: three passes of each side, alternating, medians compared (one pass
 * each drifted with the machine as much as the changes measured). Both sides run with the same number of
 * requests in flight. The
 * gateway runs in a process of its own (gateway-process.ts), as it does for its clients; the CPU each
 * side spends per image is printed beside, the gateway's read from /proc, with what a bare node:http server
 * spends receiving the same bodies (http-floor.ts) and the ratios those costs leave possible.
 *
 * The library indexes the whole picture only (`views: ["whole"]`), which is what bare decode+resize
 * compares with; the same images into a library with the model's default views (one decode, twelve model
 * inputs each) are timed after, on a line of their own.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { PREFIX } from '../adapters/operator/limits';
import type { ModelManifest } from '../core/embed/manifest';
import { SessionWorker } from '../core/embed/session-worker';
import { toTensor } from '../core/image/tensor';
import { PACKAGE_ROOT } from '../bin/config';
import { makeScene } from '../tests/helpers/synthetic-images';
import { cpuByThread, cpuByThreadSince, cpuSeconds, startGatewayProcess, type ThreadKind } from './gateway-process';
import { postJson, runPool } from './http-client';
import { httpFloorCpuMs } from './http-floor';
import { median } from './stats';

export interface IngestFigures {
  images: number;
  concurrency: number;
  sharpPerSecond: number;
  gatewayPerSecond: number;
  ratio: number;
  /** Each pass's ratio (gateway pass i against bare pass i). */
  passRatios: number[];
  /** CPU milliseconds per image: bare sharp (this process), the gateway process, the HTTP client (this process). */
  sharpCpuMs: number;
  gatewayCpuMs: number;
  clientCpuMs: number;
  /** CPU milliseconds per image by kind of thread: bare sharp's (this process) and the gateway's. */
  sharpThreads: Record<ThreadKind, number>;
  gatewayThreads: Record<ThreadKind, number>;
  /** CPU milliseconds per image of the default model's inference alone (bare onnxruntime, batches of 8). */
  modelCpuMs: number;
  /** CPU milliseconds per request of a bare node:http server receiving the same bodies (http-floor.ts). */
  httpFloorCpuMs: number;
  /**
   * The highest ratio this machine allows with the client on the same cores: a gateway spending no more CPU
   * per image than bare decode+resize and the model's inference, every core busy with it and the client.
   */
  ceiling: number;
  /** The same ceiling for a gateway that also spends what bare node:http spends on each request. */
  httpCeiling: number;
}

/** CPU milliseconds per image of the model alone on these images' tensors, in batches as 8 in flight give. */
async function modelCpuPerImage(jpegs: Buffer[], manifest: ModelManifest): Promise<number> {
  const spec = manifest.visual.preprocess;
  const tensors = await Promise.all(jpegs.map((j) => toTensor(sharp(j), spec)));
  // The gateway's session settings (core/embed/runner.ts), in the same kind of worker.
  const session = await SessionWorker.start(path.join(PACKAGE_ROOT, 'models/default', manifest.visual.file), {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: os.availableParallelism(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  try {
    const pass = async () => {
      for (let i = 0; i < tensors.length; i += 8) {
        const batch = tensors.slice(i, i + 8);
        const input = new Float32Array(batch.length * batch[0].length);
        batch.forEach((t, k) => input.set(t, k * t.length));
        await session.run(session.inputNames[0], input, [batch.length, 3, spec.height, spec.width], session.outputNames[0]);
      }
    };
    await pass(); // warm-up
    const cpu = process.cpuUsage();
    await pass();
    const { user, system } = process.cpuUsage(cpu);
    return (user + system) / 1000 / tensors.length;
  } finally {
    await session.close();
  }
}

/** Passes of each side, alternating; the figures printed are their medians. */
const PASSES = 3;

/** One timed pass over the images: wall seconds, CPU ms per image by kind of thread and in all. */
interface Pass {
  seconds: number;
  cpuMs: number;
  threads: Record<ThreadKind, number>;
  /** The gateway's passes: what the HTTP client (this process) spent per image. */
  clientCpuMs?: number;
}

/** The median of each figure over the passes. */
function medianPass(passes: Pass[]): Pass {
  const kinds = Object.keys(passes[0].threads) as ThreadKind[];
  return {
    seconds: median(passes.map((p) => p.seconds)),
    cpuMs: median(passes.map((p) => p.cpuMs)),
    threads: Object.fromEntries(kinds.map((k) => [k, median(passes.map((p) => p.threads[k]))])) as Record<ThreadKind, number>,
    clientCpuMs: passes[0].clientCpuMs === undefined ? undefined : median(passes.map((p) => p.clientCpuMs!)),
  };
}

/** Milliseconds per image of each kind of thread, from CPU seconds. */
function perImage(seconds: Record<ThreadKind, number>, images: number): Record<ThreadKind, number> {
  return Object.fromEntries(Object.entries(seconds).map(([k, v]) => [k, (v * 1000) / images])) as Record<ThreadKind, number>;
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
  const barePass = async (): Promise<Pass> => {
    const cpu = process.cpuUsage();
    const threads = cpuByThread(process.pid);
    const seconds = await bareOnce();
    const { user, system } = process.cpuUsage(cpu);
    return { seconds, cpuMs: (user + system) / 1000 / opts.images, threads: perImage(cpuByThreadSince(process.pid, threads), opts.images) };
  };
  const modelCpuMs = await modelCpuPerImage(jpegs, manifest);

  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'isg-bench-'));
  const gateway = await startGatewayProcess(dataDir);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  try {
    const url = (p: string) => new URL(`${gateway.url}${PREFIX}/${p}`);
    const create = (library_name: string, views?: string[]) =>
      postJson(agent, url('library/create'), Buffer.from(JSON.stringify({ library_name, mode: 'general_search', views })));
    await create('bench', ['whole']);
    await create('bench-views');
    // Request bodies are encoded once, before timing, as a load generator would.
    const bodiesFor = (library_name: string) =>
      jpegs.map((j, i) =>
        Buffer.from(JSON.stringify({ library_name, image_id: `img${i}`, image_uri: `bench/${i}.jpg`, image_base64: j.toString('base64'), tags: { i } })),
      );
    const bodies = bodiesFor('bench');
    // Warm-up pass (model, sharp, SQLite), then the measured passes overwrite the same ids.
    await runPool(bodies.slice(0, 32), opts.concurrency, async (b) => void (await postJson(agent, url('image/add'), b)));
    let failures = 0;
    const gatewayPass = async (): Promise<Pass> => {
      const pid = gateway.child.pid!;
      const cpu = cpuSeconds(pid);
      const threads = cpuByThread(pid);
      const clientCpu = process.cpuUsage();
      const seconds = await runPool(bodies, opts.concurrency, async (b) => {
        if ((await postJson(agent, url('image/add'), b)) !== 200) failures++;
      });
      const client = process.cpuUsage(clientCpu);
      return {
        seconds,
        cpuMs: ((cpuSeconds(pid) - cpu) * 1000) / opts.images,
        threads: perImage(cpuByThreadSince(pid, threads), opts.images),
        clientCpuMs: (client.user + client.system) / 1000 / opts.images,
      };
    };
    const bare: Pass[] = [];
    const through: Pass[] = [];
    for (let pass = 0; pass < PASSES; pass++) {
      bare.push(await barePass());
      through.push(await gatewayPass());
    }
    const { seconds: sharpSeconds, cpuMs: sharpCpuMs, threads: sharpThreads } = medianPass(bare);
    const { seconds: gatewaySeconds, cpuMs: gatewayCpuMs, threads: gatewayThreads, clientCpuMs: clientMs } = medianPass(through);
    const clientCpuMs = clientMs!;
    const viewsSeconds = await runPool(bodiesFor('bench-views'), opts.concurrency, async (b) => {
      if ((await postJson(agent, url('image/add'), b)) !== 200) failures++;
    });
    if (failures > 0) throw new Error(`${failures} image/add requests failed`);
    const httpFloorMs = await httpFloorCpuMs(bodies, opts.concurrency);
    const ceilingWith = (extraMs: number) =>
      (os.availableParallelism() * 1000) / (sharpCpuMs + modelCpuMs + clientCpuMs + extraMs) / (opts.images / sharpSeconds);
    const figures: IngestFigures = {
      images: opts.images,
      concurrency: opts.concurrency,
      sharpPerSecond: opts.images / sharpSeconds,
      gatewayPerSecond: opts.images / gatewaySeconds,
      ratio: sharpSeconds / gatewaySeconds,
      passRatios: through.map((p, i) => bare[i].seconds / p.seconds),
      sharpCpuMs,
      gatewayCpuMs,
      clientCpuMs,
      sharpThreads,
      gatewayThreads,
      modelCpuMs,
      httpFloorCpuMs: httpFloorMs,
      ceiling: ceilingWith(0),
      httpCeiling: ceilingWith(httpFloorMs),
    };
    log(`ingest  ${opts.images} JPEGs 1024x768, ${opts.concurrency} in flight, model input ${width}x${height}, medians of ${PASSES} passes`);
    log(`  bare sharp decode+resize   ${figures.sharpPerSecond.toFixed(1).padStart(8)} images/s   ${sharpCpuMs.toFixed(2)} ms CPU/image`);
    log(`  operator image/add (HTTP)  ${figures.gatewayPerSecond.toFixed(1).padStart(8)} images/s   ${gatewayCpuMs.toFixed(2)} ms CPU/image in the gateway process`);
    const byThread = (t: Record<ThreadKind, number>) => (['main', 'libvips', 'other', 'onnxruntime'] as const).map((k) => `${k} ${t[k].toFixed(2)}`).join(', ');
    log(`  CPU ms/image by thread: bare   ${byThread(sharpThreads)}   (other: libuv pool, GC helpers)`);
    log(`                       gateway   ${byThread(gatewayThreads)}`);
    log(`  the model alone (onnxruntime)          ${modelCpuMs.toFixed(2)} ms CPU/image (batches of 8, the gateway's session settings)`);
    log(`  HTTP client (this process)             ${clientCpuMs.toFixed(2)} ms CPU/image (sending the bodies, reading the replies; kernel time included)`);
    log(`  bare node:http server, same bodies     ${httpFloorMs.toFixed(2)} ms CPU/image (reads each body whole and answers: the least a server spends per request)`);
    log(`  ratio gateway/sharp        ${figures.ratio.toFixed(2).padStart(8)}   (target >= 0.80; passes ${figures.passRatios.map((r) => r.toFixed(2)).join(' ')})`);
    log(`  ceiling on this machine    ${figures.ceiling.toFixed(2).padStart(8)}   (a gateway spending only the decode's and the model's CPU, the client on the same ${os.availableParallelism()} cores)`);
    log(`    with bare HTTP's cost    ${figures.httpCeiling.toFixed(2).padStart(8)}   (the same, plus what bare node:http spends per request)`);
    log(`  the same, default views    ${(opts.images / viewsSeconds).toFixed(1).padStart(8)} images/s   (twelve model inputs per picture, one decode; docs/models.md, Views)`);
    return figures;
  } finally {
    agent.destroy();
    await gateway.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

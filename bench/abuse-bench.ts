/**
 * npm run bench -- --abuse: a gateway with its default settings, in a child process, under pixel bombs and a
 * crowd of searches at once — a 10000×10000 1-bit BMP (12 MB) and a 10000×10000 GIF of a few KB, several of
 * each, plus 1,000 concurrent operator searches — while /_gateway/health is polled. Prints the worst and
 * p99 health latency during the attack, the gateway's peak RSS, and how many requests got the throttling
 * (429) or image-too-large (400 INVALID_IMAGE) answers. Bounded: one round, loopback only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { peakRssMiB, startGatewayProcess } from './gateway-process';
import { quantile } from './stats';

const OPERATOR = '/api/v1/operators/image-search';

interface Answer {
  status: number;
  code: string;
}

function post(agent: http.Agent, url: string, body: Buffer): Promise<Answer> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        let code = '';
        try {
          code = JSON.parse(Buffer.concat(chunks).toString('utf8')).status ?? '';
        } catch {
          // not JSON: keep the status only
        }
        resolve({ status: res.statusCode ?? 0, code });
      });
    });
    req.on('error', () => resolve({ status: 0, code: 'connection error' }));
    req.end(body);
  });
}

/** A 1-bit BMP of width × height, one colour: 12 MB at 10000×10000, decoded to 300 MB of RGB. */
function bmpBomb(width: number, height: number): Buffer {
  const stride = Math.ceil(width / 32) * 4;
  const offset = 14 + 40 + 8;
  const file = Buffer.alloc(offset + stride * height, 0xff);
  file.write('BM', 0, 'latin1');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(offset, 10);
  file.writeUInt32LE(40, 14);
  file.writeInt32LE(width, 18);
  file.writeInt32LE(height, 22);
  file.writeUInt16LE(1, 26);
  file.writeUInt16LE(1, 28);
  file.writeUInt32LE(0, 30);
  file.writeUInt32LE(stride * height, 34);
  file.writeUInt32LE(2, 46);
  file.set([0, 0, 0, 0, 255, 255, 255, 0], 54);
  return file;
}


/**
 * Polls health every 20 ms from a thread of its own: the attacking requests keep this process's event loop
 * busy (writing 67 MB of bombs, reading 1,000 answers), which must not count as the gateway's latency.
 */
function startHealthProber(healthUrl: string): { stop(): Promise<number[]> } {
  const worker = new Worker(
    `
    const http = require('node:http');
    const { parentPort, workerData } = require('node:worker_threads');
    const latencies = [];
    let probing = true;
    parentPort.on('message', () => (probing = false));
    (async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      while (probing) {
        const started = performance.now();
        await new Promise((resolve) => http.get(workerData, { agent }, (res) => res.resume().on('end', resolve)).on('error', resolve));
        latencies.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      agent.destroy();
      parentPort.postMessage(latencies);
    })();
    `,
    { eval: true, workerData: healthUrl },
  );
  return {
    stop: () =>
      new Promise((resolve, reject) => {
        worker.once('message', (latencies: number[]) => void worker.terminate().then(() => resolve(latencies)));
        worker.once('error', reject);
        worker.postMessage('stop');
      }),
  };
}

export async function runAbuseBench(opts: { bmpBombs: number; gifBombs: number; searches: number; log: (line: string) => void }): Promise<void> {
  const { log } = opts;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'isg-abuse-'));
  const gateway = await startGatewayProcess(dataDir);
  const { child, url } = gateway;
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  try {
    const json = (value: unknown) => Buffer.from(JSON.stringify(value));
    await post(agent, `${url}${OPERATOR}/library/create`, json({ library_name: 'shop', mode: 'general_search' }));
    const photo = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#3a7bd5' } }).composite([{ input: Buffer.from('<svg width="640" height="480"><circle cx="320" cy="240" r="150" fill="#f0c020"/></svg>') }]).jpeg().toBuffer();
    for (let i = 0; i < 8; i++) {
      await post(agent, `${url}${OPERATOR}/image/add`, json({ library_name: 'shop', image_id: `img${i}`, image_uri: `u${i}`, image_base64: photo.toString('base64') }));
    }
    const search = (image: Buffer) => json({ library_name: 'shop', image_base64: image.toString('base64'), top_k: 5 });
    const bmp = search(bmpBomb(10_000, 10_000));
    const gif = search(await sharp({ create: { width: 10_000, height: 10_000, channels: 3, background: '#808080' } }).gif().toBuffer());
    const small = search(photo);
    log(`abuse   gateway pid ${child.pid}, defaults; ${opts.bmpBombs} BMP bombs (10000x10000 1-bit, ${(bmp.length / 1e6).toFixed(1)} MB body), ${opts.gifBombs} GIF bombs (10000x10000, ${(gif.length / 1e3).toFixed(0)} KB body), ${opts.searches} concurrent searches`);

    const prober = startHealthProber(`${url}/_gateway/health`);

    const started = performance.now();
    const answers = await Promise.all([
      ...Array.from({ length: opts.bmpBombs }, () => post(agent, `${url}${OPERATOR}/search/by-image`, bmp)),
      ...Array.from({ length: opts.gifBombs }, () => post(agent, `${url}${OPERATOR}/search/by-image`, gif)),
      ...Array.from({ length: opts.searches }, () => post(agent, `${url}${OPERATOR}/search/by-image`, small)),
    ]);
    const seconds = (performance.now() - started) / 1000;
    const health = await prober.stop();

    const count = (f: (a: Answer) => boolean) => answers.filter(f).length;
    const sorted = [...health].sort((a, b) => a - b);
    const bombs = answers.slice(0, opts.bmpBombs + opts.gifBombs);
    log(`  attack took ${seconds.toFixed(1)} s; health polled ${health.length} times`);
    log(`  health p50 / p99 / worst        ${quantile(sorted, 0.5).toFixed(1)} / ${quantile(sorted, 0.99).toFixed(1)} / ${sorted[sorted.length - 1].toFixed(1)} ms   (target p99 < 100 ms)`);
    log(`  gateway peak RSS                ${peakRssMiB(child.pid!).toFixed(0)} MiB   (target < 1536 MiB)`);
    log(`  bombs: ${bombs.filter((a) => a.status === 200).length} answered, ${bombs.filter((a) => a.status === 429).length} throttled (429), ${bombs.filter((a) => a.code === 'INVALID_IMAGE').length} too large`);
    log(`  all requests: ${count((a) => a.status === 200)} ok, ${count((a) => a.status === 429)} throttled (429 TOO_MANY_REQUESTS), ${count((a) => a.status >= 500 || a.status === 0)} failed (5xx or connection)`);
  } finally {
    agent.destroy();
    await gateway.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

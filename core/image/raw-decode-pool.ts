/**
 * The image decoders written in JavaScript (BMP and PNM; libvips reads every other format on its own threads)
 * run in a worker thread, never on the event loop: decoding a 10000×10000 BMP takes a second or more of CPU,
 * during which every other request of every tenant would wait. One worker, so pixel bombs queue behind each
 * other instead of multiplying their memory; its answers are transferred, not copied.
 *
 * The worker's code is a small CommonJS string (as in core/embed/session-worker.ts) that requires the decoder
 * module by path; from TypeScript sources (tsx, jest) it registers tsx first.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { BACKGROUND_NICE } from '../background-threads';
import { ImageInvalidError, type ImageInvalidReason } from '../errors';
import type { RawImage } from './bmp';

const WORKER_SOURCE = `
const { parentPort, workerData, threadId } = require('node:worker_threads');
if (workerData.tsx) require(workerData.tsx);
if (workerData.nice !== undefined) require('node:os').setPriority(workerData.nice); // this thread only: core/background-threads.ts
const decoders = { bmp: require(workerData.bmp).decodeBmp, pnm: require(workerData.pnm).decodePnm };
parentPort.on('message', ({ id, bytes, format }) => {
  try {
    const raw = decoders[format](Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    const own = raw.data.byteOffset === 0 && raw.data.byteLength === raw.data.buffer.byteLength;
    const data = own ? raw.data : Buffer.from(raw.data);
    parentPort.postMessage({ id, threadId, raw: { data, width: raw.width, height: raw.height, channels: raw.channels } }, [data.buffer]);
  } catch (e) {
    parentPort.postMessage({ id, error: { reason: e && e.reason, message: (e && e.message) || String(e) } });
  }
});
`;

interface Pending {
  resolve: (raw: RawImage) => void;
  reject: (err: Error) => void;
}

/** What the decoder thread has done: how many images it decoded, and its thread id (never the main thread's 0). */
export const decoderStats = { decoded: 0, threadId: -1 };

let worker: Worker | undefined;
let nextId = 0;
const pending = new Map<number, Pending>();

function start(): Worker {
  const fromSources = __filename.endsWith('.ts');
  const w = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      bmp: path.join(__dirname, fromSources ? 'bmp.ts' : 'bmp.js'),
      pnm: path.join(__dirname, fromSources ? 'pnm.ts' : 'pnm.js'),
      tsx: fromSources ? require.resolve('tsx/cjs') : undefined,
      nice: BACKGROUND_NICE,
    },
  });
  w.on('message', (m: { id: number; threadId?: number; raw?: { data: Uint8Array; width: number; height: number; channels: 3 | 4 }; error?: { reason?: ImageInvalidReason; message: string } }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (pending.size === 0) w.unref();
    if (m.raw) {
      decoderStats.decoded++;
      decoderStats.threadId = m.threadId ?? -1;
    }
    if (m.raw) p.resolve({ ...m.raw, data: Buffer.from(m.raw.data.buffer, m.raw.data.byteOffset, m.raw.data.byteLength) });
    else p.reject(m.error?.reason ? new ImageInvalidError(m.error.reason, m.error.message) : new Error(m.error?.message ?? 'decode failed'));
  });
  // A crashed worker (out of memory, say) fails what it held; the next decode starts a new one.
  const fail = (err: Error) => {
    if (worker === w) worker = undefined;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`image decoder exited (${code})`)));
  w.unref(); // an idle decoder never keeps the process alive (see settle)
  return w;
}

/** Decodes a checked BMP or PNM (Netpbm) in the decoder thread into raw RGB or RGBA pixels. */
export function decodeOffThread(format: 'bmp' | 'pnm', bytes: Buffer): Promise<RawImage> {
  worker ??= start();
  const id = nextId++;
  return new Promise<RawImage>((resolve, reject) => {
    if (pending.size === 0) worker!.ref(); // held while it owes an answer
    pending.set(id, { resolve, reject });
    worker!.postMessage({ id, bytes, format });
  });
}

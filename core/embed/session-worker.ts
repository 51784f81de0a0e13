/**
 * An onnxruntime-node InferenceSession in a worker thread.
 *
 * Why a thread: onnxruntime-node's session.run executes the graph synchronously on the calling JS
 * thread (inside a setImmediate), so on the main thread every batch would stall HTTP handling and
 * image decoding callbacks for its whole duration. In the worker, the main thread only posts the
 * input buffer (transferred, not copied) and receives the output buffer.
 * It also keeps onnxruntime's typed arrays out of vm contexts such as jest's, whose Float32Array is
 * not the one the native binding creates (onnxruntime-common would refuse the outputs).
 *
 * The worker's code is a small CommonJS string, so it runs the same from ts sources (tsx, jest) and
 * from compiled JavaScript.
 */
import { Worker } from 'node:worker_threads';
import { BACKGROUND_NICE } from '../background-threads';
import type { InferenceSession } from 'onnxruntime-node';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
// Before the session exists, so the threads onnxruntime starts inherit it: core/background-threads.ts
if (workerData.nice !== undefined) require('node:os').setPriority(workerData.nice);
const ort = require(workerData.ortPath);
const message = (e) => (e && e.message) || String(e);
const ARRAYS = { float32: Float32Array, int32: Int32Array, int64: BigInt64Array };
const metadata = (list) => (list || []).map((m) => ({ name: m.name, type: m.isTensor ? m.type : undefined, shape: m.isTensor ? Array.from(m.shape) : undefined }));
ort.InferenceSession.create(workerData.modelPath, workerData.sessionOptions).then(
  (session) => {
    parentPort.postMessage({
      type: 'ready',
      inputNames: session.inputNames,
      outputNames: session.outputNames,
      inputs: metadata(session.inputMetadata),
      outputs: metadata(session.outputMetadata),
    });
    parentPort.on('message', async (msg) => {
      if (msg.type === 'close') {
        await session.release();
        parentPort.postMessage({ type: 'closed' });
        return;
      }
      try {
        const feeds = {};
        for (const f of msg.feeds) feeds[f.name] = new ort.Tensor(f.type, new ARRAYS[f.type](f.data), f.dims);
        const out = (await session.run(feeds, [msg.output]))[msg.output];
        const data = out.data.byteOffset === 0 && out.data.byteLength === out.data.buffer.byteLength ? out.data : out.data.slice();
        parentPort.postMessage({ type: 'result', id: msg.id, dims: out.dims, data: data.buffer }, [data.buffer]);
      } catch (e) {
        parentPort.postMessage({ type: 'result', id: msg.id, error: message(e) });
      }
    });
  },
  (e) => parentPort.postMessage({ type: 'error', error: message(e) }),
);
`;

/** What onnxruntime reports about one input or output: element type and shape (numbers or symbolic names). */
export interface ValueInfo {
  name: string;
  type?: string;
  shape?: Array<number | string>;
}

/** Element types a feed may have. */
export type FeedType = 'float32' | 'int32' | 'int64';
export type FeedData = Float32Array | Int32Array | BigInt64Array;

/** One named input of a run. */
export interface Feed {
  name: string;
  type: FeedType;
  data: FeedData;
  dims: number[];
}

type WorkerMessage =
  | { type: 'ready'; inputNames: string[]; outputNames: string[]; inputs: ValueInfo[]; outputs: ValueInfo[] }
  | { type: 'error'; error: string }
  | { type: 'closed' }
  | { type: 'result'; id: number; dims?: number[]; data?: ArrayBuffer; error?: string };

interface PendingRun {
  resolve: (out: { data: Float32Array; dims: number[] }) => void;
  reject: (err: Error) => void;
}

export class SessionWorker {
  private nextId = 0;
  private readonly pending = new Map<number, PendingRun>();
  private closed?: Promise<void>;
  private failure?: Error;

  private constructor(
    private readonly worker: Worker,
    readonly inputNames: string[],
    readonly outputNames: string[],
    /** Types and shapes of the inputs and outputs (empty when onnxruntime does not report them). */
    readonly inputs: ValueInfo[] = [],
    readonly outputs: ValueInfo[] = [],
  ) {
    worker.on('message', (msg: WorkerMessage) => {
      if (msg.type !== 'result') return;
      const run = this.pending.get(msg.id);
      if (!run) return;
      this.pending.delete(msg.id);
      this.updateRef();
      if (msg.error !== undefined || !msg.data || !msg.dims) run.reject(new Error(`onnxruntime: ${msg.error}`));
      else run.resolve({ data: new Float32Array(msg.data), dims: msg.dims });
    });
    const fail = (err: Error): void => {
      this.failure ??= err;
      for (const run of this.pending.values()) run.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`onnxruntime worker exited (code ${code})`)));
    this.updateRef();
  }

  /** Start a worker and create the session in it; rejects if the model cannot be loaded. */
  static start(modelPath: string, sessionOptions: InferenceSession.SessionOptions): Promise<SessionWorker> {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { ortPath: require.resolve('onnxruntime-node'), modelPath, sessionOptions, nice: BACKGROUND_NICE },
    });
    return new Promise((resolve, reject) => {
      const onMessage = (msg: WorkerMessage): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        if (msg.type === 'ready') resolve(new SessionWorker(worker, msg.inputNames, msg.outputNames, msg.inputs, msg.outputs));
        else {
          void worker.terminate();
          reject(new Error(`cannot load ${modelPath}: ${msg.type === 'error' ? msg.error : 'unexpected message'}`));
        }
      };
      const onError = (err: Error): void => {
        worker.off('message', onMessage);
        reject(err);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
    });
  }

  /** Run the session on one float32 input; the input buffer is transferred to the worker (do not reuse it). */
  run(input: string, data: Float32Array, dims: number[], output: string): Promise<{ data: Float32Array; dims: number[] }> {
    return this.runFeeds([{ name: input, type: 'float32', data, dims }], output);
  }

  /** Run the session on named inputs of any FeedType; their buffers are transferred (do not reuse them). */
  runFeeds(feeds: Feed[], output: string): Promise<{ data: Float32Array; dims: number[] }> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('session is closed'));
    const id = this.nextId++;
    const sent = feeds.map((f) => ({ name: f.name, type: f.type, dims: f.dims, data: ownBuffer(f.data) }));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.updateRef();
      this.worker.postMessage({ type: 'run', id, output, feeds: sent }, sent.map((f) => f.data));
    });
  }

  /** Release the session and stop the thread. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      if (!this.failure) {
        this.worker.ref();
        await new Promise<void>((resolve) => {
          const onMessage = (msg: WorkerMessage): void => {
            if (msg.type === 'closed') {
              this.worker.off('message', onMessage);
              resolve();
            }
          };
          this.worker.on('message', onMessage);
          this.worker.once('exit', () => resolve());
          this.worker.postMessage({ type: 'close' });
        });
      }
      await this.worker.terminate();
    })();
    return this.closed;
  }

  /** An idle worker does not keep the process alive; one with runs in flight does. */
  private updateRef(): void {
    if (this.pending.size > 0) this.worker.ref();
    else this.worker.unref();
  }
}

/** The array's own whole buffer (transferable), copying when it is a view into a larger one. */
function ownBuffer(data: FeedData): ArrayBuffer {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? (data.buffer as ArrayBuffer) : (data.slice().buffer as ArrayBuffer);
}

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
import type { InferenceSession } from 'onnxruntime-node';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
const message = (e) => (e && e.message) || String(e);
ort.InferenceSession.create(workerData.modelPath, workerData.sessionOptions).then(
  (session) => {
    parentPort.postMessage({ type: 'ready', inputNames: session.inputNames, outputNames: session.outputNames });
    parentPort.on('message', async (msg) => {
      if (msg.type === 'close') {
        await session.release();
        parentPort.postMessage({ type: 'closed' });
        return;
      }
      try {
        const feeds = { [msg.input]: new ort.Tensor('float32', new Float32Array(msg.data), msg.dims) };
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

type WorkerMessage =
  | { type: 'ready'; inputNames: string[]; outputNames: string[] }
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
      workerData: { ortPath: require.resolve('onnxruntime-node'), modelPath, sessionOptions },
    });
    return new Promise((resolve, reject) => {
      const onMessage = (msg: WorkerMessage): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        if (msg.type === 'ready') resolve(new SessionWorker(worker, msg.inputNames, msg.outputNames));
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
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('session is closed'));
    const id = this.nextId++;
    const buffer =
      data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? (data.buffer as ArrayBuffer) : data.slice().buffer;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.updateRef();
      this.worker.postMessage({ type: 'run', id, input, output, dims, data: buffer }, [buffer]);
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

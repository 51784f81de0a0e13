/**
 * Shadow mode's local side. A shadowed call is replayed, byte for byte, to the gateway's own listener with
 * a per-process secret header, so the local adapter serves it exactly as it would serve the client (same
 * signature check, same parsing, same answer) and the migration layer lets it through.
 *
 * Replays of a library run in the order the calls arrived: a write waits for everything before it, a
 * search waits for the writes before it (searches run side by side). So a client that adds and then
 * searches is compared against a local library that has the add.
 */
import http from 'node:http';
import type { Request } from 'express';
import { LOCAL_REPLAY_HEADER, SHADOW_QUEUE_MAX } from './limits';
import type { CallKind } from '../vendor';

export interface Captured {
  status: number;
  body: Buffer;
  ms: number;
}

/** What a replay needs of the original request, copied before the client's request object is gone. */
export interface ReplayRequest {
  method: string;
  target: string;
  rawHeaders: string[];
  body: Buffer;
  /** The listener the client reached (the replay goes to the same one). */
  host: string;
  port: number;
}

export function replayRequestOf(req: Request, body: Buffer): ReplayRequest {
  return {
    method: req.method,
    target: req.originalUrl,
    rawHeaders: [...req.rawHeaders],
    body,
    host: req.socket.localAddress ?? '127.0.0.1',
    port: req.socket.localPort ?? 0,
  };
}

/** Sends the replay to the local listener and reads the whole answer. */
export function replayLocally(r: ReplayRequest, secret: string): Promise<Captured> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const headers = [...r.rawHeaders, LOCAL_REPLAY_HEADER, secret];
    const req = http.request({ host: r.host, port: r.port, method: r.method, path: r.target, headers, setHost: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), ms: Number(process.hrtime.bigint() - started) / 1e6 }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

interface LibraryQueue {
  /** Settles when every write enqueued so far has run. */
  lastWrite: Promise<void>;
  /** Every replay enqueued and not yet settled. */
  inFlight: Set<Promise<void>>;
}

/** Per-library ordering of replays (see the file comment). */
export class ReplayQueues {
  private readonly queues = new Map<string, LibraryQueue>();

  constructor(private readonly onPending: (key: string, n: number) => void = () => {}) {}

  /**
   * Runs `task` once the calls before it allow; false (and `task` never runs) when a library's queue is
   * full. `keys` are the libraries the call addresses.
   */
  enqueue(keys: string[], kind: CallKind, task: () => Promise<void>): boolean {
    const queues = keys.map((k) => this.queueOf(k));
    if (queues.some((q) => q.inFlight.size >= SHADOW_QUEUE_MAX)) return false;
    const before = kind === 'write' ? queues.flatMap((q) => [q.lastWrite, ...q.inFlight]) : queues.map((q) => q.lastWrite);
    const run = Promise.all(before).then(task).catch(() => undefined);
    for (const [i, q] of queues.entries()) {
      q.inFlight.add(run);
      if (kind === 'write') q.lastWrite = run;
      this.onPending(keys[i], q.inFlight.size);
      void run.then(() => {
        q.inFlight.delete(run);
        this.onPending(keys[i], q.inFlight.size);
      });
    }
    return true;
  }

  private queueOf(key: string): LibraryQueue {
    let q = this.queues.get(key);
    if (!q) {
      q = { lastWrite: Promise.resolve(), inFlight: new Set() };
      this.queues.set(key, q);
    }
    return q;
  }
}

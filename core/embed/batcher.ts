/**
 * A micro-batcher: gathers concurrent single-item requests into batches for one serial worker.
 *
 * No timer is involved. A request that arrives while the worker is idle starts a run on the next turn
 * of the event loop (setImmediate), so requests issued in the same turn share it and a lone request
 * waits for nothing. Requests that arrive while a run is busy queue up and all go (up to maxBatch) into
 * the next run as soon as it finishes. One run at a time: the worker (an ONNX session) already uses
 * every core it is given.
 *
 * A failed run rejects only the callers in that batch. The queue is bounded: past maxQueue waiting
 * items, submit() rejects at once with the error from `onFull`.
 */

export interface BatcherOptions {
  /** Most items per run. */
  maxBatch: number;
  /** Most items waiting (not yet running); beyond, submissions are refused. */
  maxQueue: number;
  /** The error a refused submission rejects with. */
  onFull: () => Error;
  /** Told of every run as it starts: its size and how long each item waited in the queue (metrics). */
  onBatch?: (size: number, waitedMs: number[]) => void;
}

export interface BatcherStats {
  /** Runs started. */
  batches: number;
  /** Items submitted to runs. */
  items: number;
  /** Largest batch run so far. */
  maxBatch: number;
}

interface Pending<I, O> {
  item: I;
  /** performance.now() when submitted. */
  at: number;
  resolve: (out: O) => void;
  reject: (err: unknown) => void;
}

export class MicroBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private running = false;
  private scheduled = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private counters: BatcherStats = { batches: 0, items: 0, maxBatch: 0 };

  constructor(
    /** Runs one batch; must return one output per input, in order. */
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly options: BatcherOptions,
  ) {
    if (!(options.maxBatch >= 1)) throw new Error('maxBatch must be at least 1');
    if (!(options.maxQueue >= 1)) throw new Error('maxQueue must be at least 1');
  }

  submit(item: I): Promise<O> {
    if (this.closed) return Promise.reject(new Error('batcher is closed'));
    if (this.queue.length >= this.options.maxQueue) return Promise.reject(this.options.onFull());
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, at: performance.now(), resolve, reject });
      if (!this.running && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  /**
   * Several items of one request (the views of one picture): admitted or refused together, by the same
   * rule as one item, so a full queue refuses requests, not parts of them. They may share runs with others.
   */
  submitGroup(items: I[]): Promise<O[]> {
    if (this.closed) return Promise.reject(new Error('batcher is closed'));
    if (this.queue.length >= this.options.maxQueue) return Promise.reject(this.options.onFull());
    const at = performance.now();
    const outputs = items.map((item) => new Promise<O>((resolve, reject) => this.queue.push({ item, at, resolve, reject })));
    if (!this.running && !this.scheduled && items.length > 0) {
      this.scheduled = true;
      setImmediate(() => void this.drain());
    }
    return Promise.all(outputs);
  }

  /** Items waiting for a run. */
  get queued(): number {
    return this.queue.length;
  }

  stats(): BatcherStats {
    return { ...this.counters };
  }

  /** Refuse new items and wait until everything already queued has run. */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.running && !this.scheduled && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private async drain(): Promise<void> {
    this.scheduled = false;
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.options.maxBatch);
        this.counters.batches++;
        this.counters.items += batch.length;
        this.counters.maxBatch = Math.max(this.counters.maxBatch, batch.length);
        if (this.options.onBatch) {
          const now = performance.now();
          this.options.onBatch(batch.length, batch.map((p) => now - p.at));
        }
        try {
          const outputs = await this.run(batch.map((p) => p.item));
          if (outputs.length !== batch.length) {
            throw new Error(`batch run returned ${outputs.length} outputs for ${batch.length} inputs`);
          }
          batch.forEach((p, i) => p.resolve(outputs[i]));
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}

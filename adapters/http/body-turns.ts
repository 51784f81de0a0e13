/**
 * Hands complete bodies to their handlers a few at a time, one batch per turn of the event loop. When a
 * crowd of requests finishes arriving in the same turn (1,000 concurrent searches), starting all their
 * handlers at once (parse, validate, check the image) held the loop for most of a second, and requests
 * that need no body — health checks above all — waited behind them. Between two batches the loop polls
 * the sockets again. A batch is at most 8 bodies or 4 MB of them (at least one).
 */
class BodyTurns {
  private readonly queue: Array<{ size: number; start: () => void }> = [];
  private scheduled = false;

  constructor(
    private readonly batchRequests: number,
    private readonly batchBytes: number,
  ) {}

  admit(size: number, start: () => void): void {
    this.queue.push({ size, start });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.runBatch);
    }
  }

  private readonly runBatch = (): void => {
    let bytes = 0;
    for (let n = 0; n < this.batchRequests && this.queue.length > 0; n++) {
      if (n > 0 && bytes + this.queue[0].size > this.batchBytes) break;
      const { size, start } = this.queue.shift()!;
      bytes += size;
      start();
    }
    if (this.queue.length > 0) setImmediate(this.runBatch);
    else this.scheduled = false;
  };
}

/** The one queue of the process: every API's bodies take turns together. */
export const bodyTurns = new BodyTurns(8, 4 * 1024 * 1024);

/**
 * A process-wide budget for the memory that image decodes hold at once. Each decode reserves what its
 * pixels can take fully decoded (width × height × 4 bytes, the RGBA upper bound; libvips may need less
 * when it shrinks a JPEG on load, never more) for as long as it runs. A decode that alone exceeds the
 * budget is refused as too many pixels (each vendor's "image too large"); one that does not fit beside the
 * decodes in flight is refused as a full queue (each vendor's throttling error), so a burst of pixel bombs
 * costs at most the budget and the caller may retry. `images.decodeBudgetBytes` in the config sets it.
 *
 * It also bounds how many decodes run at once (a few per core: libvips has no more threads than that).
 * The rest wait their turn in order, holding only their compressed bytes; the memory check is made when a
 * decode's turn comes. Without the bound, a crowd of requests arriving together would each start sharp
 * at once, and the synchronous part of starting 1,000 pipelines (~0.5 ms each) stalled the event loop.
 */
import { availableParallelism } from 'node:os';
import { ImageInvalidError, QuotaExceededError } from '../errors';

/** Room for two 10000×10000 RGBA decodes beside the gateway's own ~300 MB: peak RSS stays under 1.5 GB. */
export const DEFAULT_DECODE_BUDGET_BYTES = 900 * 1024 * 1024;

const BYTES_PER_PIXEL = 4;

/** Decodes running at once: enough to keep libvips' threads (libuv's pool of 4, or the cores) busy. */
export const DEFAULT_DECODES_AT_ONCE = Math.max(4, 2 * availableParallelism());

export class DecodeBudget {
  private inFlight = 0;
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    public limitBytes = DEFAULT_DECODE_BUDGET_BYTES,
    readonly maxRunning = DEFAULT_DECODES_AT_ONCE,
  ) {}

  /** Bytes reserved by the decodes running now. */
  get reserved(): number {
    return this.inFlight;
  }

  /** Decodes waiting for their turn. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs `decode` in its turn with width × height × 4 bytes reserved. Refuses an image too large for the
   * budget at once, and one that does not fit beside the decodes running when its turn comes.
   */
  async hold<T>(size: { width: number; height: number }, decode: () => Promise<T>): Promise<T> {
    const need = size.width * size.height * BYTES_PER_PIXEL;
    if (need > this.limitBytes) {
      throw new ImageInvalidError(
        'too_many_pixels',
        `image is ${size.width}x${size.height} px; decoding it would take more memory than the gateway allows one image`,
      );
    }
    if (this.running >= this.maxRunning) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      if (this.inFlight + need > this.limitBytes) {
        throw new QuotaExceededError('queue', 'the gateway is decoding as many pixels as its memory budget allows; try again shortly');
      }
      this.inFlight += need;
      try {
        return await decode();
      } finally {
        this.inFlight -= need;
      }
    } finally {
      // Hand the slot straight to the next in line (running stays the same), or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

/** The budget every decode of this process goes through (bin/gateway.ts sets its limit from the config). */
export const decodeBudget = new DecodeBudget();

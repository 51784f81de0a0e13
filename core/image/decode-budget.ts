/**
 * A process-wide budget for the memory that image decodes hold at once. Each decode reserves what its
 * pixels can take fully decoded (width × height × 4 bytes, the RGBA upper bound; libvips may need less
 * when it shrinks a JPEG on load, never more) for as long as it runs. A decode that alone exceeds the
 * budget is refused as too many pixels (each vendor's "image too large"); one that does not fit beside the
 * decodes in flight is refused as a full queue (each vendor's throttling error), so a burst of pixel bombs
 * costs at most the budget and the caller may retry. `images.decodeBudgetBytes` in the config sets it.
 */
import { ImageInvalidError, QuotaExceededError } from '../errors';

/** Room for two 10000×10000 RGBA decodes beside the gateway's own ~300 MB: peak RSS stays under 1.5 GB. */
export const DEFAULT_DECODE_BUDGET_BYTES = 900 * 1024 * 1024;

const BYTES_PER_PIXEL = 4;

export class DecodeBudget {
  private inFlight = 0;

  constructor(public limitBytes = DEFAULT_DECODE_BUDGET_BYTES) {}

  /** Bytes reserved by the decodes running now. */
  get reserved(): number {
    return this.inFlight;
  }

  /** Runs `decode` with width × height × 4 bytes reserved, or refuses at once (never waits). */
  async hold<T>(size: { width: number; height: number }, decode: () => Promise<T>): Promise<T> {
    const need = size.width * size.height * BYTES_PER_PIXEL;
    if (need > this.limitBytes) {
      throw new ImageInvalidError(
        'too_many_pixels',
        `image is ${size.width}x${size.height} px; decoding it would take more memory than the gateway allows one image`,
      );
    }
    if (this.inFlight + need > this.limitBytes) {
      throw new QuotaExceededError('queue', 'the gateway is decoding as many pixels as its memory budget allows; try again shortly');
    }
    this.inFlight += need;
    try {
      return await decode();
    } finally {
      this.inFlight -= need;
    }
  }
}

/** The budget every decode of this process goes through (bin/gateway.ts sets its limit from the config). */
export const decodeBudget = new DecodeBudget();

/**
 * Turning scored candidates into ranked results: exclusions, minimum similarity, best image per item
 * and top-k, with ties broken by image id so that every search is deterministic.
 */
import type { ImageRecord } from '../../records';

export interface Scored {
  slot: number;
  score: number;
  record: ImageRecord;
}

/** True when a ranks before b: higher similarity first, then smaller id. */
export function ranksBefore(a: Scored, b: Scored): boolean {
  return a.score > b.score || (a.score === b.score && a.record.id < b.record.id);
}

/** Keeps the best `capacity` items seen (a binary heap whose root is the worst kept). */
class TopK {
  private readonly heap: Scored[] = [];
  constructor(private readonly capacity: number) {}

  offer(item: Scored): void {
    const h = this.heap;
    if (h.length < this.capacity) {
      h.push(item);
      this.up(h.length - 1);
    } else if (this.capacity > 0 && ranksBefore(item, h[0])) {
      h[0] = item;
      this.down(0);
    }
  }

  sorted(): Scored[] {
    return this.heap.slice().sort((a, b) => (ranksBefore(a, b) ? -1 : ranksBefore(b, a) ? 1 : 0));
  }

  // "worse" items go up: the root is the worst.
  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!ranksBefore(h[p], h[i])) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < h.length && ranksBefore(h[worst], h[l])) worst = l;
      if (r < h.length && ranksBefore(h[worst], h[r])) worst = r;
      if (worst === i) return;
      [h[worst], h[i]] = [h[i], h[worst]];
      i = worst;
    }
  }
}

export interface CollectOptions {
  /** How many results are wanted (offset + limit). */
  need: number;
  minSimilarity?: number;
  distinctItem?: boolean;
  excludeIds: Set<string>;
}

/**
 * Collects candidates offered in any order and yields the best `need`. Filtering by tags is the
 * caller's job (it knows whether a mask was precomputed).
 */
export class Collector {
  private readonly top: TopK;
  private readonly bestPerItem = new Map<string, Scored>();
  private accepted = 0;

  constructor(private readonly options: CollectOptions) {
    this.top = new TopK(options.need);
  }

  offer(slot: number, score: number, record: ImageRecord): void {
    const o = this.options;
    if (o.minSimilarity !== undefined && score < o.minSimilarity) return;
    if (o.excludeIds.size > 0 && o.excludeIds.has(record.id)) return;
    const item: Scored = { slot, score, record };
    if (o.distinctItem) {
      // An image without an itemId is an item of its own.
      const itemKey = record.itemId !== undefined ? `i:${record.itemId}` : `#:${record.id}`;
      const best = this.bestPerItem.get(itemKey);
      if (best === undefined || ranksBefore(item, best)) this.bestPerItem.set(itemKey, item);
    } else {
      this.accepted++;
      this.top.offer(item);
    }
  }

  /** Distinct results accepted so far (may exceed `need`). */
  get count(): number {
    return this.options.distinctItem ? this.bestPerItem.size : this.accepted;
  }

  results(): Scored[] {
    if (!this.options.distinctItem) return this.top.sorted();
    const top = new TopK(this.options.need);
    for (const item of this.bestPerItem.values()) top.offer(item);
    return top.sorted();
  }
}

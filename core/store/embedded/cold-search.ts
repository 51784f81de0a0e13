/**
 * Answers for a large library whose in-memory copy (LibraryVectors) is still loading after a start, from
 * its memory-mapped snapshot and SQLite. Loading every row of a million-image library takes seconds per
 * million; verifying and mapping its snapshot takes about one. So once the snapshot is mapped, the index
 * proposes candidates, their rows are read from SQLite by key and scored exactly as the loaded path scores
 * them (an image's best view, float32), and the page is filled by the same Collector.
 *
 * The snapshot knows nothing written after its watermark: every image written or deleted since (the
 * store's changedSince at opening, and the writes made while the library loads, noted in `changed` as
 * they commit) is read and scored directly, never taken from the index. A search the candidates cannot
 * fill (a selective filter, many excluded ids) returns undefined and waits for the loaded copy.
 * Everything here is synchronous: candidates, rows and scores come from one moment of the store.
 */
import { matches } from '../../filter';
import type { ImageRecord } from '../../records';
import { dot } from '../inner-product';
import type { AnnIndex } from './ann-index';
import { MIN_K, type LibrarySearchOptions, type SearchPath } from './library-search';
import { Collector, type Scored } from './ranking';

/** Past this many images changed since the snapshot, reading each per search costs more than waiting. */
export const COLD_MAX_CHANGED = 2000;
/** Rounds of a growing candidate list (k, then 4k) before a search waits for the loaded copy. */
const ROUNDS = 2;

/** One image as read from SQLite: its record and its vectors as stored (perImage rows of dim, float32). */
export interface StoredImage {
  record: ImageRecord;
  vectors: Float32Array;
}

export class ColdLibrary {
  /** Set once a search was answered here. */
  lastPath?: SearchPath;

  constructor(
    /** The library's snapshot, verified and memory-mapped. */
    readonly ann: AnnIndex,
    /** The snapshot's watermark: every write up to it is in the index. */
    readonly watermark: number,
    readonly dim: number,
    readonly perImage: number,
    /** Keys written or deleted after the watermark (live: the store adds writes as they commit). */
    private readonly changed: Set<number>,
    /** Reads an image of this library by key, or undefined when it is gone. */
    private readonly read: (key: number) => StoredImage | undefined,
  ) {}

  /** Whether searching here still beats waiting for the loaded copy. */
  get usable(): boolean {
    return this.changed.size <= COLD_MAX_CHANGED;
  }

  /** The page, or undefined when the candidates cannot fill it (the caller then waits for the load). */
  search(query: Float32Array, options: LibrarySearchOptions): Scored[] | undefined {
    if (!this.usable) return undefined;
    let k = options.need + options.excludeIds.size;
    if (options.distinctItem) k *= 2;
    if (options.filter) k *= 8;
    k = Math.max(k, MIN_K) * this.perImage;
    for (let round = 0; round < ROUNDS; round++, k *= 4) {
      const collector = new Collector(options);
      const rowKeys = this.ann.search(query, k);
      const keys = new Set<number>();
      for (const rowKey of rowKeys) {
        const view = rowKey % this.perImage;
        if (options.views && !options.views.includes(view)) continue;
        const key = this.perImage === 1 ? rowKey : Math.floor(rowKey / this.perImage);
        if (!this.changed.has(key)) keys.add(key);
      }
      let lowest = Infinity;
      const offer = (key: number) => {
        const image = this.read(key);
        if (!image) return;
        const score = this.similarity(query, image.vectors, options.views);
        if (score < lowest) lowest = score;
        if (options.filter && !matches(options.filter, image.record.tags)) return;
        collector.offer(key, score, image.record);
      };
      keys.forEach(offer);
      this.changed.forEach(offer);
      const belowThreshold = options.minSimilarity !== undefined && lowest < options.minSimilarity;
      const exhausted = rowKeys.length < k;
      if (collector.count >= options.need || belowThreshold || exhausted) {
        this.lastPath = 'ann-snapshot';
        return collector.results();
      }
    }
    return undefined;
  }

  /** LibraryVectors.similarities over vectors read from SQLite: the inner product with the best (allowed) row. */
  private similarity(query: Float32Array, vectors: Float32Array, views: readonly number[] | undefined): number {
    let best = -Infinity;
    for (let v = 0; v < this.perImage; v++) {
      if (views && !views.includes(v)) continue;
      const s = dot(query, vectors, v * this.dim, this.dim);
      if (s > best) best = s;
    }
    return best;
  }
}

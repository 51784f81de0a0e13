/**
 * Search within one library, exact or approximate. Both paths score candidates with the same float32
 * inner product (`LibraryVectors.similarity`: an image's best view), so a result's similarity does not
 * depend on which path found it. The index holds rows (views); a hit is always one image.
 *
 * Switching rule (n = images in the library, m = images the filter matches):
 * - no ANN index available, or n < annThreshold: exact over all images (or over the m matches);
 * - filter with m < annThreshold: exact over the m matches (cheaper and exact);
 * - otherwise HNSW with oversampling (k grows with excluded ids, distinct items and 1/selectivity),
 *   post-filtered; when too few survive, k is quadrupled, and past n/2 it falls back to exact.
 */
import { matches, type Filter } from '../../filter';
import type { AnnIndex } from './ann-index';
import { exactTopSlots } from './ann-index';
import { Collector, type CollectOptions, type Scored } from './ranking';
import type { LibraryVectors } from './library-vectors';

/** Below this many multiply-adds a JS loop beats a call into usearch's SIMD brute force. */
const JS_EXACT_MAX_WORK = 1 << 20;

export interface LibrarySearchOptions extends CollectOptions {
  filter?: Filter;
  /** Compare with these rows of each image only (indices into its views); absent: all. */
  views?: readonly number[];
}

export interface SearchPlan {
  annThreshold: number;
  ann?: AnnIndex;
}

/**
 * Which path answered (exposed for tests and metrics); 'ann-snapshot': the candidates of the mapped
 * snapshot, scored from SQLite rows, while the library loads (cold-search.ts).
 */
export type SearchPath = 'exact' | 'exact-filtered' | 'ann' | 'ann-fallback-exact' | 'ann-snapshot';

export function searchLibrary(
  lib: LibraryVectors,
  query: Float32Array,
  options: LibrarySearchOptions,
  plan: SearchPlan,
): { hits: Scored[]; path: SearchPath } | Promise<{ hits: Scored[]; path: SearchPath }> {
  if (lib.size === 0 || options.need <= 0) return { hits: [], path: 'exact' };
  let mask: Uint8Array | undefined;
  let matched = lib.size;
  /** The slots the filter matches, in the order found (the exact path scores these, not every slot). */
  const matchedSlots: number[] = [];
  if (options.filter) {
    mask = new Uint8Array(lib.size);
    matched = 0;
    const filter = options.filter;
    const test = (slot: number) => {
      if (matches(filter, lib.records[slot].tags)) {
        mask![slot] = 1;
        matchedSlots.push(slot);
        matched++;
      }
    };
    // With an `=` or `in` that must hold, only the images carrying those values are tested (tag-index.ts).
    const candidates = lib.tagIndex.candidates(filter, () => lib.tagsByKey());
    if (candidates) {
      for (const key of candidates) {
        const slot = lib.slotOfKey(key);
        if (slot !== undefined) test(slot);
      }
    } else for (let slot = 0; slot < lib.size; slot++) test(slot);
    if (matched === 0) return { hits: [], path: 'exact-filtered' };
  }
  if (mask && (matched < plan.annThreshold || !plan.ann)) {
    return { hits: exactOverSlots(lib, query, options, matchedSlots), path: 'exact-filtered' };
  }
  if (!plan.ann || lib.size < plan.annThreshold) {
    return { hits: exactOverAll(lib, query, options), path: 'exact' };
  }
  // Unfiltered: batched with concurrent queries (AnnIndex.searchSoon). A filtered search stays in one
  // piece, because its mask is by slot and a write in between may move slots.
  return mask ? annSearch(lib, query, options, plan.ann, mask, matched) : annSearchBatched(lib, query, options, plan.ann);
}

function exactOverMask(lib: LibraryVectors, query: Float32Array, options: LibrarySearchOptions, mask: Uint8Array): Scored[] {
  const slots: number[] = [];
  for (let slot = 0; slot < lib.size; slot++) if (mask[slot]) slots.push(slot);
  return exactOverSlots(lib, query, options, slots);
}

/** Exact over the given slots only: a 1 % filter of a million images scores 10k of them, not a million checks. */
function exactOverSlots(lib: LibraryVectors, query: Float32Array, options: LibrarySearchOptions, slots: readonly number[]): Scored[] {
  const collector = new Collector(options);
  const { records } = lib;
  for (const slot of slots) collector.offer(slot, lib.similarity(query, slot, options.views), records[slot]);
  return collector.results();
}

function exactOverAll(lib: LibraryVectors, query: Float32Array, options: LibrarySearchOptions): Scored[] {
  const { dim, matrix, records, size, rows, perImage } = lib;
  if (rows * dim <= JS_EXACT_MAX_WORK) {
    const collector = new Collector(options);
    for (let slot = 0; slot < size; slot++) collector.offer(slot, lib.similarity(query, slot, options.views), records[slot]);
    return collector.results();
  }
  // usearch ranks the rows (SIMD, threaded); we rescore the top candidates' images with `similarity`
  // for consistent similarities. An image's best (allowed) row ranks it, so that row brings it in.
  const allowed = rowFilter(lib, options.views);
  let count = Math.max(64, 2 * options.need + options.excludeIds.size) * perImage;
  for (;;) {
    count = Math.min(count, rows);
    const candidateRows = exactTopSlots(matrix, rows, query, count);
    const collector = new Collector(options);
    const seen = new Set<number>();
    let lowest = Infinity;
    for (const row of candidateRows) {
      const slot = Math.floor(row / perImage);
      if (seen.has(slot) || !allowed(row % perImage)) continue;
      seen.add(slot);
      const score = lib.similarity(query, slot, options.views);
      if (score < lowest) lowest = score;
      collector.offer(slot, score, records[slot]);
    }
    const belowThreshold = options.minSimilarity !== undefined && lowest < options.minSimilarity;
    if (collector.count >= options.need || count >= rows || belowThreshold) return collector.results();
    count *= 4;
  }
}

/**
 * Whether a candidate row (its index within its image) may bring its image in: only rows of the views
 * compared, so that an image outside the candidates never scores above the ones in them.
 */
function rowFilter(lib: LibraryVectors, views: readonly number[] | undefined): (view: number) => boolean {
  if (!views || lib.perImage === 1) return () => true;
  const mask = new Uint8Array(lib.perImage);
  for (const v of views) mask[v] = 1;
  return (view) => mask[view] === 1;
}

/** annSearch without a filter, its index searches batched with other queries of the same loop turn. */
async function annSearchBatched(lib: LibraryVectors, query: Float32Array, options: LibrarySearchOptions, ann: AnnIndex): Promise<{ hits: Scored[]; path: SearchPath }> {
  for (let k = firstK(lib, options, undefined, lib.size); ; k *= 4) {
    if (k > lib.rows / 2) return { hits: exactOverAll(lib, query, options), path: 'ann-fallback-exact' };
    // After the wait, slots are looked up afresh and keys no longer live are skipped (scoreCandidates).
    const keys = await ann.searchSoon(query, k);
    const scored = scoreCandidates(lib, query, options, keys, undefined);
    if (scored.enough || keys.length < k) return { hits: scored.hits, path: 'ann' };
  }
}

/**
 * How many rows to ask the index for first: oversampled for exclusions, distinct items and filters, and
 * for views (several rows of one image can fill the candidates).
 */
function firstK(lib: LibraryVectors, options: LibrarySearchOptions, mask: Uint8Array | undefined, matched: number): number {
  let k = options.need + options.excludeIds.size;
  if (options.distinctItem) k *= 2;
  if (mask) k = Math.ceil((k * lib.size * 1.5) / matched);
  return Math.max(k, 16) * lib.perImage;
}

/** Scores the images of the index's candidate rows exactly; `enough` when they fill the page or fall below the threshold. */
function scoreCandidates(lib: LibraryVectors, query: Float32Array, options: LibrarySearchOptions, rowKeys: number[], mask: Uint8Array | undefined) {
  const { records } = lib;
  const collector = new Collector(options);
  const seen = lib.perImage > 1 ? new Set<number>() : undefined;
  const allowed = rowFilter(lib, options.views);
  let lowest = Infinity;
  for (const rowKey of rowKeys) {
    const slot = lib.slotOfRowKey(rowKey);
    if (slot === undefined) continue; // not live: never trust the index over the records
    if (seen) {
      if (seen.has(slot) || !allowed(rowKey % lib.perImage)) continue;
      seen.add(slot);
    }
    if (mask && !mask[slot]) continue; // before scoring: a 10 % filter drops nine candidates in ten
    const score = lib.similarity(query, slot, options.views);
    if (score < lowest) lowest = score;
    collector.offer(slot, score, records[slot]);
  }
  const belowThreshold = options.minSimilarity !== undefined && lowest < options.minSimilarity;
  return { hits: collector.results(), enough: collector.count >= options.need || belowThreshold };
}

function annSearch(
  lib: LibraryVectors,
  query: Float32Array,
  options: LibrarySearchOptions,
  ann: AnnIndex,
  mask: Uint8Array | undefined,
  matched: number,
): { hits: Scored[]; path: SearchPath } {
  for (let k = firstK(lib, options, mask, matched); ; k *= 4) {
    if (k > lib.rows / 2) {
      const hits = mask ? exactOverMask(lib, query, options, mask) : exactOverAll(lib, query, options);
      return { hits, path: 'ann-fallback-exact' };
    }
    const keys = ann.search(query, k);
    const scored = scoreCandidates(lib, query, options, keys, mask);
    if (scored.enough || keys.length < k) return { hits: scored.hits, path: 'ann' };
  }
}

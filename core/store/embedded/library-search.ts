/**
 * Search within one library, exact or approximate. Both paths score candidates with the same float32
 * inner product (`dot`), so a result's similarity does not depend on which path found it.
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
import { dot, type LibraryVectors } from './library-vectors';

/** Below this many multiply-adds a JS loop beats a call into usearch's SIMD brute force. */
const JS_EXACT_MAX_WORK = 1 << 20;

export interface LibrarySearchOptions extends CollectOptions {
  filter?: Filter;
}

export interface SearchPlan {
  annThreshold: number;
  ann?: AnnIndex;
}

/** Which path answered (exposed for tests and metrics). */
export type SearchPath = 'exact' | 'exact-filtered' | 'ann' | 'ann-fallback-exact';

export function searchLibrary(
  lib: LibraryVectors,
  query: Float32Array,
  options: LibrarySearchOptions,
  plan: SearchPlan,
): { hits: Scored[]; path: SearchPath } | Promise<{ hits: Scored[]; path: SearchPath }> {
  if (lib.size === 0 || options.need <= 0) return { hits: [], path: 'exact' };
  let mask: Uint8Array | undefined;
  let matched = lib.size;
  if (options.filter) {
    mask = new Uint8Array(lib.size);
    matched = 0;
    const filter = options.filter;
    const test = (slot: number) => {
      if (matches(filter, lib.records[slot].tags)) {
        mask![slot] = 1;
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
    return { hits: exactOverMask(lib, query, options, mask), path: 'exact-filtered' };
  }
  if (!plan.ann || lib.size < plan.annThreshold) {
    return { hits: exactOverAll(lib, query, options), path: 'exact' };
  }
  // Unfiltered: batched with concurrent queries (AnnIndex.searchSoon). A filtered search stays in one
  // piece, because its mask is by slot and a write in between may move slots.
  return mask ? annSearch(lib, query, options, plan.ann, mask, matched) : annSearchBatched(lib, query, options, plan.ann);
}

function exactOverMask(lib: LibraryVectors, query: Float32Array, options: CollectOptions, mask: Uint8Array): Scored[] {
  const collector = new Collector(options);
  const { dim, matrix, records } = lib;
  for (let slot = 0; slot < lib.size; slot++) {
    if (mask[slot]) collector.offer(slot, dot(query, matrix, slot * dim, dim), records[slot]);
  }
  return collector.results();
}

function exactOverAll(lib: LibraryVectors, query: Float32Array, options: CollectOptions): Scored[] {
  const { dim, matrix, records, size } = lib;
  if (size * dim <= JS_EXACT_MAX_WORK) {
    const collector = new Collector(options);
    for (let slot = 0; slot < size; slot++) collector.offer(slot, dot(query, matrix, slot * dim, dim), records[slot]);
    return collector.results();
  }
  // usearch ranks (SIMD, threaded); we rescore the top candidates with `dot` for consistent similarities.
  let count = Math.max(64, 2 * options.need + options.excludeIds.size);
  for (;;) {
    count = Math.min(count, size);
    const slots = exactTopSlots(matrix, size, query, count);
    const collector = new Collector(options);
    let lowest = Infinity;
    for (const slot of slots) {
      const score = dot(query, matrix, slot * dim, dim);
      if (score < lowest) lowest = score;
      collector.offer(slot, score, records[slot]);
    }
    const belowThreshold = options.minSimilarity !== undefined && lowest < options.minSimilarity;
    if (collector.count >= options.need || count >= size || belowThreshold) return collector.results();
    count *= 4;
  }
}

/** annSearch without a filter, its index searches batched with other queries of the same loop turn. */
async function annSearchBatched(lib: LibraryVectors, query: Float32Array, options: LibrarySearchOptions, ann: AnnIndex): Promise<{ hits: Scored[]; path: SearchPath }> {
  for (let k = firstK(lib, options, undefined, lib.size); ; k *= 4) {
    if (k > lib.size / 2) return { hits: exactOverAll(lib, query, options), path: 'ann-fallback-exact' };
    // After the wait, slots are looked up afresh and keys no longer live are skipped (scoreCandidates).
    const keys = await ann.searchSoon(query, k);
    const scored = scoreCandidates(lib, query, options, keys, undefined);
    if (scored.enough || keys.length < k) return { hits: scored.hits, path: 'ann' };
  }
}

/** How many candidates to ask the index for first: oversampled for exclusions, distinct items and filters. */
function firstK(lib: LibraryVectors, options: LibrarySearchOptions, mask: Uint8Array | undefined, matched: number): number {
  let k = options.need + options.excludeIds.size;
  if (options.distinctItem) k *= 2;
  if (mask) k = Math.ceil((k * lib.size * 1.5) / matched);
  return Math.max(k, 16);
}

/** Scores the index's candidates exactly; `enough` when they fill the page or fall below the threshold. */
function scoreCandidates(lib: LibraryVectors, query: Float32Array, options: LibrarySearchOptions, keys: number[], mask: Uint8Array | undefined) {
  const { dim, matrix, records } = lib;
  const collector = new Collector(options);
  let lowest = Infinity;
  for (const key of keys) {
    const slot = lib.slotOfKey(key);
    if (slot === undefined) continue; // not live: never trust the index over the records
    const score = dot(query, matrix, slot * dim, dim);
    if (score < lowest) lowest = score;
    if (mask && !mask[slot]) continue;
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
    if (k > lib.size / 2) {
      const hits = mask ? exactOverMask(lib, query, options, mask) : exactOverAll(lib, query, options);
      return { hits, path: 'ann-fallback-exact' };
    }
    const keys = ann.search(query, k);
    const scored = scoreCandidates(lib, query, options, keys, mask);
    if (scored.enough || keys.length < k) return { hits: scored.hits, path: 'ann' };
  }
}

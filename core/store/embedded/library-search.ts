/**
 * Search within one library, exact or approximate. Both paths score candidates with the same float32
 * inner product (`LibraryVectors.similarities`: an image's best view), so a result's similarity does not
 * depend on which path found it. The index holds rows (views); a hit is always one image.
 *
 * Switching rule (n = images in the library, m = images the filter matches):
 * - no ANN index available, or n < annThreshold: exact over all images (or over the m matches);
 * - filter with m < annThreshold: exact over the m matches (cheaper and exact); m is counted, except for
 *   a filter that is one `=` or `in`, whose tag-index set size stands for it (filteredSearch);
 * - otherwise HNSW with oversampling (k grows with excluded ids, distinct items and 1/selectivity),
 *   post-filtered; when too few survive, k is quadrupled, and past n/2 it falls back to exact.
 */
import { matches, type Filter } from '../../filter';
import type { AnnIndex } from './ann-index';
import type { Candidates } from './tag-index';
import { Collector, type CollectOptions, type Scored } from './ranking';
import type { LibraryVectors } from './library-vectors';

/**
 * The fewest rows asked of the index. Each candidate is rescored from the float32 matrix, a cache miss
 * per row at a million images, so candidates cost: an i8 index proposes four per row asked (overFetch), and
 * its top 40 hold 0.995 of the true top 10 at 300k (ann-index.ts).
 */
export const MIN_K = 10;

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
  if (options.filter) return filteredSearch(lib, query, options, plan, options.filter);
  if (!plan.ann || lib.size < plan.annThreshold) {
    return { hits: exactOverAll(lib, query, options), path: 'exact' };
  }
  // Batched with concurrent queries (AnnIndex.searchSoon). A filtered search stays in one piece,
  // because it tests candidates by slot and a write in between may move slots.
  return annSearchBatched(lib, query, options, plan.ann);
}

/**
 * A filtered search. With an `=` or `in` that must hold, only the images carrying those values are
 * looked at (tag-index.ts). When the filter is that one condition and matches many images, nothing is
 * counted or listed first: the index's candidates are tested one by one, and the tag index's set size
 * stands for the match count (at a million images, listing a 10 % filter's 100k matches took longer
 * than the search itself).
 */
function filteredSearch(lib: LibraryVectors, query: Float32Array, options: LibrarySearchOptions, plan: SearchPlan, filter: Filter) {
  const candidates = lib.tagIndex.candidates(filter, () => lib.tagsByKey());
  const accepts = (slot: number) => matches(filter, lib.records[slot].tags);
  const listMatches = () => matchingSlots(lib, candidates, accepts);
  if (plan.ann && candidates?.whole && candidates.bound >= plan.annThreshold) {
    return annSearch(lib, query, options, plan.ann, { accepts, listMatches, count: candidates.bound });
  }
  const slots = listMatches();
  if (slots.length === 0) return { hits: [], path: 'exact-filtered' as const };
  if (slots.length < plan.annThreshold || !plan.ann) {
    return { hits: exactOverSlots(lib, query, options, slots), path: 'exact-filtered' as const };
  }
  const mask = new Uint8Array(lib.size);
  for (const slot of slots) mask[slot] = 1;
  return annSearch(lib, query, options, plan.ann, { accepts: (slot) => mask[slot] === 1, listMatches: () => slots, count: slots.length });
}

/** The slots the filter matches: of the tag index's candidates when it has some (all of which match when the filter is their one condition), else of every image. */
function matchingSlots(lib: LibraryVectors, candidates: Candidates | undefined, accepts: (slot: number) => boolean): number[] {
  const slots: number[] = [];
  if (!candidates) {
    for (let slot = 0; slot < lib.size; slot++) if (accepts(slot)) slots.push(slot);
    return slots;
  }
  for (const key of candidates) {
    const slot = lib.slotOfKey(key);
    if (slot !== undefined && (candidates.whole || accepts(slot))) slots.push(slot);
  }
  return slots;
}

/** Exact over the given slots only: a 1 % filter of a million images scores 10k of them, not a million checks. */
function exactOverSlots(lib: LibraryVectors, query: Float32Array, options: LibrarySearchOptions, slots: readonly number[]): Scored[] {
  return offerAll(lib, query, options, slots).collector.results();
}

/** Scores `slots` (LibraryVectors.similarities) and offers them all to a new collector; `lowest`: the lowest score. */
function offerAll(lib: LibraryVectors, query: Float32Array, options: LibrarySearchOptions, slots: readonly number[]) {
  const collector = new Collector(options);
  const scores = new Float64Array(slots.length);
  lib.similarities(query, slots, options.views, scores);
  let lowest = Infinity;
  slots.forEach((slot, i) => {
    const score = scores[i];
    if (score < lowest) lowest = score;
    collector.offer(slot, score, lib.records[slot]);
  });
  return { collector, lowest };
}

function exactOverAll(lib: LibraryVectors, query: Float32Array, options: LibrarySearchOptions): Scored[] {
  const { dim, size, rows, perImage } = lib;
  if (rows * dim <= JS_EXACT_MAX_WORK) return exactOverSlots(lib, query, options, Array.from({ length: size }, (_, slot) => slot));
  // usearch ranks the rows (SIMD, threaded); we rescore the top candidates' images with `similarities`
  // for consistent similarities. An image's best (allowed) row ranks it, so that row brings it in.
  const allowed = rowFilter(lib, options.views);
  let count = Math.max(64, 2 * options.need + options.excludeIds.size) * perImage;
  for (;;) {
    count = Math.min(count, rows);
    const candidateRows = lib.exactTopRows(query, count);
    const seen = new Set<number>();
    const slots: number[] = [];
    for (const row of candidateRows) {
      const slot = Math.floor(row / perImage);
      if (seen.has(slot) || !allowed(row % perImage)) continue;
      seen.add(slot);
      slots.push(slot);
    }
    const { collector, lowest } = offerAll(lib, query, options, slots);
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
  for (let k = firstK(lib, options, undefined); ; k *= 4) {
    if (k > lib.rows / 2) return { hits: exactOverAll(lib, query, options), path: 'ann-fallback-exact' };
    // After the wait, slots are looked up afresh and keys no longer live are skipped (scoreCandidates).
    const keys = await ann.searchSoon(query, k);
    const scored = scoreCandidates(lib, query, options, keys, undefined);
    if (scored.enough || keys.length < k) return { hits: scored.hits, path: 'ann' };
  }
}

/** What a filtered index search needs: the test of a candidate, the exact list (for the fallback) and how many match (or a bound). */
interface FilterPlan {
  accepts: (slot: number) => boolean;
  listMatches: () => number[];
  count: number;
}

/**
 * How many rows to ask the index for first: oversampled for exclusions, distinct items and filters, and
 * for views (several rows of one image can fill the candidates).
 */
function firstK(lib: LibraryVectors, options: LibrarySearchOptions, filter: FilterPlan | undefined): number {
  let k = options.need + options.excludeIds.size;
  if (options.distinctItem) k *= 2;
  if (filter) k = Math.ceil((k * lib.size * 1.5) / filter.count);
  return Math.max(k, MIN_K) * lib.perImage;
}

/** Scores the images of the index's candidate rows exactly; `enough` when they fill the page or fall below the threshold. */
function scoreCandidates(lib: LibraryVectors, query: Float32Array, options: LibrarySearchOptions, rowKeys: number[], accepts: ((slot: number) => boolean) | undefined) {
  const seen = lib.perImage > 1 ? new Set<number>() : undefined;
  const allowed = rowFilter(lib, options.views);
  const slots: number[] = [];
  for (const rowKey of rowKeys) {
    const slot = lib.slotOfRowKey(rowKey);
    if (slot === undefined) continue; // not live: never trust the index over the records
    if (seen) {
      if (seen.has(slot) || !allowed(rowKey % lib.perImage)) continue;
      seen.add(slot);
    }
    if (accepts && !accepts(slot)) continue; // before scoring: a 10 % filter drops nine candidates in ten
    slots.push(slot);
  }
  const { collector, lowest } = offerAll(lib, query, options, slots);
  const belowThreshold = options.minSimilarity !== undefined && lowest < options.minSimilarity;
  return { hits: collector.results(), enough: collector.count >= options.need || belowThreshold };
}

/** A filtered search through the index: candidates outside the filter are skipped; k grows until the page fills. */
function annSearch(lib: LibraryVectors, query: Float32Array, options: LibrarySearchOptions, ann: AnnIndex, filter: FilterPlan): { hits: Scored[]; path: SearchPath } {
  for (let k = firstK(lib, options, filter); ; k *= 4) {
    if (k > lib.rows / 2) return { hits: exactOverSlots(lib, query, options, filter.listMatches()), path: 'ann-fallback-exact' };
    const keys = ann.search(query, k);
    const scored = scoreCandidates(lib, query, options, keys, filter.accepts);
    if (scored.enough || keys.length < k) return { hits: scored.hits, path: 'ann' };
  }
}

/**
 * Searching libraries with views (core/image/views.ts): which views of a query are embedded, which stored
 * views each is compared with and how much a match through a view counts (probes), and how the probes'
 * pages become one answer with each image once.
 */
import { InvalidArgumentError } from './errors';
import { isViewName, QUERY_VIEWS, VIEW_MATCH_DISCOUNT, VIEW_NAMES } from './image/views';
import type { ImageRecord, Library } from './records';

/** One vector of a query searched against some views of the stored images, its matches discounted (views.ts). */
export interface Probe {
  vector: Float32Array;
  views: string[];
  discount: number;
}

/** A library's views: known names, `whole` first, each once. */
export function checkLibraryViews(views: readonly string[]): string[] {
  const ok = views.length > 0 && views[0] === 'whole' && new Set(views).size === views.length && views.every(isViewName);
  if (!ok) throw new InvalidArgumentError('views', `views must start with 'whole' and name each of ${VIEW_NAMES.join(', ')} at most once`);
  return [...views];
}

/**
 * The views a query is embedded by: none (the ordinary path) unless every library has views; then the
 * whole picture as the libraries made theirs (from the views' decode), and each QUERY_VIEW they all index.
 */
export function queryViewsOf(libraries: Library[]): string[] | undefined {
  if (!libraries.every((l) => (l.views?.length ?? 1) > 1)) return undefined;
  return ['whole', ...QUERY_VIEWS.filter((v) => libraries.every((l) => l.views!.includes(v)))];
}

/**
 * How a query is searched in libraries with views: its whole vector against the stored whole pictures,
 * and against every other view but the paired ones; each paired view of the query against its own stored
 * view. Matches through a view count a little less (VIEW_MATCH_DISCOUNT).
 */
export function probesOf(whole: Float32Array, paired: Array<{ view: string; vector: Float32Array }>): Probe[] {
  const others = VIEW_NAMES.filter((v) => v !== 'whole' && !QUERY_VIEWS.includes(v));
  return [
    { vector: whole, views: ['whole'], discount: 0 },
    { vector: whole, views: others, discount: VIEW_MATCH_DISCOUNT },
    ...paired.map((p) => ({ vector: p.vector, views: [p.view], discount: VIEW_MATCH_DISCOUNT })),
  ];
}

export interface ScoredHit {
  library: string;
  record: ImageRecord;
  score: number;
}

/**
 * The probes' pages (each its first `offset + limit`, best first) as one page: each image once with its
 * best score, then `distinctItem`, `offset` and `limit`. Every image of the true top `offset + limit` is in
 * the top `offset + limit` of the probe that scores it best, so the merge is exact.
 */
export function mergeProbeHits(pages: ScoredHit[][], query: { offset?: number; limit: number; distinctItem?: boolean }): ScoredHit[] {
  const best = new Map<string, ScoredHit>();
  for (const hits of pages) {
    for (const h of hits) {
      const key = `${h.library}\u0000${h.record.id}`;
      if ((best.get(key)?.score ?? -Infinity) < h.score) best.set(key, h);
    }
  }
  const ranked = [...best.values()].sort((a, b) => b.score - a.score || compareText(a.library, b.library) || compareText(a.record.id, b.record.id));
  const items = new Set<string>();
  const distinct = ranked.filter((h) => {
    if (!query.distinctItem) return true;
    const item = `${h.library}\u0000${h.record.itemId ?? `#${h.record.id}`}`;
    if (items.has(item)) return false;
    items.add(item);
    return true;
  });
  const offset = query.offset ?? 0;
  return distinct.slice(offset, offset + query.limit);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

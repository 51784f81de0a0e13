/**
 * A library of clustered vectors (bench/store-bench.ts's data) for the embedded store's tests: the writes
 * that fill it, the exact answer computed here from the live writes, and a store's recall against it.
 */
import type { ClusteredData } from '../../bench/store-bench';
import { matches } from '../../core/filter';
import type { LibraryRef } from '../../core/records';
import type { ImageWrite, SearchOptions, VectorStore } from '../../core/store/vector-store';

/** Rows [from, to) of `data` as image writes: ids `${idPrefix}${i}`, an item per data item, tags cluster and mod. */
export function writesOf(data: ClusteredData, from: number, to: number, idPrefix = 'v'): ImageWrite[] {
  const { dim } = data;
  const out: ImageWrite[] = [];
  for (let i = from; i < to; i++) {
    out.push({
      record: {
        id: `${idPrefix}${i}`,
        itemId: `item-${data.item[i]}`,
        tags: { cluster: data.cluster[i], mod: i % 10 },
        hasImage: false,
        createdAt: 0,
        updatedAt: 0,
      },
      vector: data.vectors.slice(i * dim, (i + 1) * dim),
    });
  }
  return out;
}

/** The exact answer computed in the test from the live writes. */
export function exact(live: Map<string, ImageWrite>, q: Float32Array, opts: SearchOptions): string[] {
  let rows = [...live.values()]
    .filter((w) => !opts.filter || matches(opts.filter, w.record.tags))
    .filter((w) => !(opts.excludeIds ?? []).includes(w.record.id))
    .map((w) => {
      let s = 0;
      for (let j = 0; j < q.length; j++) s += q[j] * w.vector[j];
      return { id: w.record.id, item: w.record.itemId, s };
    })
    .filter((r) => opts.minSimilarity === undefined || r.s >= opts.minSimilarity)
    .sort((a, b) => b.s - a.s || (a.id < b.id ? -1 : 1));
  if (opts.distinctItem) {
    const seen = new Set<string>();
    rows = rows.filter((r) => (seen.has(r.item!) ? false : (seen.add(r.item!), true)));
  }
  return rows.slice(opts.offset ?? 0, (opts.offset ?? 0) + opts.limit).map((r) => r.id);
}

/** The share of the exact answers' ids that the store's answers hold. */
export async function recall(
  store: VectorStore,
  ref: LibraryRef,
  live: Map<string, ImageWrite>,
  queries: Float32Array[],
  opts: SearchOptions,
): Promise<number> {
  let found = 0;
  let wanted = 0;
  for (const q of queries) {
    const truth = exact(live, q, opts);
    const got = new Set((await store.search([ref], q, opts)).map((h) => h.record.id));
    wanted += truth.length;
    for (const id of truth) if (got.has(id)) found++;
  }
  return wanted === 0 ? 1 : found / wanted;
}

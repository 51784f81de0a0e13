/**
 * Which images of a library carry a tag value, for the fields filters test with `=` or `in`: a filtered
 * search then looks at those images only, instead of evaluating the filter on every record (at 300k images
 * that loop alone was ~7 ms, and the p99 of a 1 % filter 43 ms). A field is indexed the first time a filter
 * asks for it and kept in step with every write after that.
 *
 * Equality follows core/filter.ts exactly: numbers compare numerically with numbers and with numeric
 * strings, strings with strings as text, booleans only with booleans. So a value is filed under the keys a
 * query may look it up by: a number under `n:`; a string under `s:` and, when numeric, `sn:` (its number);
 * a boolean under `b:`. A number query reads `n:` and `sn:`; a string query `s:` and, when numeric, `n:`.
 */
import { toNumber, type Filter } from '../../filter';
import type { Tags, TagValue } from '../../records';

/** The keys a stored tag value is filed under. */
function storedKeys(value: TagValue): string[] {
  if (typeof value === 'boolean') return [`b:${value}`];
  if (typeof value === 'number') return [`n:${value}`];
  const n = toNumber(value);
  return n === undefined ? [`s:${value}`] : [`s:${value}`, `sn:${n}`];
}

/** The keys under which the tags equal to a filter value are filed. */
function queryKeys(value: TagValue): string[] {
  if (typeof value === 'boolean') return [`b:${value}`];
  if (typeof value === 'number') return [`n:${value}`, `sn:${value}`];
  const n = toNumber(value);
  return n === undefined ? [`s:${value}`] : [`s:${value}`, `n:${n}`];
}

export class TagIndex {
  /** field → value key → image keys. */
  private readonly fields = new Map<string, Map<string, Set<number>>>();

  /**
   * The images that can match `filter`, when one of its conditions that must hold is an `=` or `in` on a
   * field (the one with the fewest images); undefined when the filter has none (every image must be
   * tested). The index's own sets are lent, not copied: at a million images a 10 % value is 100k keys,
   * and copying them cost more than the search. `build` lists every image once, to index a field the
   * first time it is asked for.
   */
  candidates(filter: Filter, build: () => Iterable<[number, Tags]>): Candidates | undefined {
    let best: Candidates | undefined;
    const conditions = equalities(filter);
    for (const { field, values } of conditions) {
      const index = this.field(field, build);
      const sets: Array<ReadonlySet<number>> = [];
      for (const value of values) for (const key of queryKeys(value)) {
        const set = index.get(key);
        if (set) sets.push(set);
      }
      const found = new Candidates(sets, conditions.length === 1 && filter.kind !== 'and');
      if (!best || found.bound < best.bound) best = found;
    }
    return best;
  }

  /** Files `tags` under `key` (after `previous`, the tags it replaces, when any). */
  put(key: number, tags: Tags, previous?: Tags): void {
    if (previous) this.remove(key, previous);
    for (const [field, index] of this.fields) {
      const value = tags[field];
      if (value !== undefined) for (const k of storedKeys(value)) file(index, k).add(key);
    }
  }

  remove(key: number, tags: Tags): void {
    for (const [field, index] of this.fields) {
      const value = tags[field];
      if (value === undefined) continue;
      for (const k of storedKeys(value)) {
        const set = index.get(k);
        set?.delete(key);
        if (set?.size === 0) index.delete(k);
      }
    }
  }

  private field(field: string, build: () => Iterable<[number, Tags]>): Map<string, Set<number>> {
    let index = this.fields.get(field);
    if (!index) {
      index = new Map();
      for (const [key, tags] of build()) {
        const value = tags[field];
        if (value !== undefined) for (const k of storedKeys(value)) file(index, k).add(key);
      }
      this.fields.set(field, index);
    }
    return index;
  }
}

/** The images filed under some keys of one field: each image once, though a key's sets may share images. */
export class Candidates {
  /** At least as many as the images (the sets' sizes summed). */
  readonly bound: number;

  constructor(
    private readonly sets: ReadonlyArray<ReadonlySet<number>>,
    /** The filter is this one condition: every candidate matches it. */
    readonly whole: boolean,
  ) {
    this.bound = sets.reduce((n, set) => n + set.size, 0);
  }

  *[Symbol.iterator](): Iterator<number> {
    if (this.sets.length === 1) return yield* this.sets[0];
    const seen = new Set<number>();
    for (const set of this.sets) for (const key of set) if (!seen.has(key)) (seen.add(key), yield key);
  }
}

function file(index: Map<string, Set<number>>, key: string): Set<number> {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  return set;
}

/** The `=` and `in` conditions every match must satisfy: the filter itself, or members of a top-level `and`. */
function equalities(filter: Filter): Array<{ field: string; values: TagValue[] }> {
  const all = filter.kind === 'and' ? filter.all : [filter];
  const out: Array<{ field: string; values: TagValue[] }> = [];
  for (const f of all) {
    if (f.kind === 'cmp' && f.op === '=') out.push({ field: f.field, values: [f.value] });
    else if (f.kind === 'in') out.push({ field: f.field, values: f.values });
  }
  return out;
}

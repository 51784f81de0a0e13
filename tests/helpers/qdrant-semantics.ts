/**
 * Qdrant's documented filter semantics (qdrant.tech/documentation/concepts/filtering), as a small
 * evaluator of filter JSON over one payload: the oracle the filter-compiler tests check against, since no
 * Qdrant server runs here. Only what the compiler emits is modelled.
 *
 * - must: every condition holds (absent = true); should: at least one holds (absent = true); must_not: none.
 * - A key is a dotted path into nested objects; a missing value fails every field condition.
 * - match.value: equal keyword / integer / bool (no cross-type equality); match.any: one of the values.
 * - match.text without a full-text index: the text contains every whitespace-separated term of the query.
 * - range: numbers only (integer or float); gt / gte / lt / lte all must hold.
 * - is_empty: the key is missing, null or an empty array.
 */
import type { QdrantCondition, QdrantFilter } from '../../core/store/qdrant/filter-compiler';

type Payload = Record<string, unknown>;

function valueAt(payload: Payload, key: string): unknown {
  let v: unknown = payload;
  for (const part of key.split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Payload)[part];
  }
  return v;
}

function holds(c: QdrantCondition, payload: Payload): boolean {
  if ('is_empty' in c) {
    const v = valueAt(payload, c.is_empty.key);
    return v === undefined || v === null || (Array.isArray(v) && v.length === 0);
  }
  if ('key' in c) {
    const v = valueAt(payload, c.key);
    if (v === undefined || v === null) return false;
    if ('range' in c) {
      if (typeof v !== 'number') return false;
      const r = c.range;
      return (r.gt === undefined || v > r.gt) && (r.gte === undefined || v >= r.gte) && (r.lt === undefined || v < r.lt) && (r.lte === undefined || v <= r.lte);
    }
    const m = c.match;
    if ('value' in m) return typeof v === typeof m.value && v === m.value;
    if ('any' in m) return typeof v === 'string' && m.any.includes(v);
    if ('text' in m) return typeof v === 'string' && m.text.split(/\s+/).filter(Boolean).every((term) => v.includes(term));
    return false;
  }
  return evaluateQdrantFilter(c, payload);
}

export function evaluateQdrantFilter(filter: QdrantFilter, payload: Payload): boolean {
  if (filter.must && !filter.must.every((c) => holds(c, payload))) return false;
  if (filter.should && !filter.should.some((c) => holds(c, payload))) return false;
  if (filter.must_not && filter.must_not.some((c) => holds(c, payload))) return false;
  return true;
}

/**
 * Core's filter AST (core/filter.ts) → Qdrant filter JSON over the typed tag views of layout.ts.
 *
 * Qdrant semantics relied on (qdrant.tech/documentation/concepts/filtering): `must` = all, `should` = at
 * least one, `must_not` = none, clauses of one filter object combine with AND; a condition on a field the
 * point lacks is false (so its `must_not` is true, which is core's rule for !=, not in, not contains);
 * `match.value` is exact (keyword, integer, bool), `match.any` is "one of", `range` compares numbers as
 * f64; `match.text` without a full-text index keeps points whose text contains every term of the query.
 *
 * Two things core allows have no exact Qdrant form: ordering strings by code point, and `contains` (Qdrant
 * matches term by term, core wants one substring). For those the compiler emits a looser condition (a
 * superset where the condition counts positively, a subset under negation) and reports `exact: false`; the
 * store then checks every candidate with core's own `matches`. Where the whole filter reduces to "all" or
 * "none" it says so, and the store skips the request.
 */
import type { Filter } from '../../filter';
import type { TagValue } from '../../records';
import { numericValue, tagPath } from './layout';

/** The subset of Qdrant's Filter / Condition JSON the compiler emits. */
export type QdrantCondition =
  | { key: string; match: { value: string | boolean } | { any: string[] } | { text: string } }
  | { key: string; range: { gt?: number; gte?: number; lt?: number; lte?: number } }
  | { is_empty: { key: string } }
  | QdrantFilter;

export interface QdrantFilter {
  must?: QdrantCondition[];
  should?: QdrantCondition[];
  must_not?: QdrantCondition[];
}

export type CompiledFilter =
  /** Every point of the scope matches (no condition to send). */
  | { kind: 'all'; exact: boolean }
  /** No point can match. */
  | { kind: 'none'; exact: boolean }
  | { kind: 'filter'; filter: QdrantFilter; exact: boolean };

type Node = { t: 'all' } | { t: 'none' } | { t: 'cond'; c: QdrantCondition };

const ALL: Node = { t: 'all' };
const NONE: Node = { t: 'none' };
const cond = (c: QdrantCondition): Node => ({ t: 'cond', c });

class Compiler {
  exact = true;

  /** `positive`: the node counts as itself (false under an odd number of negations). */
  compile(f: Filter, positive: boolean): Node {
    switch (f.kind) {
      case 'and':
        return and(f.all.map((x) => this.compile(x, positive)));
      case 'or':
        return or(f.any.map((x) => this.compile(x, positive)));
      case 'not':
        return not(this.compile(f.filter, !positive));
      case 'cmp':
        return this.comparison(f.field, f.op, f.value, positive);
      case 'in':
        return or(f.values.map((v) => this.equals(f.field, v, positive)));
      case 'contains':
        return this.contains(f.field, f.value, positive);
    }
  }

  /** A condition Qdrant cannot state exactly: `loose` (a superset) when positive, nothing when negated. */
  private inexact(loose: Node, positive: boolean): Node {
    this.exact = false;
    return positive ? loose : NONE;
  }

  /** compareTag(tag, value) === 0 of core/filter.ts. */
  private equals(field: string, value: TagValue, positive: boolean): Node {
    if (typeof value === 'boolean') return cond({ key: tagPath('boolean', field), match: { value } });
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return this.inexact(ALL, positive);
      // Number tags and numeric-string tags compare numerically; range, because match.value is integers only.
      return cond({ key: tagPath('numeric', field), range: { gte: value, lte: value } });
    }
    const n = numericValue(value);
    const asString = cond({ key: tagPath('string', field), match: { value } });
    // A string value equals a string tag as text, and a number tag numerically.
    return n === undefined ? asString : or([asString, cond({ key: tagPath('number', field), range: { gte: n, lte: n } })]);
  }

  private comparison(field: string, op: string, value: TagValue, positive: boolean): Node {
    if (op === '=') return this.equals(field, value, positive);
    if (op === '!=') return not(this.equals(field, value, !positive));
    if (typeof value === 'boolean') return NONE; // booleans are not ordered
    const bound = rangeOf(op);
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return this.inexact(ALL, positive);
      return cond({ key: tagPath('numeric', field), range: { [bound]: value } });
    }
    const n = numericValue(value);
    const numberTags = n === undefined ? NONE : cond({ key: tagPath('number', field), range: { [bound]: n } });
    // String tags order by code point, which Qdrant cannot compare: any string tag may match.
    const stringTags = this.inexact(exists(tagPath('string', field)), positive);
    return or([numberTags, stringTags]);
  }

  private contains(field: string, value: string, positive: boolean): Node {
    const path = tagPath('text', field);
    if (value === '') return exists(path); // every text contains the empty string
    return this.inexact(cond({ key: path, match: { text: value } }), positive);
  }
}

function rangeOf(op: string): 'gt' | 'gte' | 'lt' | 'lte' {
  switch (op) {
    case '>':
      return 'gt';
    case '>=':
      return 'gte';
    case '<':
      return 'lt';
    default:
      return 'lte';
  }
}

function exists(key: string): Node {
  return cond({ must_not: [{ is_empty: { key } }] });
}

function and(nodes: Node[]): Node {
  if (nodes.some((n) => n.t === 'none')) return NONE;
  const conds = nodes.flatMap((n) => (n.t === 'cond' ? [n.c] : []));
  if (conds.length === 0) return ALL;
  return conds.length === 1 ? cond(conds[0]) : cond({ must: conds });
}

function or(nodes: Node[]): Node {
  if (nodes.some((n) => n.t === 'all')) return ALL;
  const conds = nodes.flatMap((n) => (n.t === 'cond' ? [n.c] : []));
  if (conds.length === 0) return NONE;
  if (conds.length === 1) return cond(conds[0]);
  // Plain string equalities on one field fold into one match.any.
  return cond({ should: foldStringEqualities(conds) });
}

function not(node: Node): Node {
  if (node.t === 'all') return NONE;
  if (node.t === 'none') return ALL;
  return cond({ must_not: [node.c] });
}

function foldStringEqualities(conds: QdrantCondition[]): QdrantCondition[] {
  const byKey = new Map<string, string[]>();
  const rest: QdrantCondition[] = [];
  for (const c of conds) {
    if ('key' in c && 'match' in c && 'value' in c.match && typeof c.match.value === 'string' && c.key.startsWith('f.s.')) {
      const values = byKey.get(c.key) ?? [];
      values.push(c.match.value);
      byKey.set(c.key, values);
    } else rest.push(c);
  }
  const folded: QdrantCondition[] = [...byKey].map(([key, values]) =>
    values.length === 1 ? { key, match: { value: values[0] } } : { key, match: { any: [...new Set(values)] } },
  );
  return [...folded, ...rest];
}

export function compileFilter(filter: Filter | undefined): CompiledFilter {
  if (filter === undefined) return { kind: 'all', exact: true };
  const compiler = new Compiler();
  const node = compiler.compile(filter, true);
  if (node.t === 'all') return { kind: 'all', exact: compiler.exact };
  if (node.t === 'none') return { kind: 'none', exact: compiler.exact };
  const c = node.c;
  // A bare field condition is wrapped; a filter object is used as it is.
  const asFilter: QdrantFilter = 'must' in c || 'should' in c || 'must_not' in c ? (c as QdrantFilter) : { must: [c] };
  return { kind: 'filter', filter: asFilter, exact: compiler.exact };
}

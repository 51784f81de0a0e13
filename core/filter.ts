/**
 * One small filter language for every vendor: each adapter parses its vendor's filter syntax into this AST;
 * each store compiles or evaluates it.
 *
 * Semantics (the project's choice where vendors are silent; see docs/architecture.md):
 * - A positive condition (=, <, >, <=, >=, in, contains) on a field the image lacks is false; its negation
 *   (!=, not in, not contains) is true: "not red" holds for an image with no colour.
 * - Numbers compare numerically; a numeric string tag compares numerically with a number value, and vice
 *   versa. Other mixed types are not equal and not ordered. Strings order by code point.
 * - Booleans only match with = / != / in.
 * - An empty AND is true, an empty OR is false.
 */
import type { TagValue, Tags } from './records';

export const COMPARISON_OPS = ['=', '!=', '>', '>=', '<', '<='] as const;
export type ComparisonOp = (typeof COMPARISON_OPS)[number];

export type Filter =
  | { kind: 'and'; all: Filter[] }
  | { kind: 'or'; any: Filter[] }
  | { kind: 'not'; filter: Filter }
  | { kind: 'cmp'; field: string; op: ComparisonOp; value: TagValue }
  | { kind: 'in'; field: string; values: TagValue[] }
  | { kind: 'contains'; field: string; value: string };

export const f = {
  and: (...all: Filter[]): Filter => ({ kind: 'and', all }),
  or: (...any: Filter[]): Filter => ({ kind: 'or', any }),
  not: (filter: Filter): Filter => ({ kind: 'not', filter }),
  cmp: (field: string, op: ComparisonOp, value: TagValue): Filter => ({ kind: 'cmp', field, op, value }),
  in: (field: string, values: TagValue[]): Filter => ({ kind: 'in', field, values }),
  contains: (field: string, value: string): Filter => ({ kind: 'contains', field, value }),
};

/** Compare a stored tag with a filter value: negative, 0, positive, or undefined when not comparable. */
export function compareTag(tag: TagValue, value: TagValue): number | undefined {
  if (typeof tag === 'boolean' || typeof value === 'boolean') {
    return tag === value ? 0 : undefined;
  }
  if (typeof tag === 'number' || typeof value === 'number') {
    const a = toNumber(tag);
    const b = toNumber(value);
    if (a === undefined || b === undefined) return undefined;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return tag < value ? -1 : tag > value ? 1 : 0;
}

/** A number, or a non-blank string that is a finite number, as a number (how filters compare numbers). */
export function toNumber(v: string | number): number | undefined {
  if (typeof v === 'number') return v;
  if (v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function equals(tag: TagValue, value: TagValue): boolean {
  return compareTag(tag, value) === 0;
}

/** Evaluate a filter against one image's tags. */
export function matches(filter: Filter, tags: Tags): boolean {
  switch (filter.kind) {
    case 'and':
      return filter.all.every((x) => matches(x, tags));
    case 'or':
      return filter.any.some((x) => matches(x, tags));
    case 'not':
      return !matches(filter.filter, tags);
    case 'cmp': {
      const tag = tags[filter.field];
      if (filter.op === '!=') return tag === undefined || !equals(tag, filter.value);
      if (tag === undefined) return false;
      if (filter.op === '=') return equals(tag, filter.value);
      if (typeof tag === 'boolean' || typeof filter.value === 'boolean') return false;
      const c = compareTag(tag, filter.value);
      if (c === undefined) return false;
      switch (filter.op) {
        case '>':
          return c > 0;
        case '>=':
          return c >= 0;
        case '<':
          return c < 0;
        case '<=':
          return c <= 0;
      }
      return false;
    }
    case 'in': {
      const tag = tags[filter.field];
      return tag !== undefined && filter.values.some((v) => equals(tag, v));
    }
    case 'contains': {
      const tag = tags[filter.field];
      return tag !== undefined && String(tag).includes(filter.value);
    }
  }
}

/** The tag fields a filter reads (stores use it to build payload indexes). */
export function filterFields(filter: Filter, into = new Set<string>()): Set<string> {
  switch (filter.kind) {
    case 'and':
      filter.all.forEach((x) => filterFields(x, into));
      break;
    case 'or':
      filter.any.forEach((x) => filterFields(x, into));
      break;
    case 'not':
      filterFields(filter.filter, into);
      break;
    default:
      into.add(filter.field);
  }
  return into;
}

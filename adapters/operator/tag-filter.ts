/**
 * The operator `tag_filter` grammar → core's filter AST.
 *
 *   TagFilter := Condition | AndArray | OrObject
 *   AndArray  := [ TagFilter, ... ]             every element must match (empty: matches everything)
 *   OrObject  := { "or": [ TagFilter, ... ] }   at least one must match (empty: matches nothing)
 *   Condition := { "field": string, "op": Op, "value": string | number | list }
 *
 * Type errors name the path of the offending element, e.g. tag_filter[1].or[0].value.
 */
import { InvalidArgumentError } from '../../core/errors';
import { f, type Filter } from '../../core/filter';
import type { TagValue } from '../../core/records';

export const TAG_FILTER_OPS = ['=', '!=', '>', '>=', '<', '<=', 'contains', 'not_contains', 'in', 'not_in'] as const;
export type TagFilterOp = (typeof TAG_FILTER_OPS)[number];

/** Nesting deeper than this is refused rather than risking the stack. */
const MAX_DEPTH = 32;

export function parseTagFilter(input: unknown, path = 'tag_filter', depth = 0): Filter {
  if (depth > MAX_DEPTH) throw new InvalidArgumentError(path, `${path} is nested more than ${MAX_DEPTH} levels deep`);
  if (Array.isArray(input)) return f.and(...input.map((x, i) => parseTagFilter(x, `${path}[${i}]`, depth + 1)));
  if (!isObject(input)) {
    throw new InvalidArgumentError(path, `${path} must be a condition object, an array, or an {"or": [...]} object`);
  }
  if ('or' in input) {
    const extra = Object.keys(input).filter((k) => k !== 'or');
    if (extra.length > 0) throw new InvalidArgumentError(path, `${path} must have only the key "or", not ${quoteList(extra)}`);
    if (!Array.isArray(input.or)) throw new InvalidArgumentError(`${path}.or`, `${path}.or must be an array`);
    return f.or(...input.or.map((x, i) => parseTagFilter(x, `${path}.or[${i}]`, depth + 1)));
  }
  return parseCondition(input, path);
}

function parseCondition(c: Record<string, unknown>, path: string): Filter {
  const extra = Object.keys(c).filter((k) => k !== 'field' && k !== 'op' && k !== 'value');
  if (extra.length > 0) throw new InvalidArgumentError(path, `${path} has unknown key(s) ${quoteList(extra)}`);
  for (const key of ['field', 'op', 'value']) {
    if (!(key in c)) throw new InvalidArgumentError(`${path}.${key}`, `${path}.${key} is required`);
  }
  const { field, op, value } = c;
  if (typeof field !== 'string' || field.length === 0) {
    throw new InvalidArgumentError(`${path}.field`, `${path}.field must be a non-empty string`);
  }
  if (typeof op !== 'string' || !(TAG_FILTER_OPS as readonly string[]).includes(op)) {
    throw new InvalidArgumentError(`${path}.op`, `${path}.op must be one of ${TAG_FILTER_OPS.join(' ')}`);
  }
  const at = `${path}.value`;
  switch (op as TagFilterOp) {
    case 'in':
    case 'not_in': {
      if (!Array.isArray(value)) throw new InvalidArgumentError(at, `${at} must be a list for '${op}'`);
      value.forEach((v, i) => scalar(v, `${at}[${i}]`));
      const test = f.in(field, value as TagValue[]);
      return op === 'in' ? test : f.not(test);
    }
    case 'contains':
    case 'not_contains': {
      if (typeof value !== 'string') throw new InvalidArgumentError(at, `${at} must be a string for '${op}'`);
      const test = f.contains(field, value);
      return op === 'contains' ? test : f.not(test);
    }
    case '=':
    case '!=':
      return f.cmp(field, op as '=' | '!=', scalar(value, at));
    default: {
      if (typeof value !== 'string' && typeof value !== 'number') {
        throw new InvalidArgumentError(at, `${at} must be a string or a number for '${op}'`);
      }
      if (typeof value === 'number' && !Number.isFinite(value)) throw new InvalidArgumentError(at, `${at} must be finite`);
      return f.cmp(field, op as '>' | '>=' | '<' | '<=', value);
    }
  }
}

/** A value that can be compared with a tag: string, finite number or boolean. */
function scalar(v: unknown, at: string): TagValue {
  if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) return v;
  throw new InvalidArgumentError(at, `${at} must be a string or a number`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function quoteList(keys: string[]): string {
  return keys.map((k) => `"${k}"`).join(', ');
}

import { InvalidArgumentError } from '../../core/errors';
import { matches } from '../../core/filter';
import type { Tags } from '../../core/records';
import { parseTagFilter, TAG_FILTER_OPS } from '../../adapters/operator/tag-filter';
import { fixture } from '../helpers/fixtures';

/**
 * The vendor document gives each tag_filter example with its meaning (tests/fixtures/operator/
 * tag-filter-examples.json), e.g.
 *   Meaning: category != "pants" AND (color = "red" OR season = "summer")
 * The meaning is turned into a predicate here and checked against the parsed filter on a grid of tag sets.
 */
function meaningPredicate(meaning: string): (tags: Tags) => boolean {
  const js = meaning
    .replace(/(\w+) IN \[([^\]]*)\]/g, (_m, field, list) => `[${list}].includes(t.${field})`)
    .replace(/(\w+) (!=|>=|<=|=|<|>) ("[^"]*"|[\d.]+)/g, (_m, field, op, value) => `t.${field} ${op === '=' ? '===' : op === '!=' ? '!==' : op} ${value}`)
    .replace(/\bAND\b/g, '&&')
    .replace(/\bOR\b/g, '||');
  return new Function('t', `return ${js};`) as (tags: Tags) => boolean;
}

function documentedExamples(): Array<{ filter: unknown; meaning: string }> {
  return fixture('operator', 'tag-filter-examples').examples;
}

const GRID: Tags[] = [];
for (const color of ['red', 'blue', 'white', 'beige', undefined])
  for (const season of ['summer', 'winter', undefined])
    for (const category of ['T-shirt', 'pants', undefined])
      for (const price of [20, 50, 120, 200, 250, undefined]) {
        const t: Tags = {};
        if (color) t.color = color;
        if (season) t.season = season;
        if (category) t.category = category;
        if (price !== undefined) t.price = price;
        GRID.push(t);
      }

describe('operator tag_filter', () => {
  const examples = documentedExamples();

  test('the vendor document has the four combination examples', () => {
    expect(examples.map((e) => e.meaning)).toHaveLength(4);
  });

  test.each(documentedExamples())('documented example means what the document says: $meaning', ({ filter, meaning }) => {
    const parsed = parseTagFilter(filter);
    const expected = meaningPredicate(meaning);
    // Missing tags: the document's meaning is about present fields; compare on tag sets that have them all,
    // and separately check that != holds on absent fields.
    const complete = GRID.filter((t) => ['color', 'season', 'category', 'price'].every((k) => k in t));
    for (const tags of complete) expect([tags, matches(parsed, tags)]).toEqual([tags, expected(tags)]);
  });

  test('the request examples of both search APIs parse', () => {
    const bodies = (fixture('operator', 'examples').searchRequests.examples as Array<{ body: any }>).map((r) => r.body);
    expect(bodies).toHaveLength(2);
    for (const body of bodies) expect(() => parseTagFilter(body.tag_filter)).not.toThrow();
  });

  test('every one of the ten operators', () => {
    const tags = { color: 'red', price: 80 };
    const cases: Array<[string, unknown, boolean]> = [
      ['=', 'red', true],
      ['!=', 'red', false],
      ['>', 50, true],
      ['>=', 80, true],
      ['<', 80, false],
      ['<=', 80, true],
      ['contains', 'e', true],
      ['not_contains', 'e', false],
      ['in', ['blue', 'red'], true],
      ['not_in', ['blue', 'red'], false],
    ];
    expect(cases.map((c) => c[0]).sort()).toEqual([...TAG_FILTER_OPS].sort());
    for (const [op, value, expected] of cases) {
      const field = typeof value === 'number' ? 'price' : 'color';
      expect([op, matches(parseTagFilter({ field, op, value }), tags)]).toEqual([op, expected]);
    }
  });

  test('a single condition, nested or inside and, arrays inside or', () => {
    const filter = parseTagFilter({ or: [[{ field: 'a', op: '=', value: 1 }, { field: 'b', op: '=', value: 2 }], { field: 'c', op: '=', value: 3 }] });
    expect(matches(filter, { a: 1, b: 2 })).toBe(true);
    expect(matches(filter, { a: 1 })).toBe(false);
    expect(matches(filter, { c: 3 })).toBe(true);
    expect(matches(parseTagFilter([]), {})).toBe(true);
    expect(matches(parseTagFilter({ or: [] }), {})).toBe(false);
  });

  const bad: Array<[string, unknown, string]> = [
    ['a string', 'color = red', 'tag_filter'],
    ['a number', 3, 'tag_filter'],
    ['null', null, 'tag_filter'],
    ['an unknown operator', { field: 'a', op: 'like', value: 'x' }, 'tag_filter.op'],
    ['a missing field', { op: '=', value: 'x' }, 'tag_filter.field'],
    ['a missing op', { field: 'a', value: 'x' }, 'tag_filter.op'],
    ['a missing value', { field: 'a', op: '=' }, 'tag_filter.value'],
    ['an empty field name', { field: '', op: '=', value: 'x' }, 'tag_filter.field'],
    ['in with a scalar', { field: 'a', op: 'in', value: 'x' }, 'tag_filter.value'],
    ['not_in with an object', { field: 'a', op: 'not_in', value: { x: 1 } }, 'tag_filter.value'],
    ['in with a nested list', { field: 'a', op: 'in', value: [['x']] }, 'tag_filter.value[0]'],
    ['contains with a number', { field: 'a', op: 'contains', value: 3 }, 'tag_filter.value'],
    ['> with a list', { field: 'a', op: '>', value: [1] }, 'tag_filter.value'],
    ['> with a boolean', { field: 'a', op: '>', value: true }, 'tag_filter.value'],
    ['= with null', { field: 'a', op: '=', value: null }, 'tag_filter.value'],
    ['or with a non-list', { or: { field: 'a', op: '=', value: 1 } }, 'tag_filter.or'],
    ['or with a sibling key', { or: [], and: [] }, 'tag_filter'],
    ['an unknown key', { field: 'a', op: '=', value: 1, vaule: 2 }, 'tag_filter'],
    ['a bad element deep inside', [{ or: [{ field: 'a', op: '=', value: 1 }, { field: 'b', op: '~', value: 1 }] }], 'tag_filter[0].or[1].op'],
  ];
  test.each(bad)('refuses %s with an error that names %#', (_what, input, field) => {
    let error: unknown;
    try {
      parseTagFilter(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).field).toBe(field);
  });

  test('absurd nesting is refused, not a stack overflow', () => {
    let deep: unknown = { field: 'a', op: '=', value: 1 };
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(() => parseTagFilter(deep)).toThrow(InvalidArgumentError);
  });
});


/**
 * Core's filter AST compiled to Qdrant filter JSON, checked against Qdrant's documented filter semantics
 * (tests/helpers/qdrant-semantics.ts) on the payload the store writes (layout.ts): wherever the compiler
 * says `exact`, Qdrant keeps exactly the images core's `matches` keeps; where it does not, Qdrant keeps a
 * superset (the store re-checks those with `matches`).
 */
import { f, matches, type Filter } from '../../core/filter';
import type { TagValue, Tags } from '../../core/records';
import { compileFilter } from '../../core/store/qdrant/filter-compiler';
import { tagFields, tagPath } from '../../core/store/qdrant/layout';
import { prng } from '../helpers/prng';
import { evaluateQdrantFilter } from '../helpers/qdrant-semantics';

/** What Qdrant sees of an image with these tags: the typed views under `f`. */
const payloadOf = (tags: Tags) => ({ tags, f: tagFields(tags) });

function qdrantKeeps(filter: Filter, tags: Tags): boolean {
  const compiled = compileFilter(filter);
  if (compiled.kind === 'all') return true;
  if (compiled.kind === 'none') return false;
  return evaluateQdrantFilter(compiled.filter, payloadOf(tags));
}

describe('filter compiler: shapes', () => {
  it('compiles string equality to match.value on the string view', () => {
    expect(compileFilter(f.cmp('colour', '=', 'red'))).toEqual({
      kind: 'filter',
      exact: true,
      filter: { must: [{ key: tagPath('string', 'colour'), match: { value: 'red' } }] },
    });
  });

  it('compiles numbers to ranges on the numeric view, and AND / OR / NOT to must / should / must_not', () => {
    const c = compileFilter(f.and(f.cmp('size', '>=', 3), f.or(f.cmp('size', '<', 1), f.not(f.cmp('ok', '=', true)))));
    expect(c).toEqual({
      kind: 'filter',
      exact: true,
      filter: {
        must: [
          { key: tagPath('numeric', 'size'), range: { gte: 3 } },
          {
            should: [
              { key: tagPath('numeric', 'size'), range: { lt: 1 } },
              { must_not: [{ key: tagPath('boolean', 'ok'), match: { value: true } }] },
            ],
          },
        ],
      },
    });
  });

  it('folds string alternatives into match.any', () => {
    const c = compileFilter(f.in('colour', ['red', 'blue', 'red']));
    expect(c).toEqual({ kind: 'filter', exact: true, filter: { should: [{ key: tagPath('string', 'colour'), match: { any: ['red', 'blue'] } }] } });
  });

  it('uses a text match for contains, re-checked by the store', () => {
    const c = compileFilter(f.contains('title', 'blue shirt'));
    expect(c).toEqual({ kind: 'filter', exact: false, filter: { must: [{ key: tagPath('text', 'title'), match: { text: 'blue shirt' } }] } });
  });

  it('reduces to all / none where the answer does not depend on the data', () => {
    expect(compileFilter(undefined)).toEqual({ kind: 'all', exact: true });
    expect(compileFilter(f.and())).toEqual({ kind: 'all', exact: true });
    expect(compileFilter(f.or())).toEqual({ kind: 'none', exact: true });
    expect(compileFilter(f.in('x', []))).toEqual({ kind: 'none', exact: true });
    expect(compileFilter(f.cmp('flag', '<', true))).toEqual({ kind: 'none', exact: true });
    expect(compileFilter(f.not(f.or()))).toEqual({ kind: 'all', exact: true });
  });

  it('marks string ordering inexact, and keeps negated inexact parts out (a subset under NOT)', () => {
    expect(compileFilter(f.cmp('name', '<', 'm')).exact).toBe(false);
    expect(compileFilter(f.cmp('n', '<', 5)).exact).toBe(true);
    const negated = compileFilter(f.not(f.cmp('name', '<', 'm')));
    expect(negated).toEqual({ kind: 'all', exact: false });
  });

  it('keeps tag keys with dots, spaces and unicode apart and path-safe', () => {
    const keys = ['a.b', 'a_b', 'a b', '', 'k', 'ключ', 'a[0]'];
    const paths = keys.map((k) => tagPath('string', k));
    expect(new Set(paths).size).toBe(keys.length);
    for (const p of paths) expect(p).toMatch(/^f\.s\.k[A-Za-z0-9_]*$/);
  });
});

describe('filter compiler: agrees with core semantics under Qdrant semantics', () => {
  const fields = ['colour', 'size', 'a.b', ''];
  const values: TagValue[] = ['red', 'blue', 'red blue', '5', '5.0', '10', ' ', '', 'Red', 5, 5.5, 10, -1, 0, true, false];
  const rnd = prng(2024);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];

  function randomTags(): Tags {
    const tags: Tags = {};
    for (const k of fields) if (rnd() < 0.7) tags[k] = pick(values);
    return tags;
  }

  function randomFilter(depth: number): Filter {
    const r = rnd();
    if (depth > 0 && r < 0.12) return f.and(...Array.from({ length: Math.floor(rnd() * 3) }, () => randomFilter(depth - 1)));
    if (depth > 0 && r < 0.24) return f.or(...Array.from({ length: Math.floor(rnd() * 3) }, () => randomFilter(depth - 1)));
    if (depth > 0 && r < 0.34) return f.not(randomFilter(depth - 1));
    if (r < 0.42) return f.in(pick(fields), Array.from({ length: Math.floor(rnd() * 3) }, () => pick(values)));
    if (r < 0.5) return f.contains(pick(fields), String(pick(values)));
    return f.cmp(pick(fields), pick(['=', '!=', '<', '<=', '>', '>='] as const), pick(values));
  }

  it('exact filters keep exactly what matches keeps; inexact ones a superset (3000 random filters x 20 images)', () => {
    let exactCount = 0;
    for (let i = 0; i < 3000; i++) {
      const filter = randomFilter(3);
      const compiled = compileFilter(filter);
      if (compiled.exact) exactCount++;
      for (let j = 0; j < 20; j++) {
        const tags = randomTags();
        const want = matches(filter, tags);
        const got = qdrantKeeps(filter, tags);
        if (compiled.exact ? got !== want : want && !got) {
          throw new Error(`filter ${JSON.stringify(filter)} on ${JSON.stringify(tags)}: core ${want}, qdrant ${got}`);
        }
      }
    }
    // Most filters need no re-check (only string ordering and contains do).
    expect(exactCount).toBeGreaterThan(1500);
  });

  it('covers the mixed-type rules of core/filter.ts', () => {
    const cases: Array<[Filter, Tags, boolean]> = [
      [f.cmp('n', '=', 5), { n: '5.0' }, true], // numeric string tag vs number value: numeric
      [f.cmp('n', '=', '5.0'), { n: 5 }, true], // number tag vs numeric string value: numeric
      [f.cmp('n', '=', '5.0'), { n: '5' }, false], // two strings: as text
      [f.cmp('n', '>', 4), { n: '10' }, true],
      [f.cmp('n', '>', 4), { n: 'ten' }, false],
      [f.cmp('n', '!=', 'x'), {}, true], // negation holds for a missing tag
      [f.cmp('b', '=', true), { b: 'true' }, false],
      [f.cmp('b', '!=', true), { b: false }, true],
      [f.in('c', ['red', 5]), { c: '5' }, true],
      [f.cmp('n', '=', 5.5), { n: 5.5 }, true], // floats: range, not match.value
    ];
    for (const [filter, tags, want] of cases) {
      expect([JSON.stringify(filter), JSON.stringify(tags), matches(filter, tags)]).toEqual([JSON.stringify(filter), JSON.stringify(tags), want]);
      expect([JSON.stringify(filter), JSON.stringify(tags), qdrantKeeps(filter, tags)]).toEqual([JSON.stringify(filter), JSON.stringify(tags), want]);
    }
  });
});

/** The tag index proposes exactly the images a filter's `=` / `in` can match, under filter.ts's equality. */
import { f, matches, type Filter } from '../../core/filter';
import type { Tags, TagValue } from '../../core/records';
import { TagIndex } from '../../core/store/embedded/tag-index';
import { prng } from '../../core/prng';

const VALUES: TagValue[] = [5, 5.5, 0, -0, '5', '5.0', ' 5 ', '0x5', 'abc', '', 'true', true, false, 12, '12'];

describe('TagIndex', () => {
  const rand = prng(99);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const randomTags = (): Tags => {
    const tags: Tags = {};
    for (const field of ['a', 'b']) if (rand() < 0.8) tags[field] = pick(VALUES);
    return tags;
  };

  test('every image a filter matches is a candidate, under writes, replacements and deletes', () => {
    const index = new TagIndex();
    const images = new Map<number, Tags>();
    for (let key = 1; key <= 300; key++) images.set(key, randomTags());
    const build = () => [...images.entries()];
    const filters: Filter[] = [];
    for (const v of VALUES) filters.push(f.cmp('a', '=', v), f.in('b', [v, pick(VALUES)]), f.and(f.cmp('a', '=', v), f.cmp('b', '!=', pick(VALUES))));
    const check = () => {
      for (const filter of filters) {
        const candidates = index.candidates(filter, build)!;
        const listed = [...candidates];
        const want = [...images].filter(([, tags]) => matches(filter, tags)).map(([key]) => key);
        for (const key of want) expect([JSON.stringify(filter), key, listed.includes(key)]).toEqual([JSON.stringify(filter), key, true]);
        // and nothing that cannot match on the indexed field: candidates all carry an equal value
        const got = listed.filter((key) => matches(filter, images.get(key)!)).sort((x, y) => x - y);
        expect(got).toEqual(want.sort((x, y) => x - y));
        // each image once, within the bound; a filter that is one condition matches every candidate
        expect(new Set(listed).size).toBe(listed.length);
        expect(candidates.bound).toBeGreaterThanOrEqual(listed.length);
        expect(candidates.whole).toBe(filter.kind !== 'and');
        if (candidates.whole) expect(got.length).toBe(listed.length);
      }
    };
    check(); // builds the indexes of a and b
    for (let step = 0; step < 200; step++) {
      const key = 1 + Math.floor(rand() * 320);
      const previous = images.get(key);
      if (previous && rand() < 0.3) {
        index.remove(key, previous);
        images.delete(key);
      } else {
        const tags = randomTags();
        index.put(key, tags, previous);
        images.set(key, tags);
      }
    }
    check();
  });

  test('a filter without a top-level = or in gives no candidates: every image is tested', () => {
    const index = new TagIndex();
    for (const filter of [f.cmp('a', '>', 1), f.or(f.cmp('a', '=', 1), f.cmp('b', '=', 2)), f.not(f.cmp('a', '=', 1)), f.contains('a', 'x')]) {
      expect(index.candidates(filter, () => [])).toBeUndefined();
    }
  });
});

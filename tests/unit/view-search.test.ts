/**
 * view-search.ts: merging the probes' pages is exact (the same page as ranking every image by its best
 * score over all probes), with offsets, limits and distinctItem; the probes a query gets.
 */
import { mergeProbeHits, probesOf, queryViewsOf, type ScoredHit } from '../../core/view-search';
import { QUERY_VIEWS, VIEW_MATCH_DISCOUNT } from '../../core/image/views';
import type { Library } from '../../core/records';
import { prng } from '../helpers/prng';

function hit(library: string, id: string, score: number, itemId?: string): ScoredHit {
  return { library, record: { id, itemId, tags: {}, hasImage: false, createdAt: 0, updatedAt: 0 }, score };
}

test('merged probe pages equal ranking every image by its best score', () => {
  const rnd = prng(7);
  for (let round = 0; round < 50; round++) {
    const images = Array.from({ length: 30 }, (_, i) => ({ library: i % 3 === 0 ? 'b' : 'a', id: `i${i}`, itemId: `p${i % 9}` }));
    const scores = [0, 1, 2].map(() => images.map(() => Math.round(rnd() * 100) / 100)); // ties included
    const query = { offset: Math.floor(rnd() * 5), limit: 1 + Math.floor(rnd() * 8), distinctItem: rnd() < 0.5 };
    const need = query.offset + query.limit;
    const rank = (hits: ScoredHit[]) =>
      hits.sort((x, y) => y.score - x.score || (x.library < y.library ? -1 : x.library > y.library ? 1 : 0) || (x.record.id < y.record.id ? -1 : 1));
    const distinct = (hits: ScoredHit[]) => {
      if (!query.distinctItem) return hits;
      const seen = new Set<string>();
      return hits.filter((h) => {
        const key = `${h.library}/${h.record.itemId}`;
        return seen.has(key) ? false : (seen.add(key), true);
      });
    };
    // What each probe's store search answers: its own ranking, distinctItem applied, the first `need`.
    const pages = scores.map((s) => distinct(rank(images.map((im, i) => hit(im.library, im.id, s[i], im.itemId)))).slice(0, need));
    const truth = distinct(rank(images.map((im, i) => hit(im.library, im.id, Math.max(...scores.map((s) => s[i])), im.itemId))));
    const merged = mergeProbeHits(pages, query);
    expect(merged.map((h) => [h.library, h.record.id, h.score])).toEqual(truth.slice(query.offset, need).map((h) => [h.library, h.record.id, h.score]));
  }
});

test('a query gets views only when every library has them, strips only when all index them', () => {
  const lib = (views?: string[]): Library => ({ tenant: 't', name: 'n', mode: 'general_search', model: 'm', createdAt: 0, views });
  expect(queryViewsOf([lib(), lib(['whole', 'mirror'])])).toBeUndefined();
  expect(queryViewsOf([lib(['whole', 'mirror'])])).toEqual(['whole']);
  expect(queryViewsOf([lib(['whole', ...QUERY_VIEWS]), lib(['whole', 'mirror', ...QUERY_VIEWS])])).toEqual(['whole', ...QUERY_VIEWS]);
  const whole = new Float32Array(4);
  const probes = probesOf(whole, [{ view: 'strip-top', vector: new Float32Array(4) }]);
  expect(probes.map((p) => [p.views.includes('whole'), p.discount])).toEqual([
    [true, 0],
    [false, VIEW_MATCH_DISCOUNT],
    [false, VIEW_MATCH_DISCOUNT],
  ]);
  expect(probes[1].views).not.toContain('strip-top'); // strips pair with strips only
  expect(probes[2].views).toEqual(['strip-top']);
});

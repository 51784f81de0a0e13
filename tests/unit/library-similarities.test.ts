/**
 * Scoring four rows at a time gives exactly what one row at a time gives: a result's similarity must not
 * depend on whether the exact path, the index path or the snapshot path scored it, nor on the rows it was
 * paired with.
 */
import { dot, dotFour } from '../../core/store/inner-product';
import { LibraryVectors } from '../../core/store/embedded/library-vectors';
import type { ImageRecord } from '../../core/records';
import { prng } from '../helpers/prng';

const rand = prng(2024);
const unit = (dim: number) => {
  const v = Float32Array.from({ length: dim }, () => rand() - 0.5);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const record = (id: string): ImageRecord => ({ id, tags: {}, hasImage: false, createdAt: 0, updatedAt: 0 });

test('dotFour gives each row the value dot gives it, whatever its partners and their arrays', () => {
  const dim = 37; // not a multiple of four
  const rows = Array.from({ length: 6 }, () => unit(dim));
  const matrix = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => matrix.set(r, i * dim));
  const other = new Float32Array(2 * dim);
  other.set(rows[4], dim); // row 4 again, second in another array
  const q = unit(dim);
  const out = new Float64Array(4);
  for (const offsets of [[0, 1, 2, 3], [5, 0, 5, 4], [3, 3, 3, 3]]) {
    dotFour(q, matrix, offsets[0] * dim, matrix, offsets[1] * dim, matrix, offsets[2] * dim, matrix, offsets[3] * dim, dim, out);
    offsets.forEach((row, k) => expect(out[k]).toBe(dot(q, matrix, row * dim, dim)));
  }
  dotFour(q, matrix, 0, other, dim, matrix, 5 * dim, other, dim, dim, out);
  expect([...out]).toEqual([0, 4, 5, 4].map((row) => dot(q, matrix, row * dim, dim)));
});

describe.each([1, 3])('LibraryVectors.similarities, %i rows per image', (perImage) => {
  const dim = 24;
  const lib = new LibraryVectors(dim, 4, perImage, 4 * dim * perImage); // grows while filled, 4 images a segment
  for (let key = 1; key <= 23; key++) lib.put(key, record(`img${key}`), unit(dim), Array.from({ length: perImage - 1 }, () => unit(dim)));
  const q = unit(dim);
  /** One row at a time: the best row of the image among `views`. */
  const reference = (slot: number, views?: number[]) =>
    Math.max(...(views ?? [...Array(perImage).keys()]).map((v) => dot(q, lib.row(slot * perImage + v))));

  test.each([1, 2, 3, 4, 5, 9, 23])('%i slots in any order score as one at a time', (count) => {
    const slots = Array.from({ length: count }, (_, i) => (i * 7) % lib.size);
    const scores = new Float64Array(count + 2).fill(42); // only the first `count` are written
    lib.similarities(q, slots, undefined, scores);
    slots.forEach((slot, i) => expect(scores[i]).toBe(reference(slot)));
    expect([scores[count], scores[count + 1]]).toEqual([42, 42]);
  });

  test('views limit the rows compared', () => {
    const views = perImage === 1 ? [0] : [2, 0];
    const slots = [5, 0, 22, 13, 7];
    const scores = new Float64Array(slots.length);
    lib.similarities(q, slots, views, scores);
    slots.forEach((slot, i) => expect(scores[i]).toBe(reference(slot, views)));
  });
});

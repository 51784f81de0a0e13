/**
 * A library's matrix in segments (segmented-matrix.ts): with segments of a few images, every row put,
 * moved by a deletion, copied out or ranked by brute force is the vector written for that image, checked
 * against a plain map of the writes.
 */
import type { ImageRecord } from '../../core/records';
import { LibraryVectors } from '../../core/store/embedded/library-vectors';
import { prng } from '../helpers/prng';

const rand = prng(77);
const vec = (dim: number) => Float32Array.from({ length: dim }, () => rand() - 0.5);
const record = (id: string): ImageRecord => ({ id, tags: {}, hasImage: false, createdAt: 0, updatedAt: 0 });

describe.each([1, 2])('segmented matrix, %i rows per image', (perImage) => {
  const dim = 5;
  const lib = new LibraryVectors(dim, 2, perImage, 4 * dim * perImage); // 4 images a segment, the first grown from 2
  const written = new Map<number, Float32Array[]>(); // key -> its rows
  for (let key = 1; key <= 41; key++) {
    const rows = Array.from({ length: perImage }, () => vec(dim));
    lib.put(key, record(`k${key}`), rows[0], rows.slice(1));
    written.set(key, rows);
  }
  // Deletions move the last image into the hole, across segments; an overwrite keeps its slot.
  for (const key of [3, 40, 17, 1, 22]) {
    lib.remove(key);
    written.delete(key);
  }
  const again = Array.from({ length: perImage }, () => vec(dim));
  lib.put(9, record('k9'), again[0], again.slice(1));
  written.set(9, again);

  test('each image reads back the rows written for it', () => {
    expect(lib.size).toBe(written.size);
    expect(lib.matrix.segments.length).toBeGreaterThan(8);
    for (const [key, rows] of written) {
      const slot = lib.slotOfKey(key)!;
      rows.forEach((r, view) => expect(lib.row(slot * perImage + view)).toEqual(r));
      expect(lib.vector(slot)).toEqual(rows[0]);
    }
  });

  test('copyRows gives the slots rows in order, across segments', () => {
    for (const [from, to] of [[0, lib.size], [3, 11], [7, 8], [5, 5]]) {
      const out = new Float32Array((to - from) * perImage * dim);
      lib.copyRows(from, to, out);
      const expected: number[] = [];
      for (let slot = from; slot < to; slot++) written.get(lib.keys[slot])!.forEach((r) => expected.push(...r));
      expect(Array.from(out)).toEqual(expected.map((x) => Math.fround(x)));
    }
  });

  test('exactTopRows ranks every segment\'s rows as a brute force over the writes does', () => {
    for (let t = 0; t < 5; t++) {
      const q = vec(dim);
      const all: Array<[row: number, score: number]> = [];
      for (const [key, rows] of written) {
        const slot = lib.slotOfKey(key)!;
        rows.forEach((r, view) => all.push([slot * perImage + view, r.reduce((s, x, j) => s + x * q[j], 0)]));
      }
      all.sort((a, b) => b[1] - a[1]);
      expect(lib.exactTopRows(q, 6)).toEqual(all.slice(0, 6).map(([row]) => row));
    }
  });
});

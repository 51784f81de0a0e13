/**
 * The records the embedded store keeps in memory for written images: only the defined fields, and no larger
 * than plain object literals of those fields (a record whose undefined fields were deleted afterwards was
 * three times larger: V8 keeps such an object as a dictionary).
 */
import { getHeapStatistics } from 'node:v8';
import { storedRecord } from '../../core/store/embedded/codec';
import type { ImageRecord } from '../../core/records';

/** As the engine makes them: optional fields present and undefined. */
const written = (i: number): ImageRecord => ({
  id: `img${i}`,
  itemId: undefined,
  uri: undefined,
  tags: { shop: i % 7 },
  extra: undefined,
  hasImage: false,
  createdAt: 1,
  updatedAt: 2,
});

/** Heap bytes retained per object made by `make` from each input (nothing else allocates meanwhile). */
function bytesPerObject<T>(inputs: T[], make: (input: T) => object): number {
  const kept: object[] = new Array(inputs.length);
  const before = getHeapStatistics().used_heap_size;
  for (let i = 0; i < inputs.length; i++) kept[i] = make(inputs[i]);
  const after = getHeapStatistics().used_heap_size;
  expect(kept).toHaveLength(inputs.length);
  return (after - before) / inputs.length;
}

test('a stored record has the defined fields only, copied', () => {
  const input = { ...written(1), itemId: 'sku', extra: { a: [1] } };
  const stored = storedRecord(input, true);
  expect(stored).toEqual({ id: 'img1', itemId: 'sku', tags: { shop: 1 }, extra: { a: [1] }, hasImage: true, createdAt: 1, updatedAt: 2 });
  expect(Object.keys(storedRecord(written(2), false)).sort()).toEqual(['createdAt', 'hasImage', 'id', 'tags', 'updatedAt']);
  expect(stored.tags).not.toBe(input.tags);
  expect(stored.extra).not.toBe(input.extra);
});

test('stored records take no more heap than object literals of the same fields', () => {
  const inputs = Array.from({ length: 20_000 }, (_, i) => written(i));
  // A garbage collection during a measurement can only lower it (it frees what earlier tests left): the
  // literals' largest of three rounds against the stored records' smallest.
  const literal: number[] = [];
  const stored: number[] = [];
  for (let round = 0; round < 3; round++) {
    literal.push(bytesPerObject(inputs, (r) => ({ id: r.id, tags: { ...r.tags }, hasImage: false, createdAt: r.createdAt, updatedAt: r.updatedAt })));
    stored.push(bytesPerObject(inputs, (r) => storedRecord(r, false)));
  }
  expect(Math.min(...stored)).toBeLessThan(Math.max(...literal) * 1.5);
});

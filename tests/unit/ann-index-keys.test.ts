/**
 * AnnIndex hands back usearch's 64-bit keys as numbers, read as two 32-bit words (ann-index.ts
 * keysAsNumbers): keys past 2^32 must come back whole, on the one-query path and the batched one.
 */
import { AnnIndex, DEFAULT_HNSW } from '../../core/store/embedded/ann-index';
import { prng } from '../helpers/prng';

const DIM = 16;
const rand = prng(77);
const unit = () => {
  const v = Float32Array.from({ length: DIM }, () => rand() - 0.5);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

test('keys below and past 2^32 come back as they went in', async () => {
  const keys = [3, 2 ** 32 - 1, 2 ** 32, 2 ** 33 + 5, 2 ** 52 + 11];
  const vectors = keys.map(() => unit());
  const index = AnnIndex.create(DIM, { ...DEFAULT_HNSW, quantization: 'f32' }, keys.length);
  const block = new Float32Array(keys.length * DIM);
  vectors.forEach((v, i) => block.set(v, i * DIM));
  index.add(keys, block);
  // Each vector is its own nearest neighbour; every key is among the candidates.
  vectors.forEach((v, i) => {
    const found = index.search(v.slice(), keys.length);
    expect(found[0]).toBe(keys[i]);
    expect([...found].sort((a, b) => a - b)).toEqual([...keys].sort((a, b) => a - b));
  });
  // Asked in the same turn: answered by one batched usearch call.
  const batched = await Promise.all(vectors.map((v) => index.searchSoon(v.slice(), 1)));
  expect(batched.map((found) => found[0])).toEqual(keys);
});

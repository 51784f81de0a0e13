/** The inner product every store and the engine score with (unit vectors: the cosine). */

/** Inner product of `a` and b[offset, offset + dim), unrolled by four (V8 keeps the four sums in registers). */
export function dot(a: Float32Array, b: Float32Array, offset = 0, dim = a.length): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < dim; j += 4) {
    s0 += a[j] * b[offset + j];
    s1 += a[j + 1] * b[offset + j + 1];
    s2 += a[j + 2] * b[offset + j + 2];
    s3 += a[j + 3] * b[offset + j + 3];
  }
  for (; j < dim; j++) s0 += a[j] * b[offset + j];
  return s0 + s1 + s2 + s3;
}

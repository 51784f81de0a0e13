import sharp, { type Sharp } from 'sharp';
import { tensorSize, toTensor } from '../../core/image/tensor';
import type { TensorSpec } from '../../core/image/types';

/** A raw RGB(A) image from rows of pixels. */
function rawImage(rows: number[][][]): Sharp {
  const height = rows.length;
  const width = rows[0].length;
  const channels = rows[0][0].length as 3 | 4;
  return sharp(Buffer.from(rows.flat(2)), { raw: { width, height, channels } });
}

const spec = (resize: TensorSpec['resize'], over: Partial<TensorSpec> = {}): TensorSpec => ({
  width: 2,
  height: 2,
  resize,
  kernel: 'nearest',
  mean: [0, 0, 0],
  std: [1, 1, 1],
  ...over,
});

/** Expected NCHW values for a 2x2 result whose pixels (row-major) are `px`. */
function nchw(px: number[][], mean = [0, 0, 0], std = [1, 1, 1]): number[] {
  const out: number[] = [];
  for (let c = 0; c < 3; c++) for (const p of px) out.push((p[c] / 255 - mean[c]) / std[c]);
  return out;
}

const A = [255, 0, 0];
const B = [0, 255, 0];
const C = [0, 0, 255];
const D = [10, 20, 30];

describe('toTensor', () => {
  test('tensorSize is 3 * height * width', () => {
    expect(tensorSize(spec('fill', { width: 96, height: 64 }))).toBe(3 * 96 * 64);
  });

  test('same size: NCHW order, channel planes one after the other', async () => {
    const t = await toTensor(rawImage([[A, B], [C, D]]), spec('fill'));
    expect(t).toBeInstanceOf(Float32Array);
    expect(t.length).toBe(12);
    // R plane, then G plane, then B plane; within a plane row-major.
    expect(Array.from(t)).toEqual(nchw([A, B, C, D]).map((v) => Math.fround(v)));
  });

  test('mean and std are applied per channel: (v/255 - mean) / std', async () => {
    const mean: [number, number, number] = [0.5, 0.25, 0.1];
    const std: [number, number, number] = [0.5, 0.2, 2];
    const t = await toTensor(rawImage([[A, B], [C, D]]), spec('fill', { mean, std }));
    const expected = nchw([A, B, C, D], mean, std);
    Array.from(t).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    // e.g. the red of pixel A: (255/255 - 0.5) / 0.5 = 1; the blue of D: (30/255 - 0.1) / 2
    expect(t[0]).toBeCloseTo(1, 6);
    expect(t[11]).toBeCloseTo((30 / 255 - 0.1) / 2, 6);
  });

  test('fill squashes the whole image: 4x2 of 2x1 blocks -> 2x2', async () => {
    // Each source column pair is one colour, so a nearest-neighbour squash picks one pixel per block.
    const img = rawImage([
      [A, A, B, B],
      [C, C, D, D],
    ]);
    const t = await toTensor(img, spec('fill'));
    expect(Array.from(t)).toEqual(nchw([A, B, C, D]).map((v) => Math.fround(v)));
  });

  test('shortest_side_center_crop at scale 1 keeps the centre columns: 6x2 -> 2x2', async () => {
    const P = [1, 2, 3];
    const Q = [4, 5, 6];
    const img = rawImage([
      [P, Q, A, B, Q, P],
      [Q, P, C, D, P, Q],
    ]);
    const t = await toTensor(img, spec('shortest_side_center_crop'));
    // shortest side 2 = target, so no scaling; the centre 2 of 6 columns are columns 2 and 3.
    expect(Array.from(t)).toEqual(nchw([A, B, C, D]).map((v) => Math.fround(v)));
  });

  test('shortest_side_center_crop scales the shortest side, then crops: 8x4 -> 4x2 -> centre 2x2', async () => {
    // 2x2 blocks of one colour: X | A | B | Y on top, X | C | D | Y below.
    const X = [200, 200, 200];
    const Y = [50, 50, 50];
    const row = (cols: number[][]): number[][] => cols.flatMap((c) => [c, c]);
    const top = row([X, A, B, Y]);
    const bottom = row([X, C, D, Y]);
    const t = await toTensor(rawImage([top, top, bottom, bottom]), spec('shortest_side_center_crop'));
    expect(Array.from(t)).toEqual(nchw([A, B, C, D]).map((v) => Math.fround(v)));
  });

  test('fill squashes an 8x4 image of 4x2 blocks to 2x2', async () => {
    const quad = (left: number[], right: number[]): number[][] => [left, left, left, left, right, right, right, right];
    const img = rawImage([quad(A, B), quad(A, B), quad(C, D), quad(C, D)]);
    const t = await toTensor(img, spec('fill'));
    expect(Array.from(t)).toEqual(nchw([A, B, C, D]).map((v) => Math.fround(v)));
  });

  test('transparency is flattened onto white', async () => {
    const img = rawImage([
      [
        [255, 0, 0, 0],
        [0, 0, 255, 255],
      ],
      [
        [0, 0, 0, 0],
        [0, 0, 0, 255],
      ],
    ]);
    const t = await toTensor(img, spec('fill'));
    // pixel 0: fully transparent red -> white; pixel 1: opaque blue; pixel 2: transparent -> white; 3: black
    expect(Array.from(t)).toEqual(nchw([[255, 255, 255], [0, 0, 255], [255, 255, 255], [0, 0, 0]]));
  });

  test('greyscale input gives three equal channels', async () => {
    const grey = sharp(Buffer.from([0, 51, 102, 255]), { raw: { width: 2, height: 2, channels: 1 } });
    const t = await toTensor(grey, spec('fill'));
    const plane = [0, 51, 102, 255].map((v) => Math.fround(v / 255));
    expect(Array.from(t)).toEqual([...plane, ...plane, ...plane]);
  });

  test('writes into a caller-supplied buffer', async () => {
    const out = new Float32Array(12);
    const t = await toTensor(rawImage([[A, B], [C, D]]), spec('fill'), out);
    expect(t).toBe(out);
    expect(out[0]).toBe(1);
  });

  test('a real JPEG is resized to the spec size', async () => {
    const jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 255, g: 128, b: 0 } } })
      .jpeg()
      .toBuffer();
    const t = await toTensor(sharp(jpeg), { ...spec('shortest_side_center_crop'), width: 32, height: 32, kernel: 'linear' });
    expect(t.length).toBe(3 * 32 * 32);
    expect(t[0]).toBeCloseTo(1, 1);
    expect(t[32 * 32]).toBeCloseTo(128 / 255, 1);
    expect(t[2 * 32 * 32]).toBeCloseTo(0, 1);
  });
});


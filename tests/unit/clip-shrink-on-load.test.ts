/**
 * CLIP preprocessing of a whole JPEG may decode it at a reduced scale (JPEG shrink-on-load) when that still
 * leaves 1.7x of the resize and both sides divide by the factor (core/image/tensor.ts,
 * jpegShrinkLeavesResize). Here: which sizes take that path, and how far its tensors are from the exact
 * path's on photo-like JPEGs (seeded scenes with sensor grain, every scene family), in 8-bit levels.
 *
 * The bounds come from the measurement on real photographs in docs/models.md ("Preprocessing"): within
 * the rule, the mean difference per image was 0.40 levels (worst image 1.19), its 99th percentile at most
 * 5 levels. A mean of 1.5 and a 99th percentile of 8 levels leave room for other encoders, and still fail
 * if the geometry shifts (a rounded reduced size gave up to 4.1 levels of mean difference).
 */
import sharp from 'sharp';
import { immichCrop, jpegShrinkLeavesResize, sharpJpegShrink, toTensor } from '../../core/image/tensor';
import type { TensorSpec } from '../../core/image/types';
import { CLIP_MEAN, CLIP_STD } from '../../models/build-tiny-clip';
import { SCENE_FAMILIES, makeScene } from '../helpers/synthetic-images';

/** ViT-B/32 as Immich publishes it: 224x224, bicubic, shortest side then centre crop, OpenAI mean/std. */
const SPEC: TensorSpec = { width: 224, height: 224, resize: 'shortest_side_center_crop', kernel: 'cubic', mean: [CLIP_MEAN[0], CLIP_MEAN[1], CLIP_MEAN[2]], std: [CLIP_STD[0], CLIP_STD[1], CLIP_STD[2]] };

const takesReducedDecode = (width: number, height: number) =>
  jpegShrinkLeavesResize({ width, height, format: 'jpeg' }, immichCrop(width, height, 224, 224));

/** Per-value absolute differences of two tensors, back in 8-bit levels (undoing the std of each plane). */
function levelDifferences(a: Float32Array, b: Float32Array): Float64Array {
  const plane = a.length / 3;
  return Float64Array.from(a, (v, i) => Math.abs(v - b[i]) * 255 * SPEC.std[Math.floor(i / plane)]);
}

const tensorsOf = async (jpeg: Buffer, width: number, height: number) => ({
  exact: await toTensor(sharp(jpeg), SPEC, undefined, { width, height }),
  reduced: await toTensor(sharp(jpeg), SPEC, undefined, { width, height, format: 'jpeg' }),
});

describe('which JPEGs are decoded at a reduced scale', () => {
  test("sharp's shrink-on-load factors, mirrored", () => {
    // fastShrinkOnLoad:false leaves at least 2x for the resize; an integral shrink equal to the factor halves it.
    expect([2, 3.43, 4, 4.5, 6.86, 8, 13.5, 16.2].map((s) => sharpJpegShrink(s, false))).toEqual([1, 1, 2, 2, 2, 4, 4, 8]);
    expect([1.5, 2, 3.43, 4, 4.5, 6.86, 8, 13.5].map((s) => sharpJpegShrink(s, true))).toEqual([1, 1, 2, 2, 2, 4, 4, 8]);
  });

  test('only where the reduced image keeps 1.7x of the resize and the sides divide by the factor', () => {
    expect(takesReducedDecode(1024, 768)).toBe(true); // 512x384 for 298x224: 1.71x
    expect(takesReducedDecode(768, 1024)).toBe(true);
    expect(takesReducedDecode(2048, 1536)).toBe(true); // 512x384 (1/4)
    expect(takesReducedDecode(1022, 766)).toBe(true);
    expect(takesReducedDecode(1023, 768)).toBe(false); // 1023/2 would be rounded up
    expect(takesReducedDecode(1024, 576)).toBe(false); // 512x288 for 398x224: 1.29x
    expect(takesReducedDecode(640, 480)).toBe(false);
    expect(takesReducedDecode(4032, 3024)).toBe(false); // 1/8 would leave 1.69x; sharp's own 1/4 stays
    expect(jpegShrinkLeavesResize({ width: 1024, height: 768 }, immichCrop(1024, 768, 224, 224))).toBe(false); // format unknown
    expect(jpegShrinkLeavesResize({ width: 1024, height: 768, format: 'png' }, immichCrop(1024, 768, 224, 224))).toBe(false);
  });
});

describe('tensors of the reduced decode against the exact path', () => {
  test.each(SCENE_FAMILIES.map((family, i) => [family, 1024 + 4 * i, 768 + 2 * i] as const))(
    '%s scene %ix%i: mean difference at most 1.5 levels, 99th percentile at most 8',
    async (family, width, height) => {
      const jpeg = await makeScene(7100, width, height, family);
      expect(takesReducedDecode(width, height)).toBe(true);
      const { exact, reduced } = await tensorsOf(jpeg, width, height);
      const diff = levelDifferences(exact, reduced).sort();
      const mean = diff.reduce((s, d) => s + d, 0) / diff.length;
      expect(mean).toBeGreaterThan(0); // the reduced decode did run
      expect(mean).toBeLessThanOrEqual(1.5);
      expect(diff[Math.floor(0.99 * diff.length)]).toBeLessThanOrEqual(8);
    },
  );

  test('a JPEG whose sides do not divide keeps the exact path: identical tensors', async () => {
    const jpeg = await makeScene(7200, 1023, 768);
    const { exact, reduced } = await tensorsOf(jpeg, 1023, 768);
    expect(Array.from(reduced)).toEqual(Array.from(exact));
  });
});

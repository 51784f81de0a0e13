/**
 * Preprocessing into a model's input tensor: the hot path of ingestion.
 *
 * The caller hands over a sharp pipeline that already has whatever orientation (`.rotate()`) and region
 * crop (`.extract()`) it needs; this module resizes it to the model's input size, drops transparency,
 * reads raw RGB bytes and writes a float32 NCHW tensor of one image: [3, height, width], channel-major,
 * value = (byte / 255 - mean[c]) / std[c].
 *
 * Transparency is flattened onto white (a transparent product shot is searched as it is displayed on a
 * white page). Greyscale images are expanded to three equal channels.
 *
 * Speed: resizing a large JPEG straight to the small size lets libvips use JPEG shrink-on-load (decoding
 * at 1/2, 1/4 or 1/8 scale), which is most of the cost of ingestion; the conversion to float goes through
 * a 256-entry lookup table per channel, with no intermediate copies.
 */
import type { Sharp } from 'sharp';
import type { TensorSpec } from './types';

/** Number of float32 values in one image's tensor: 3 * height * width. */
export function tensorSize(spec: TensorSpec): number {
  return 3 * spec.height * spec.width;
}

/** The size of the image a pipeline yields; `format` when it is the undecoded file itself (no region cut). */
export interface TensorSource {
  width: number;
  height: number;
  format?: string;
}

const lutCache = new WeakMap<TensorSpec, Float32Array[]>();

/** One 256-entry table per channel: byte value → normalised float. */
function lookupTables(spec: TensorSpec): Float32Array[] {
  let luts = lutCache.get(spec);
  if (!luts) {
    luts = [0, 1, 2].map((c) => {
      const lut = new Float32Array(256);
      const scale = 1 / (255 * spec.std[c]);
      const offset = -spec.mean[c] / spec.std[c];
      for (let v = 0; v < 256; v++) lut[v] = v * scale + offset;
      return lut;
    });
    lutCache.set(spec, luts);
  }
  return luts;
}

/**
 * Resize per `spec` and convert to a normalised NCHW float32 tensor for one image (length tensorSize(spec)).
 *
 * - `fill`: squash the whole image to width x height, ignoring aspect ratio.
 * - `shortest_side_center_crop`: scale so the image covers width x height (for a square spec: the
 *   shortest side becomes `width`), then take the centre, as open_clip / Immich preprocess. With
 *   `source` (the size of the image the pipeline yields), the sizes and offsets are exactly Immich's
 *   (see immichCrop); without it, sharp's own cover rounding is used, which can differ by a pixel.
 *   A JPEG given with its `format` may be decoded at a reduced scale first (jpegShrinkLeavesResize).
 *
 * @param out optional destination (e.g. a slice of a batch buffer); must hold tensorSize(spec) floats.
 */
export async function toTensor(
  pipeline: Sharp,
  spec: TensorSpec,
  out?: Float32Array,
  source?: TensorSource,
): Promise<Float32Array> {
  const { width, height } = spec;
  const kernel = spec.kernel ?? 'linear';
  const resized =
    spec.resize === 'shortest_side_center_crop' && source
      ? (() => {
          const c = immichCrop(source.width, source.height, width, height);
          const fastShrinkOnLoad = jpegShrinkLeavesResize(source, c);
          return pipeline
            .resize(c.resizedWidth, c.resizedHeight, { fit: 'fill', kernel, fastShrinkOnLoad })
            .extract({ left: c.left, top: c.top, width, height });
        })()
      : pipeline.resize(width, height, { fit: spec.resize === 'fill' ? 'fill' : 'cover', position: 'centre', kernel });
  const { data, info } = await resized
    .flatten({ background: { r: 255, g: 255, b: 255 } })
    .raw()
    .toBuffer({ resolveWithObject: true });

  if (info.width !== width || info.height !== height) {
    throw new Error(`resize produced ${info.width}x${info.height}, expected ${width}x${height}`);
  }
  const plane = width * height;
  const tensor = out ?? new Float32Array(3 * plane);
  if (tensor.length < 3 * plane) throw new Error(`output buffer holds ${tensor.length} floats, need ${3 * plane}`);
  const [lr, lg, lb] = lookupTables(spec);
  const channels = info.channels;

  if (channels === 3 || channels === 4) {
    // After flatten there is no alpha, but stay correct if a caller's pipeline kept one.
    for (let p = 0, s = 0; p < plane; p++, s += channels) {
      tensor[p] = lr[data[s]];
      tensor[plane + p] = lg[data[s + 1]];
      tensor[2 * plane + p] = lb[data[s + 2]];
    }
  } else if (channels === 1 || channels === 2) {
    // Greyscale (with or without alpha): the same value in R, G and B.
    for (let p = 0, s = 0; p < plane; p++, s += channels) {
      const v = data[s];
      tensor[p] = lr[v];
      tensor[plane + p] = lg[v];
      tensor[2 * plane + p] = lb[v];
    }
  } else {
    throw new Error(`unsupported channel count ${channels}`);
  }
  return tensor;
}

/**
 * The share of the resize that sharp leaves after decoding a JPEG at reduced scale: at least this, or the
 * JPEG is decoded whole. With fastShrinkOnLoad:false sharp itself already shrinks on load when that leaves
 * 2x or more; this lets it do so from 1.7x (a 1024x768 photo: decoded at 512x384 for a 298x224 resize,
 * ~1.2 ms less CPU of ~5.7). Measured on real photographs, see docs/models.md "Preprocessing".
 */
export const MIN_RESIZE_AFTER_SHRINK = 1.7;

/** The JPEG shrink-on-load factor sharp 0.35 picks for a resize by `shrink` (its pipeline.cc, mirrored). */
export function sharpJpegShrink(shrink: number, fastShrinkOnLoad: boolean): number {
  const factor = fastShrinkOnLoad ? 1 : 2;
  let s = shrink >= 8 * factor ? 8 : shrink >= 4 * factor ? 4 : shrink >= 2 * factor ? 2 : 1;
  if (s > 1 && Math.trunc(shrink) === s) s /= 2; // sharp's guard against libjpeg rounding
  return s;
}

/**
 * Whether the Immich-geometry resize of `source` may use fastShrinkOnLoad: only for a JPEG, when the reduced decode
 * still leaves MIN_RESIZE_AFTER_SHRINK of the resize, and when both sides divide by the shrink factor.
 * libjpeg rounds a reduced size up, and resizing that rounded size shifts the picture by up to half a
 * decoded pixel (measured: 2.7x the mean difference of exact divisions), so a side that does not divide
 * keeps the exact path.
 */
export function jpegShrinkLeavesResize(source: TensorSource, resized: { resizedWidth: number; resizedHeight: number }): boolean {
  if (source.format !== 'jpeg') return false;
  const shrink = Math.min(source.width / resized.resizedWidth, source.height / resized.resizedHeight);
  const s = sharpJpegShrink(shrink, true);
  return s > sharpJpegShrink(shrink, false) && shrink / s >= MIN_RESIZE_AFTER_SHRINK && source.width % s === 0 && source.height % s === 0;
}

/**
 * Immich's CLIP geometry (immich_ml/models/transforms.py resize_pil + crop_pil, the same as open_clip's
 * Resize + CenterCrop up to the rounding of the crop offset): the side that limits the scale becomes the
 * target size exactly, the other is int(other / limiting * size); the crop starts at int(resized/2 - size/2).
 */
export function immichCrop(
  sourceWidth: number,
  sourceHeight: number,
  width: number,
  height: number,
): { resizedWidth: number; resizedHeight: number; left: number; top: number } {
  let resizedWidth: number;
  let resizedHeight: number;
  if (sourceWidth * height <= sourceHeight * width) {
    resizedWidth = width;
    resizedHeight = Math.max(height, Math.trunc((sourceHeight / sourceWidth) * width));
  } else {
    resizedHeight = height;
    resizedWidth = Math.max(width, Math.trunc((sourceWidth / sourceHeight) * height));
  }
  return {
    resizedWidth,
    resizedHeight,
    left: Math.trunc(resizedWidth / 2 - width / 2),
    top: Math.trunc(resizedHeight / 2 - height / 2),
  };
}

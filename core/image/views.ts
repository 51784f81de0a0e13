/**
 * Views: several model inputs derived from ONE decode of a picture (the whole picture, its mirror, its
 * greyscale version, overlapping crops of about half the area, small rotations, its top and bottom strips).
 * A near-duplicate that was mirrored, turned grey, cropped hard or had a band pasted across it is close to
 * one of the views even when it is far from the whole.
 *
 * The picture is decoded once, to raw RGB at a working size a few times the model's input (JPEG
 * shrink-on-load keeps that cheap); every view is cut from those raw pixels by sharp without decoding the
 * file again, and the caller embeds all tensors in one batched model run.
 */
import sharp, { type Sharp } from 'sharp';
import { toTensor } from './tensor';
import type { TensorSpec } from './types';

/** The views a library can index. `whole` is always first: it is the image's own vector. */
export const VIEW_NAMES = ['whole', 'mirror', 'grey', 'crop-tl', 'crop-tr', 'crop-bl', 'crop-br', 'crop-c', 'rot+8', 'rot-8', 'strip-top', 'strip-bottom'] as const;
export type ViewName = (typeof VIEW_NAMES)[number];

export function isViewName(name: string): name is ViewName {
  return (VIEW_NAMES as readonly string[]).includes(name);
}

/** The default set of database views (see docs/models.md for what each one costs and earns). */
export const DEFAULT_VIEWS: readonly ViewName[] = VIEW_NAMES;

/**
 * Views also cut from a query, when the library indexes them, and compared with that same stored view
 * only (the whole query is compared with every other view). A band pasted across a copy (a caption, a
 * banner) covers at most one of the two strips, and the clean one matches its stored strip. Pairing them
 * keeps unrelated pictures from climbing: two skies' strips look alike, a strip and a whole picture not.
 */
export const QUERY_VIEWS: readonly ViewName[] = ['strip-top', 'strip-bottom'];

/**
 * How much less a match through any view but `whole` counts: its similarity s scores s − d·(1 − s). A
 * mirror, a crop or a strip of a picture matching is weaker evidence than the picture itself, and the
 * best of a dozen views of an unrelated picture is higher than its whole by chance alone; the discount
 * grows with the distance, so a copy matched through a view (s ≈ 0.97 → 0.96) still ranks first, above a
 * crop of it stored as a picture of its own, while unrelated pictures stop climbing (0.4 → 0.25 at
 * d = 0.25). docs/models.md, Views.
 */
export const VIEW_MATCH_DISCOUNT = 0.25;

/** A similarity through a view, discounted (VIEW_MATCH_DISCOUNT); monotone, and 1 stays 1. */
export function discounted(similarity: number, discount: number): number {
  return similarity - discount * (1 - similarity);
}

/** The similarity a discounted score comes from (discounted's inverse), for minimum-score thresholds. */
export function undiscounted(score: number, discount: number): number {
  return (score + discount) / (1 + discount);
}

/** Side of a crop view as a fraction of the picture's side: 0.71² ≈ half the area. */
const CROP_SIDE = 0.71;

/** Raw pixels of one decode: the source every view is cut from. */
export interface DecodedPixels {
  data: Buffer;
  width: number;
  height: number;
  channels: 3;
}

/** Long side of the one decode, as a multiple of the model input's long side (enough detail for a half crop). */
const WORKING_SCALE = 3;

/**
 * Runs the single decode: the oriented (and region-cropped) pipeline resized to the working size, as raw
 * RGB (transparency flattened onto white, as toTensor does).
 */
export async function decodeForViews(pipeline: Sharp, spec: TensorSpec): Promise<DecodedPixels> {
  const side = WORKING_SCALE * Math.max(spec.width, spec.height);
  const { data, info } = await pipeline
    .resize(side, side, { fit: 'inside', withoutEnlargement: true, kernel: 'linear' })
    .flatten({ background: { r: 255, g: 255, b: 255 } })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 3 };
}

/** A sharp pipeline over the decoded pixels (no file decode). */
function fromPixels(px: DecodedPixels): Sharp {
  return sharp(px.data, { raw: { width: px.width, height: px.height, channels: px.channels } });
}

/** Height of a strip view as a fraction of the picture's: a band pasted over 30 % of it misses one of the two. */
const STRIP_SIDE = 0.35;

/** The rectangle of a crop or strip view, in pixels of the decoded picture. */
export function cropRect(view: ViewName, width: number, height: number): { left: number; top: number; width: number; height: number } {
  if (view === 'strip-top' || view === 'strip-bottom') {
    const h = Math.max(1, Math.round(height * STRIP_SIDE));
    return { left: 0, top: view === 'strip-top' ? 0 : height - h, width, height: h };
  }
  const w = Math.max(1, Math.round(width * CROP_SIDE));
  const h = Math.max(1, Math.round(height * CROP_SIDE));
  const right = width - w;
  const bottom = height - h;
  switch (view) {
    case 'crop-tl':
      return { left: 0, top: 0, width: w, height: h };
    case 'crop-tr':
      return { left: right, top: 0, width: w, height: h };
    case 'crop-bl':
      return { left: 0, top: bottom, width: w, height: h };
    case 'crop-br':
      return { left: right, top: bottom, width: w, height: h };
    default:
      return { left: Math.floor(right / 2), top: Math.floor(bottom / 2), width: w, height: h };
  }
}

/** The pipeline of one non-rotated view over the decoded pixels. */
function viewPipeline(px: DecodedPixels, view: ViewName): Sharp {
  const base = fromPixels(px);
  switch (view) {
    case 'whole':
      return base;
    case 'mirror':
      return base.flop();
    case 'grey':
      return base.greyscale();
    default:
      return base.extract(cropRect(view, px.width, px.height));
  }
}

/**
 * The model input tensor of each view, in the order given. Rotations render to a buffer first, because
 * sharp applies extract before rotate within one pipeline; the fill is black, as most editors leave it.
 */
export async function viewTensors(px: DecodedPixels, views: readonly ViewName[], spec: TensorSpec): Promise<Float32Array[]> {
  return Promise.all(
    views.map(async (view) => {
      if (view === 'rot+8' || view === 'rot-8') {
        const angle = view === 'rot+8' ? 8 : -8;
        const rotated = await fromPixels(px).rotate(angle, { background: { r: 0, g: 0, b: 0 } }).raw().toBuffer({ resolveWithObject: true });
        const inner = { data: rotated.data, width: rotated.info.width, height: rotated.info.height, channels: 3 as const };
        return toTensor(sharp(inner.data, { raw: { width: inner.width, height: inner.height, channels: 3 } }).extract(innerRect(px, inner)), spec);
      }
      return toTensor(viewPipeline(px, view), spec);
    }),
  );
}

/**
 * The centred rectangle of the original's size inside a picture rotated by `angle` degrees: a rotated copy
 * is usually framed like the original, with fill in its corners, and the view keeps those corners too.
 */
function innerRect(px: DecodedPixels, rotated: { width: number; height: number }) {
  const width = Math.min(rotated.width, px.width);
  const height = Math.min(rotated.height, px.height);
  return { left: Math.floor((rotated.width - width) / 2), top: Math.floor((rotated.height - height) / 2), width, height };
}

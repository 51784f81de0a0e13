/** Contracts of the image pipeline (core/image/). */
import type { Region } from '../records';

/** Every format the pipeline reads; `pnm` is Netpbm (PPM, PGM, PBM). */
export const IMAGE_FORMATS = ['jpeg', 'png', 'bmp', 'gif', 'webp', 'tiff', 'pnm'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];
/** What a caller that names no formats accepts: all but Netpbm, which only some vendors document. */
export const DEFAULT_IMAGE_FORMATS: readonly ImageFormat[] = IMAGE_FORMATS.filter((f) => f !== 'pnm');

/** Limits an adapter supplies per call (each vendor has its own). Sides are after EXIF orientation. */
export interface ImageLimits {
  /** Accepted formats; default DEFAULT_IMAGE_FORMATS. */
  formats?: readonly ImageFormat[];
  maxBytes?: number;
  minWidth?: number;
  minHeight?: number;
  maxWidth?: number;
  maxHeight?: number;
  /** Short side at least / long side at most (some vendors state their rules this way). */
  minShortSide?: number;
  maxLongSide?: number;
  /** Pixel-bomb guard: width * height of the decoded image. Default DEFAULT_MAX_PIXELS. */
  maxPixels?: number;
  /** Refuse images with an alpha channel (PNG, WebP, TIFF, BMP alpha masks; not a GIF's transparent index). */
  refuseAlpha?: boolean;
  /** Refuse a JPEG whose EXIF orientation is not 1, before any other check (the caller wants no rotation flags). */
  refuseRotation?: boolean;
}

export const DEFAULT_MAX_PIXELS = 100_000_000;

/** A validated image: header read, limits checked, not yet fully decoded. */
export interface CheckedImage {
  bytes: Buffer;
  format: ImageFormat;
  /** Display size, after EXIF orientation. */
  width: number;
  height: number;
}

/** How a model wants its input tensor (from the model manifest). */
export interface TensorSpec {
  width: number;
  height: number;
  /** fill: squash the whole image to width x height; shortest_side_center_crop: open_clip/Immich style. */
  resize: 'fill' | 'shortest_side_center_crop';
  /** sharp kernel used for resizing. */
  kernel?: 'nearest' | 'linear' | 'cubic' | 'lanczos3';
  /** Per-channel RGB mean and std applied after scaling to [0,1]. */
  mean: [number, number, number];
  std: [number, number, number];
}

export type { Region };

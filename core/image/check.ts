/**
 * Validation and opening of images. `checkImage` is cheap (magic numbers plus header metadata, never a
 * pixel decode) so a refused image costs almost nothing; `openImage` builds the sharp pipeline that
 * decodes a checked image, oriented and optionally cropped. Decode-time failures surface when the
 * pipeline runs: wrap it in `decodeWith` to get ImageInvalidError('corrupt') instead of sharp's errors.
 */
import sharp from 'sharp';
import type { Metadata, Sharp } from 'sharp';
import { ImageInvalidError, InvalidArgumentError, isEngineError } from '../errors';
import type { Region } from '../records';
import { assertBmpData, readBmpHeader, type BmpHeader } from './bmp';
import { decodeBudget } from './decode-budget';
import { readJpegHeader, type JpegHeader } from './jpeg-header';
import { assertPnmData, readPnmHeader, type PnmHeader } from './pnm';
import { decodeOffThread } from './raw-decode-pool';
import { sniffFormat } from './sniff';
import { DEFAULT_IMAGE_FORMATS, DEFAULT_MAX_PIXELS, type CheckedImage, type ImageFormat, type ImageLimits } from './types';

export interface OpenImageOptions {
  /** Crop to this rectangle of the oriented image (clamped to it). */
  region?: Region;
}

/** Checks an image against the caller's limits without decoding its pixels. */
export async function checkImage(bytes: Buffer, limits: ImageLimits = {}): Promise<CheckedImage> {
  if (!bytes || bytes.length === 0) throw new ImageInvalidError('empty', 'image is empty (0 bytes)');
  const format = sniffFormat(bytes);
  // Read once: for the rotation rule, which comes before every other, and for the header below.
  const jpeg = format === 'jpeg' && limits.refuseRotation ? readJpegHeader(bytes) : undefined;
  if ((jpeg?.orientation ?? 1) > 1) throw new ImageInvalidError('rotated', `image has an EXIF rotation flag (orientation ${jpeg!.orientation})`);
  if (limits.maxBytes !== undefined && bytes.length > limits.maxBytes) {
    throw new ImageInvalidError(
      'too_many_bytes',
      `image is ${bytes.length} bytes; the limit is ${limits.maxBytes} bytes`,
    );
  }

  const accepted = limits.formats ?? DEFAULT_IMAGE_FORMATS;
  if (!format) {
    throw new ImageInvalidError('bad_format', `not a recognised image format (accepted: ${accepted.join(', ')})`);
  }
  if (!accepted.includes(format)) {
    throw new ImageInvalidError('bad_format', `image format ${format} is not accepted (accepted: ${accepted.join(', ')})`);
  }

  const header = await readHeader(bytes, format, jpeg);
  const { width: storedWidth, height: storedHeight, orientation } = header;

  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_PIXELS;
  const pixels = storedWidth * storedHeight;
  if (pixels > maxPixels) {
    throw new ImageInvalidError(
      'too_many_pixels',
      `image is ${storedWidth}x${storedHeight} px (${pixels} pixels); the limit is ${maxPixels} pixels`,
    );
  }

  // A BMP is not compressed: its pixel array must be all there (checked after the pixel limit, so a
  // header declaring a huge image is reported as such).
  if (header.bmp) assertBmpData(bytes, header.bmp);
  if (header.pnm) assertPnmData(bytes, header.pnm);
  if (limits.refuseAlpha && header.alpha && (await alphaInUse(bytes, header))) {
    throw new ImageInvalidError('has_alpha', `${format.toUpperCase()} image has an alpha channel`);
  }

  // EXIF orientations 5-8 turn the image a quarter: the displayed sides swap.
  const swap = orientation !== undefined && orientation >= 5 && orientation <= 8;
  const width = swap ? storedHeight : storedWidth;
  const height = swap ? storedWidth : storedHeight;
  checkSides(width, height, limits);
  return { bytes, format, width, height };
}

/**
 * Whether a declared alpha channel is really there. Many BMP writers declare an alpha mask and leave it
 * zero: only decoding tells (the decoder thread keeps a fourth channel only when some pixel uses it).
 */
async function alphaInUse(bytes: Buffer, header: { width: number; height: number; bmp?: BmpHeader }): Promise<boolean> {
  if (!header.bmp) return true;
  const raw = await decodeBudget.hold(header, () => decodeOffThread('bmp', bytes));
  return raw.channels === 4;
}

async function readHeader(
  bytes: Buffer,
  format: ImageFormat,
  jpegRead?: JpegHeader,
): Promise<{ width: number; height: number; orientation?: number; alpha?: boolean; bmp?: BmpHeader; pnm?: PnmHeader }> {
  if (format === 'bmp') {
    const bmp = readBmpHeader(bytes); // throws corrupt / bad_format itself
    return { width: bmp.width, height: bmp.height, alpha: (bmp.masks?.a ?? 0) !== 0, bmp };
  }
  if (format === 'pnm') {
    const pnm = readPnmHeader(bytes); // throws corrupt itself
    return { width: pnm.width, height: pnm.height, pnm };
  }
  if (format === 'jpeg') {
    const jpeg = jpegRead ?? readJpegHeader(bytes);
    if (jpeg) return jpeg;
  }
  let meta: Metadata;
  try {
    // Header only: sharp's metadata() does not decode pixels. The pixel limit is ours to check.
    meta = await sharp(bytes, { limitInputPixels: false, animated: false }).metadata();
  } catch (e) {
    throw new ImageInvalidError('corrupt', `${format.toUpperCase()} image header cannot be read: ${sharpMessage(e)}`);
  }
  if (meta.format !== format || !meta.width || !meta.height) {
    throw new ImageInvalidError('corrupt', `${format.toUpperCase()} image header cannot be read`);
  }
  // For multi-page GIF/TIFF/WebP, pageHeight is the size of the first frame that is decoded.
  const height = meta.pageHeight && meta.pageHeight > 0 ? meta.pageHeight : meta.height;
  // libvips opens every GIF with four bands; a GIF's transparency is a palette index, not an alpha channel.
  return { width: meta.width, height, orientation: meta.orientation, alpha: format !== 'gif' && meta.hasAlpha };
}

function checkSides(width: number, height: number, limits: ImageLimits): void {
  const size = `image is ${width}x${height} px`;
  const tooSmall = (rule: string): never => {
    throw new ImageInvalidError('too_small', `${size}; ${rule}`);
  };
  const tooLarge = (rule: string): never => {
    throw new ImageInvalidError('too_large', `${size}; ${rule}`);
  };
  const shortSide = Math.min(width, height);
  const longSide = Math.max(width, height);
  if (limits.minWidth !== undefined && width < limits.minWidth) tooSmall(`the width must be at least ${limits.minWidth} px`);
  if (limits.minHeight !== undefined && height < limits.minHeight) tooSmall(`the height must be at least ${limits.minHeight} px`);
  if (limits.minShortSide !== undefined && shortSide < limits.minShortSide) {
    tooSmall(`the shorter side must be at least ${limits.minShortSide} px`);
  }
  if (limits.maxWidth !== undefined && width > limits.maxWidth) tooLarge(`the width must be at most ${limits.maxWidth} px`);
  if (limits.maxHeight !== undefined && height > limits.maxHeight) tooLarge(`the height must be at most ${limits.maxHeight} px`);
  if (limits.maxLongSide !== undefined && longSide > limits.maxLongSide) {
    tooLarge(`the longer side must be at most ${limits.maxLongSide} px`);
  }
}

/**
 * Decodes a checked image for `run`, the one way images are decoded: within the process's decode budget
 * (decode-budget.ts), with sharp's failures mapped to ImageInvalidError (decodeWith), on the pipeline of
 * openImage. The budget is held until `run` has its pixels.
 */
export function decodeImage<T>(checked: CheckedImage, opts: OpenImageOptions, run: (pipeline: Sharp) => Promise<T>): Promise<T> {
  return decodeBudget.hold(checked, () => decodeWith(async () => run(await openImage(checked, opts))));
}

/**
 * The sharp pipeline of a checked image: EXIF orientation applied, optionally cropped to a region given
 * in oriented pixels. Nothing is decoded until the pipeline runs, except a BMP or a PNM, which the decoder
 * thread turns into raw pixels first (sharp's libvips reads neither).
 */
export async function openImage(checked: CheckedImage, opts: OpenImageOptions = {}): Promise<Sharp> {
  let pipeline: Sharp;
  if (checked.format === 'bmp' || checked.format === 'pnm') {
    const raw = await decodeOffThread(checked.format, checked.bytes);
    pipeline = sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels } });
  } else {
    pipeline = sharp(checked.bytes, {
      // 'error' fails on truncated and damaged pixel data, not on the harmless warnings of real-world files.
      failOn: 'error',
      // The checked size is the most this image may decode to: anything larger means the header lied.
      limitInputPixels: Math.max(1, checked.width * checked.height),
      sequentialRead: true,
      animated: false,
      autoOrient: true,
    });
  }
  if (opts.region) pipeline = pipeline.extract(clampRegion(opts.region, checked.width, checked.height));
  return pipeline;
}

/**
 * Integer rectangle of `region` inside a width x height image (edges rounded outwards, then clamped).
 * Throws InvalidArgumentError('region') for a malformed region or one that does not overlap the image.
 */
export function clampRegion(region: Region, width: number, height: number): Region {
  const { left, top, width: w, height: h } = region;
  if (![left, top, w, h].every(Number.isFinite) || w <= 0 || h <= 0) {
    throw new InvalidArgumentError('region', `region ${describeRegion(region)} is empty or malformed`);
  }
  const x0 = Math.max(0, Math.floor(left));
  const y0 = Math.max(0, Math.floor(top));
  const x1 = Math.min(width, Math.ceil(left + w));
  const y1 = Math.min(height, Math.ceil(top + h));
  if (x1 <= x0 || y1 <= y0) {
    throw new InvalidArgumentError(
      'region',
      `region ${describeRegion(region)} lies outside the image (${width}x${height} px)`,
    );
  }
  return { left: x0, top: y0, width: x1 - x0, height: y1 - y0 };
}

function describeRegion(r: Region): string {
  return `{left: ${r.left}, top: ${r.top}, width: ${r.width}, height: ${r.height}}`;
}

function sharpMessage(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0].trim();
}

/** Turns an error raised while decoding (sharp's truncated/corrupt data errors) into ImageInvalidError. */
export function decodeError(e: unknown): ImageInvalidError {
  if (e instanceof ImageInvalidError) return e;
  const message = sharpMessage(e);
  if (/pixel limit/i.test(message)) {
    return new ImageInvalidError('too_many_pixels', `image has more pixels than its header declared: ${message}`);
  }
  return new ImageInvalidError('corrupt', `image cannot be decoded: ${message}`);
}

/**
 * Runs a decode step (e.g. `() => openImage(c).raw().toBuffer()`) and maps sharp's errors to
 * ImageInvalidError('corrupt'). Engine errors (e.g. an InvalidArgumentError for a region) pass through.
 */
export async function decodeWith<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isEngineError(e)) throw e;
    throw decodeError(e);
  }
}

import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { imageErrorOf } from '../helpers/image-errors';
import sharp from 'sharp';
import type { OutputInfo } from 'sharp';
import { ImageInvalidError, InvalidArgumentError } from '../../core/errors';
import {
  bmpSize,
  checkImage,
  decodeError,
  decodeImage,
  decodeWith,
  IMAGE_FORMATS,
  openImage,
  sniffFormat,
  type CheckedImage,
  type ImageFormat,
  type ImageLimits,
} from '../../core/image';

type Rgba = [number, number, number, number];

async function reasonOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ImageInvalidError) return e.reason;
    throw e;
  }
  return undefined;
}


/** A test pattern: distinct colours per quadrant so orientation and row order show. */
function pattern(x: number, y: number, w: number, h: number): Rgba {
  const right = x >= w / 2;
  const bottom = y >= h / 2;
  if (!right && !bottom) return [255, 0, 0, 255];
  if (right && !bottom) return [0, 255, 0, 255];
  if (!right && bottom) return [0, 0, 255, 255];
  return [255, 255, 0, 255];
}

async function encode(format: Exclude<ImageFormat, 'bmp' | 'pnm'>, width: number, height: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) raw.set(pattern(x, y, width, height).slice(0, 3), (y * width + x) * 3);
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .toFormat(format, format === 'jpeg' || format === 'webp' ? { quality: 95 } : {})
    .toBuffer();
}

interface BmpSpec {
  width: number;
  height: number;
  bpp: 1 | 4 | 8 | 16 | 24 | 32;
  topDown?: boolean;
  /** 12 (core), 40 (INFO), 108 (V4), 124 (V5). */
  headerSize?: 12 | 40 | 108 | 124;
  /** Channel masks for BI_BITFIELDS (16/32 bpp). */
  masks?: { r: number; g: number; b: number; a?: number };
  compression?: number;
  pixel: (x: number, y: number) => Rgba;
}

const PALETTE: Rgba[] = [
  [0, 0, 0, 255],
  [255, 255, 255, 255],
  [255, 0, 0, 255],
  [0, 255, 0, 255],
  [0, 0, 255, 255],
  [255, 255, 0, 255],
];

/** Writes a BMP file by hand (sharp cannot), so the decoder is tested against the format itself. */
function makeBmp(spec: BmpSpec): Buffer {
  const { width, height, bpp, pixel } = spec;
  const headerSize = spec.headerSize ?? 40;
  const masks = spec.masks;
  const compression = spec.compression ?? (masks ? 3 : 0);
  const paletteEntries = bpp <= 8 ? Math.min(1 << bpp, PALETTE.length) : 0;
  const paletteEntrySize = headerSize === 12 ? 3 : 4;
  const maskBytes = masks && headerSize === 40 ? 12 : 0;
  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  const dataOffset = 14 + headerSize + maskBytes + paletteEntries * paletteEntrySize;
  const file = Buffer.alloc(dataOffset + stride * height);
  file.write('BM', 0, 'latin1');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(dataOffset, 10);
  file.writeUInt32LE(headerSize, 14);
  if (headerSize === 12) {
    file.writeUInt16LE(width, 18);
    file.writeInt16LE(spec.topDown ? -height : height, 20);
    file.writeUInt16LE(1, 22);
    file.writeUInt16LE(bpp, 24);
  } else {
    file.writeInt32LE(width, 18);
    file.writeInt32LE(spec.topDown ? -height : height, 22);
    file.writeUInt16LE(1, 26);
    file.writeUInt16LE(bpp, 28);
    file.writeUInt32LE(compression, 30);
    file.writeUInt32LE(stride * height, 34);
    file.writeUInt32LE(paletteEntries, 46);
    if (masks) {
      file.writeUInt32LE(masks.r >>> 0, 54);
      file.writeUInt32LE(masks.g >>> 0, 58);
      file.writeUInt32LE(masks.b >>> 0, 62);
      if (headerSize >= 108) file.writeUInt32LE((masks.a ?? 0) >>> 0, 66);
    }
  }
  const paletteAt = 14 + headerSize + maskBytes;
  for (let i = 0; i < paletteEntries; i++) {
    const [r, g, b] = PALETTE[i];
    file[paletteAt + i * paletteEntrySize] = b;
    file[paletteAt + i * paletteEntrySize + 1] = g;
    file[paletteAt + i * paletteEntrySize + 2] = r;
  }
  const pack = (value: number, mask: number): number => {
    let shift = 0;
    while (((mask >>> shift) & 1) === 0) shift++;
    const bits = (mask >>> shift).toString(2).length;
    return (Math.round((value * ((1 << bits) - 1)) / 255) << shift) >>> 0;
  };
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (spec.topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const [r, g, b, a] = pixel(x, y);
      if (bpp <= 8) {
        const index = PALETTE.findIndex((p) => p[0] === r && p[1] === g && p[2] === b);
        const bitPos = x * bpp;
        file[row + (bitPos >> 3)] |= index << (8 - bpp - (bitPos & 7));
      } else if (bpp === 24) {
        file[row + x * 3] = b;
        file[row + x * 3 + 1] = g;
        file[row + x * 3 + 2] = r;
      } else {
        const m = masks ?? (bpp === 16 ? { r: 0x7c00, g: 0x03e0, b: 0x001f } : { r: 0xff0000, g: 0xff00, b: 0xff });
        let v = (pack(r, m.r) | pack(g, m.g) | pack(b, m.b) | (m.a ? pack(a, m.a) : 0)) >>> 0;
        if (bpp === 16) file.writeUInt16LE(v, row + x * 2);
        else file.writeUInt32LE(v >>> 0, row + x * 4);
        v = 0;
      }
    }
  }
  return file;
}

async function rawPixels(checked: CheckedImage, region?: { left: number; top: number; width: number; height: number }) {
  return decodeImage(checked, { region }, (image) => image.ensureAlpha().raw().toBuffer({ resolveWithObject: true }));
}

function pixelAt(img: { data: Buffer; info: OutputInfo }, x: number, y: number): Rgba {
  const o = (y * img.info.width + x) * img.info.channels;
  return [img.data[o], img.data[o + 1], img.data[o + 2], img.data[o + 3]];
}

function expectClose(actual: Rgba, expected: Rgba, tolerance: number): void {
  for (let c = 0; c < 4; c++) expect(Math.abs(actual[c] - expected[c])).toBeLessThanOrEqual(tolerance);
}

describe('sniffFormat', () => {
  it('knows every accepted format by its magic number', async () => {
    for (const format of ['jpeg', 'png', 'gif', 'webp', 'tiff'] as const) {
      expect(sniffFormat(await encode(format, 8, 8))).toBe(format);
    }
    expect(sniffFormat(makeBmp({ width: 2, height: 2, bpp: 24, pixel: () => [0, 0, 0, 255] }))).toBe('bmp');
    expect(sniffFormat(Buffer.from('GIF87a......'))).toBe('gif');
    expect(sniffFormat(Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8]))).toBe('tiff');
    expect(sniffFormat(Buffer.from('hello world, not an image'))).toBeUndefined();
    expect(sniffFormat(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeUndefined();
    expect(sniffFormat(Buffer.alloc(0))).toBeUndefined();
  });
});

describe('checkImage: formats', () => {
  it.each(['jpeg', 'png', 'gif', 'webp', 'tiff'] as const)('accepts %s and reads its size', async (format) => {
    const bytes = await encode(format, 64, 48);
    const checked = await checkImage(bytes, {});
    expect(checked).toMatchObject({ format, width: 64, height: 48 });
    expect(checked.bytes).toBe(bytes);
    const img = await rawPixels(checked);
    expect([img.info.width, img.info.height]).toEqual([64, 48]);
    const tolerance = format === 'png' || format === 'gif' ? 0 : 24; // sharp writes TIFF with JPEG compression
    expectClose(pixelAt(img, 5, 5), [255, 0, 0, 255], tolerance);
    expectClose(pixelAt(img, 58, 5), [0, 255, 0, 255], tolerance);
    expectClose(pixelAt(img, 5, 42), [0, 0, 255, 255], tolerance);
    expectClose(pixelAt(img, 58, 42), [255, 255, 0, 255], tolerance);
  });

  const W = 13; // odd width exercises row padding and partial bytes
  const H = 7;
  const quadrants = (x: number, y: number) => pattern(x, y, W, H);
  const bmpCases: [string, Omit<BmpSpec, 'width' | 'height' | 'pixel'>, number][] = [
    ['24-bit bottom-up', { bpp: 24 }, 0],
    ['24-bit top-down', { bpp: 24, topDown: true }, 0],
    ['24-bit core header (OS/2)', { bpp: 24, headerSize: 12 }, 0],
    ['32-bit BI_RGB', { bpp: 32 }, 0],
    ['32-bit V5 bitfields with alpha', { bpp: 32, headerSize: 124, masks: { r: 0xff0000, g: 0xff00, b: 0xff, a: 0xff000000 } }, 0],
    ['32-bit V4 bitfields, alpha mask left zero', { bpp: 32, headerSize: 108, masks: { r: 0xff, g: 0xff00, b: 0xff0000 } }, 0],
    ['16-bit 555', { bpp: 16 }, 0],
    ['16-bit 565 bitfields', { bpp: 16, masks: { r: 0xf800, g: 0x07e0, b: 0x001f } }, 0],
    ['16-bit 565 bitfields, top-down V5', { bpp: 16, topDown: true, headerSize: 124, masks: { r: 0xf800, g: 0x07e0, b: 0x001f } }, 0],
    ['8-bit palette', { bpp: 8 }, 0],
    ['4-bit palette', { bpp: 4 }, 0],
    ['4-bit palette, core header', { bpp: 4, headerSize: 12 }, 0],
  ];
  it.each(bmpCases)('accepts BMP %s, sized and decoded right', async (_name, spec, tolerance) => {
    const bytes = makeBmp({ ...spec, width: W, height: H, pixel: quadrants });
    expect(bmpSize(bytes)).toEqual({ width: W, height: H });
    const checked = await checkImage(bytes, { formats: ['bmp'] });
    expect(checked).toMatchObject({ format: 'bmp', width: W, height: H });
    const img = await rawPixels(checked);
    expect([img.info.width, img.info.height]).toEqual([W, H]);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) expectClose(pixelAt(img, x, y), quadrants(x, y), tolerance);
    }
  });

  it('accepts a 1-bit BMP', async () => {
    const checker = (x: number, y: number): Rgba => ((x + y) % 2 ? [255, 255, 255, 255] : [0, 0, 0, 255]);
    const checked = await checkImage(makeBmp({ width: 37, height: 3, bpp: 1, pixel: checker }), {});
    const img = await rawPixels(checked);
    for (let y = 0; y < 3; y++) for (let x = 0; x < 37; x++) expect(pixelAt(img, x, y)).toEqual(checker(x, y));
  });

  it('keeps real BMP alpha', async () => {
    const bytes = makeBmp({
      width: 4,
      height: 2,
      bpp: 32,
      headerSize: 124,
      masks: { r: 0xff0000, g: 0xff00, b: 0xff, a: 0xff000000 },
      pixel: (x) => [10, 20, 30, x * 60],
    });
    const img = await rawPixels(await checkImage(bytes, {}));
    expect(pixelAt(img, 3, 1)).toEqual([10, 20, 30, 180]);
    expect(pixelAt(img, 0, 0)).toEqual([10, 20, 30, 0]);
  });

  it('refuseAlpha: an alpha channel (PNG, WebP, a BMP alpha some pixel uses) is has_alpha; opaque images, GIFs and an unused BMP alpha mask pass', async () => {
    const limits: ImageLimits = { refuseAlpha: true };
    const translucent = { width: 8, height: 8, channels: 4 as const, background: { r: 9, g: 9, b: 9, alpha: 0.5 } };
    const alphaBmp = makeBmp({ width: 4, height: 2, bpp: 32, headerSize: 124, masks: { r: 0xff0000, g: 0xff00, b: 0xff, a: 0xff000000 }, pixel: () => [1, 2, 3, 4] });
    for (const bytes of [await sharp({ create: translucent }).png().toBuffer(), await sharp({ create: translucent }).webp().toBuffer(), alphaBmp]) {
      expect(await reasonOf(checkImage(bytes, limits))).toBe('has_alpha');
      expect(await reasonOf(checkImage(bytes, {}))).toBeUndefined();
    }
    // Many writers declare an alpha mask and leave every pixel's alpha at zero: an opaque picture.
    const unusedMaskBmp = makeBmp({ width: 4, height: 2, bpp: 32, headerSize: 124, masks: { r: 0xff0000, g: 0xff00, b: 0xff, a: 0xff000000 }, pixel: () => [1, 2, 3, 0] });
    const opaque = [await encode('png', 8, 8), await encode('jpeg', 8, 8), await sharp({ create: translucent }).gif().toBuffer(), makeBmp({ width: 4, height: 2, bpp: 24, pixel: () => [1, 2, 3, 255] }), unusedMaskBmp];
    for (const bytes of opaque) expect(await reasonOf(checkImage(bytes, limits))).toBeUndefined();
  });

  it('refuses RLE BMPs as bad_format and truncated ones as corrupt', async () => {
    const rle = makeBmp({ width: 4, height: 4, bpp: 8, compression: 1, pixel: () => [0, 0, 0, 255] });
    expect(await reasonOf(checkImage(rle, {}))).toBe('bad_format');
    const whole = makeBmp({ width: 40, height: 40, bpp: 24, pixel: () => [0, 0, 0, 255] });
    expect(await reasonOf(checkImage(whole.subarray(0, whole.length - 200), {}))).toBe('corrupt');
    expect(await reasonOf(checkImage(whole.subarray(0, 20), {}))).toBe('corrupt');
    const zeroWidth = Buffer.from(whole);
    zeroWidth.writeInt32LE(0, 18);
    expect(await reasonOf(checkImage(zeroWidth, {}))).toBe('corrupt');
  });

  it('applies the formats filter', async () => {
    const png = await encode('png', 8, 8);
    expect(await reasonOf(checkImage(png, { formats: ['jpeg', 'bmp'] }))).toBe('bad_format');
    const e = await imageErrorOf(checkImage(png, { formats: ['jpeg'] }));
    expect(e.message).toContain('png');
    expect(e.message).toContain('jpeg');
    expect((await checkImage(png, { formats: ['png'] })).format).toBe('png');
    expect(IMAGE_FORMATS).toContain('bmp');
  });
});

describe('checkImage: limits', () => {
  let image: Buffer; // 120 x 80 PNG
  beforeAll(async () => {
    image = await encode('png', 120, 80);
  });

  it('refuses empty input', async () => {
    expect(await reasonOf(checkImage(Buffer.alloc(0), {}))).toBe('empty');
  });

  it('refuses more bytes than maxBytes, before looking at the content', async () => {
    const e = await imageErrorOf(checkImage(image, { maxBytes: image.length - 1 }));
    expect(e.reason).toBe('too_many_bytes');
    expect(e.message).toContain(String(image.length));
    expect(await reasonOf(checkImage(randomBytes(100), { maxBytes: 10 }))).toBe('too_many_bytes');
    await expect(checkImage(image, { maxBytes: image.length })).resolves.toBeTruthy();
  });

  it('refuses random bytes and unsupported formats as bad_format', async () => {
    expect(await reasonOf(checkImage(randomBytes(4096), {}))).toBe('bad_format');
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    expect(await reasonOf(checkImage(svg, {}))).toBe('bad_format');
    const avif = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).avif().toBuffer();
    expect(await reasonOf(checkImage(avif, {}))).toBe('bad_format');
  });

  it('says corrupt when a known format has an unreadable header', async () => {
    const garbage = Buffer.concat([image.subarray(0, 8), randomBytes(64)]);
    expect(await reasonOf(checkImage(garbage, {}))).toBe('corrupt');
    expect(await reasonOf(checkImage(Buffer.from([0xff, 0xd8, 0xff]), {}))).toBe('corrupt');
  });

  it.each<[ImageLimits, string, string]>([
    [{ minWidth: 121 }, 'too_small', 'image is 120x80 px; the width must be at least 121 px'],
    [{ minHeight: 81 }, 'too_small', 'image is 120x80 px; the height must be at least 81 px'],
    [{ minShortSide: 100 }, 'too_small', 'image is 120x80 px; the shorter side must be at least 100 px'],
    [{ maxWidth: 119 }, 'too_large', 'image is 120x80 px; the width must be at most 119 px'],
    [{ maxHeight: 79 }, 'too_large', 'image is 120x80 px; the height must be at most 79 px'],
    [{ maxLongSide: 100 }, 'too_large', 'image is 120x80 px; the longer side must be at most 100 px'],
    [{ maxPixels: 9599 }, 'too_many_pixels', 'image is 120x80 px (9600 pixels); the limit is 9599 pixels'],
  ])('limits %j → %s', async (limits, reason, message) => {
    const e = await imageErrorOf(checkImage(image, limits));
    expect(e.reason).toBe(reason);
    expect(e.message).toBe(message);
  });

  it('passes an image exactly at every limit', async () => {
    const limits: ImageLimits = {
      minWidth: 120,
      minHeight: 80,
      maxWidth: 120,
      maxHeight: 80,
      minShortSide: 80,
      maxLongSide: 120,
      maxPixels: 9600,
      maxBytes: image.length,
    };
    await expect(checkImage(image, limits)).resolves.toMatchObject({ width: 120, height: 80 });
  });

  it('refuses a pixel bomb fast, from its header alone', async () => {
    const bomb = pngDeclaring(50000, 50000);
    expect(bomb.length).toBeLessThan(2000);
    const started = Date.now();
    const e = await imageErrorOf(checkImage(bomb, {}));
    expect(e.reason).toBe('too_many_pixels');
    expect(e.message).toContain('50000x50000');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('checks sides after EXIF orientation (6 swaps width and height)', async () => {
    const jpeg = await sharp(await encode('png', 200, 100)).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const checked = await checkImage(jpeg, { maxWidth: 100, minHeight: 200 });
    expect(checked).toMatchObject({ format: 'jpeg', width: 100, height: 200 });
    expect(await reasonOf(checkImage(jpeg, { minWidth: 150 }))).toBe('too_small');
    const img = await rawPixels(checked);
    expect([img.info.width, img.info.height]).toEqual([100, 200]);
    // Rotated 90° clockwise: the stored top-left (red) is now top-right, bottom-left (blue) top-left.
    expectClose(pixelAt(img, 90, 10), [255, 0, 0, 255], 30);
    expectClose(pixelAt(img, 10, 10), [0, 0, 255, 255], 30);
  });
});

/** A tiny valid PNG whose header declares width x height (the IDAT holds almost nothing). */
function pngDeclaring(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1024))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('decoding', () => {
  async function noisy(format: 'jpeg' | 'png'): Promise<Buffer> {
    return sharp({ create: { width: 256, height: 256, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
      .toFormat(format)
      .toBuffer();
  }

  it.each(['jpeg', 'png'] as const)('a truncated %s passes the header check, then fails to decode as corrupt', async (format) => {
    const whole = await noisy(format);
    const truncated = whole.subarray(0, Math.floor(whole.length * 0.6));
    const checked = await checkImage(truncated, {});
    expect(checked).toMatchObject({ width: 256, height: 256 });
    const e = await imageErrorOf(decodeImage(checked, {}, (image) => image.raw().toBuffer()));
    expect(e.reason).toBe('corrupt');
  });

  it('a PNG whose data is shorter than its header promises is corrupt, not a crash', async () => {
    const liar = pngDeclaring(3000, 2000);
    const checked = await checkImage(liar, {});
    expect(await reasonOf(decodeImage(checked, {}, (image) => image.raw().toBuffer()))).toBe('corrupt');
  });

  it('decodeError maps any decode failure to ImageInvalidError', () => {
    expect(decodeError(new Error('VipsJpeg: premature end of JPEG image')).reason).toBe('corrupt');
    expect(decodeError(new Error('Input image exceeds pixel limit')).reason).toBe('too_many_pixels');
    const own = new ImageInvalidError('too_small', 'x');
    expect(decodeError(own)).toBe(own);
  });

  it('decodeWith lets engine errors through unchanged', async () => {
    const err = new InvalidArgumentError('region', 'bad');
    await expect(decodeWith(() => Promise.reject(err))).rejects.toBe(err);
  });
});

describe('openImage: region crop', () => {
  let checked: CheckedImage; // 200 x 100 PNG, quadrants
  beforeAll(async () => {
    checked = await checkImage(await encode('png', 200, 100), {});
  });

  it('crops to the region', async () => {
    const img = await rawPixels(checked, { left: 110, top: 60, width: 50, height: 30 });
    expect([img.info.width, img.info.height]).toEqual([50, 30]);
    expect(pixelAt(img, 0, 0)).toEqual([255, 255, 0, 255]);
  });

  it('rounds fractional edges outwards and clamps to the image', async () => {
    let img = await rawPixels(checked, { left: 150, top: 50, width: 100, height: 100 });
    expect([img.info.width, img.info.height]).toEqual([50, 50]);
    img = await rawPixels(checked, { left: -10, top: 10.5, width: 30.2, height: 20 });
    expect([img.info.width, img.info.height]).toEqual([21, 21]);
  });

  it('refuses a region outside the image or empty', async () => {
    for (const region of [
      { left: 200, top: 0, width: 10, height: 10 },
      { left: 0, top: -50, width: 10, height: 50 },
      { left: 0, top: 0, width: 0, height: 10 },
      { left: 0, top: 0, width: 10, height: -1 },
      { left: Number.NaN, top: 0, width: 10, height: 10 },
    ]) {
      const error = await openImage(checked, { region }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).field).toBe('region');
    }
  });

  it('crops in oriented coordinates', async () => {
    const jpeg = await sharp(await encode('png', 200, 100)).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    const oriented = await checkImage(jpeg, {});
    // Displayed 100 x 200: the top-right quarter is red.
    const img = await rawPixels(oriented, { left: 60, top: 10, width: 30, height: 80 });
    expect([img.info.width, img.info.height]).toEqual([30, 80]);
    expectClose(pixelAt(img, 15, 40), [255, 0, 0, 255], 30);
  });

  it('crops BMPs too', async () => {
    const bmp = await checkImage(makeBmp({ width: 20, height: 10, bpp: 24, pixel: (x, y) => pattern(x, y, 20, 10) }), {});
    const img = await rawPixels(bmp, { left: 10, top: 5, width: 10, height: 5 });
    expect([img.info.width, img.info.height]).toEqual([10, 5]);
    expect(pixelAt(img, 0, 0)).toEqual([255, 255, 0, 255]);
  });
});

describe('BMP pixel bomb', () => {
  it('reports a BMP header declaring a huge image as too_many_pixels, not corrupt', async () => {
    const bytes = makeBmp({ width: 4, height: 4, bpp: 24, pixel: () => [0, 0, 0, 255] });
    bytes.writeInt32LE(50000, 18);
    bytes.writeInt32LE(50000, 22);
    expect(bmpSize(bytes)).toEqual({ width: 50000, height: 50000 });
    expect(await reasonOf(checkImage(bytes, {}))).toBe('too_many_pixels');
    expect(await reasonOf(checkImage(bytes, { maxPixels: 50000 * 50000 }))).toBe('corrupt');
  });
});

/**
 * A small Netpbm decoder (libvips inside sharp is built without its PPM reader): PPM (P3 plain, P6 raw),
 * PGM (P2, P5) and PBM (P1, P4), 8- and 16-bit samples at any maxval, header comments anywhere before the
 * raster. Only the first image of a multi-image file is read. The output is raw RGB for
 * `sharp(data, { raw: { width, height, channels: 3 } })`; grey and bitmap images are expanded to RGB.
 * `readPnmHeader` is cheap (the header only) and runs on the event loop; `decodePnm` runs in the decoder
 * thread (raw-decode-pool.ts).
 */
import { ImageInvalidError } from '../errors';
import type { RawImage } from './bmp';

/** Largest side we accept in a header: beyond this a PNM is nonsense (and larger than any limit). */
const MAX_SIDE = 1 << 20;

export type PnmKind = 'P1' | 'P2' | 'P3' | 'P4' | 'P5' | 'P6';

export interface PnmHeader {
  kind: PnmKind;
  width: number;
  height: number;
  /** Largest sample value (1 for bitmaps). */
  maxval: number;
  /** Offset of the raster: for the raw kinds, just after the single whitespace that ends the header. */
  dataOffset: number;
}

/** Samples per pixel: 3 for PPM, 1 for PGM and PBM. */
const channelsOf = (kind: PnmKind) => (kind === 'P3' || kind === 'P6' ? 3 : 1);
const isPlain = (kind: PnmKind) => kind === 'P1' || kind === 'P2' || kind === 'P3';

function corrupt(detail: string): ImageInvalidError {
  return new ImageInvalidError('corrupt', `PNM image is corrupt: ${detail}`);
}

const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;

/** Reads decimal numbers, skipping whitespace and `#` comments (to the end of the line). */
class Reader {
  constructor(
    private readonly bytes: Buffer,
    public at: number,
  ) {}

  private skip(): void {
    const b = this.bytes;
    while (this.at < b.length) {
      if (isSpace(b[this.at])) this.at++;
      else if (b[this.at] === 0x23) while (this.at < b.length && b[this.at] !== 0x0a && b[this.at] !== 0x0d) this.at++;
      else return;
    }
  }

  /** The next unsigned decimal number; `what` names it in errors. */
  number(what: string, max: number): number {
    this.skip();
    const b = this.bytes;
    if (this.at >= b.length) throw corrupt(`${what} is missing`);
    if (!isDigit(b[this.at])) throw corrupt(`${what} is not a number`);
    let n = 0;
    while (this.at < b.length && isDigit(b[this.at])) {
      n = n * 10 + (b[this.at++] - 0x30);
      if (n > max) throw corrupt(`${what} is larger than ${max}`);
    }
    return n;
  }

  /** A P1 pixel: a single '0' or '1', with or without whitespace around it. */
  bit(): number {
    this.skip();
    const c = this.bytes[this.at++];
    if (c === 0x30 || c === 0x31) return c - 0x30;
    throw corrupt(this.at > this.bytes.length ? 'the raster is truncated' : 'a PBM pixel is not 0 or 1');
  }
}

/** The header of a PNM file (magic, sides, maxval): never touches the raster. */
export function readPnmHeader(bytes: Buffer): PnmHeader {
  if (bytes.length < 3 || bytes[0] !== 0x50 || bytes[1] < 0x31 || bytes[1] > 0x36) throw corrupt('no P1-P6 magic number');
  const kind = `P${bytes[1] - 0x30}` as PnmKind;
  const reader = new Reader(bytes, 2);
  if (!isSpace(bytes[2]) && bytes[2] !== 0x23) throw corrupt('no whitespace after the magic number');
  const width = reader.number('width', MAX_SIDE);
  const height = reader.number('height', MAX_SIDE);
  if (width === 0 || height === 0) throw corrupt(`a side is 0 (${width}x${height})`);
  const bitmap = kind === 'P1' || kind === 'P4';
  const maxval = bitmap ? 1 : reader.number('maxval', 65535);
  if (maxval === 0) throw corrupt('maxval is 0');
  // Raw kinds: exactly one whitespace byte separates the header from the raster.
  if (!isPlain(kind)) {
    if (reader.at >= bytes.length || !isSpace(bytes[reader.at])) throw corrupt('no whitespace before the raster');
    reader.at++;
  }
  return { kind, width, height, maxval, dataOffset: reader.at };
}

/** Bytes of a raw raster (P4, P5, P6); undefined for the plain kinds, whose length is not fixed. */
function rawLength(h: PnmHeader): number | undefined {
  if (h.kind === 'P4') return Math.ceil(h.width / 8) * h.height;
  if (isPlain(h.kind)) return undefined;
  return h.width * h.height * channelsOf(h.kind) * (h.maxval > 255 ? 2 : 1);
}

/** A raw raster must be all there (a plain one is checked as it is decoded). */
export function assertPnmData(bytes: Buffer, h: PnmHeader): void {
  const need = rawLength(h);
  if (need !== undefined && bytes.length - h.dataOffset < need) throw corrupt(`the raster is truncated (${bytes.length - h.dataOffset} of ${need} bytes)`);
}

/** Decodes a PNM into raw RGB, rows top-down. Throws ImageInvalidError('corrupt') for a damaged file. */
export function decodePnm(bytes: Buffer): RawImage {
  const h = readPnmHeader(bytes);
  assertPnmData(bytes, h);
  const { kind, width, height, maxval } = h;
  const pixels = width * height;
  const out = Buffer.alloc(pixels * 3);
  const channels = channelsOf(kind);
  // Samples scale from 0..maxval to 0..255 (a table: maxval is at most 65535).
  const scale = new Uint8Array(maxval + 1);
  for (let v = 0; v <= maxval; v++) scale[v] = Math.round((v * 255) / maxval);

  /** Sample i: one channel of an RGB pixel, or a grey pixel written to all three. */
  const grey = (i: number, v: number) => {
    if (channels === 3) out[i] = v;
    else {
      out[3 * i] = v;
      out[3 * i + 1] = v;
      out[3 * i + 2] = v;
    }
  };
  const put = (sampleIndex: number, value: number) => {
    if (value > maxval) throw corrupt(`a sample (${value}) is above maxval ${maxval}`);
    grey(sampleIndex, scale[value]);
  };

  if (kind === 'P4') {
    const stride = Math.ceil(width / 8);
    for (let y = 0; y < height; y++) {
      const row = h.dataOffset + y * stride;
      for (let x = 0; x < width; x++) {
        const black = (bytes[row + (x >> 3)] >> (7 - (x & 7))) & 1;
        grey(y * width + x, black ? 0 : 255);
      }
    }
  } else if (kind === 'P1') {
    const reader = new Reader(bytes, h.dataOffset);
    for (let i = 0; i < pixels; i++) grey(i, reader.bit() ? 0 : 255);
  } else if (kind === 'P5' || kind === 'P6') {
    const samples = pixels * channels;
    if (maxval > 255) for (let i = 0; i < samples; i++) put(i, bytes.readUInt16BE(h.dataOffset + 2 * i));
    else for (let i = 0; i < samples; i++) put(i, bytes[h.dataOffset + i]);
  } else {
    const reader = new Reader(bytes, h.dataOffset);
    const samples = pixels * channels;
    for (let i = 0; i < samples; i++) put(i, reader.number('a sample', 65535));
  }
  return { data: out, width, height, channels: 3 };
}

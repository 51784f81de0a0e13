/**
 * A small BMP decoder: libvips (inside sharp) does not read BMP. Supports the core (OS/2 1.x), INFO, V2-V5
 * and OS/2 2.x headers; 1/4/8-bit palettes, 16-bit (555 by default, or bit fields), 24-bit and 32-bit;
 * BI_RGB, BI_BITFIELDS and BI_ALPHABITFIELDS; bottom-up and top-down rows. Run-length (RLE4/RLE8) and
 * embedded JPEG/PNG bitmaps are refused as bad_format. The output is raw RGB or RGBA for
 * `sharp(data, { raw: { width, height, channels } })`.
 */
import { ImageInvalidError } from '../errors';

const BI_RGB = 0;
const BI_RLE8 = 1;
const BI_RLE4 = 2;
const BI_BITFIELDS = 3;
const BI_JPEG = 4;
const BI_PNG = 5;
const BI_ALPHABITFIELDS = 6;

/** Largest side we accept in a header: beyond this a BMP is nonsense (and larger than any limit). */
const MAX_SIDE = 1 << 20;

export interface BmpHeader {
  width: number;
  /** Always positive; `topDown` tells the row order. */
  height: number;
  topDown: boolean;
  bitsPerPixel: number;
  compression: number;
  /** Offset of the pixel array. */
  dataOffset: number;
  /** Bytes per row, padded to 4. */
  stride: number;
  /** Palette entries (for <= 8 bits per pixel), as [r, g, b] triples flattened. */
  palette?: Uint8Array;
  /** Channel masks for 16/32-bit images (alpha 0 when the image has none). */
  masks?: { r: number; g: number; b: number; a: number };
}

export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 3 | 4;
}

function corrupt(detail: string): ImageInvalidError {
  return new ImageInvalidError('corrupt', `BMP image is corrupt: ${detail}`);
}

/**
 * Reads and validates the BMP headers (file header, DIB header, masks, palette). Cheap: never touches
 * pixel data, nor checks that it is all there (assertBmpData does). Throws ImageInvalidError('corrupt')
 * for a damaged header, ImageInvalidError('bad_format') for a compression it does not decode.
 */
export function readBmpHeader(bytes: Buffer): BmpHeader {
  if (bytes.length < 26 || bytes[0] !== 0x42 || bytes[1] !== 0x4d) throw corrupt('file header is truncated');
  const dataOffset = bytes.readUInt32LE(10);
  const headerSize = bytes.readUInt32LE(14);
  if (bytes.length < 14 + headerSize) throw corrupt('DIB header is truncated');

  let width: number;
  let rawHeight: number;
  let bitsPerPixel: number;
  let compression = BI_RGB;
  let colorsUsed = 0;
  let paletteEntrySize = 4;
  if (headerSize === 12) {
    // BITMAPCOREHEADER (OS/2 1.x): 16-bit sides, 3-byte palette entries.
    width = bytes.readUInt16LE(18);
    rawHeight = bytes.readInt16LE(20);
    bitsPerPixel = bytes.readUInt16LE(24);
    paletteEntrySize = 3;
  } else if (headerSize === 16 || headerSize >= 40) {
    width = bytes.readInt32LE(18);
    rawHeight = bytes.readInt32LE(22);
    bitsPerPixel = bytes.readUInt16LE(28);
    if (headerSize >= 40) {
      compression = bytes.readUInt32LE(30);
      colorsUsed = bytes.readUInt32LE(46);
    }
    // The OS/2 2.x header (64 bytes) reuses these numbers for its own encodings (Huffman 1D, RLE24).
    if (headerSize === 64 && compression !== BI_RGB) {
      throw new ImageInvalidError('bad_format', `BMP compression ${compression} (OS/2) is not supported`);
    }
  } else {
    throw corrupt(`unknown DIB header size ${headerSize}`);
  }

  if (compression === BI_RLE8 || compression === BI_RLE4 || compression === BI_JPEG || compression === BI_PNG) {
    const name = ['', 'RLE8', 'RLE4', '', 'JPEG', 'PNG'][compression];
    throw new ImageInvalidError('bad_format', `BMP with ${name} compression is not supported`);
  }
  if (compression !== BI_RGB && compression !== BI_BITFIELDS && compression !== BI_ALPHABITFIELDS) {
    throw corrupt(`unknown compression ${compression}`);
  }
  if (width <= 0 || rawHeight === 0 || width > MAX_SIDE || Math.abs(rawHeight) > MAX_SIDE) {
    throw corrupt(`bad dimensions ${width}x${rawHeight}`);
  }
  const topDown = rawHeight < 0;
  const height = Math.abs(rawHeight);
  if (![1, 4, 8, 16, 24, 32].includes(bitsPerPixel)) throw corrupt(`unsupported bit depth ${bitsPerPixel}`);

  const header: BmpHeader = {
    width,
    height,
    topDown,
    bitsPerPixel,
    compression,
    dataOffset,
    stride: Math.floor((bitsPerPixel * width + 31) / 32) * 4,
  };

  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    if (bitsPerPixel !== 16 && bitsPerPixel !== 32) throw corrupt(`bit fields with ${bitsPerPixel} bits per pixel`);
    // Masks sit inside V2+ headers, or right after a 40-byte INFO header.
    const withAlpha = compression === BI_ALPHABITFIELDS || headerSize >= 56;
    const at = 14 + 40;
    if (bytes.length < at + (withAlpha ? 16 : 12)) throw corrupt('bit-field masks are truncated');
    header.masks = {
      r: bytes.readUInt32LE(at),
      g: bytes.readUInt32LE(at + 4),
      b: bytes.readUInt32LE(at + 8),
      a: withAlpha ? bytes.readUInt32LE(at + 12) : 0,
    };
  } else if (bitsPerPixel === 16) {
    header.masks = { r: 0x7c00, g: 0x03e0, b: 0x001f, a: 0 };
  } else if (bitsPerPixel === 32) {
    // BI_RGB 32-bit: the fourth byte is unused by definition.
    header.masks = { r: 0x00ff0000, g: 0x0000ff00, b: 0x000000ff, a: 0 };
  }
  if (header.masks && bitsPerPixel === 16) {
    const m = header.masks;
    if ((m.r | m.g | m.b | m.a) >>> 16 !== 0) throw corrupt('16-bit masks wider than 16 bits');
  }

  if (bitsPerPixel <= 8) {
    const maxEntries = 1 << bitsPerPixel;
    const entries = colorsUsed === 0 ? maxEntries : Math.min(colorsUsed, maxEntries);
    let paletteAt = 14 + headerSize;
    if (headerSize === 40 && (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS)) paletteAt += 12;
    // Some writers declare the full palette but store fewer entries before the pixel data.
    const room = Math.floor((Math.min(dataOffset, bytes.length) - paletteAt) / paletteEntrySize);
    const stored = Math.min(entries, room);
    if (stored <= 0) throw corrupt('palette is missing');
    const palette = new Uint8Array(maxEntries * 3); // entries beyond the stored ones read as black
    for (let i = 0; i < stored; i++) {
      const o = paletteAt + i * paletteEntrySize;
      palette[i * 3] = bytes[o + 2];
      palette[i * 3 + 1] = bytes[o + 1];
      palette[i * 3 + 2] = bytes[o];
    }
    header.palette = palette;
  }

  if (dataOffset < 14 + headerSize || dataOffset > bytes.length) throw corrupt('pixel data offset is out of range');
  return header;
}

/** Throws ImageInvalidError('corrupt') unless the file holds the whole pixel array the header declares. */
export function assertBmpData(bytes: Buffer, header: BmpHeader): void {
  const { stride, height, width, bitsPerPixel, dataOffset } = header;
  // The last row may omit its padding.
  const needed = stride * (height - 1) + Math.ceil((bitsPerPixel * width) / 8);
  if (bytes.length - dataOffset < needed) {
    throw corrupt(`pixel data is truncated (${bytes.length - dataOffset} of ${needed} bytes)`);
  }
}

/** Width and height from the headers only. */
export function bmpSize(bytes: Buffer): { width: number; height: number } {
  const h = readBmpHeader(bytes);
  return { width: h.width, height: h.height };
}

/** Lookup table from a masked, shifted channel value to 0..255. */
function channelTable(mask: number): { shift: number; table: Uint8Array } | undefined {
  mask >>>= 0;
  if (mask === 0) return undefined;
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  let bits = 0;
  while (shift + bits < 32 && ((mask >>> (shift + bits)) & 1) === 1) bits++;
  // Only the low 16 bits of wider fields matter at 8-bit output; keep the top 8 of them.
  const dropped = Math.max(0, bits - 8);
  const used = bits - dropped;
  const max = (1 << used) - 1;
  const table = new Uint8Array(max + 1);
  for (let v = 0; v <= max; v++) table[v] = Math.round((v * 255) / max);
  return { shift: shift + dropped, table };
}

/** Decodes a BMP into raw RGB (or RGBA when it has a meaningful alpha channel), rows top-down. */
export function decodeBmp(bytes: Buffer): RawImage {
  const h = readBmpHeader(bytes);
  assertBmpData(bytes, h);
  const { width, height, bitsPerPixel: bpp, stride, dataOffset } = h;
  const alphaMask = h.masks ? h.masks.a >>> 0 : 0;
  const channels: 3 | 4 = alphaMask !== 0 ? 4 : 3;
  const out = Buffer.alloc(width * height * channels);

  const rowStart = (y: number): number => dataOffset + (h.topDown ? y : height - 1 - y) * stride;

  if (bpp <= 8) {
    const palette = h.palette!;
    const perByte = 8 / bpp;
    const indexMask = (1 << bpp) - 1;
    for (let y = 0; y < height; y++) {
      const row = rowStart(y);
      let o = y * width * 3;
      for (let x = 0; x < width; x++) {
        const byte = bytes[row + Math.floor(x / perByte)];
        const shift = 8 - bpp * ((x % perByte) + 1);
        const p = ((byte >> shift) & indexMask) * 3;
        out[o++] = palette[p];
        out[o++] = palette[p + 1];
        out[o++] = palette[p + 2];
      }
    }
  } else if (bpp === 24) {
    for (let y = 0; y < height; y++) {
      let i = rowStart(y);
      let o = y * width * 3;
      for (let x = 0; x < width; x++, i += 3) {
        out[o++] = bytes[i + 2];
        out[o++] = bytes[i + 1];
        out[o++] = bytes[i];
      }
    }
  } else {
    const m = h.masks!;
    const r = channelTable(m.r);
    const g = channelTable(m.g);
    const b = channelTable(m.b);
    const a = channelTable(m.a);
    const read = bpp === 16 ? (i: number) => bytes.readUInt16LE(i) : (i: number) => bytes.readUInt32LE(i);
    const step = bpp / 8;
    let anyAlpha = false;
    for (let y = 0; y < height; y++) {
      let i = rowStart(y);
      let o = y * width * channels;
      for (let x = 0; x < width; x++, i += step) {
        const px = read(i);
        out[o++] = r ? r.table[(px >>> r.shift) & (r.table.length - 1)] : 0;
        out[o++] = g ? g.table[(px >>> g.shift) & (g.table.length - 1)] : 0;
        out[o++] = b ? b.table[(px >>> b.shift) & (b.table.length - 1)] : 0;
        if (channels === 4) {
          const alpha = a!.table[(px >>> a!.shift) & (a!.table.length - 1)];
          if (alpha !== 0) anyAlpha = true;
          out[o++] = alpha;
        }
      }
    }
    // Many writers declare an alpha mask and leave it zero: such an image is opaque, not invisible, and
    // comes out as RGB (so that channels === 4 always means some pixel uses its alpha).
    if (channels === 4 && !anyAlpha) {
      const rgb = Buffer.alloc(width * height * 3);
      for (let i = 0, o = 0; i < out.length; i += 4, o += 3) {
        rgb[o] = out[i];
        rgb[o + 1] = out[i + 1];
        rgb[o + 2] = out[i + 2];
      }
      return { data: rgb, width, height, channels: 3 };
    }
  }
  return { data: out, width, height, channels };
}

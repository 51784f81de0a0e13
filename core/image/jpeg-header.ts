/**
 * Size and EXIF orientation of a JPEG, read from its markers in JS. checkImage runs for every image on
 * the ingestion path; this avoids a libvips open per image (about half a millisecond of CPU each) for the
 * commonest format. Anything unusual returns undefined and the caller asks sharp instead.
 */

export interface JpegHeader {
  width: number;
  height: number;
  /** EXIF orientation 1-8, when the image carries one. */
  orientation?: number;
}

/** Start-of-frame markers: C0-CF except DHT (C4), JPG (C8) and DAC (CC). */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

export function readJpegHeader(b: Buffer): JpegHeader | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let orientation: number | undefined;
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1];
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // standalone markers carry no length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return undefined; // end of image or scan before any frame header
    const length = b.readUInt16BE(i + 2);
    if (length < 2 || i + 2 + length > b.length) return undefined;
    const segment = i + 4;
    if (marker === 0xe1 && orientation === undefined) orientation = exifOrientation(b, segment, i + 2 + length);
    if (isStartOfFrame(marker)) {
      if (length < 7) return undefined;
      const height = b.readUInt16BE(segment + 1);
      const width = b.readUInt16BE(segment + 3);
      if (width === 0 || height === 0) return undefined;
      return { width, height, orientation };
    }
    i += 2 + length;
  }
  return undefined;
}

/** The Orientation tag (0x0112) of IFD0 in an APP1 "Exif" segment spanning [start, end). */
function exifOrientation(b: Buffer, start: number, end: number): number | undefined {
  if (end - start < 14 || b.toString('latin1', start, start + 6) !== 'Exif\0\0') return undefined;
  const tiff = start + 6;
  const little = b[tiff] === 0x49 && b[tiff + 1] === 0x49;
  if (!little && !(b[tiff] === 0x4d && b[tiff + 1] === 0x4d)) return undefined;
  const u16 = (at: number) => (little ? b.readUInt16LE(at) : b.readUInt16BE(at));
  const u32 = (at: number) => (little ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const ifd = tiff + u32(tiff + 4);
  if (ifd + 2 > end) return undefined;
  const count = u16(ifd);
  for (let k = 0; k < count; k++) {
    const entry = ifd + 2 + k * 12;
    if (entry + 12 > end) return undefined;
    if (u16(entry) === 0x0112) {
      const value = u16(entry + 8);
      return value >= 1 && value <= 8 ? value : undefined;
    }
  }
  return undefined;
}

/** Image format detection by magic numbers: the first bytes decide, never a file name or a MIME type. */
import type { ImageFormat } from './types';

/** DIB header sizes a BMP may declare (core, info, V2, V3, OS/2 2.x short and full, V4, V5). */
const BMP_HEADER_SIZES = new Set([12, 16, 40, 52, 56, 64, 108, 124]);

export function sniffFormat(bytes: Buffer): ImageFormat | undefined {
  const n = bytes.length;
  if (n >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (
    n >= 8 &&
    bytes[0] === 0x89 &&
    bytes[1] === 0x50 &&
    bytes[2] === 0x4e &&
    bytes[3] === 0x47 &&
    bytes[4] === 0x0d &&
    bytes[5] === 0x0a &&
    bytes[6] === 0x1a &&
    bytes[7] === 0x0a
  ) {
    return 'png';
  }
  if (n >= 6) {
    const gif = bytes.toString('latin1', 0, 6);
    if (gif === 'GIF87a' || gif === 'GIF89a') return 'gif';
  }
  if (n >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (n >= 4) {
    // Classic TIFF (42) and BigTIFF (43), little- and big-endian.
    if (bytes[0] === 0x49 && bytes[1] === 0x49 && (bytes[2] === 0x2a || bytes[2] === 0x2b) && bytes[3] === 0x00) return 'tiff';
    if (bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0x00 && (bytes[3] === 0x2a || bytes[3] === 0x2b)) return 'tiff';
  }
  // Netpbm: P1-P6 then whitespace or a comment.
  if (n >= 3 && bytes[0] === 0x50 && bytes[1] >= 0x31 && bytes[1] <= 0x36 && /[\s#]/.test(String.fromCharCode(bytes[2]))) return 'pnm';
  if (n >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d) {
    // 'BM' is only two bytes: when the DIB header size is there, it must be a known one.
    if (n < 18 || BMP_HEADER_SIZES.has(bytes.readUInt32LE(14))) return 'bmp';
  }
  return undefined;
}

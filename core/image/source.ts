/**
 * Image sources given inline: raw base64 (standard or URL-safe alphabet) and `data:<mime>;base64,` URIs.
 * Buffer.from(s, 'base64') silently skips characters outside the alphabet; decodeBase64Strict refuses them.
 */
import { ImageInvalidError } from '../errors';
import { predecodedBytes } from './predecoded';

export interface DecodeImageDataOptions {
  /** Accept `data:<mime>;base64,...` URIs (default true). */
  allowDataUri?: boolean;
  /** Accept raw base64 text (default true). */
  allowRaw?: boolean;
}

const DATA_URI_PREFIX = /^\s*data:/i;
/** `data:[<mime>][;param=value]*;base64,` — the header before the payload. */
const DATA_URI_HEADER = /^\s*data:([^,;]*)((?:;[^,;]*)*),/i;
const WHITESPACE = /\s/;
const WHITESPACE_ALL = /\s+/g;
/** Either alphabet; padding checked apart. */
const BASE64_BODY = /^[A-Za-z0-9+/_-]*$/;

/** True when the text is a `data:` URI (whatever its encoding). */
export function isDataUri(input: string): boolean {
  return DATA_URI_PREFIX.test(input);
}

/**
 * Decodes image bytes given as base64 text or a base64 data URI. Throws ImageInvalidError:
 * `empty` when there is nothing to decode, `bad_encoding` for anything that is not strict base64.
 */
export function decodeImageData(input: string, opts: DecodeImageDataOptions = {}): Buffer {
  const allowDataUri = opts.allowDataUri ?? true;
  const allowRaw = opts.allowRaw ?? true;
  if (typeof input !== 'string') throw new ImageInvalidError('bad_encoding', 'image data must be a string');

  let payload: string;
  if (isDataUri(input)) {
    if (!allowDataUri) throw new ImageInvalidError('bad_encoding', 'data URIs are not accepted here; send raw base64');
    const header = DATA_URI_HEADER.exec(input.length > 1024 ? input.slice(0, 1024) : input);
    if (!header) throw new ImageInvalidError('bad_encoding', 'malformed data URI: no "," after the header');
    const params = header[2].split(';').map((p) => p.trim().toLowerCase());
    if (!params.includes('base64')) {
      throw new ImageInvalidError('bad_encoding', 'data URI must be base64-encoded (";base64,")');
    }
    payload = input.slice(header[0].length);
  } else {
    if (!allowRaw) throw new ImageInvalidError('bad_encoding', 'raw base64 is not accepted here; send a data URI');
    payload = input;
  }
  return decodeBase64Strict(payload);
}

/**
 * Strict base64 (standard or URL-safe alphabet), whitespace tolerated, padding optional but correct when
 * present. This is on the ingestion hot path with multi-MB strings, so the usual case costs one decode and
 * no extra pass: Node's decoder skips characters outside the alphabet, and any skipped character makes the
 * output shorter than the input length implies, so a length check proves the text was clean.
 */
export function decodeBase64Strict(text: string): Buffer {
  const ready = predecodedBytes(text);
  if (ready) return ready;
  const bytes = decodeIfClean(text) ?? (WHITESPACE.test(text) ? decodeIfClean(text.replace(WHITESPACE_ALL, '')) : undefined);
  if (bytes === undefined) throw new ImageInvalidError('bad_encoding', `image data is not valid base64: ${whatIsWrong(text.replace(WHITESPACE_ALL, ''))}`);
  if (bytes.length === 0) throw new ImageInvalidError('empty', 'image data is empty');
  return bytes;
}

/** The decoded bytes when `s` is clean base64 without whitespace, else undefined. */
function decodeIfClean(s: string): Buffer | undefined {
  let padding = 0;
  while (padding < 3 && padding < s.length && s.charCodeAt(s.length - 1 - padding) === 0x3d /* = */) padding++;
  if (padding > 2 || (padding > 0 && s.length % 4 !== 0)) return undefined;
  const n = s.length - padding;
  if (n % 4 === 1) return undefined;
  const bytes = Buffer.from(s, 'base64');
  return bytes.length === Math.floor((n * 3) / 4) ? bytes : undefined;
}

/** Why text is not base64, for the error message (only computed on failure). */
function whatIsWrong(s: string): string {
  if (/={3,}$/.test(s)) return 'too much padding';
  if (/=+$/.test(s) && s.length % 4 !== 0) return 'padded length is not a multiple of 4';
  if (!BASE64_BODY.test(s.replace(/=+$/, ''))) return 'unexpected character';
  return 'wrong length';
}

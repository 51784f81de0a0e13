/**
 * Qiniu `uri` → image bytes: an http(s) URL, downloaded through core's SSRF-guarded fetcher, or a Base64
 * Data URI with exactly the vendor's prefix. Anything else (raw Base64, other data: media types, other
 * schemes) is refused with the same error.
 */
import type { UrlFetcher } from '../../core/net/fetch';
import { decodeBase64Strict } from '../../core/image';
import { ERRORS, fail } from './errors';
import { qetag } from './etag';
import { DATA_URI_PREFIX } from './limits';

export interface QiniuImageSource {
  bytes: Buffer;
  /** What the record keeps: the URL, or nothing for inline images. */
  uri?: string;
  /** Set for inline images (the vendor returns an etag and uri "" for them). */
  etag?: string;
}

const HTTP_URL = /^https?:\/\//i;

/** True when `uri` is missing or blank: the vendor's "no enough arguments provided". */
export function isBlankUri(uri: unknown): boolean {
  return typeof uri !== 'string' || uri.trim() === '';
}

export async function readQiniuUri(uri: string, fetchImage: UrlFetcher): Promise<QiniuImageSource> {
  if (uri.startsWith(DATA_URI_PREFIX)) {
    const bytes = decodeBase64Strict(uri.slice(DATA_URI_PREFIX.length));
    return { bytes, etag: qetag(bytes) };
  }
  if (HTTP_URL.test(uri)) return { bytes: await fetchImage(uri), uri };
  return fail(ERRORS.invalidUri);
}

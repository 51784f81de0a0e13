/**
 * SDK-HMAC-SHA256, the AK/SK signature of Huawei Cloud APIs (huawei.md §6.2, sdk-clients.md §2.4), from the
 * verifier's side: the canonical request is rebuilt from the request exactly as received (raw path and
 * query, the headers the client listed in SignedHeaders, the raw body bytes). Pure functions: no clock,
 * no credentials lookup (auth.ts does those).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const ALGORITHM = 'SDK-HMAC-SHA256';
const EMPTY_SHA256 = createHash('sha256').digest('hex');

/** A request as received: method, raw request-target, raw header pairs, body bytes. */
export interface SignedRequest {
  method: string;
  url: string;
  rawHeaders: string[];
  body: Buffer;
}

export interface ParsedAuthorization {
  accessKey: string;
  signedHeaders: string[];
  signature: string;
}

const AUTHORIZATION = /^SDK-HMAC-SHA256\s+Access=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-fA-F]{64})\s*$/;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/** Parses the Authorization header; undefined when it is not a well-formed SDK-HMAC-SHA256 value. */
export function parseAuthorization(value: string): ParsedAuthorization | undefined {
  const m = AUTHORIZATION.exec(value.trim());
  if (!m) return undefined;
  const signedHeaders = m[2].split(';');
  if (signedHeaders.some((h) => !HEADER_NAME.test(h))) return undefined;
  return { accessKey: m[1], signedHeaders, signature: m[3].toLowerCase() };
}

/** RFC 3986 unreserved characters kept, everything else as upper-case %XX of its UTF-8 bytes. */
export function urlEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Characters Node's legacy url.parse escapes before the Node SDK encodes the path again (so a space is
 * signed as %2520): the Node SDK's "fallback" canonical form.
 */
const LEGACY_URL_ESCAPED = /[ "'<>^`{|}\t\r\n]/g;

/** The canonical URI: each segment decoded then encoded, always ending with '/'. */
export function canonicalUri(rawPath: string, mode: 'spec' | 'node-legacy' = 'spec'): string {
  const segments = rawPath.split('/').map((segment) => {
    let text = decode(segment);
    if (mode === 'node-legacy') text = text.replace(LEGACY_URL_ESCAPED, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
    return urlEncode(text);
  });
  const joined = segments.join('/');
  return joined.endsWith('/') ? joined : `${joined}/`;
}

/** The canonical query: keys sorted, values of a repeated key sorted, each pair encoded. */
export function canonicalQuery(rawQuery: string): string {
  if (!rawQuery) return '';
  const pairs = rawQuery
    .split('&')
    .filter((p) => p.length > 0)
    .map((p) => {
      const eq = p.indexOf('=');
      const key = decode((eq < 0 ? p : p.slice(0, eq)).replace(/\+/g, ' '));
      const value = eq < 0 ? '' : decode(p.slice(eq + 1).replace(/\+/g, ' '));
      return [key, value] as const;
    });
  pairs.sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0));
  return pairs.map(([k, v]) => `${urlEncode(k)}=${urlEncode(v)}`).join('&');
}

/** The received value of a header (all occurrences, trimmed, joined with ','), or undefined. */
export function headerValue(rawHeaders: string[], name: string): string | undefined {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() === name) values.push(rawHeaders[i + 1].trim());
  }
  return values.length === 0 ? undefined : values.join(',');
}

export function canonicalRequest(req: SignedRequest, signedHeaders: string[], uriMode: 'spec' | 'node-legacy' = 'spec'): string {
  const q = req.url.indexOf('?');
  const rawPath = q < 0 ? req.url : req.url.slice(0, q);
  const rawQuery = q < 0 ? '' : req.url.slice(q + 1);
  const headers = signedHeaders.map((name) => `${name}:${headerValue(req.rawHeaders, name) ?? ''}\n`).join('');
  const declaredHash = signedHeaders.includes('x-sdk-content-sha256') ? headerValue(req.rawHeaders, 'x-sdk-content-sha256') : undefined;
  const payloadHash = declaredHash ?? (req.body.length === 0 ? EMPTY_SHA256 : createHash('sha256').update(req.body).digest('hex'));
  return [req.method.toUpperCase(), canonicalUri(rawPath, uriMode), canonicalQuery(rawQuery), headers, signedHeaders.join(';'), payloadHash].join('\n');
}

export function stringToSign(canonical: string, sdkDate: string): string {
  return `${ALGORITHM}\n${sdkDate}\n${createHash('sha256').update(canonical).digest('hex')}`;
}

export function signature(secretKey: string, toSign: string): string {
  return createHmac('sha256', Buffer.from(secretKey, 'utf8')).update(toSign).digest('hex');
}

/** The X-Sdk-Content-Sha256 value that leaves the body out of the signature (the SDKs' streaming uploads). */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

/**
 * True when the signature matches, in the vendor's canonical form or, failing that, in the form the Node
 * SDK produces for paths with characters url.parse escapes. Compared in constant time. A signed
 * X-Sdk-Content-Sha256 stands for the body in the signature, so it must be the body's hash (unless
 * UNSIGNED-PAYLOAD): otherwise any body could travel under a signature made for another.
 */
export function signatureMatches(req: SignedRequest, auth: ParsedAuthorization, secretKey: string, sdkDate: string): boolean {
  if (auth.signedHeaders.includes('x-sdk-content-sha256')) {
    const declared = headerValue(req.rawHeaders, 'x-sdk-content-sha256');
    if (declared !== UNSIGNED_PAYLOAD && declared !== createHash('sha256').update(req.body).digest('hex')) return false;
  }
  const expected = Buffer.from(auth.signature, 'hex');
  for (const mode of ['spec', 'node-legacy'] as const) {
    const actual = Buffer.from(signature(secretKey, stringToSign(canonicalRequest(req, auth.signedHeaders, mode), sdkDate)), 'hex');
    if (actual.length === expected.length && timingSafeEqual(actual, expected)) return true;
  }
  return false;
}

/** X-Sdk-Date (YYYYMMDDTHHMMSSZ, UTC) → epoch ms, or undefined when malformed. */
export function parseSdkDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
  return ms;
}

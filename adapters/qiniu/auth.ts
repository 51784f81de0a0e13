/**
 * Qiniu credentials → tenant. `Authorization: Qiniu <AK>:<Sign>` (Qiniu MAC v2) is verified over the raw
 * request exactly as Qiniu's server builds it (shared/specs/qiniu.md §6.1), trying the variants the
 * official Node SDK produces (shared/specs/sdk-clients.md §3.4): the Host line with the port doubled, and
 * a `Content-Type: application/x-www-form-urlencoded` line when another or no content type was sent. The
 * legacy `QBox <AK>:<Sign>` form (path, query and a form body only) is accepted too.
 *
 * open mode checks no signature: the access key names the tenant, and a request without Authorization is
 * the default tenant. A malformed Authorization is refused in both modes. `X-Qiniu-Date` is signed when
 * present but no clock window is enforced (the vendor's verifier enforces none that is known; path A of the
 * SDK never sends the header).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { OPEN_MODE_DEFAULT_TENANT, type AuthConfig } from '../config';
import type { Identity } from '../vendor';
import { ERRORS, QiniuRequestError } from './errors';

/** The parts of a request the signature covers, as received. */
export interface SignedRequest {
  method: string;
  /** The raw request target: path and query exactly as on the wire. */
  target: string;
  /** Node's req.rawHeaders: name, value, name, value, ... */
  rawHeaders: string[];
  body: Buffer;
}

export type Scheme = 'Qiniu' | 'QBox';

const AUTHORIZATION = /^(Qiniu|QBox) ([^\s:]{1,256}):([A-Za-z0-9_=-]{1,64})$/;
const FORM = 'application/x-www-form-urlencoded';
const OCTET_STREAM = 'application/octet-stream';
const QINIU_HEADER_PREFIX = 'X-Qiniu-';

export interface ParsedToken {
  scheme: Scheme;
  accessKey: string;
  sign: string;
}

export function parseAuthorization(value: string | undefined): ParsedToken | undefined {
  const m = value === undefined ? null : AUTHORIZATION.exec(value.trim());
  return m ? { scheme: m[1] as Scheme, accessKey: m[2], sign: m[3] } : undefined;
}

/** The tenant of a request, or undefined when it must be refused with 401 bad token. */
export function qiniuTenant(auth: AuthConfig, req: SignedRequest): string | undefined {
  const authorization = header(req.rawHeaders, 'authorization');
  const token = parseAuthorization(authorization);
  if (authorization !== undefined && token === undefined) return undefined;
  if (auth.mode === 'open') return token?.accessKey ?? OPEN_MODE_DEFAULT_TENANT;
  if (token === undefined) return undefined;
  for (const tenant of auth.tenants) {
    for (const key of tenant.qiniu?.accessKeys ?? []) {
      if (key.ak === token.accessKey && verifies(token, key.sk, req)) return tenant.id;
    }
  }
  return undefined;
}

/** Who the credentials name: the access key (none in open mode without Authorization). */
export type QiniuPrincipal = { accessKey?: string; scheme?: Scheme };

/** The caller in the adapter contract's shape (adapters/vendor.ts Identity), or the vendor's 401 "bad token" thrown. */
export function identify(auth: AuthConfig, req: SignedRequest): Identity<QiniuPrincipal> {
  const tenant = qiniuTenant(auth, req);
  if (tenant === undefined) throw new QiniuRequestError(ERRORS.badToken);
  const token = parseAuthorization(header(req.rawHeaders, 'authorization'));
  return { tenant, principal: { accessKey: token?.accessKey, scheme: token?.scheme } };
}

function verifies(token: ParsedToken, secretKey: string, req: SignedRequest): boolean {
  const given = Buffer.from(token.sign);
  const candidates = token.scheme === 'Qiniu' ? macV2SigningData(req) : [qboxSigningData(req)];
  // Every candidate is computed and compared, so the time taken does not tell which one matched.
  let ok = false;
  for (const data of candidates) {
    const expected = Buffer.from(sign(secretKey, data));
    if (expected.length === given.length && timingSafeEqual(expected, given)) ok = true;
  }
  return ok;
}

/** urlsafe Base64 of HMAC-SHA1, `=` padding kept (28 characters). */
export function sign(secretKey: string, data: Buffer): string {
  return createHmac('sha1', secretKey).update(data).digest('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/**
 * The strings a MAC v2 signature may cover: the server form first, then the Node SDK's variants
 * (Host with its port doubled; the form-urlencoded content type it signs by default). At most four.
 */
export function macV2SigningData(req: SignedRequest): Buffer[] {
  const host = header(req.rawHeaders, 'host') ?? '';
  const port = portOf(host);
  const hosts = port === undefined ? [host] : [host, `${host}:${port}`];
  const received = header(req.rawHeaders, 'content-type');
  const contentTypes = received === FORM ? [received] : [received, FORM];
  const qiniuLines = qiniuHeaderLines(req.rawHeaders);
  const out: Buffer[] = [];
  for (const h of hosts) {
    for (const contentType of contentTypes) {
      let text = `${req.method} ${req.target}\nHost: ${h}`;
      if (contentType !== undefined) text += `\nContent-Type: ${contentType}`;
      for (const line of qiniuLines) text += `\n${line}`;
      text += '\n\n';
      const withBody = req.body.length > 0 && contentType !== undefined && contentType !== OCTET_STREAM;
      out.push(withBody ? Buffer.concat([Buffer.from(text), req.body]) : Buffer.from(text));
    }
  }
  return out;
}

/** Legacy QBox: path and query, a newline, and the body when it is a form. */
export function qboxSigningData(req: SignedRequest): Buffer {
  const head = Buffer.from(`${req.target}\n`);
  const isForm = header(req.rawHeaders, 'content-type') === FORM;
  return isForm && req.body.length > 0 ? Buffer.concat([head, req.body]) : head;
}

/** `X-Qiniu-*` headers as `Name: value` lines, names canonicalised (Go's textproto) and sorted. */
function qiniuHeaderLines(rawHeaders: string[]): string[] {
  const byName = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = canonicalHeaderName(rawHeaders[i]);
    if (name.length > QINIU_HEADER_PREFIX.length && name.startsWith(QINIU_HEADER_PREFIX) && !byName.has(name)) {
      byName.set(name, rawHeaders[i + 1]);
    }
  }
  return [...byName.keys()].sort().map((name) => `${name}: ${byName.get(name)}`);
}

/** x-qiniu-date → X-Qiniu-Date. */
export function canonicalHeaderName(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, sep: string, c: string) => sep + c.toUpperCase());
}

/** The port written in a Host header (digits after the last colon outside IPv6 brackets), if any. */
function portOf(host: string): string | undefined {
  return /^(?:\[[^\]]*\]|[^:[\]]*):(\d+)$/.exec(host)?.[1];
}

/** The first value of a header in rawHeaders (case-insensitive name). */
function header(rawHeaders: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() === name) return rawHeaders[i + 1];
  }
  return undefined;
}

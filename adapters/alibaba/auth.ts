/**
 * Alibaba request authentication → tenant. Both signatures the official SDKs send are verified over the
 * request as received (shared/specs/alibaba.md §7, shared/specs/sdk-clients.md §1.3-1.4):
 * - V3 `ACS3-HMAC-SHA256` in the Authorization header: canonical request from the method, "/", the decoded
 *   and re-encoded query, the headers named in SignedHeaders (values from rawHeaders) and the SHA-256 of
 *   the raw body, which must also equal `x-acs-content-sha256`;
 * - V1 RPC `HMAC-SHA1` in the `Signature` query parameter, over every query and form parameter.
 * A stale date (x-acs-date / Timestamp) or a nonce seen before is refused (limits.ts CLOCK_SKEW_MS).
 *
 * verify mode looks the AccessKeyId up in the tenants' alibaba.accessKeys. open mode (local use) checks
 * nothing and takes the AccessKeyId itself as the tenant, as the other adapters do.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { OPEN_MODE_DEFAULT_TENANT, type AuthConfig } from '../config';
import type { Identity } from '../vendor';
import { AlibabaError } from './errors';
import { CLOCK_SKEW_MS } from './limits';
import type { ParamPairs } from './params';

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** What the verifiers read of a request. */
export interface RequestParts {
  method: string;
  /** Decoded query pairs, in the order received. */
  query: ParamPairs;
  /** Decoded form-body pairs (empty unless the body is form-urlencoded). */
  form: ParamPairs;
  /** Node's flat rawHeaders: name, value, name, value, ... */
  rawHeaders: string[];
  body: Buffer;
}

export interface Caller {
  tenant: string;
  accessKeyId?: string;
  signature: 'v3' | 'v1' | 'none';
  /** Of a verified signature: its replay key (access key and nonce), for claimNonce. */
  nonce?: string;
}

/** RFC 3986 percent-encoding as the SDK's `encode`: encodeURIComponent plus ! ' ( ) *. */
export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function sortedPairs(pairs: ParamPairs): ParamPairs {
  return [...pairs].sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
}

/** Header values by lower-case name, in the order received. */
function headerValues(rawHeaders: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    const list = out.get(name) ?? [];
    list.push(rawHeaders[i + 1]);
    out.set(name, list);
  }
  return out;
}

// ---- V3: ACS3-HMAC-SHA256 --------------------------------------------------------------------------

export interface V3Authorization {
  accessKeyId: string;
  signedHeaders: string[];
  signature: string;
}

const V3_AUTHORIZATION = /^ACS3-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;

export function parseV3Authorization(header: string): V3Authorization | undefined {
  const m = V3_AUTHORIZATION.exec(header.trim());
  if (!m) return undefined;
  return { accessKeyId: m[1], signedHeaders: m[2].split(';'), signature: m[3] };
}

/** The V3 canonical request and string to sign of a request (§7.1 steps 1-7). */
export function v3StringToSign(parts: RequestParts, signedHeaders: string[]): { canonicalRequest: string; stringToSign: string } {
  const headers = headerValues(parts.rawHeaders);
  const canonicalQuery = sortedPairs(parts.query)
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join('&');
  const canonicalHeaders = signedHeaders
    .map((name) => `${name}:${(headers.get(name) ?? []).map((v) => v.trim()).sort().join(',')}\n`)
    .join('');
  const payloadHash = createHash('sha256').update(parts.body).digest('hex');
  const canonicalRequest = [parts.method.toUpperCase(), '/', canonicalQuery, canonicalHeaders, signedHeaders.join(';'), payloadHash].join('\n');
  const stringToSign = `ACS3-HMAC-SHA256\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
  return { canonicalRequest, stringToSign };
}

export function v3Signature(secret: string, stringToSign: string): string {
  return createHmac('sha256', secret).update(stringToSign).digest('hex');
}

// ---- V1: RPC HMAC-SHA1 -----------------------------------------------------------------------------

/** The V1 string to sign: every query and form parameter except Signature (§7.2). */
export function v1StringToSign(method: string, pairs: ParamPairs): string {
  const canonical = sortedPairs(pairs.filter(([k]) => k !== 'Signature'))
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join('&');
  return `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonical)}`;
}

export function v1Signature(secret: string, stringToSign: string): string {
  return createHmac('sha1', `${secret}&`).update(stringToSign).digest('base64');
}

// ---- replay protection -----------------------------------------------------------------------------

/** Where nonces are claimed: engine.claimOnce, in the store every gateway process shares. */
export interface OneTimeClaims {
  claimOnce(scope: string, token: string, expiresAt: number): Promise<boolean>;
}

const NONCE_SCOPE = 'alibaba-signature-nonce';

/**
 * Refuses a nonce seen before (SignatureNonceUsed), in any gateway process sharing the store. A nonce is
 * remembered for as long as a request carrying it could pass the date check (by the store's clock, the
 * real one, even where a test pins the verifier's).
 */
export async function claimNonce(verified: Pick<Caller, 'nonce'>, claims: OneTimeClaims): Promise<void> {
  if (verified.nonce === undefined) return;
  if (!(await claims.claimOnce(NONCE_SCOPE, verified.nonce, Date.now() + 2 * CLOCK_SKEW_MS))) throw new AlibabaError('SignatureNonceUsed');
}

const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function checkDate(value: string | undefined, now: number): void {
  if (value === undefined) throw new AlibabaError('IncompleteSignature');
  if (!DATE.test(value) || Number.isNaN(Date.parse(value))) throw new AlibabaError('InvalidTimeStamp.Format');
  if (Math.abs(Date.parse(value) - now) > CLOCK_SKEW_MS) throw new AlibabaError('InvalidTimeStamp.Expired');
}

// ---- the verifier ----------------------------------------------------------------------------------

/** Headers V3 requests must sign, beside every x-acs-* header sent (gateway policy, sdk-clients.md §1.3). */
const REQUIRED_SIGNED = ['host', 'x-acs-action', 'x-acs-version', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256'];

export interface VerifyOptions {
  now: number;
}

/** Authenticates a request (all but replay: claimNonce does that); throws the vendor's error when it must be refused. */
export function authenticate(auth: AuthConfig, parts: RequestParts, opts: VerifyOptions): Caller {
  const headers = headerValues(parts.rawHeaders);
  const authorization = headers.get('authorization')?.[0];
  const v1Signed = parts.query.find(([k]) => k === 'Signature')?.[1];

  if (authorization !== undefined) return verifyV3(auth, parts, headers, authorization, opts);
  if (v1Signed !== undefined) return verifyV1(auth, parts, v1Signed, opts);
  if (auth.mode === 'open') return { tenant: OPEN_MODE_DEFAULT_TENANT, signature: 'none' };
  throw new AlibabaError('MissingParameter', 'AccessKeyId is mandatory for this action.');
}

/** Who the credentials name: the AccessKeyId (none in open mode without one) and how it was signed. */
export type AlibabaPrincipal = Omit<Caller, 'tenant'>;

/** authenticate in the adapter contract's shape (adapters/vendor.ts Identity); throws the same errors. */
export function identify(auth: AuthConfig, parts: RequestParts, opts: VerifyOptions): Identity<AlibabaPrincipal> {
  const { tenant, ...principal } = authenticate(auth, parts, opts);
  return { tenant, principal };
}

function verifyV3(auth: AuthConfig, parts: RequestParts, headers: Map<string, string[]>, authorization: string, opts: VerifyOptions): Caller {
  const parsed = parseV3Authorization(authorization);
  if (!parsed) throw new AlibabaError('IncompleteSignature');
  if (auth.mode === 'open') return { tenant: parsed.accessKeyId, accessKeyId: parsed.accessKeyId, signature: 'v3' };

  const signed = new Set(parsed.signedHeaders);
  const mustSign = [...REQUIRED_SIGNED, ...[...headers.keys()].filter((h) => h.startsWith('x-acs-'))];
  if (parts.body.length > 0) mustSign.push('content-type');
  const unsigned = mustSign.filter((h) => !signed.has(h));
  if (unsigned.length > 0) throw new AlibabaError('IncompleteSignature', `The request signature does not conform to Aliyun standards: ${unsigned.join(', ')} must be signed.`);
  const sortedSigned = [...parsed.signedHeaders].sort();
  if (sortedSigned.join(';') !== parsed.signedHeaders.join(';') || parsed.signedHeaders.some((h) => h !== h.toLowerCase())) {
    throw new AlibabaError('IncompleteSignature', 'The request signature does not conform to Aliyun standards: SignedHeaders must be lower case and sorted.');
  }

  const secret = secretOf(auth, parsed.accessKeyId);
  const bodyHash = createHash('sha256').update(parts.body).digest('hex');
  if (headers.get('x-acs-content-sha256')?.[0] !== bodyHash) {
    throw new AlibabaError('SignatureDoesNotMatch', 'The x-acs-content-sha256 header does not match the request body.');
  }
  const { stringToSign } = v3StringToSign(parts, parsed.signedHeaders);
  if (!sameText(v3Signature(secret.secret, stringToSign), parsed.signature)) throw new AlibabaError('SignatureDoesNotMatch');
  checkDate(headers.get('x-acs-date')?.[0], opts.now);
  const nonce = `${parsed.accessKeyId}\n${headers.get('x-acs-signature-nonce')![0]}`;
  return { tenant: secret.tenant, accessKeyId: parsed.accessKeyId, signature: 'v3', nonce };
}

function verifyV1(auth: AuthConfig, parts: RequestParts, signature: string, opts: VerifyOptions): Caller {
  const param = (name: string) => parts.query.find(([k]) => k === name)?.[1] ?? parts.form.find(([k]) => k === name)?.[1];
  const accessKeyId = param('AccessKeyId');
  if (!accessKeyId) throw new AlibabaError('MissingParameter', 'AccessKeyId is mandatory for this action.');
  if (auth.mode === 'open') return { tenant: accessKeyId, accessKeyId, signature: 'v1' };
  if (param('SignatureMethod') !== 'HMAC-SHA1' || param('SignatureVersion') !== '1.0' || !param('SignatureNonce')) {
    throw new AlibabaError('IncompleteSignature');
  }
  const secret = secretOf(auth, accessKeyId);
  const stringToSign = v1StringToSign(parts.method, [...parts.query, ...parts.form]);
  if (!sameText(v1Signature(secret.secret, stringToSign), signature)) throw new AlibabaError('SignatureDoesNotMatch');
  checkDate(param('Timestamp'), opts.now);
  return { tenant: secret.tenant, accessKeyId, signature: 'v1', nonce: `${accessKeyId}\n${param('SignatureNonce')}` };
}

function secretOf(auth: AuthConfig, accessKeyId: string): { tenant: string; secret: string } {
  for (const tenant of auth.tenants) {
    const key = tenant.alibaba?.accessKeys?.find((k) => k.id === accessKeyId);
    if (key) return { tenant: tenant.id, secret: key.secret };
  }
  throw new AlibabaError('InvalidAccessKeyId.NotFound');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The Alibaba verifiers against the signature test vectors of shared/specs/alibaba.md §7 and every signed
 * request the official SDK sent in shared/fixtures/sdk-captures/alibaba.json (clock pinned to the capture).
 */
import { authenticate, NonceCache, percentEncode, v1Signature, v1StringToSign, v3Signature, v3StringToSign, type RequestParts } from '../../adapters/alibaba/auth';
import { AlibabaError } from '../../adapters/alibaba/errors';
import { CLOCK_SKEW_MS } from '../../adapters/alibaba/limits';
import { parseForm } from '../../adapters/alibaba/params';
import type { AuthConfig } from '../../adapters/config';
import { alibabaCaptures, type Capture } from '../helpers/alibaba';
import { spec } from '../helpers/vendor-docs';

const fixture = alibabaCaptures();
const auth: AuthConfig = { mode: 'verify', tenants: [{ id: 'acme', alibaba: { accessKeys: [{ id: fixture.accessKeyId, secret: fixture.accessKeySecret }] } }] };
const signed = fixture.captures.filter((c) => c.scheme === 'http' && (c.headers.authorization !== undefined || c.url.includes('Signature=')));
const specText = spec('alibaba.md');

function partsOf(c: Capture, body = Buffer.from(c.bodyBase64, 'base64')): RequestParts {
  const q = c.url.indexOf('?');
  const form = (c.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded') ? parseForm(body.toString('utf8')) : [];
  return { method: c.method, query: parseForm(q < 0 ? '' : c.url.slice(q + 1)), form, rawHeaders: c.rawHeaders.flat(), body };
}

function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof AlibabaError) return e.code;
    throw e;
  }
  throw new Error('expected an AlibabaError');
}

test('the fixture holds V3 and V1 requests', () => {
  expect(signed.filter((c) => c.headers.authorization).length).toBeGreaterThanOrEqual(10);
  expect(signed.filter((c) => c.url.includes('Signature=')).length).toBeGreaterThanOrEqual(2);
});

test('spec §7.1 V3 test vector: canonical request, string to sign and signature', () => {
  const section = specText.slice(specText.indexOf('Test vector (equals `OpenApiUtil.getAuthorization`)'));
  const headerLines = [...section.slice(0, section.indexOf('CanonicalRequest')).matchAll(/^\s*(?:headers:)?\s*([a-z0-9-]+)=(\S+)$/gm)].map((m) => [m[1], m[2]]);
  const body = /body = (\S+)/.exec(section)![1];
  const expectedHash = /ACS3-HMAC-SHA256\n([0-9a-f]{64})/.exec(section)![1];
  const expectedSignature = /Signature=([0-9a-f]{64})/.exec(section)![1];
  const signedHeaders = /SignedHeaders=([^,]+),/.exec(section)![1].split(';');
  const parts: RequestParts = { method: 'POST', query: parseForm('ScoreThreshold=0.5'), form: parseForm(body), rawHeaders: headerLines.flat(), body: Buffer.from(body) };
  const { stringToSign } = v3StringToSign(parts, signedHeaders);
  expect(stringToSign).toBe(`ACS3-HMAC-SHA256\n${expectedHash}`);
  expect(v3Signature('testSK', stringToSign)).toBe(expectedSignature);
});

test('spec §7.2 V1 test vector: string to sign and signature', () => {
  const section = specText.slice(specText.indexOf('### 7.2'));
  const expectedSts = /StringToSign = (POST&\S+)/.exec(section)![1];
  const expectedSignature = /Signature {4}= (\S+)/.exec(section)![1];
  const list = /parameters `([^`]+)`/.exec(section)![1];
  const pairs = list.split(/,\s*/).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as [string, string]);
  expect(pairs.map(([k]) => k)).toContain('Text');
  const sts = v1StringToSign('POST', pairs);
  expect(sts).toBe(expectedSts);
  expect(v1Signature('testSK', sts)).toBe(expectedSignature);
});

test('percentEncode escapes what the SDK escapes', () => {
  expect(percentEncode("a b*(c)'~!")).toBe('a%20b%2A%28c%29%27~%21');
});

describe.each(signed.map((c) => [`#${c.seq} ${c.label}`, c] as const))('capture %s', (_label, c) => {
  const now = Date.parse(c.time);

  test('verifies and names the tenant', () => {
    const caller = authenticate(auth, partsOf(c), { now, nonces: new NonceCache() });
    expect(caller).toMatchObject({ tenant: 'acme', accessKeyId: fixture.accessKeyId });
  });

  test('the same nonce twice is refused', () => {
    const nonces = new NonceCache();
    authenticate(auth, partsOf(c), { now, nonces });
    expect(errorCode(() => authenticate(auth, partsOf(c), { now, nonces }))).toBe('SignatureNonceUsed');
  });

  test('a stale date is refused', () => {
    expect(errorCode(() => authenticate(auth, partsOf(c), { now: now + CLOCK_SKEW_MS + 1000, nonces: new NonceCache() }))).toBe('InvalidTimeStamp.Expired');
  });

  test('a wrong secret or an unknown key is refused', () => {
    const wrong: AuthConfig = { mode: 'verify', tenants: [{ id: 'acme', alibaba: { accessKeys: [{ id: fixture.accessKeyId, secret: 'wrong' }] } }] };
    expect(errorCode(() => authenticate(wrong, partsOf(c), { now, nonces: new NonceCache() }))).toBe('SignatureDoesNotMatch');
    expect(errorCode(() => authenticate({ mode: 'verify', tenants: [] }, partsOf(c), { now, nonces: new NonceCache() }))).toBe('InvalidAccessKeyId.NotFound');
  });

});

test.each(signed.filter((c) => c.bodyBase64 !== '').map((c) => [`#${c.seq} ${c.label}`, c] as const))('capture %s: a changed body is refused', (_label, c) => {
  const body = Buffer.concat([Buffer.from(c.bodyBase64, 'base64'), Buffer.from('&Num=99')]);
  expect(errorCode(() => authenticate(auth, partsOf(c, body), { now: Date.parse(c.time), nonces: new NonceCache() }))).toBe('SignatureDoesNotMatch');
});

test('V3: an x-acs-* header that is not signed is refused', () => {
  const c = signed.find((x) => x.headers.authorization)!;
  const parts = partsOf(c);
  parts.rawHeaders = [...parts.rawHeaders, 'x-acs-extra', 'smuggled'];
  expect(errorCode(() => authenticate(auth, parts, { now: Date.parse(c.time), nonces: new NonceCache() }))).toBe('IncompleteSignature');
});

test('open mode: the access key names the tenant, nothing is checked', () => {
  const c = signed[0];
  const caller = authenticate({ mode: 'open', tenants: [] }, partsOf(c), { now: 0, nonces: new NonceCache() });
  expect(caller.tenant).toBe(fixture.accessKeyId);
});

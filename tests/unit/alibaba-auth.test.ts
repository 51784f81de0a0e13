/**
 * The Alibaba verifiers against the signature test vectors of the spec's §7 (tests/fixtures/alibaba/
 * signing-vectors.json) and every signed request the official SDK sent (tests/fixtures/alibaba/
 * sdk-captures.json; clock pinned to the capture).
 */
import { authenticate, claimNonce, percentEncode, v1Signature, v1StringToSign, v3Signature, v3StringToSign, type RequestParts } from '../../adapters/alibaba/auth';
import { AlibabaError } from '../../adapters/alibaba/errors';
import { CLOCK_SKEW_MS } from '../../adapters/alibaba/limits';
import { parseForm } from '../../adapters/alibaba/params';
import type { AuthConfig } from '../../adapters/config';
import { alibabaCaptures, type Capture } from '../helpers/alibaba';
import { fixture as loadFixture } from '../helpers/fixtures';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openEmbeddedStore, type EmbeddedStore } from '../../core/store/embedded';

const fixture = alibabaCaptures();
const auth: AuthConfig = { mode: 'verify', tenants: [{ id: 'acme', alibaba: { accessKeys: [{ id: fixture.accessKeyId, secret: fixture.accessKeySecret }] } }] };
const signed = fixture.captures.filter((c) => c.scheme === 'http' && (c.headers.authorization !== undefined || c.url.includes('Signature=')));
const vectors = loadFixture('alibaba', 'signing-vectors');

function partsOf(c: Capture, body = Buffer.from(c.bodyBase64, 'base64')): RequestParts {
  const q = c.url.indexOf('?');
  const form = (c.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded') ? parseForm(body.toString('utf8')) : [];
  return { method: c.method, query: parseForm(q < 0 ? '' : c.url.slice(q + 1)), form, rawHeaders: c.rawHeaders.flat(), body };
}

// Nonces are claimed in the store (engine.claimOnce); a real embedded store, emptied for each test that claims.
let dir: string;
let store: EmbeddedStore;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'isg-alibaba-auth-'));
  store = await openEmbeddedStore({ dir });
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});
async function freshClaims(): Promise<EmbeddedStore> {
  await store.reset();
  return store;
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
  const v = vectors.v3;
  const parts: RequestParts = { method: v.method, query: parseForm(v.query), form: parseForm(v.body), rawHeaders: v.headers.flat(), body: Buffer.from(v.body) };
  const { stringToSign } = v3StringToSign(parts, v.signedHeaders);
  expect(stringToSign).toBe(v.stringToSign);
  expect(v3Signature(v.accessKeySecret, stringToSign)).toBe(v.signature);
});

test('spec §7.2 V1 test vector: string to sign and signature', () => {
  const v = vectors.v1;
  const pairs: Array<[string, string]> = v.parameters;
  expect(pairs.map(([k]) => k)).toContain('Text');
  const sts = v1StringToSign(v.method, pairs);
  expect(sts).toBe(v.stringToSign);
  expect(v1Signature(v.accessKeySecret, sts)).toBe(v.signature);
});

test('percentEncode escapes what the SDK escapes', () => {
  expect(percentEncode("a b*(c)'~!")).toBe('a%20b%2A%28c%29%27~%21');
});

describe.each(signed.map((c) => [`#${c.seq} ${c.label}`, c] as const))('capture %s', (_label, c) => {
  const now = Date.parse(c.time);

  test('verifies and names the tenant', () => {
    const caller = authenticate(auth, partsOf(c), { now });
    expect(caller).toMatchObject({ tenant: 'acme', accessKeyId: fixture.accessKeyId });
  });

  test('the same nonce twice is refused', async () => {
    const claims = await freshClaims();
    await claimNonce(authenticate(auth, partsOf(c), { now }), claims);
    const again = authenticate(auth, partsOf(c), { now });
    expect(await claimNonce(again, claims).then(() => 'accepted', (e) => errorCode(() => { throw e; }))).toBe('SignatureNonceUsed');
  });

  test('a stale date is refused', () => {
    expect(errorCode(() => authenticate(auth, partsOf(c), { now: now + CLOCK_SKEW_MS + 1000 }))).toBe('InvalidTimeStamp.Expired');
  });

  test('a wrong secret or an unknown key is refused', () => {
    const wrong: AuthConfig = { mode: 'verify', tenants: [{ id: 'acme', alibaba: { accessKeys: [{ id: fixture.accessKeyId, secret: 'wrong' }] } }] };
    expect(errorCode(() => authenticate(wrong, partsOf(c), { now }))).toBe('SignatureDoesNotMatch');
    expect(errorCode(() => authenticate({ mode: 'verify', tenants: [] }, partsOf(c), { now }))).toBe('InvalidAccessKeyId.NotFound');
  });

});

test.each(signed.filter((c) => c.bodyBase64 !== '').map((c) => [`#${c.seq} ${c.label}`, c] as const))('capture %s: a changed body is refused', (_label, c) => {
  const body = Buffer.concat([Buffer.from(c.bodyBase64, 'base64'), Buffer.from('&Num=99')]);
  expect(errorCode(() => authenticate(auth, partsOf(c, body), { now: Date.parse(c.time) }))).toBe('SignatureDoesNotMatch');
});

test('V3: an x-acs-* header that is not signed is refused', () => {
  const c = signed.find((x) => x.headers.authorization)!;
  const parts = partsOf(c);
  parts.rawHeaders = [...parts.rawHeaders, 'x-acs-extra', 'smuggled'];
  expect(errorCode(() => authenticate(auth, parts, { now: Date.parse(c.time) }))).toBe('IncompleteSignature');
});

test('of two requests with one nonce racing (as on two gateways sharing a store), exactly one is accepted', async () => {
  const c = signed[0];
  const now = Date.parse(c.time);
  const claims = await freshClaims();
  const outcomes = await Promise.allSettled([0, 1].map(() => claimNonce(authenticate(auth, partsOf(c), { now }), claims)));
  expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
  const refused = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')!;
  expect((refused.reason as AlibabaError).code).toBe('SignatureNonceUsed');
});

test('open mode: the access key names the tenant, nothing is checked', () => {
  const c = signed[0];
  const caller = authenticate({ mode: 'open', tenants: [] }, partsOf(c), { now: 0 });
  expect(caller.tenant).toBe(fixture.accessKeyId);
});

/**
 * Huawei SDK-HMAC-SHA256 verification and IAM tokens, without HTTP: the spec's test vector, every SDK
 * capture (fake keys) valid with a pinned clock, tampered captures refused, the 15-minute window, and
 * token scope and expiry.
 */
import { createHash } from 'node:crypto';
import { authenticate, projectAllowed, type AuthContext } from '../../adapters/huawei/auth';
import type { AuthConfig } from '../../adapters/config';
import { GATEWAY } from '../../adapters/huawei/errors';
import { Iam } from '../../adapters/huawei/iam';
import { SDK_DATE_SKEW_MS, TOKEN_TTL_SECONDS } from '../../adapters/huawei/limits';
import { canonicalRequest, parseAuthorization, parseSdkDate, signature, signatureMatches, stringToSign } from '../../adapters/huawei/signer';
import { captureRequest, huaweiCaptures, sectionExamples, signingVector } from '../helpers/huawei-fixtures';

const fx = huaweiCaptures();
const signedAt = parseSdkDate(fx.captures[0].headers['x-sdk-date'])!;

describe('the spec test vector (huawei.md §6.2)', () => {
  const v = signingVector();
  const auth = parseAuthorization(v.authorization)!;

  test('canonical request, string to sign and signature are the documented ones', () => {
    const canonical = canonicalRequest(v, auth.signedHeaders);
    expect(canonical).toBe(v.canonical);
    const date = v.rawHeaders[v.rawHeaders.indexOf('X-Sdk-Date') + 1];
    expect(stringToSign(canonical, date)).toBe(v.toSign);
    expect(signature(v.sk, v.toSign)).toBe(auth.signature);
    expect(auth.accessKey).toBe(v.ak);
  });

  test('a different secret does not match', () => {
    const date = v.rawHeaders[v.rawHeaders.indexOf('X-Sdk-Date') + 1];
    expect(signatureMatches(v, auth, v.sk, date)).toBe(true);
    expect(signatureMatches(v, auth, `${v.sk}x`, date)).toBe(false);
  });
});

describe('SDK captures (fixtures/sdk-captures/huawei.json)', () => {
  const ctx: AuthContext = {
    auth: { mode: 'verify', tenants: [{ id: 'acme', huawei: { accessKeys: [{ ak: fx.ak, sk: fx.sk }] } }] },
    iam: new Iam({ mode: 'verify', tenants: [] }),
    now: () => signedAt,
  };

  test.each(fx.captures.map((c) => [c.seq, c.label, c] as const))('#%s %s verifies and names the tenant', (_seq, _label, c) => {
    const result = authenticate(ctx, captureRequest(c));
    expect(result).toEqual({ ok: true, principal: { tenant: 'acme', projects: undefined, signedProject: fx.projectId } });
    if (result.ok) expect([projectAllowed(ctx, result.principal, fx.projectId), projectAllowed(ctx, result.principal, '0'.repeat(32))]).toEqual([true, false]);
  });

  test('#10 verifies only in the Node SDK form of the canonical URI (%20 signed as %2520)', () => {
    const c = fx.captures.find((x) => x.seq === 10)!;
    const req = captureRequest(c);
    const auth = parseAuthorization(c.headers.authorization)!;
    const date = c.headers['x-sdk-date'];
    const spec = signature(fx.sk, stringToSign(canonicalRequest(req, auth.signedHeaders, 'spec'), date));
    const legacy = signature(fx.sk, stringToSign(canonicalRequest(req, auth.signedHeaders, 'node-legacy'), date));
    expect([spec === auth.signature, legacy === auth.signature]).toEqual([false, true]);
  });

  test('the bare AKSKSigner.sign output verifies (content-type;host;x-sdk-date only)', () => {
    const bare = fx.results.find((r) => r.label.startsWith('AKSKSigner.sign'))!.response;
    const search = fx.captures[0];
    const body = Buffer.from(JSON.stringify({ file: JSON.parse(Buffer.from(search.bodyBase64, 'base64').toString()).file, limit: 1 }));
    const req = {
      method: 'POST',
      url: search.url,
      rawHeaders: ['content-type', bare['content-type'], 'X-Sdk-Date', bare['X-Sdk-Date'], 'host', bare.host],
      body,
    };
    expect(signatureMatches(req, parseAuthorization(bare.Authorization)!, fx.sk, bare['X-Sdk-Date'])).toBe(true);
  });

  const tampered: Array<[string, (r: ReturnType<typeof captureRequest>) => void]> = [
    ['one body byte', (r) => (r.body[r.body.length - 2] ^= 1)],
    ['the method', (r) => (r.method = 'PUT')],
    ['a path segment', (r) => (r.url = r.url.replace('demo-instance', 'demo-instancf'))],
    ['the signed host', (r) => (r.rawHeaders[r.rawHeaders.indexOf('host') + 1] = '127.0.0.1:37190')],
    ['the signed X-Sdk-Date (one second later)', (r) => (r.rawHeaders[r.rawHeaders.indexOf('X-Sdk-Date') + 1] = '20261121T061946Z')],
    ['the signed X-Project-Id', (r) => (r.rawHeaders[r.rawHeaders.indexOf('X-Project-Id') + 1] = '0'.repeat(32))],
  ];
  test.each(tampered)('changing %s is a signature failure (401 APIGW.0301)', (_what, change) => {
    const req = captureRequest(fx.captures[1]);
    change(req);
    const result = authenticate(ctx, req);
    expect(result.ok).toBe(false);
    if (!result.ok) expect([result.error.http, result.error.code, result.error.msg]).toEqual([401, 'APIGW.0301', expect.stringContaining('verify aksk signature fail')]);
  });

  test('a signed X-Sdk-Content-Sha256 must be the body\'s hash (or UNSIGNED-PAYLOAD): another body under it fails', () => {
    const c = fx.captures[1];
    const date = c.headers['x-sdk-date'];
    const bodyA = Buffer.from(c.bodyBase64, 'base64');
    const bodyB = Buffer.from(JSON.stringify({ path: '/other.jpg' }));
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    /** The capture re-signed with X-Sdk-Content-Sha256 among its signed headers, then sent with `body`. */
    const signedWith = (declared: string, body: Buffer) => {
      const req = captureRequest(c);
      req.rawHeaders.push('X-Sdk-Content-Sha256', declared);
      const signed = ['content-type', 'host', 'x-project-id', 'x-sdk-content-sha256', 'x-sdk-date'];
      const sig = signature(fx.sk, stringToSign(canonicalRequest(req, signed, 'spec'), date));
      req.rawHeaders[req.rawHeaders.findIndex((h) => h.toLowerCase() === 'authorization') + 1] = `SDK-HMAC-SHA256 Access=${fx.ak}, SignedHeaders=${signed.join(';')}, Signature=${sig}`;
      return { ...req, body };
    };
    expect(authenticate(ctx, signedWith(sha(bodyA), bodyA)).ok).toBe(true);
    const swapped = authenticate(ctx, signedWith(sha(bodyA), bodyB));
    expect(swapped.ok).toBe(false);
    if (!swapped.ok) expect([swapped.error.http, swapped.error.code]).toEqual([401, 'APIGW.0301']);
    expect(authenticate(ctx, signedWith('UNSIGNED-PAYLOAD', bodyB)).ok).toBe(true);
  });

  test('a query value changed on #10 fails', () => {
    const req = captureRequest(fx.captures.find((x) => x.seq === 10)!);
    req.url = req.url.replace('limit=10', 'limit=11');
    expect(authenticate(ctx, req).ok).toBe(false);
  });

  test('the wrong secret fails; an unknown access key fails', () => {
    const wrongSecret = { ...ctx, auth: { mode: 'verify' as const, tenants: [{ id: 'acme', huawei: { accessKeys: [{ ak: fx.ak, sk: 'x' }] } }] } };
    expect(authenticate(wrongSecret, captureRequest(fx.captures[0])).ok).toBe(false);
    const unknown = { ...ctx, auth: { mode: 'verify' as const, tenants: [] } };
    expect(authenticate(unknown, captureRequest(fx.captures[0])).ok).toBe(false);
  });

  test('X-Sdk-Date is accepted within 15 minutes either way and refused beyond', () => {
    const at = (ms: number) => authenticate({ ...ctx, now: () => ms }, captureRequest(fx.captures[0])).ok;
    expect([at(signedAt - SDK_DATE_SKEW_MS), at(signedAt + SDK_DATE_SKEW_MS)]).toEqual([true, true]);
    expect([at(signedAt - SDK_DATE_SKEW_MS - 1000), at(signedAt + SDK_DATE_SKEW_MS + 1000)]).toEqual([false, false]);
  });

  test('open mode: any secret, the AK is the tenant, and no clock; malformed credentials are still refused', () => {
    const open: AuthContext = { auth: { mode: 'open', tenants: [] }, iam: new Iam({ mode: 'open', tenants: [] }), now: () => 0 };
    expect(authenticate(open, captureRequest(fx.captures[0]))).toEqual({ ok: true, principal: { tenant: fx.ak, signedProject: fx.projectId } });
    const req = captureRequest(fx.captures[0]);
    const i = req.rawHeaders.indexOf('Authorization');
    for (const bad of ['SDK-HMAC-SHA256 Access=a', 'Basic abc', 'SDK-HMAC-SHA256 Access=a, SignedHeaders=host, Signature=zz']) {
      req.rawHeaders[i + 1] = bad;
      expect(authenticate(open, req).ok).toBe(false);
    }
    const noDate = captureRequest(fx.captures[0]);
    noDate.rawHeaders.splice(noDate.rawHeaders.indexOf('X-Sdk-Date'), 2);
    expect(authenticate(open, noDate).ok).toBe(false);
  });
});

describe('IAM tokens', () => {
  const [example, documented] = sectionExamples('6.1');
  const user = example.auth.identity.password.user;
  const projectName = example.auth.scope.project.name;
  const config: AuthConfig = {
    mode: 'verify',
    tokenSecret: 'unit-test-secret',
    tenants: [{ id: 'acme', huawei: { domain: user.domain.name, users: [{ name: user.name, password: user.password }], projects: [{ id: 'a'.repeat(32), name: projectName }] } }],
  };
  const iam = new Iam(config);
  const ctx: AuthContext = { auth: config, iam };

  test('the documented request issues a token whose body has the documented shape', () => {
    const issued = iam.issue(example, true, Date.UTC(2020, 0, 3, 9, 5, 22, 701));
    expect(issued.ok).toBe(true);
    if (!issued.ok) return;
    const body = issued.body as any;
    expect(Object.keys(body.token).sort()).toEqual(Object.keys(documented.token).sort());
    expect([body.token.issued_at, body.token.expires_at]).toEqual([documented.token.issued_at, documented.token.expires_at]);
    expect(body.token.project).toMatchObject({ id: 'a'.repeat(32), name: projectName, domain: { name: user.domain.name } });
    expect(body.token.user).toMatchObject({ name: user.name, domain: { name: user.domain.name }, password_expires_at: '' });
  });

  test('a wrong password is 401; a bad body is 400; an unknown project is refused', () => {
    const wrong = structuredClone(example);
    wrong.auth.identity.password.user.password = 'nope';
    expect(iam.issue(wrong, true)).toMatchObject({ ok: false, error: { http: 401 } });
    expect(iam.issue({ auth: {} }, true)).toMatchObject({ ok: false, error: { http: 400 } });
    const other = structuredClone(example);
    other.auth.scope.project.name = 'elsewhere';
    expect(iam.issue(other, true).ok).toBe(false);
  });

  test('a token is good for 24 hours, for its own project only', () => {
    const t0 = Date.UTC(2026, 0, 1);
    const issued = iam.issue(example, false, t0);
    if (!issued.ok) throw new Error('not issued');
    const req = (now: number) =>
      authenticate({ ...ctx, now: () => now }, { method: 'GET', url: '/v1/x/service/y', rawHeaders: ['X-Auth-Token', issued.token], body: Buffer.alloc(0) });
    const fresh = req(t0 + TOKEN_TTL_SECONDS * 1000 - 1000);
    expect(fresh.ok).toBe(true);
    if (fresh.ok) {
      expect(fresh.principal.tenant).toBe('acme');
      expect([projectAllowed(ctx, fresh.principal, 'a'.repeat(32)), projectAllowed(ctx, fresh.principal, 'b'.repeat(32))]).toEqual([true, false]);
    }
    expect(req(t0 + TOKEN_TTL_SECONDS * 1000 + 1000)).toEqual({ ok: false, error: GATEWAY.tokenExpired });
  });

  test('a token signed with another secret, or garbage, is refused in verify mode', () => {
    const forged = new Iam({ ...config, tokenSecret: 'other' }).issue(example, false);
    if (!forged.ok) throw new Error('not issued');
    for (const token of [forged.token, 'MIIatAYJKoZIhvcNAQcCoII']) {
      const result = authenticate(ctx, { method: 'GET', url: '/', rawHeaders: ['X-Auth-Token', token], body: Buffer.alloc(0) });
      expect(result.ok ? 200 : result.error.code).toBe('APIGW.0301');
    }
  });

  test('a domain-scoped token addresses no project', () => {
    const scoped = structuredClone(example);
    scoped.auth.scope = { domain: { name: user.domain.name } };
    const issued = iam.issue(scoped, true);
    if (!issued.ok) throw new Error('not issued');
    expect((issued.body as any).token.domain.name).toBe(user.domain.name);
    const result = authenticate(ctx, { method: 'GET', url: '/', rawHeaders: ['X-Auth-Token', issued.token], body: Buffer.alloc(0) });
    expect(result.ok && projectAllowed(ctx, result.principal, 'a'.repeat(32))).toBe(false);
  });

  test('open mode: any password, the account is the tenant', () => {
    const open = new Iam({ mode: 'open', tenants: [] });
    const issued = open.issue({ ...example, auth: { ...example.auth, identity: { ...example.auth.identity, password: { user: { ...user, password: 'anything' } } } } }, true);
    if (!issued.ok) throw new Error('not issued');
    expect(open.check(issued.token)).toMatchObject({ ok: true, claims: { tenant: user.domain.name } });
    expect(open.check('not-a-token')).toEqual({ ok: false, reason: 'invalid' });
  });
});

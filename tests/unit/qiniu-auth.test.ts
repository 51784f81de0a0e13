/**
 * Qiniu MAC verification against the spec's test vectors (qiniu.md §6.3), the signing strings of
 * sdk-clients.md §3.3 (both in tests/fixtures/qiniu/signing-vectors.json) and the signed SDK captures
 * (tests/fixtures/qiniu/sdk-captures.json).
 */
import type { AuthConfig } from '../../adapters/config';
import { macV2SigningData, qiniuTenant, type SignedRequest } from '../../adapters/qiniu/auth';
import { fixture } from '../helpers/fixtures';
import { qiniuCaptures } from '../helpers/qiniu';

const vectors = fixture('qiniu', 'signing-vectors');
const captures = qiniuCaptures();

const verify = (ak: string, sk: string): AuthConfig => ({ mode: 'verify', tenants: [{ id: 'acme', qiniu: { accessKeys: [{ ak, sk }] } }] });

/** The request a signing string describes (the server form: every line is a header that was sent). */
function requestFromSigningData(data: string, authorization: string): SignedRequest {
  const [head, ...rest] = data.split('\n\n');
  const [requestLine, ...headerLines] = head.split('\n');
  const [method, target] = requestLine.split(' ');
  const rawHeaders = headerLines.flatMap((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]);
  return { method, target, rawHeaders: [...rawHeaders, 'Authorization', authorization], body: Buffer.from(rest.join('\n\n')) };
}

describe('spec test vectors (qiniu.md §6.3)', () => {
  const { accessKey: ak, secretKey: sk } = vectors.server;
  const rows: Array<{ n: string; signingData: string; authorization: string }> = vectors.server.vectors;
  const tokens = new Map(rows.map((v) => [v.n, v.authorization]));
  const signingData = new Map(rows.map((v) => [v.n, v.signingData]));

  test('the spec holds four vectors', () => {
    expect([...tokens.keys()]).toEqual(['1', '2', '3', '4']);
    expect([...signingData.keys()]).toEqual(['1', '2', '3', '4']);
  });

  test.each(['1', '2', '3', '4'])('vector %s verifies, and its signing string is the server form', (n) => {
    const req = requestFromSigningData(signingData.get(n)!, tokens.get(n)!);
    expect(macV2SigningData(req)[0].toString()).toBe(signingData.get(n));
    expect(qiniuTenant(verify(ak, sk), req)).toBe('acme');
    expect(qiniuTenant(verify(ak, `${sk}x`), req)).toBeUndefined();
    expect(qiniuTenant(verify(`${ak}x`, sk), req)).toBeUndefined();
  });

  test('a changed body, path or Host breaks the signature', () => {
    const req = requestFromSigningData(signingData.get('1')!, tokens.get('1')!);
    expect(qiniuTenant(verify(ak, sk), { ...req, body: Buffer.from(req.body.toString().replace('"limit":5', '"limit":6')) })).toBeUndefined();
    expect(qiniuTenant(verify(ak, sk), { ...req, target: '/v1/image/group/g1/search' })).toBeUndefined();
    const otherHost = req.rawHeaders.map((v) => (v === 'ai.qiniuapi.com' ? 'ai.qiniuapi.com:8080' : v));
    expect(qiniuTenant(verify(ak, sk), { ...req, rawHeaders: otherHost })).toBeUndefined();
  });
});

describe('SDK captures (tests/fixtures/qiniu/sdk-captures.json)', () => {
  const toRequest = (c: any): SignedRequest => ({
    method: c.method,
    target: c.url,
    rawHeaders: c.rawHeaders.flat(),
    body: Buffer.from(c.bodyBase64, 'base64'),
  });

  test('the fixture holds the nine captures, Qiniu and QBox', () => {
    expect(captures.captures).toHaveLength(9);
    expect(captures.captures.filter((c: any) => c.headers.authorization.startsWith('QBox '))).toHaveLength(1);
  });

  const rows: Array<[number, string, any]> = captures.captures.map((c: any) => [c.seq, c.label, c]);
  test.each(rows)('#%i %s verifies with its keys; a wrong secret does not', (_seq: number, _label: string, c: any) => {
    expect(qiniuTenant(verify(captures.accessKey, captures.secretKey), toRequest(c))).toBe('acme');
    expect(qiniuTenant(verify(captures.accessKey, `${captures.secretKey}-wrong`), toRequest(c))).toBeUndefined();
  });

  test('the signing strings of sdk-clients.md §3.3 are among the candidates of their captures', () => {
    const documented = (vectors.sdk.signingStrings as Array<{ seq: number; signingData: string }>).map((d) => ({ seq: d.seq, data: d.signingData }));
    expect(documented.map((d) => d.seq)).toEqual([3, 6, 7]);
    for (const { seq, data } of documented) {
      const capture = captures.captures.find((c: any) => c.seq === seq);
      expect(macV2SigningData(toRequest(capture)).map((b) => b.toString())).toContain(data);
    }
  });
});

describe('modes and malformed headers', () => {
  const req = (authorization?: string): SignedRequest => ({
    method: 'GET',
    target: '/v1/image/group',
    rawHeaders: ['Host', '127.0.0.1:8080', ...(authorization === undefined ? [] : ['Authorization', authorization])],
    body: Buffer.alloc(0),
  });
  const open: AuthConfig = { mode: 'open', tenants: [] };

  test('open mode: the access key names the tenant, no header is the default tenant, no secret is checked', () => {
    expect(qiniuTenant(open, req('Qiniu someone:AAAAAAAAAAAAAAAAAAAAAAAAAAA='))).toBe('someone');
    expect(qiniuTenant(open, req('QBox other:AAAA'))).toBe('other');
    expect(qiniuTenant(open, req())).toBe('default');
  });

  test.each(['Qiniu', 'Qiniu ak', 'Qiniu ak:', 'Bearer ak:sig', 'Qiniu ak:sig extra', 'Qiniu a k:sig'])('%j is refused in both modes', (value) => {
    expect(qiniuTenant(open, req(value))).toBeUndefined();
    expect(qiniuTenant(verify('ak', 'sk'), req(value))).toBeUndefined();
  });

  test('verify mode without Authorization is refused', () => {
    expect(qiniuTenant(verify('ak', 'sk'), req())).toBeUndefined();
  });
});

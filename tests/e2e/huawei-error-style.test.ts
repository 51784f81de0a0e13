/**
 * Huawei auth, routing, size and throttling failures in both variants: by default as the live API Gateway
 * answers them (APIGW.* with 401/404/413/429, what the official SDK meets), and with
 * `huawei.errorStyle: "documented"` as the ImageSearch error table lists them (HTTP 400 APIG.*, IS.0013,
 * IS.0021: tests/fixtures/huawei/auth-routing-errors.json), each condition sent for real.
 */
import jwt from 'jsonwebtoken';
import { GATEWAY, unauthorized } from '../../adapters/huawei/errors';
import { AKSK_BODY_LIMIT } from '../../adapters/huawei/limits';
import { fixture } from '../helpers/fixtures';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { hw, iamToken } from '../helpers/huawei-client';
import { documentedError } from '../helpers/huawei-fixtures';

const table: Array<{ status: number; code: string; message: string; handling?: string[] }> = fixture('huawei', 'auth-routing-errors').rows;
const row = (code: string) => table.find((r) => r.code === code)!;
const PROJECT = { id: 'c'.repeat(32), name: 'cn-north-4' };
const AK = 'AKDOCUMENTEDSTYLE000';
const SECRET = 'style-test-secret';
const ADMIN = 'admin-key-style';

/** Every failure this suite provokes, by name, sent to the given gateway. */
async function provoke(gw: TestGateway) {
  const token = await iamToken(gw.url, {
    auth: { identity: { methods: ['password'], password: { user: { name: 'alice', password: 'pw', domain: { name: 'acme' } } } }, scope: { project: { name: PROJECT.name } } },
  });
  // The same claims, expired a minute ago, signed with the configured secret: a token the gateway itself issued, past its 24 h.
  const { iat: _iat, exp: _exp, ...claims } = jwt.decode(token) as Record<string, unknown>;
  const expired = jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 60 }, SECRET, { algorithm: 'HS256' });
  const sdkDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const badSignature = { authorization: `SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=host;x-sdk-date, Signature=${'0'.repeat(64)}`, 'x-sdk-date': sdkDate };
  const path = `/v1/${PROJECT.id}/service/shop`;

  const throttle = await fetch(`${gw.url}/_gateway/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify({ vendor: 'huawei', throttle: true, times: 1 }),
  });
  expect(throttle.status).toBe(201);
  const throttled = await hw(gw.url, 'GET', path, undefined, { 'x-auth-token': token });

  return {
    throttled,
    noCredentials: await hw(gw.url, 'GET', path),
    badToken: await hw(gw.url, 'GET', path, undefined, { 'x-auth-token': `${token}x` }),
    expiredToken: await hw(gw.url, 'GET', path, undefined, { 'x-auth-token': expired }),
    badSignature: await hw(gw.url, 'GET', path, undefined, badSignature),
    unknownApi: await hw(gw.url, 'GET', `/v1/${PROJECT.id}/no/such/api`, undefined, { 'x-auth-token': token }),
    wrongMethod: await hw(gw.url, 'PATCH', path, undefined, { 'x-auth-token': token }),
    tooLarge: await hw(gw.url, 'POST', `/v1/${PROJECT.id}/shop/image/search`, 'x'.repeat(AKSK_BODY_LIMIT + 1), badSignature),
    ok: await hw(gw.url, 'GET', path, undefined, { 'x-auth-token': token }),
  };
}

async function gateway(errorStyle?: 'gateway' | 'documented'): Promise<TestGateway> {
  const gw = await startTestGateway({
    auth: {
      mode: 'verify',
      tokenSecret: SECRET,
      tenants: [{ id: 'acme', huawei: { domain: 'acme', users: [{ name: 'alice', password: 'pw' }], projects: [PROJECT], accessKeys: [{ ak: AK, sk: 'sk' }] } }],
    },
    libraries: [{ tenant: 'acme', name: 'shop', mode: 'general_search' }],
    control: { adminKeys: [ADMIN] },
    ...(errorStyle ? { huawei: { errorStyle } } : {}),
  });
  return gw;
}

describe.each([undefined, 'gateway'] as const)('errorStyle %s (the default): the live API Gateway’s answers', (style) => {
  let gw: TestGateway;
  let got: Awaited<ReturnType<typeof provoke>>;
  beforeAll(async () => {
    gw = await gateway(style);
    got = await provoke(gw);
  });
  afterAll(() => gw.destroy());

  test('APIGW.* with real statuses and a request_id, as the documented 401 body', () => {
    const answer = (r: { status: number; body: any }) => [r.status, r.body.error_code, r.body.error_msg];
    expect(answer(got.noCredentials)).toEqual([401, 'APIGW.0301', unauthorized('no_credentials').msg]);
    expect(answer(got.badToken)).toEqual([401, 'APIGW.0301', unauthorized('token_invalid').msg]);
    expect(answer(got.expiredToken)).toEqual([GATEWAY.tokenExpired.http, GATEWAY.tokenExpired.code, GATEWAY.tokenExpired.msg]);
    expect(answer(got.badSignature)).toEqual([401, 'APIGW.0301', unauthorized('signature_mismatch').msg]);
    expect(answer(got.unknownApi)).toEqual([404, 'APIGW.0101', GATEWAY.routeNotFound.msg]);
    expect(answer(got.wrongMethod)).toEqual([404, 'APIGW.0101', GATEWAY.routeNotFound.msg]);
    expect(answer(got.tooLarge)).toEqual([413, 'APIGW.0201', GATEWAY.tooLarge.msg]);
    expect(answer(got.throttled)).toEqual([GATEWAY.throttled.http, GATEWAY.throttled.code, GATEWAY.throttled.msg]);
    expect(Object.keys(got.badSignature.body).sort()).toEqual(Object.keys(documentedError('5.4 gateway 401')).sort());
    expect(got.ok.status).toBe(200);
  });
});

describe('errorStyle "documented": the ImageSearch error table’s rows', () => {
  let gw: TestGateway;
  let got: Awaited<ReturnType<typeof provoke>>;
  beforeAll(async () => {
    gw = await gateway('documented');
    got = await provoke(gw);
  });
  afterAll(() => gw.destroy());

  const documented = (code: string) => ({ status: row(code).status, body: { error_code: code, error_msg: row(code).message } });
  const seen = (r: { status: number; body: any }) => ({ status: r.status, body: r.body });

  test('no token: IS.0013; expired token: IS.0021', () => {
    expect(seen(got.noCredentials)).toEqual(documented('IS.0013'));
    expect(seen(got.expiredToken)).toEqual(documented('IS.0021'));
  });

  test('unknown API and a method the API does not take: APIG.0101', () => {
    expect(seen(got.unknownApi)).toEqual(documented('APIG.0101'));
    expect(seen(got.wrongMethod)).toEqual(documented('APIG.0101'));
  });

  test('a bad token, a wrong AK/SK signature: APIG.0301 with the table’s handling reason', () => {
    const { status, handling } = row('APIG.0301');
    const [decryptFail, , signatureFail] = handling!;
    expect(seen(got.badToken)).toEqual({ status, body: { error_code: 'APIG.0301', error_msg: `Incorrect IAM authentication information: ${decryptFail}` } });
    expect(seen(got.badSignature)).toEqual({ status, body: { error_code: 'APIG.0301', error_msg: `Incorrect IAM authentication information: ${signatureFail}` } });
    expect(row('APIG.0301').message).toContain('Incorrect IAM authentication information');
  });

  test('an AK/SK body over 12 MB: APIG.0201; throttled: APIG.0308', () => {
    expect(seen(got.tooLarge)).toEqual(documented('APIG.0201'));
    expect(seen(got.throttled)).toEqual(documented('APIG.0308'));
  });

  test('the rest is unchanged', () => {
    expect(got.ok.status).toBe(200);
    expect(table.every((r) => r.status === 400)).toBe(true);
  });
});

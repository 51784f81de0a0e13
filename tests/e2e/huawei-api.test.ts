/**
 * Huawei v1 end to end over HTTP: IAM tokens in verify mode (project scope, tenant isolation), the body
 * limits, the image rules of the vendor (format and sides from adapters/huawei/limits.ts), tag rules,
 * crop search, downloads through the SSRF guard, and open mode's tenants.
 */
import sharp from 'sharp';
import { AKSK_BODY_LIMIT } from '../../adapters/huawei/limits';
import { GATEWAY, IS, unauthorized } from '../../adapters/huawei/errors';
import { IMAGE_LIMITS } from '../../adapters/huawei/limits';
import pictureSearchSchema from '../../schemas/huawei/picture-search.json';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { hw, iamToken } from '../helpers/huawei-client';
import { productImage } from '../helpers/product-images';

const A = { id: 'a'.repeat(32), name: 'ap-southeast-1' };
const B = { id: 'b'.repeat(32), name: 'cn-north-4' };
const tokenRequest = (user: string, password: string, domain: string, project: string) => ({
  auth: { identity: { methods: ['password'], password: { user: { name: user, password, domain: { name: domain } } } }, scope: { project: { name: project } } },
});

describe('verify mode', () => {
  let gw: TestGateway;
  let acmeA: string;
  let acmeB: string;
  let globex: string;
  const as = (token: string, method: string, path: string, body?: unknown) => hw(gw.url, method, path, body, { 'x-auth-token': token });

  beforeAll(async () => {
    gw = await startTestGateway({
      auth: {
        mode: 'verify',
        tokenSecret: 'e2e-secret',
        tenants: [
          { id: 'acme', huawei: { domain: 'acme', users: [{ name: 'alice', password: 'pw-alice' }], projects: [A, B] } },
          { id: 'globex', huawei: { domain: 'globex', users: [{ name: 'bob', password: 'pw-bob' }], projects: [A] } },
        ],
      },
    });
    acmeA = await iamToken(gw.url, tokenRequest('alice', 'pw-alice', 'acme', A.name));
    acmeB = await iamToken(gw.url, tokenRequest('alice', 'pw-alice', 'acme', B.name));
    globex = await iamToken(gw.url, tokenRequest('bob', 'pw-bob', 'globex', A.name));
    expect((await as(acmeA, 'POST', `/v1/${A.id}/service`, { name: 'shop', model: 'common-search', tags: ['color', 'size'] })).status).toBe(200);
  });
  afterAll(() => gw.destroy());

  test('IAM: a wrong password is 401 in the IAM envelope; the token body names the configured project', async () => {
    const wrong = await hw(gw.url, 'POST', '/v3/auth/tokens', tokenRequest('alice', 'nope', 'acme', A.name));
    expect([wrong.status, wrong.body.error.code]).toEqual([401, 401]);
    const ok = await hw(gw.url, 'POST', '/v3/auth/tokens', tokenRequest('alice', 'pw-alice', 'acme', B.name));
    expect(ok.body.token.project).toMatchObject({ id: B.id, name: B.name });
  });

  test('no credentials, a bad token: 401 APIGW.0301', async () => {
    const none = await hw(gw.url, 'GET', `/v1/${A.id}/service/shop`);
    expect([none.status, none.body.error_code, none.body.error_msg]).toEqual([401, 'APIGW.0301', unauthorized('no_credentials').msg]);
    const bad = await as(`${acmeA}x`, 'GET', `/v1/${A.id}/service/shop`);
    expect([bad.status, bad.body.error_code]).toEqual([401, 'APIGW.0301']);
  });

  test('a token for project A is refused on project B, and the other way round', async () => {
    expect((await as(acmeA, 'GET', `/v1/${A.id}/service/shop`)).status).toBe(200);
    for (const [token, project] of [[acmeA, B.id], [acmeB, A.id]]) {
      const res = await as(token, 'GET', `/v1/${project}/service/shop`);
      expect([res.status, res.body]).toEqual([400, { error_code: IS.projectMismatch.code, error_msg: IS.projectMismatch.msg }]);
    }
  });

  test('tenant isolation: another account on the same project id sees nothing, and can use the same name', async () => {
    const seen = await as(globex, 'GET', `/v1/${A.id}/service/shop`);
    expect([seen.status, seen.body.error_code]).toEqual([400, IS.noInstance.code]);
    expect((await as(globex, 'POST', `/v1/${A.id}/shop/image/check`, { path: 'x' })).body.error_code).toBe(IS.noInstance.code);
    expect((await as(globex, 'POST', `/v1/${A.id}/service`, { name: 'shop', model: 'common-search' })).status).toBe(200);
    expect((await as(acmeA, 'GET', `/v1/${A.id}/service/shop`)).body.tags).toEqual(['color', 'size']);
  });

  test('an AK/SK body over 12 MB is 413 APIGW.0201; a token request of that size is read', async () => {
    const big = JSON.stringify({ path: 'big.jpg', file: 'A'.repeat(AKSK_BODY_LIMIT) });
    const signed = await hw(gw.url, 'POST', `/v1/${A.id}/shop/image`, big, {
      authorization: `SDK-HMAC-SHA256 Access=k, SignedHeaders=host;x-sdk-date, Signature=${'0'.repeat(64)}`,
      'x-sdk-date': '20260101T000000Z',
    });
    expect([signed.status, signed.body.error_code, signed.body.error_msg]).toEqual([GATEWAY.tooLarge.http, GATEWAY.tooLarge.code, GATEWAY.tooLarge.msg]);
    const token = await as(acmeA, 'POST', `/v1/${A.id}/shop/image`, big);
    expect([token.status, token.body.error_code]).toEqual([400, IS.badFormat.code]);
  });

  test('image rules: format, short and long side, Base64, tags', async () => {
    const short = IMAGE_LIMITS.minShortSide!;
    const long = IMAGE_LIMITS.maxLongSide!;
    const cases: Array<[string, Buffer | string, string]> = [
      ['short side below the minimum', await productImage('#333', 'circle', { width: 400, height: short - 1 }), IS.imageTooSmall.code],
      ['long side above the maximum', await productImage('#333', 'circle', { width: long + 1, height: 200 }), IS.imageTooBig.code],
      ['GIF', await sharp({ create: { width: 200, height: 200, channels: 3, background: '#888' } }).gif().toBuffer(), IS.badFormat.code],
      ['not Base64', '%%%not-base64%%%', IS.badBase64.code],
      ['truncated JPEG', (await productImage('#333', 'circle')).subarray(0, 2000), IS.damaged.code],
    ];
    for (const [what, image, code] of cases) {
      const file = typeof image === 'string' ? image : image.toString('base64');
      const res = await as(acmeA, 'POST', `/v1/${A.id}/shop/image`, { path: 'p.jpg', file });
      expect([what, res.status, res.body.error_code]).toEqual([what, 400, code]);
    }
    const edge = await productImage('#333', 'square', { width: long, height: short, format: 'png' });
    expect((await as(acmeA, 'POST', `/v1/${A.id}/shop/image`, { path: 'edge.png', file: edge.toString('base64') })).status).toBe(200);
    const small = await productImage('#333', 'square', { width: 120, height: 120 });
    const undeclared = await as(acmeA, 'POST', `/v1/${A.id}/shop/image`, { path: 't.jpg', file: small.toString('base64'), tags: { shape: 'x' } });
    expect(undeclared.body.error_code).toBe(IS.tagMismatch.code);
    const tooMany = Object.fromEntries(Array.from({ length: pictureSearchSchema.properties.tags.maxProperties + 1 }, (_, i) => [`k${i}`, 'v']));
    expect((await as(acmeA, 'POST', `/v1/${A.id}/shop/image/search`, { tags: tooMany })).body.error_code).toBe(IS.tooManyTags.code);
    expect((await as(acmeA, 'PUT', `/v1/${A.id}/shop/image`, { path: 'edge.png' })).body.error_code).toBe(IS.tagsMissing.code);
    expect((await as(acmeA, 'PUT', `/v1/${A.id}/shop/image`, { path: 'absent.png', tags: { color: 'x' } })).body.error_code).toBe(IS.notIndexed.code);
  });

  test('path downloads go through the SSRF guard: a loopback URL is refused, a relative path is invalid', async () => {
    const loop = await as(acmeA, 'POST', `/v1/${A.id}/shop/image`, { path: `${gw.url}/_gateway/health` });
    expect(loop.body.error_code).toBe(IS.notAuthorizedSource.code);
    const relative = await as(acmeA, 'POST', `/v1/${A.id}/shop/image`, { path: '../image.jpg' });
    expect(relative.body.error_code).toBe(IS.invalidPath.code);
  });

  test('is_crop + box searches the area: the red half of a two-colour image finds the red image first', async () => {
    const red = await productImage('#d01f1f', 'circle', { width: 300, height: 300 });
    const blue = await productImage('#1f4fd0', 'square', { width: 300, height: 300 });
    await as(acmeA, 'POST', `/v1/${A.id}/service`, { name: 'crop', model: 'common-search' });
    for (const [path, image] of [['red', red], ['blue', blue]] as const) {
      expect((await as(acmeA, 'POST', `/v1/${A.id}/crop/image`, { path, file: image.toString('base64') })).status).toBe(200);
    }
    const both = await sharp({ create: { width: 600, height: 300, channels: 3, background: '#fff' } })
      .composite([{ input: red, left: 0, top: 0 }, { input: blue, left: 300, top: 0 }])
      .jpeg()
      .toBuffer();
    const search = (box: object, isCrop: boolean) => as(acmeA, 'POST', `/v1/${A.id}/crop/image/search`, { file: both.toString('base64'), is_crop: isCrop, box });
    expect((await search({ x: 0, y: 0, width: 300, height: 300 }, true)).body.result[0].path).toBe('red');
    expect((await search({ x: 300, y: 0, width: 300, height: 300 }, true)).body.result[0].path).toBe('blue');
    // Without is_crop the box is not used: the same answer whichever box is sent.
    const [left, right] = [await search({ x: 0, width: 300 }, false), await search({ x: 300, width: 300 }, false)];
    expect(left.body.result).toEqual(right.body.result);
  });
});

describe('open mode', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw.destroy());

  test('any AK and secret; the AK is the tenant; malformed credentials are refused', async () => {
    const headers = (ak: string) => ({ authorization: `SDK-HMAC-SHA256 Access=${ak}, SignedHeaders=host;x-sdk-date, Signature=${'1'.repeat(64)}`, 'x-sdk-date': '20200101T000000Z' });
    expect((await hw(gw.url, 'POST', '/v1/p1/service', { name: 'mine', model: 'common-search' }, headers('ak-one'))).status).toBe(200);
    expect((await hw(gw.url, 'GET', '/v1/p2/service/mine', undefined, headers('ak-one'))).status).toBe(200);
    expect((await hw(gw.url, 'GET', '/v1/p1/service/mine', undefined, headers('ak-two'))).body.error_code).toBe(IS.noInstance.code);
    const malformed = await hw(gw.url, 'GET', '/v1/p1/service/mine', undefined, { authorization: 'SDK-HMAC-SHA256 Access=ak-one', 'x-sdk-date': '20200101T000000Z' });
    expect([malformed.status, malformed.body.error_code]).toEqual([401, 'APIGW.0301']);
    const noDate = await hw(gw.url, 'GET', '/v1/p1/service/mine', undefined, { authorization: headers('ak-one').authorization });
    expect(noDate.status).toBe(401);
  });

  test('another vendor\'s Authorization scheme on a Huawei path is not answered by the Huawei adapter', async () => {
    const res = await hw(gw.url, 'GET', '/v1/p1/service/mine', undefined, { authorization: 'Bearer someone' });
    expect(res.body?.error_code).toBeUndefined();
  });
});

/**
 * Qiniu through the official `qiniu` package as the client (shared/specs/sdk-clients.md §3): there is no
 * image-group client, so requests are signed by the SDK's own helpers on its four public paths —
 * A generateAccessTokenV2 + urllib, B rpc.postWithOptions/getWithOptions, C HttpClient +
 * QiniuAuthMiddleware, D the legacy QBox generateAccessToken — and sent to a gateway in verify mode on a
 * loopback port (so the SDK's doubled-port Host quirk is exercised). Keys: the fixture's fake ones. Over
 * HTTP, or over HTTPS when tests/sdk/https.test.ts runs it (the helpers sign for whichever scheme they are given).
 */
import * as qiniu from 'qiniu';
import urllib from 'urllib';
import { ERRORS } from '../../adapters/qiniu/errors';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { sdkServer, sdkUrl } from '../helpers/sdk-transport';
import { productImage } from '../helpers/product-images';
import { dataUri, qiniuCaptures } from '../helpers/qiniu';

const fixture = qiniuCaptures();
const OTHER = { ak: 'OtherTenantAccessKey', sk: 'OtherTenantSecretKey' };

let gw: TestGateway;
let shoe: Buffer;
let bag: Buffer;
const mac = new qiniu.auth.digest.Mac(fixture.accessKey, fixture.secretKey);
const wrongMac = new qiniu.auth.digest.Mac(fixture.accessKey, `${fixture.secretKey}-wrong`);

beforeAll(async () => {
  shoe = await productImage('#c03020', 'circle');
  bag = await productImage('#203080', 'square');
  gw = await startTestGateway({
    auth: {
      mode: 'verify',
      tenants: [
        { id: 'acme', qiniu: { accessKeys: [{ ak: fixture.accessKey, sk: fixture.secretKey }] } },
        { id: 'globex', qiniu: { accessKeys: [OTHER] } },
      ],
    },
  }, undefined, sdkServer);
});
afterAll(() => gw.destroy());

type Answer = { status: number; body: any };

/** A: the pattern of qiniu/sms/message.js — token from generateAccessTokenV2, request with urllib. */
async function pathA(method: 'GET' | 'POST', route: string, body?: unknown, key = mac): Promise<Answer> {
  const url = `${sdkUrl(gw)}${route}`;
  const data = body === undefined ? undefined : JSON.stringify(body);
  const contentType = data === undefined ? undefined : 'application/json';
  const token = qiniu.util.generateAccessTokenV2(key, url, method, contentType as string, data);
  const headers: Record<string, string> = { Authorization: token };
  if (contentType) headers['Content-Type'] = contentType;
  const res = await urllib.request(url, { method, data, headers, dataType: 'json' });
  return { status: res.status, body: res.data };
}

/** B: rpc helpers (X-Qiniu-Date signed; form-urlencoded content type on GET). */
function pathB(method: 'GET' | 'POST', route: string, body?: unknown, key = mac): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null | undefined, respBody: any, respInfo: any) => (err ? reject(err) : resolve({ status: respInfo.statusCode, body: respBody }));
    const url = `${sdkUrl(gw)}${route}`;
    if (method === 'GET') qiniu.rpc.getWithOptions(url, { mac: key } as any, done);
    else qiniu.rpc.postWithOptions(url, JSON.stringify(body), { mac: key, headers: { 'Content-Type': 'application/json' } } as any, done);
  });
}

/** C: HttpClient + QiniuAuthMiddleware (signs form-urlencoded whatever the header says). */
async function pathC(method: 'GET' | 'POST', route: string, body?: unknown, key = mac): Promise<Answer> {
  const client = new qiniu.httpc.HttpClient({ middlewares: [new (qiniu.httpc.middleware as any).QiniuAuthMiddleware({ mac: key })] } as any);
  const url = `${sdkUrl(gw)}${route}`;
  const wrapper =
    method === 'GET'
      ? await client.get({ url } as any)
      : body === undefined
        ? await client.post({ url, data: '' } as any)
        : await client.post({ url, data: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } } as any);
  return { status: wrapper.resp.statusCode!, body: wrapper.data };
}

/** D: legacy QBox token (path, query and form body only). */
async function pathD(method: 'GET' | 'POST', route: string, body?: unknown, key = mac): Promise<Answer> {
  const url = `${sdkUrl(gw)}${route}`;
  const data = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { Authorization: qiniu.util.generateAccessToken(key, url) };
  if (data !== undefined) headers['Content-Type'] = 'application/json';
  const res = await urllib.request(url, { method, data, headers, dataType: 'json' });
  return { status: res.status, body: res.data };
}

const PATHS = { A: pathA, B: pathB, C: pathC, D: pathD };

test('a whole session: every route through the SDK paths, with the documented answers', async () => {
  const created = await pathB('POST', '/v1/image/group/shop/new', {
    data: [{ uri: dataUri(shoe), attribute: { id: 'img-1', label: '标签', desc: { k: 'v' } } }],
  });
  expect(created).toEqual({ status: 200, body: { errors: [null], images: ['img-1'] } });
  const added = await pathA('POST', '/v1/image/group/shop/add?x=1&y=a%20b', { data: [{ uri: dataUri(bag), attribute: { id: 'img-2', label: 'bag' } }] });
  expect(added).toEqual({ status: 200, body: { errors: [null], images: ['img-2'] } });
  expect(await pathB('GET', '/v1/image/group')).toEqual({ status: 200, body: { code: 0, message: '', result: ['shop'] } });
  expect(await pathC('GET', '/v1/image/group/shop/info')).toEqual({ status: 200, body: { count: 2 } });

  const page1 = await pathB('GET', '/v1/image/group/shop?marker=&limit=1');
  expect(page1.body.result.map((r: any) => r.id)).toEqual(['img-1']);
  expect(page1.body.marker).not.toBe('');
  const page2 = await pathB('GET', `/v1/image/group/shop?marker=${encodeURIComponent(page1.body.marker)}&limit=1`);
  expect(page2.body).toMatchObject({ code: 0, message: '', marker: '', result: [{ id: 'img-2', value: { label: 'bag', desc: '' } }] });

  expect((await pathC('POST', '/v1/image/group/shop/image', { id: 'img-1' })).body).toMatchObject({ label: '标签', desc: { k: 'v' } });
  const found = await pathA('POST', '/v1/image/groups/search', { data: { uri: dataUri(shoe) }, params: { groups: ['shop'], limit: 5, threshold: 0.8 } });
  expect(found.status).toBe(200);
  expect(found.body.result[0]).toMatchObject({ id: 'img-1', group: 'shop', label: '标签', desc: { k: 'v' } });
  const legacy = await pathD('POST', '/v1/image/group/shop/search', { data: { uri: dataUri(bag) } });
  expect(legacy.body.result).toEqual([expect.objectContaining({ id: 'img-2', label: 'bag' })]);

  expect(await pathC('POST', '/v1/image/group/shop/delete', { images: ['img-1'] })).toEqual({ status: 200, body: {} });
  expect((await pathD('GET', '/v1/image/group/shop/info')).body).toEqual({ count: 1 });
  expect(await pathC('POST', '/v1/image/group/shop/remove')).toEqual({ status: 200, body: {} });
  expect((await pathA('GET', '/v1/image/group')).body.result).toEqual([]);
});

test.each(Object.entries(PATHS))('path %s with a wrong secret: 401 {"error":"bad token"}, no exception', async (_name, send) => {
  for (const [method, route, body] of [
    ['GET', '/v1/image/group', undefined],
    ['POST', '/v1/image/groups/search', { data: { uri: 'http://example.com/a.jpg' }, params: { groups: ['g1'] } }],
  ] as const) {
    const res = await send(method, route, body, wrongMac);
    expect(res).toEqual({ status: ERRORS.badToken.http, body: { error: ERRORS.badToken.message } });
  }
});

test('vendor errors reach the SDK caller as status and body', async () => {
  const res = await pathB('POST', '/v1/image/group/absent/add', { data: [{ uri: dataUri(shoe) }] });
  expect(res).toEqual({ status: 400, body: { error: ERRORS.groupNotExists('absent').message } });
});

test("tenants are isolated: another tenant's keys see none of these groups", async () => {
  await pathB('POST', '/v1/image/group/private/new', { data: [{ uri: dataUri(shoe) }] });
  const other = new qiniu.auth.digest.Mac(OTHER.ak, OTHER.sk);
  expect((await pathB('GET', '/v1/image/group', undefined, other)).body.result).toEqual([]);
  expect((await pathA('GET', '/v1/image/group/private/info', undefined, other)).body).toEqual({ error: ERRORS.groupNotExists('private').message });
  expect((await pathA('GET', '/v1/image/group')).body.result).toContain('private');
});

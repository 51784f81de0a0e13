/**
 * Passthrough: a gateway in open mode, holding no vendor secret, in front of a fake vendor endpoint on
 * 127.0.0.1. The official clients (qiniu's signing helper, the Alibaba SDK, the Huawei SDK core) sign for
 * the gateway; the fake endpoint verifies each signature with the vendor algorithm and the real secret
 * (the adapters' own verifiers, in verify mode) and records the request, so the test sees that what
 * arrived is the client's request, byte for byte, signature included. Upstream errors, timeouts and an
 * unreachable upstream reach the client as the vendor's own answers.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import ImageSearch, * as $is from '@alicloud/imagesearch20201214';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { ClientBuilder } from '@huaweicloud/huaweicloud-sdk-core/ClientBuilder';
import type { HcClient } from '@huaweicloud/huaweicloud-sdk-core/HcClient';
import * as qiniu from 'qiniu';
import type { AuthConfig, GatewayConfig } from '../../adapters/config';
import { authenticate as alibabaAuthenticate } from '../../adapters/alibaba/auth';
import { ERRORS as ALIBABA_ERRORS } from '../../adapters/alibaba/errors';
import { parseForm } from '../../adapters/alibaba/params';
import { authenticate as huaweiAuthenticate } from '../../adapters/huawei/auth';
import { Iam } from '../../adapters/huawei/iam';
import { qiniuTenant } from '../../adapters/qiniu/auth';
import { ERRORS as QINIU_ERRORS } from '../../adapters/qiniu/errors';
import { alibabaCaptures } from '../helpers/alibaba';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { huaweiCaptures } from '../helpers/huawei-fixtures';
import { responseExample } from '../helpers/qiniu';

const ali = alibabaCaptures();
const hw = huaweiCaptures();
const QINIU = { ak: 'QiniuMigrationAccessKey', sk: 'QiniuMigrationSecretKey' };

/** The vendor's side: every tenant's real secret, verify mode. */
const VENDOR_AUTH: AuthConfig = {
  mode: 'verify',
  tenants: [
    {
      id: 'acme',
      qiniu: { accessKeys: [QINIU] },
      alibaba: { accessKeys: [{ id: ali.accessKeyId, secret: ali.accessKeySecret }] },
      huawei: { accessKeys: [{ ak: hw.ak, sk: hw.sk }] },
      operator: { apiKeys: ['operator-secret-key'] },
    },
  ],
};

interface Received {
  method: string;
  url: string;
  rawHeaders: string[];
  body: Buffer;
  /** The tenant the vendor's verifier found, or why it refused. */
  verified: string;
}

type Answer = { status: number; headers?: Record<string, string>; body: string } | 'hang';

/** The fake vendor endpoint. */
class FakeVendor {
  received: Received[] = [];
  answer: (r: Received) => Answer = () => ({ status: 200, body: '{}' });
  private readonly hanging: http.ServerResponse[] = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { method: req.method!, url: req.url!, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks), verified: '' };
      r.verified = verify(r);
      this.received.push(r);
      const a = this.answer(r);
      if (a === 'hang') return void this.hanging.push(res);
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers }).end(a.body);
    });
  });
  url = '';
  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }
  close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function header(r: Received, name: string): string | undefined {
  for (let i = 0; i < r.rawHeaders.length; i += 2) if (r.rawHeaders[i].toLowerCase() === name) return r.rawHeaders[i + 1];
  return undefined;
}

/** The vendor's verdict on a request, with the adapters' own verifiers and the real secrets. */
function verify(r: Received): string {
  const authorization = header(r, 'authorization') ?? '';
  try {
    if (authorization.startsWith('Qiniu ')) return qiniuTenant(VENDOR_AUTH, { method: r.method, target: r.url, rawHeaders: r.rawHeaders, body: r.body }) ?? 'refused';
    if (authorization.startsWith('ACS3-')) {
      const q = r.url.indexOf('?');
      const parts = { method: r.method, query: q < 0 ? [] : parseForm(r.url.slice(q + 1)), form: parseForm(r.body.toString('utf8')), rawHeaders: r.rawHeaders, body: r.body };
      return alibabaAuthenticate(VENDOR_AUTH, parts, { now: Date.now() }).tenant;
    }
    if (authorization.startsWith('SDK-HMAC-SHA256')) {
      const result = huaweiAuthenticate({ auth: VENDOR_AUTH, iam: new Iam(VENDOR_AUTH) }, { method: r.method, url: r.url, rawHeaders: r.rawHeaders, body: r.body });
      return result.ok ? result.principal.tenant : 'refused';
    }
  } catch (e) {
    return `refused: ${(e as Error).message}`;
  }
  return 'unsigned';
}

let vendor: FakeVendor;
let gw: TestGateway;

function migrationTo(url: string, extra: Partial<NonNullable<GatewayConfig['migration']>['qiniu']> = {}): GatewayConfig['migration'] {
  return {
    qiniu: { upstream: url, mode: 'upstream', libraries: { 'served-here': 'local' }, ...extra },
    alibaba: { upstream: url, mode: 'upstream', ...extra },
    huawei: { upstream: url, mode: 'upstream', ...extra },
    operator: { upstream: url, mode: 'upstream', ...extra },
  };
}

beforeAll(async () => {
  vendor = await new FakeVendor().start();
  // Open mode and no credentials at all: the gateway cannot sign anything itself.
  gw = await startTestGateway({ migration: migrationTo(vendor.url, { timeoutMs: 300 }) });
});
afterAll(async () => {
  await gw.destroy();
  await vendor.close();
});
beforeEach(() => {
  vendor.received = [];
  vendor.answer = () => ({ status: 200, body: '{}' });
});

const mac = new qiniu.auth.digest.Mac(QINIU.ak, QINIU.sk);

/** A Qiniu call signed by the qiniu package for the URL it is sent to (the gateway's). */
async function qiniuCall(method: 'GET' | 'POST', route: string, body?: unknown) {
  const url = `${gw.url}${route}`;
  const data = body === undefined ? undefined : JSON.stringify(body);
  const authorization = qiniu.util.generateAccessTokenV2(mac, url, method, data === undefined ? '' : 'application/json', data);
  const headers: Record<string, string> = { Authorization: authorization };
  if (data !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: data });
  return { status: res.status, text: await res.text(), headers: res.headers, authorization, data };
}

describe('upstream mode forwards the client request unchanged', () => {
  test('Qiniu: the vendor receives the same request line, Authorization and body, and its signature verifies', async () => {
    const documented = responseExample('图片搜索');
    vendor.answer = () => ({ status: 200, headers: { 'X-Reqid': 'vendor-req-1' }, body: JSON.stringify(documented) });
    const target = '/v1/image/groups/search?trace=a%2Fb';
    const body = { data: { uri: 'http://img.example/q.jpg' }, params: { groups: ['shop'], limit: 2 } };
    const res = await qiniuCall('POST', target, body);

    expect(vendor.received).toHaveLength(1);
    const got = vendor.received[0];
    expect([got.method, got.url]).toEqual(['POST', target]);
    expect(header(got, 'authorization')).toBe(res.authorization);
    expect(header(got, 'host')).toBe(new URL(gw.url).host);
    expect(got.body.equals(Buffer.from(res.data!))).toBe(true);
    expect(got.verified).toBe('acme');
    // The vendor's answer, as sent.
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual(documented);
    expect(res.headers.get('x-reqid')).toBe('vendor-req-1');
  });

  test('Qiniu: a library configured local is served by the gateway and never reaches the vendor', async () => {
    const res = await qiniuCall('GET', '/v1/image/group/served-here/info');
    expect(vendor.received).toHaveLength(0);
    // The gateway's own Qiniu adapter answered (the group does not exist here).
    expect(res.status).toBe(QINIU_ERRORS.groupNotExists('served-here').http);
    expect(JSON.parse(res.text)).toEqual({ error: QINIU_ERRORS.groupNotExists('served-here').message });
  });

  test('Alibaba: the official SDK signs for the gateway, the vendor verifies the same signature; its error reaches the SDK', async () => {
    const [status, message] = ALIBABA_ERRORS.InvalidInstance;
    vendor.answer = () => ({ status, body: JSON.stringify({ RequestId: 'R-1', HostId: 'imagesearch.cn-shanghai.aliyuncs.com', Code: 'InvalidInstance', Message: message }) });
    const client = new ImageSearch(
      new $OpenApiUtil.Config({ accessKeyId: ali.accessKeyId, accessKeySecret: ali.accessKeySecret, endpoint: new URL(gw.url).host, protocol: 'http', regionId: 'cn-shanghai' }),
    );
    const error = await client.searchImageByName(new $is.SearchImageByNameRequest({ instanceName: 'shop', productId: 'p1', picName: 'a.jpg' })).then(
      () => undefined,
      (e: { code: string; statusCode: number; data: any }) => e,
    );
    expect(error).toMatchObject({ code: 'InvalidInstance', statusCode: status });
    expect(error!.data).toMatchObject({ RequestId: 'R-1', Message: message });
    expect(vendor.received).toHaveLength(1);
    expect(vendor.received[0].verified).toBe('acme');
    expect(header(vendor.received[0], 'x-acs-action')).toBe('SearchImageByName');
  });

  test('Huawei: the SDK-HMAC-SHA256 signature of the SDK core verifies at the vendor; the answer is the vendor\'s', async () => {
    vendor.answer = (r) => ({ status: 200, body: JSON.stringify({ count: 1, result: [{ path: 'https://obs/a.jpg', sim: 0.93, tags: {} }], seen: r.url }) });
    const client = new ClientBuilder((c: HcClient) => c)
      .withCredential(new BasicCredentials().withAk(hw.ak).withSk(hw.sk).withProjectId(hw.projectId))
      .withEndpoint(gw.url)
      .withOptions({ customUserAgent: 'gateway-tests' })
      .build();
    const answer: any = await client.sendRequest({
      method: 'POST',
      url: '/v1/{project_id}/{instance_name}/image/search',
      contentType: 'application/json;charset=UTF-8',
      pathParams: { instance_name: 'shop' },
      queryParams: {},
      headers: {},
      data: { path: 'https://obs/a.jpg', limit: 5 },
    } as any);
    expect(vendor.received).toHaveLength(1);
    expect(vendor.received[0].verified).toBe('acme');
    expect(vendor.received[0].url).toBe(`/v1/${hw.projectId}/shop/image/search`);
    expect(answer).toMatchObject({ httpStatusCode: 200, count: 1, result: [{ path: 'https://obs/a.jpg', sim: 0.93 }] });
  });

  test('operator: a bearer key and a JSON body arrive as sent', async () => {
    vendor.answer = () => ({ status: 404, body: JSON.stringify({ status: 'LIBRARY_NOT_FOUND', message: 'vendor says no', data: null }) });
    const body = '{"library_name":"shop",  "image_base64":"AAAA"}';
    const res = await fetch(`${gw.url}/api/v1/operators/image-search/search/by-image`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer operator-secret-key' },
      body,
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ status: 'LIBRARY_NOT_FOUND', message: 'vendor says no', data: null });
    expect(vendor.received[0].body.toString()).toBe(body);
    expect(header(vendor.received[0], 'authorization')).toBe('Bearer operator-secret-key');
  });
});

describe('upstream failures', () => {
  test('a vendor that does not answer in time: the client gets the vendor\'s own "unavailable" error', async () => {
    vendor.answer = () => 'hang';
    const res = await qiniuCall('POST', '/v1/image/group/shop/delete', { images: ['1'] });
    expect(vendor.received).toHaveLength(1);
    expect(res.status).toBe(QINIU_ERRORS.unavailable.http);
    expect(JSON.parse(res.text)).toEqual({ error: QINIU_ERRORS.unavailable.message });
    const status = (await (await fetch(`${gw.url}/_gateway/migration`)).json()) as any;
    const shop = status.libraries.find((l: any) => l.vendor === 'qiniu' && l.library === 'shop');
    expect(shop.upstream.failures).toBeGreaterThanOrEqual(1);
  });

  test('an unreachable vendor endpoint: the same error, and the gateway keeps serving', async () => {
    const closed = await new FakeVendor().start();
    const url = closed.url;
    await closed.close();
    const other = await startTestGateway({ migration: migrationTo(url) });
    try {
      const res = await fetch(`${other.url}/v1/image/group`, { headers: { Authorization: qiniu.util.generateAccessTokenV2(mac, `${other.url}/v1/image/group`, 'GET', '') } });
      expect(res.status).toBe(QINIU_ERRORS.unavailable.http);
      expect(await res.json()).toEqual({ error: QINIU_ERRORS.unavailable.message });
      expect((await fetch(`${other.url}/_gateway/health`)).status).toBe(200);
    } finally {
      await other.destroy();
    }
  });
});

test('without a migration section nothing is forwarded and the status route lists no vendor', async () => {
  const plain = await startTestGateway();
  try {
    expect(await (await fetch(`${plain.url}/_gateway/migration`)).json()).toEqual({ vendors: [], libraries: [] });
    const res = await fetch(`${plain.url}/v1/image/group`, { headers: { Authorization: qiniu.util.generateAccessTokenV2(mac, `${plain.url}/v1/image/group`, 'GET', '') } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ code: 0, message: '', result: [] });
  } finally {
    await plain.destroy();
  }
});

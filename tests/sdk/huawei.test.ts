/**
 * The official Huawei Cloud SDK core (@huaweicloud/huaweicloud-sdk-core) as the client, driven the way a
 * generated ImageSearch client drives it (sdk-clients.md §2.2: there is no Node ImageSearch package), over
 * all eight v1 operations against a verify-mode gateway. The keys are the fake ones of the SDK captures.
 * Over HTTP, or over HTTPS when tests/sdk/https.test.ts runs it (tests/helpers/sdk-transport.ts).
 */
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { ClientBuilder } from '@huaweicloud/huaweicloud-sdk-core/ClientBuilder';
import type { HcClient } from '@huaweicloud/huaweicloud-sdk-core/HcClient';
import { ClientRequestException } from '@huaweicloud/huaweicloud-sdk-core/exception/ClientRequestException';
import { GATEWAY, IS, unauthorized } from '../../adapters/huawei/errors';
import { PICTURE_OK, INSTANCE_DELETED } from '../../adapters/huawei/limits';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { sdkServer, sdkUrl } from '../helpers/sdk-transport';
import { huaweiCaptures } from '../helpers/huawei-fixtures';
import { productImage } from '../helpers/product-images';

const fx = huaweiCaptures();
const OTHER = { ak: 'HPUAOTHERTENANTKEY001', sk: 'OtherTenantSecretKey0123456789abcdefghij', projectId: 'f'.repeat(32) };

/** A client in the generated style: a ParamCreater-like options object per operation, sent by HcClient. */
class ImageSearchClient {
  static newBuilder() {
    return new ClientBuilder((hcClient: HcClient) => new ImageSearchClient(hcClient));
  }
  constructor(private readonly hcClient: HcClient) {}
  private send(method: string, url: string, pathParams: Record<string, string>, data?: object, json = true): Promise<any> {
    return this.hcClient.sendRequest({
      method,
      url,
      contentType: json ? 'application/json;charset=UTF-8' : 'application/json',
      pathParams,
      queryParams: {},
      headers: {},
      data,
    } as any);
  }
  runCreateInstance(body: object) {
    return this.send('POST', '/v1/{project_id}/service', {}, body);
  }
  runQueryInstance(instanceName: string) {
    return this.send('GET', '/v1/{project_id}/service/{instance_name}', { instance_name: instanceName }, undefined, false);
  }
  runDeleteInstance(instanceName: string) {
    return this.send('DELETE', '/v1/{project_id}/service/{instance_name}', { instance_name: instanceName }, undefined, false);
  }
  runAddPicture(instanceName: string, body: object) {
    return this.send('POST', '/v1/{project_id}/{instance_name}/image', { instance_name: instanceName }, body);
  }
  runModifyPicture(instanceName: string, body: object) {
    return this.send('PUT', '/v1/{project_id}/{instance_name}/image', { instance_name: instanceName }, body);
  }
  runDeletePicture(instanceName: string, body: object) {
    return this.send('DELETE', '/v1/{project_id}/{instance_name}/image', { instance_name: instanceName }, body);
  }
  runSearchPicture(instanceName: string, body: object) {
    return this.send('POST', '/v1/{project_id}/{instance_name}/image/search', { instance_name: instanceName }, body);
  }
  runCheckPicture(instanceName: string, body: object) {
    return this.send('POST', '/v1/{project_id}/{instance_name}/image/check', { instance_name: instanceName }, body);
  }
}

let gw: TestGateway;
const client = (ak: string, sk: string, projectId: string) =>
  ImageSearchClient.newBuilder()
    .withCredential(new BasicCredentials().withAk(ak).withSk(sk).withProjectId(projectId))
    .withEndpoint(sdkUrl(gw))
    .withOptions({ customUserAgent: 'gateway-tests' }) // keeps the SDK out of ~/.huaweicloud
    .build();

/** The exception a call rejects with (anything else fails the test). */
async function rejection(p: Promise<unknown>): Promise<ClientRequestException> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ClientRequestException) return e;
    throw e;
  }
  throw new Error('expected a ClientRequestException');
}

beforeAll(async () => {
  gw = await startTestGateway({
    auth: {
      mode: 'verify',
      tenants: [
        { id: 'acme', huawei: { accessKeys: [{ ak: fx.ak, sk: fx.sk }], projects: [{ id: fx.projectId, name: 'ap-southeast-1' }] } },
        { id: 'globex', huawei: { accessKeys: [{ ak: OTHER.ak, sk: OTHER.sk }], projects: [{ id: OTHER.projectId, name: 'ap-southeast-1' }] } },
      ],
    },
  }, undefined, sdkServer);
});
afterAll(() => gw.destroy());

test('all eight operations through the SDK, signed with AK/SK', async () => {
  const sdk = client(fx.ak, fx.sk, fx.projectId);
  const red = (await productImage('#d01f1f', 'circle')).toString('base64');
  const blue = (await productImage('#1f4fd0', 'square', { format: 'png' })).toString('base64');

  const created = await sdk.runCreateInstance({ name: 'demo-instance', model: 'common-search', tags: ['color'] });
  expect(created).toMatchObject({ httpStatusCode: 200, instanceName: 'demo-instance', tags: ['color'], status: 'NORMAL' });
  expect(await sdk.runQueryInstance('demo-instance')).toMatchObject({ instanceName: 'demo-instance', registerDate: created.registerDate });

  expect(await sdk.runAddPicture('demo-instance', { path: 'https://bucket.obs/a b.jpg', file: red, tags: { color: '红' } })).toMatchObject(PICTURE_OK);
  expect(await sdk.runAddPicture('demo-instance', { path: 'https://bucket.obs/b.jpg', file: blue, tags: { color: 'blue' } })).toMatchObject(PICTURE_OK);
  expect(await sdk.runCheckPicture('demo-instance', { path: 'https://bucket.obs/a b.jpg' })).toMatchObject({ exist: 'true' });

  const found = await sdk.runSearchPicture('demo-instance', { file: red, limit: 10, offset: 0 });
  expect(found.count).toBe(2);
  expect(found.result[0]).toMatchObject({ path: 'https://bucket.obs/a b.jpg', tags: { color: '红' } });
  const tagged = await sdk.runSearchPicture('demo-instance', { file: red, limit: 10, tags: { color: 'blue' } });
  expect(tagged.result.map((r: any) => r.path)).toEqual(['https://bucket.obs/b.jpg']);

  expect(await sdk.runModifyPicture('demo-instance', { path: 'https://bucket.obs/a b.jpg', tags: { color: 'blue' } })).toMatchObject(PICTURE_OK);
  expect((await sdk.runSearchPicture('demo-instance', { tags: { color: 'blue' } })).count).toBe(2);

  expect(await sdk.runDeletePicture('demo-instance', { path: 'https://bucket.obs/a b.jpg' })).toMatchObject(PICTURE_OK);
  expect(await sdk.runCheckPicture('demo-instance', { path: 'https://bucket.obs/a b.jpg' })).toMatchObject({ exist: 'false' });
  expect(await sdk.runDeleteInstance('demo-instance')).toMatchObject(INSTANCE_DELETED);
});

test('service errors reach the caller as ClientRequestException with the vendor code', async () => {
  const sdk = client(fx.ak, fx.sk, fx.projectId);
  const missing = await rejection(sdk.runQueryInstance('no-such-thing'));
  expect([missing.httpStatusCode, missing.errorCode, missing.errorMsg]).toEqual([400, IS.noInstance.code, IS.noInstance.msg]);
  await sdk.runCreateInstance({ name: 'dup', model: 'common-search' });
  const dup = await rejection(sdk.runCreateInstance({ name: 'dup', model: 'common-search' }));
  expect([dup.httpStatusCode, dup.errorCode]).toEqual([400, IS.instanceExists.code]);
});

test('a wrong secret fails as the SDK expects: ClientRequestException 401 APIGW.0301 with the request id', async () => {
  const sdk = client(fx.ak, `${fx.sk}-wrong`, fx.projectId);
  const e = await rejection(sdk.runQueryInstance('dup'));
  const expected = unauthorized('signature_mismatch');
  expect([e.httpStatusCode, e.errorCode, e.errorMsg]).toEqual([expected.http, expected.code, expected.msg]);
  expect(e.requestId).toMatch(/^[0-9a-f-]{36}$/);
});

test('another tenant sees nothing; a project that is not the key\'s is refused', async () => {
  const other = client(OTHER.ak, OTHER.sk, OTHER.projectId);
  const e = await rejection(other.runQueryInstance('dup'));
  expect(e.errorCode).toBe(IS.noInstance.code);
  const checked = await rejection(other.runCheckPicture('dup', { path: 'x' }));
  expect(checked.errorCode).toBe(IS.noInstance.code);
  // The first tenant's key on the other tenant's project id.
  const crossed = await rejection(client(fx.ak, fx.sk, OTHER.projectId).runQueryInstance('dup'));
  expect([crossed.httpStatusCode, crossed.errorCode]).toEqual([400, IS.projectMismatch.code]);
});

test('an unknown route through the SDK is the gateway 404', async () => {
  const sdk = client(fx.ak, fx.sk, fx.projectId) as any;
  const e = await rejection(sdk.send('POST', '/v2/{project_id}/mms/svc1/search', {}, { data: {} }));
  expect([e.httpStatusCode, e.errorCode]).toEqual([GATEWAY.routeNotFound.http, GATEWAY.routeNotFound.code]);
});

/**
 * The official @alicloud/imagesearch20201214 SDK as the client, unchanged but for its endpoint, calling
 * every action against a running gateway in verify mode, with both signature versions (V3 ACS3-HMAC-SHA256,
 * the default, and the legacy RPC HMAC-SHA1 via signatureAlgorithm 'v2'), its error handling, and the
 * *Advance upload flow through the gateway's OSS listener. Over HTTP, or over HTTPS on the SDK's default
 * protocol when tests/sdk/https.test.ts runs it (tests/helpers/sdk-transport.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import ImageSearch, * as $is from '@alicloud/imagesearch20201214';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import * as $dara from '@darabonba/typescript';
import { ERRORS } from '../../adapters/alibaba/errors';
import { alibabaCaptures } from '../helpers/alibaba';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { overTls, sdkServer, sdkUrl } from '../helpers/sdk-transport';
import { productImage } from '../helpers/product-images';

const { accessKeyId, accessKeySecret } = alibabaCaptures();
// Over HTTPS the OSS listener has the trusted certificate of the run; over HTTP the fixture's, not verified.
const OSS_TLS = overTls
  ? { certFile: sdkServer.tls!.certFile, keyFile: sdkServer.tls!.keyFile }
  : { certFile: path.join(__dirname, '../fixtures/alibaba-oss-tls/cert.pem'), keyFile: path.join(__dirname, '../fixtures/alibaba-oss-tls/key.pem') };
const INSTANCE = 'demoinstance1';
const GENERIC = 'generic1';
const LIMITED = 'limited1';

let gw: TestGateway;
let red: Buffer;
let blue: Buffer;

function client(opts: { secret?: string; v2?: boolean } = {}): ImageSearch {
  const config = new $OpenApiUtil.Config({
    accessKeyId,
    accessKeySecret: opts.secret ?? accessKeySecret,
    endpoint: new URL(sdkUrl(gw)).host,
    ...(overTls ? {} : { protocol: 'http' }), // over TLS: the SDK's default, https
    regionId: 'cn-shanghai',
    ...(opts.v2 ? { signatureAlgorithm: 'v2' } : {}),
  });
  return new ImageSearch(config);
}

async function clientError(p: Promise<unknown>): Promise<{ code: string; statusCode: number; name: string; data: any }> {
  try {
    await p;
  } catch (e) {
    return e as { code: string; statusCode: number; name: string; data: any };
  }
  throw new Error('expected the SDK to throw');
}

beforeAll(async () => {
  gw = await startTestGateway({
    auth: { mode: 'verify', tenants: [{ id: 'acme', alibaba: { accessKeys: [{ id: accessKeyId, secret: accessKeySecret }] } }] },
    libraries: [
      { tenant: 'acme', name: INSTANCE, mode: 'item_search' },
      { tenant: 'acme', name: GENERIC, mode: 'general_search' },
      { tenant: 'acme', name: LIMITED, mode: 'general_search' },
    ],
    alibaba: {
      instances: [{ tenant: 'acme', name: LIMITED, qps: 1 }],
      oss: { host: '127.0.0.1', port: 0, ...OSS_TLS },
    },
  }, undefined, sdkServer);
  red = await productImage('#d02020', 'circle');
  blue = await productImage('#2040d0', 'square');
});
afterAll(() => gw.destroy());

describe.each([
  ['V3 ACS3-HMAC-SHA256', false],
  ['V1 RPC HMAC-SHA1', true],
])('every action with the %s signature', (_name, v2) => {
  const product = v2 ? 'p-v1' : 'p-v3';

  test('AddImage, CheckImageExists, UpdateImage, the searches, CompareSimilarByImage, DeleteImage', async () => {
    const c = client({ v2 });
    const added = await c.addImage(
      new $is.AddImageRequest({ instanceName: INSTANCE, productId: product, picName: 'red.jpg', picContent: red.toString('base64'), categoryId: 3, customContent: 'k1:v1', intAttr: 7, strAttr: 'red' }),
    );
    expect(added.statusCode).toBe(200);
    expect(added.body).toMatchObject({ code: 0, message: 'success', success: true, picInfo: { categoryId: 3 } });
    expect(added.body!.requestId).toMatch(/^[0-9A-F-]{36}$/);
    expect(added.body!.picInfo!.region).toMatch(/^\d+,\d+,\d+,\d+$/);
    await c.addImage(new $is.AddImageRequest({ instanceName: INSTANCE, productId: product, picName: 'blue.jpg', picContent: blue.toString('base64'), intAttr: 1, strAttr: 'blue' }));

    const exists = await c.checkImageExists(new $is.CheckImageExistsRequest({ instanceName: INSTANCE, productId: product, picName: 'red.jpg' }));
    expect(exists.body).toMatchObject({ exists: true, msg: 'success', auctions: { productId: product, picName: 'red.jpg', customContent: 'k1:v1', intAttr: 7, strAttr: 'red', categoryId: 3 } });

    const updated = await c.updateImage(new $is.UpdateImageRequest({ instanceName: INSTANCE, productId: product, picName: 'red.jpg', intAttr: 8, strAttr3: 'q3', customContent: 'new' }));
    expect(updated.body).toMatchObject({ code: 0, message: 'success', success: true });

    const byPic = await c.searchImageByPic(
      new $is.SearchImageByPicRequest({ instanceName: INSTANCE, picContent: red.toString('base64'), num: 5, start: 0, filter: `int_attr>=8 AND str_attr3="q3"`, scoreThreshold: '0.5' }),
    );
    expect(byPic.body!.auctions!.map((a) => [a.productId, a.picName])).toEqual([[product, 'red.jpg']]);
    expect(byPic.body!.auctions![0]).toMatchObject({ intAttr: 8, customContent: 'new', categoryId: 3 });
    expect(byPic.body!.auctions![0].score).toBeGreaterThan(0.9);
    expect(byPic.body!.head).toMatchObject({ docsFound: 1 });
    expect(byPic.body!.picInfo!.allCategories!.length).toBeGreaterThan(1);

    const byName = await c.searchImageByName(new $is.SearchImageByNameRequest({ instanceName: INSTANCE, productId: product, picName: 'blue.jpg', num: 10, filter: `str_attr="blue"` }));
    expect(byName.body!.auctions!.map((a) => a.picName)).toEqual(['blue.jpg']);

    const byFilter = await c.searchImageByFilter(new $is.SearchImageByFilterRequest({ instanceName: INSTANCE, filter: `str_attr in ("red","blue") AND int_attr<100`, num: 10 }));
    expect(byFilter.body!.auctions!.filter((a) => a.productId === product).map((a) => a.picName).sort()).toEqual(['blue.jpg', 'red.jpg']);

    const compare = await c.compareSimilarByImage(
      new $is.CompareSimilarByImageRequest({ instanceName: INSTANCE, primaryPicContent: red.toString('base64'), secondaryPicContent: red.toString('base64') }),
    );
    expect(compare.body!.score).toBeGreaterThan(0.99);

    const deleted = await c.deleteImage(new $is.DeleteImageRequest({ instanceName: INSTANCE, productId: product, picName: 'red.jpg' }));
    expect(deleted.body).toMatchObject({ code: 0, message: 'success', data: { picNames: ['red.jpg'] } });
    const byProduct = await c.deleteImage(new $is.DeleteImageRequest({ instanceName: INSTANCE, productId: product }));
    expect(byProduct.body!.data!.picNames).toEqual(['blue.jpg']);
    const gone = await c.checkImageExists(new $is.CheckImageExistsRequest({ instanceName: INSTANCE, productId: product, picName: 'red.jpg' }));
    expect(gone.body!.exists).toBe(false);
  });

  test('Detail, DumpMeta, DumpMetaList, IncreaseInstance, IncreaseList', async () => {
    const c = client({ v2 });
    const detail = await c.detail(new $is.DetailRequest({ instanceName: GENERIC }));
    expect(detail.body!.instance).toMatchObject({ name: GENERIC, serviceType: 1 });
    expect(detail.body!.instance!.utcCreate).toMatch(/^\d+$/);

    const dump = await c.dumpMeta(new $is.DumpMetaRequest({ instanceName: GENERIC }));
    expect(dump.body!.data!.dumpMetaStatus).toBe('PROCESSING');
    await gw.tasks.idle();
    const dumps = await c.dumpMetaList(new $is.DumpMetaListRequest({ instanceName: GENERIC, id: Number(dump.body!.data!.id), pageNumber: 1, pageSize: 10 }));
    const [item] = dumps.body!.data!.dumpMetaList!;
    expect(item).toMatchObject({ id: Number(dump.body!.data!.id), status: 'SUCCESS', code: '0' });
    expect((await fetch(item.metaUrl!)).status).toBe(200);

    const folder = path.join(gw.dataDir, 'imports', 'acme', 'bucket', 'batch', v2 ? 'v1' : 'v3'); // acme's import area
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'a.jpg'), red);
    writeFileSync(path.join(folder, 'increment.meta'), JSON.stringify({ operator: 'ADD', item_id: `inc-${v2}`, pic_list: ['a.jpg'], int_attr: 5 }) + '\n');
    const inc = await c.increaseInstance(new $is.IncreaseInstanceRequest({ instanceName: GENERIC, bucketName: 'bucket', path: `/batch/${v2 ? 'v1' : 'v3'}` }));
    expect(inc.body!.data!.incrementStatus).toBe('PROCESSING');
    await gw.tasks.idle();
    const list = await c.increaseList(new $is.IncreaseListRequest({ instanceName: GENERIC, id: Number(inc.body!.data!.id) }));
    expect(list.body!.data!.increments!.instance![0]).toMatchObject({ status: 'SUCCESS', bucketName: 'bucket' });
    const found = await c.checkImageExists(new $is.CheckImageExistsRequest({ instanceName: GENERIC, productId: `inc-${v2}`, picName: 'a.jpg' }));
    expect(found.body!.auctions).toMatchObject({ intAttr: 5 });
  });

  test('a wrong secret fails with the SDK’s own SignatureDoesNotMatch', async () => {
    const e = await clientError(client({ v2, secret: 'not-the-secret' }).detail(new $is.DetailRequest({ instanceName: INSTANCE })));
    expect(e).toMatchObject({ name: 'ClientError', code: 'SignatureDoesNotMatch', statusCode: ERRORS.SignatureDoesNotMatch[0] });
  });
});

test('vendor errors reach the SDK as ClientError / ServerError with the vendor code', async () => {
  const c = client();
  const missing = await clientError(c.searchImageByPic(new $is.SearchImageByPicRequest({ instanceName: 'nope', picContent: red.toString('base64') })));
  expect(missing).toMatchObject({ name: 'ClientError', code: 'InvalidInstance', statusCode: 400 });
  const tooMany = await clientError(c.searchImageByPic(new $is.SearchImageByPicRequest({ instanceName: INSTANCE, picContent: red.toString('base64'), num: 101 })));
  expect(tooMany).toMatchObject({ code: 'OverflowMaxReturnNum' });
  const text = await clientError(c.searchImageByText(new $is.SearchImageByTextRequest({ instanceName: GENERIC, text: 'red shoe' })));
  expect(text).toMatchObject({ name: 'ServerError', code: 'UnsupportedInstanceType', statusCode: 500 });
});

test('instance QPS: beyond the configured limit the SDK gets 403 DeniedRequest', async () => {
  const c = client();
  // Eight at once against 1 QPS: at least one lands within a second of another, however loaded the machine.
  const results = await Promise.allSettled([1, 2, 3, 4, 5, 6, 7, 8].map(() => c.detail(new $is.DetailRequest({ instanceName: LIMITED }))));
  const denied = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
  expect(denied.length).toBeGreaterThanOrEqual(1);
  expect(denied[0]).toMatchObject({ code: 'DeniedRequest', statusCode: 403 });
});

test('*Advance: upload ticket, OSS PostObject over TLS, then the action reads the uploaded object', async () => {
  const c = client();
  // The SDK ignores Config.openPlatformEndpoint; the public field redirects it (shared/specs/sdk-clients.md §1.5).
  (c as unknown as { _openPlatformEndpoint: string })._openPlatformEndpoint = new URL(sdkUrl(gw)).host;
  // Over HTTP the OSS listener's fixture certificate is not trusted; over HTTPS every certificate is verified.
  const runtime = new $dara.RuntimeOptions({ ignoreSSL: !overTls });
  const added = await c.addImageAdvance(
    new $is.AddImageAdvanceRequest({ instanceName: INSTANCE, productId: 'adv', picName: 'adv.jpg', picContentObject: Readable.from(blue) }),
    runtime,
  );
  expect(added.body).toMatchObject({ code: 0, success: true });
  const found = await c.searchImageByPicAdvance(new $is.SearchImageByPicAdvanceRequest({ instanceName: INSTANCE, picContentObject: Readable.from(blue), num: 1 }), runtime);
  expect(found.body!.auctions!.map((a) => a.productId)).toEqual(['adv']);
});

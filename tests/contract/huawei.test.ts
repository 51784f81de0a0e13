/**
 * Huawei ImageSearch v1 against every documented request and response example
 * (tests/fixtures/huawei/examples.json): the JSON examples of the spec's §4 and §6.1 (transcribed from the
 * vendor pages) and the six search examples of the vendor's search page. Truncated Base64 placeholders are
 * replaced by real images; OBS URLs to download are served by a local server (the path part kept). Open mode, with a token from
 * the emulated IAM.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { APIG, GATEWAY, IS } from '../../adapters/huawei/errors';
import instanceCreateSchema from '../../schemas/huawei/instance-create.json';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { hw, iamToken } from '../helpers/huawei-client';
import { documentedError, searchPageExamples, sectionExamples } from '../helpers/huawei-fixtures';
import { shapeOf } from '../helpers/json-examples';
import { productImage } from '../helpers/product-images';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const PROJECT = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const [createRequest, createResponse, duplicateResponse] = sectionExamples('4.1');
const [queryResponse, tokenFailure] = sectionExamples('4.2');
const [deleteInstanceResponse] = sectionExamples('4.3');
const addExamples = sectionExamples('4.4');
const [modifyRequest, modifyResponse, modifyFailure] = sectionExamples('4.5');
const [deleteRequest, deleteResponse, deleteFailure] = sectionExamples('4.6');
const [checkRequest, checkResponse, checkFailure] = sectionExamples('4.7');
const [iamRequest, iamResponse] = sectionExamples('6.1');
const search = searchPageExamples();

let gw: TestGateway;
let images: http.Server;
let imageBase: string;
let token: string;
let file: Record<string, string>;
const call = (method: string, path: string, body?: unknown) => hw(gw.url, method, path, body, { 'x-auth-token': token });
const service = (name = 'pictures') => `/v1/${PROJECT}/${name}`;

/** An OBS URL of the examples, served by the local image server with the same object path. */
const local = (obsUrl: string) => `${imageBase}${new URL(obsUrl).pathname}`;

beforeAll(async () => {
  const served = { circle: await productImage('#1f4fd0', 'circle'), square: await productImage('#d01f1f', 'square') };
  images = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'image/jpeg' }).end(req.url!.includes('test1') ? served.circle : served.square);
  });
  await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
  imageBase = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
  gw = await startTestGateway({ fetch: { allowHosts: ['127.0.0.1'], maxBytes: 20 * 1024 * 1024, timeoutMs: 10_000 } });
  token = await iamToken(gw.url, iamRequest);
  file = {
    circle: served.circle.toString('base64'),
    square: served.square.toString('base64'),
    other: (await productImage('#20a020', 'triangle', { format: 'png' })).toString('base64'),
  };
  // The picture examples use the tag key test-tags: an instance that declares it.
  const res = await call('POST', `/v1/${PROJECT}/service`, { ...createRequest, name: 'pictures', tags: ['test-tags'] });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await gw.destroy();
  await new Promise((resolve) => images.close(resolve));
});

test('the documents hold the examples this suite relies on', () => {
  expect(addExamples).toHaveLength(6); // four requests, success, failure
  expect(search.requests).toHaveLength(6);
  expect([search.success.count, search.failure.error_code]).toEqual([2, 'IS.0003']);
  expect(iamResponse.token).toBeDefined();
});

describe('IAM POST /v3/auth/tokens', () => {
  test('the documented request: 201, X-Subject-Token, the documented body shape', async () => {
    const res = await hw(gw.url, 'POST', '/v3/auth/tokens', iamRequest);
    expect(res.status).toBe(201);
    expect(res.headers.get('x-subject-token')).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(shapeOf(res.body)).toEqual(shapeOf({ token: { ...iamResponse.token, catalog: [] } }));
    expect(res.body.token.project.name).toBe(iamRequest.auth.scope.project.name);
    expect(Date.parse(res.body.token.expires_at) - Date.parse(res.body.token.issued_at)).toBe(24 * 3600 * 1000);
  });

  test('nocatalog leaves the catalog out', async () => {
    const res = await hw(gw.url, 'POST', '/v3/auth/tokens?nocatalog=true', iamRequest);
    expect(res.status).toBe(201);
    expect(res.body.token.catalog).toBeUndefined();
  });

  test('a bad body is the documented 400', async () => {
    const documented = documentedError('6.1 bad request');
    for (const body of ['{', { auth: { identity: { methods: ['password'] } } }]) {
      const res = await hw(gw.url, 'POST', '/v3/auth/tokens', body);
      expect([res.status, res.body]).toEqual([400, documented]);
    }
  });
});

describe('instances', () => {
  test('create: the documented request answers the documented body', async () => {
    const res = await call('POST', `/v1/${PROJECT}/service`, createRequest);
    expect(res.status).toBe(200);
    const { registerDate, ...rest } = res.body;
    const { registerDate: _documented, ...expected } = createResponse;
    expect(rest).toEqual(expected);
    expect(Object.keys(res.body)).toEqual(Object.keys(createResponse));
    expect(Math.abs(registerDate - Date.now())).toBeLessThan(3_600_000);
  });

  test('create again: the documented IS.3000, exactly', async () => {
    const res = await call('POST', `/v1/${PROJECT}/service`, createRequest);
    expect([res.status, res.body]).toEqual([400, duplicateResponse]);
  });

  test('query: the documented shape; what the create set', async () => {
    const res = await call('GET', `/v1/${PROJECT}/service/${createRequest.name}`);
    expect(res.status).toBe(200);
    expect(shapeOf(res.body)).toEqual(shapeOf(queryResponse));
    expect(res.body).toMatchObject({ instanceName: createRequest.name, desc: createRequest.description, tags: createRequest.tags, level: createRequest.level });
  });

  test('a domain-scoped token: the documented IS.0004 on query and delete', async () => {
    const domainToken = await iamToken(gw.url, { auth: { ...iamRequest.auth, scope: { domain: iamRequest.auth.identity.password.user.domain } } });
    for (const method of ['GET', 'DELETE']) {
      const res = await hw(gw.url, method, `/v1/${PROJECT}/service/${createRequest.name}`, undefined, { 'x-auth-token': domainToken });
      expect([res.status, res.body]).toEqual([400, tokenFailure]);
    }
  });

  test('delete: the documented body; then the instance is gone', async () => {
    const res = await call('DELETE', `/v1/${PROJECT}/service/${createRequest.name}`);
    expect([res.status, res.body]).toEqual([200, deleteInstanceResponse]);
    const gone = await call('GET', `/v1/${PROJECT}/service/${createRequest.name}`);
    expect([gone.status, gone.body.error_code]).toEqual([400, IS.noInstance.code]);
  });

  test('create: level defaults to the schema default; only the documented rules pass', async () => {
    const res = await call('POST', `/v1/${PROJECT}/service`, { name: 'defaults', model: 'common-search' });
    expect(res.body).toMatchObject({ level: instanceCreateSchema.properties.level.default, tags: [], desc: '', expiredDate: -1 });
    const cases: Array<[object, string]> = [
      [{ name: 'Upper', model: 'common-search' }, IS.invalidInstanceName.code],
      [{ name: '1abc', model: 'common-search' }, IS.invalidInstanceName.code],
      [{ name: 'a'.repeat(17), model: 'common-search' }, IS.invalidInstanceName.code],
      [{ name: 'okname', model: 'nope' }, IS.noModel.code],
      [{ name: 'okname', model: 'common-search', level: 1 }, IS.noLevel.code],
      [{ name: 'okname', model: 'common-search', description: 'd'.repeat(instanceCreateSchema.properties.description.maxLength + 1) }, IS.descriptionTooLong.code],
      [{ name: 'okname', model: 'common-search', tags: Array.from({ length: instanceCreateSchema.properties.tags.maxItems + 1 }, (_, i) => `t${i}`) }, IS.tooManyInstanceTags.code],
      [{ name: 'okname', model: 'common-search', tags: ['Colour'] }, IS.badInstanceTag.code],
      [{ model: 'common-search' }, IS.missingParameter.code],
    ];
    for (const [body, code] of cases) {
      const bad = await call('POST', `/v1/${PROJECT}/service`, body);
      expect([JSON.stringify(body), bad.status, bad.body.error_code]).toEqual([JSON.stringify(body), 400, code]);
    }
    const maxName = await call('POST', `/v1/${PROJECT}/service`, { name: `a${'-'.repeat(15)}`, model: 'common-search' });
    expect(maxName.status).toBe(200);
  });
});

describe('pictures', () => {
  const [byFile, byUrl, fileAndTags, urlAndTags, addOk, addFailure] = addExamples;

  test('add: the four documented requests answer the documented body', async () => {
    for (const body of [
      { ...byFile, file: file.square },
      { ...fileAndTags, file: file.circle },
    ]) {
      const res = await call('POST', `${service()}/image`, body);
      expect([res.status, res.body]).toEqual([200, addOk]);
    }
    // Without file the image is downloaded from path (here the local server) and path is the id.
    for (const body of [byUrl, urlAndTags]) {
      const res = await call('POST', `${service()}/image`, { ...body, path: local(body.path) });
      expect([res.status, res.body]).toEqual([200, addOk]);
    }
    const check = await call('POST', `${service()}/image/check`, { path: local(urlAndTags.path) });
    expect(check.body).toEqual(checkResponse);
  });

  test('add without path: the documented IS.0003, exactly (also modify, delete, check)', async () => {
    const { path: _dropped, ...noPath } = fileAndTags;
    expect(await call('POST', `${service()}/image`, { ...noPath, file: file.circle })).toMatchObject({ status: 400, body: addFailure });
    expect(await call('PUT', `${service()}/image`, { tags: modifyRequest.tags })).toMatchObject({ status: 400, body: modifyFailure });
    expect(await call('DELETE', `${service()}/image`, {})).toMatchObject({ status: 400, body: deleteFailure });
    expect(await call('POST', `${service()}/image/check`, {})).toMatchObject({ status: 400, body: checkFailure });
  });

  test('check: the documented request answers "true"; an unknown path "false" (strings)', async () => {
    expect(await call('POST', `${service()}/image/check`, checkRequest)).toMatchObject({ status: 200, body: checkResponse });
    expect((await call('POST', `${service()}/image/check`, { path: 'nowhere.jpg' })).body).toEqual({ exist: 'false' });
  });

  test('modify: the documented request answers the documented body and replaces the tags', async () => {
    expect(await call('PUT', `${service()}/image`, modifyRequest)).toMatchObject({ status: 200, body: modifyResponse });
    const found = await call('POST', `${service()}/image/search`, { tags: modifyRequest.tags, limit: 100 });
    expect(found.body.result.map((r: any) => r.path)).toContain(modifyRequest.path);
  });

  test('delete: the documented request (a DELETE with a JSON body) answers the documented body', async () => {
    expect((await call('POST', `${service()}/image`, { path: deleteRequest.path, file: file.other })).status).toBe(200);
    expect(await call('DELETE', `${service()}/image`, deleteRequest)).toMatchObject({ status: 200, body: deleteResponse });
    expect((await call('POST', `${service()}/image/check`, deleteRequest)).body).toEqual({ exist: 'false' });
    const again = await call('DELETE', `${service()}/image`, deleteRequest);
    expect([again.status, again.body.error_code]).toEqual([400, IS.notIndexed.code]);
  });
});

describe('search', () => {
  const documentedHit = search.success.result[0];
  const instance = service('searchable');
  const [byFile, byPath, byTags, fileTags, pathTags, pathBox] = search.requests;

  beforeAll(async () => {
    expect((await call('POST', `/v1/${PROJECT}/service`, { name: 'searchable', model: 'common-search', tags: Object.keys(documentedHit.tags) })).status).toBe(200);
    // The documented hit, and the image the path examples search with.
    for (const body of [
      { path: documentedHit.path, file: file.circle, tags: documentedHit.tags },
      { path: byPath.path, file: file.square, tags: { [Object.keys(documentedHit.tags)[0]]: 'another value' } },
    ]) {
      expect((await call('POST', `${instance}/image`, body)).status).toBe(200);
    }
  });

  test('all six documented requests answer the documented shape', async () => {
    for (const body of search.requests) {
      const withImage = 'file' in body ? { ...body, file: file.circle } : body;
      const res = await call('POST', `${instance}/image/search`, withImage);
      expect([JSON.stringify(body).slice(0, 60), res.status]).toEqual([JSON.stringify(body).slice(0, 60), 200]);
      expect(shapeOf({ ...res.body, result: res.body.result.slice(0, 1) })).toEqual(shapeOf(search.success));
    }
  });

  test('by file: the documented hit first, its tags as documented; count is the total', async () => {
    const res = await call('POST', `${instance}/image/search`, { ...byFile, file: file.circle });
    expect(res.body.count).toBe(2);
    expect(res.body.result[0]).toMatchObject({ path: documentedHit.path, tags: documentedHit.tags });
    expect(res.body.result[0].sim).toBeGreaterThan(res.body.result[1].sim);
    const page = await call('POST', `${instance}/image/search`, { ...byFile, file: file.circle, limit: 1, offset: 1 });
    expect([page.body.count, page.body.result.length, page.body.result[0].path]).toEqual([2, 1, res.body.result[1].path]);
  });

  test('by tags alone and with file or path: only the tagged image, count 1', async () => {
    for (const body of [byTags, { ...fileTags, file: file.square }, pathTags]) {
      const res = await call('POST', `${instance}/image/search`, body);
      expect([res.body.count, res.body.result.map((r: any) => r.path)]).toEqual([1, [documentedHit.path]]);
    }
  });

  test('by path: the library image itself is the best match; an unknown path is IS.2006', async () => {
    const res = await call('POST', `${instance}/image/search`, byPath);
    expect(res.body.result[0]).toMatchObject({ path: byPath.path, sim: 1 });
    const unknown = await call('POST', `${instance}/image/search`, { ...byPath, path: 'nowhere.jpg' });
    expect([unknown.status, unknown.body.error_code]).toEqual([400, IS.notIndexed.code]);
    expect((await call('POST', `${instance}/image/search`, pathBox)).status).toBe(200);
  });

  test('file wins over path', async () => {
    const res = await call('POST', `${instance}/image/search`, { ...byPath, file: file.circle });
    expect(res.body.result[0].path).toBe(documentedHit.path);
  });

  test('neither file, path nor tags: the documented failure, exactly', async () => {
    const res = await call('POST', `${instance}/image/search`, { limit: 10, offset: 0 });
    expect([res.status, res.body]).toEqual([400, search.failure]);
  });
});

describe('the API gateway answers', () => {
  test('an unknown route or method: 404 APIGW.0101 with request_id and X-Request-Id', async () => {
    for (const [method, path] of [['GET', `${service()}/image`], ['POST', `/v1/${PROJECT}/nothing/here/at/all`], ['PATCH', `/v1/${PROJECT}/service/x`]]) {
      const res = await call(method, path, method === 'GET' ? undefined : {});
      expect([res.status, res.body.error_code, res.body.error_msg]).toEqual([GATEWAY.routeNotFound.http, GATEWAY.routeNotFound.code, GATEWAY.routeNotFound.msg]);
      expect(res.body.request_id).toBe(res.headers.get('x-request-id'));
    }
  });

  test('a token that is not one of ours: 401 APIGW.0301 in the documented shape', async () => {
    const documented = documentedError('5.4 gateway 401');
    const res = await hw(gw.url, 'GET', `/v1/${PROJECT}/service/pictures`, undefined, { 'x-auth-token': 'MIIatAYJKoZIhvcNAQcCoII' });
    expect(res.status).toBe(401);
    expect(shapeOf(res.body)).toEqual(shapeOf(documented));
    expect(Object.keys(res.body)).toEqual(Object.keys(documented));
    expect(res.body.error_code).toBe(documented.error_code);
  });

  test('bad JSON is IS.0008; a wrong type IS.0002; limit and offset out of range IS.1010 / IS.1011', async () => {
    expect((await call('POST', `${service()}/image/search`, '{"limit":')).body.error_code).toBe(IS.badJson.code);
    expect((await call('POST', `${service()}/image/check`, { path: 5 })).body.error_code).toBe(IS.wrongType.code);
    expect((await call('POST', `${service()}/image/search`, { tags: { 'test-tags': 'x' }, limit: 101 })).body.error_code).toBe(IS.badLimit.code);
    expect((await call('POST', `${service()}/image/search`, { tags: { 'test-tags': 'x' }, limit: 0 })).body.error_code).toBe(IS.badLimit.code);
    expect((await call('POST', `${service()}/image/search`, { tags: { 'test-tags': 'x' }, offset: -1 })).body.error_code).toBe(IS.badOffset.code);
  });
});

test('docs/compatibility/huawei.md names every code the adapter answers and every schema field', () => {
  const page = readFileSync(path.resolve(__dirname, '../../docs/compatibility/huawei.md'), 'utf8');
  for (const { code } of [...Object.values(IS), ...Object.values(GATEWAY), ...Object.values(APIG)]) expect([code, page.includes(`\`${code}\``)]).toEqual([code, true]);
  const schemas = ['instance-create', 'picture-add', 'picture-modify', 'picture-delete', 'picture-check', 'picture-search'];
  for (const name of schemas) {
    const schema = JSON.parse(readFileSync(path.resolve(__dirname, `../../schemas/huawei/${name}.json`), 'utf8'));
    for (const field of Object.keys(schema.properties)) expect([name, field, page.includes(`\`${field}\``)]).toEqual([name, field, true]);
  }
});

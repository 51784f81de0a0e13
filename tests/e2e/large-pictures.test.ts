/**
 * Pictures whose base64 is a MiB or more are decoded ahead of the handler in slices (core/image/predecoded.ts):
 * through the operator and Qiniu APIs they are stored and found exactly as small ones, broken base64 still
 * gets each vendor's own refusal, and nothing stays registered once the requests have ended.
 */
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { STATUS } from '../../adapters/operator/errors';
import { imageKey } from '../../adapters/operator/keys';
import { PREFIX } from '../../adapters/operator/limits';
import { predecodedCount } from '../../core/image/predecoded';
import { post, startTestGateway, type TestGateway } from '../helpers/gateway';
import { dataUri } from '../helpers/qiniu';

let gw: TestGateway;
let picture: Buffer;

beforeAll(async () => {
  gw = await startTestGateway();
  // Noise does not compress: a 640×640 PNG is ~1.2 MB, ~1.6 MB of base64.
  picture = await sharp(randomBytes(640 * 640 * 3), { raw: { width: 640, height: 640, channels: 3 } }).png().toBuffer();
  expect(picture.toString('base64').length).toBeGreaterThan(1 << 20);
});
afterAll(() => gw.destroy());

test('operator: a large picture is added, found by itself, and kept byte for byte', async () => {
  const op = (p: string, body: unknown) => post(`${gw.url}${PREFIX}/${p}`, body);
  await op('library/create', { library_name: 'big', mode: 'general_search' });
  const added = await op('image/add', { library_name: 'big', image_id: 'noise', image_uri: 'n.png', image_base64: picture.toString('base64') });
  expect(added.body.status).toBe(STATUS.success);
  const found = await op('search/by-image', { library_name: 'big', image_base64: picture.toString('base64'), top_k: 1 });
  expect(found.body.data.results[0]).toMatchObject({ image_id: 'noise' });
  expect(found.body.data.results[0].score).toBeGreaterThan(0.999);
  const kept = await gw.engine.getImageBytes({ tenant: 'default', name: 'big' }, imageKey('noise', 'n.png'));
  expect(kept?.equals(picture)).toBe(true);
  expect(predecodedCount()).toBe(0);
});

test('operator: large broken base64 is refused as before', async () => {
  const text = picture.toString('base64');
  const broken = `${text.slice(0, 1_200_000)}*${text.slice(1_200_001)}`;
  const res = await post(`${gw.url}${PREFIX}/search/by-image`, { library_name: 'big', image_base64: broken, top_k: 1 });
  expect([res.status, res.body.status]).toEqual([400, STATUS.invalidImage]);
  expect(predecodedCount()).toBe(0);
});

test('Qiniu: a large data URI is added and searched; a broken one gets the documented error', async () => {
  const api = (p: string) => `${gw.url}/v1/image${p}`;
  const created = await post(api('/group/bigq/new'), { data: [{ uri: dataUri(picture), attribute: { id: 'noise', label: 'noise' } }] });
  expect([created.status, created.body]).toEqual([200, expect.anything()]);
  const res = await post(api('/group/bigq/search'), { data: { uri: dataUri(picture) }, params: { limit: 1 } });
  expect(res.body.result[0]).toMatchObject({ id: 'noise' });
  const broken = dataUri(picture).replace(/.{10}$/, '*'.repeat(10));
  const refused = await post(api('/group/bigq/search'), { data: { uri: broken }, params: { limit: 1 } });
  expect([refused.status, refused.body.error]).toEqual([400, 'invalid base64 data in uri']);
  expect(predecodedCount()).toBe(0);
});

test('only picture members are decoded ahead: a long base64-looking id still meets its length rule', async () => {
  const op = (p: string, body: unknown) => post(`${gw.url}${PREFIX}/${p}`, body);
  const res = await op('image/add', { library_name: 'big', image_id: 'A'.repeat(8192), image_uri: 'x.png', image_base64: picture.toString('base64') });
  expect([res.status, res.body.status]).toEqual([400, STATUS.invalidParameter]);
  expect(JSON.stringify(res.body)).not.toContain('predecoded');
  expect(predecodedCount()).toBe(0);
});

/**
 * The Alibaba adapter against the vendor document's facts (tests/fixtures/alibaba/): its sample request and
 * response (examples.json) and its error table (code, HTTP status, message; error-codes.json), plus the
 * response shapes of the spec (shared/specs/alibaba.md §4). Gateway in open mode; requests unsigned.
 */
import sharp from 'sharp';
import { ERRORS } from '../../adapters/alibaba/errors';
import { IMAGE_LIMITS } from '../../adapters/alibaba/limits';
import { bmp24 } from '../helpers/bmp';
import { rpc } from '../helpers/alibaba';
import { fixture } from '../helpers/fixtures';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { shapeOf } from '../helpers/json-examples';
import { productImage } from '../helpers/product-images';

const { request: sampleRequest, response: sampleResponse } = fixture('alibaba', 'examples').SearchImageByPic;
/** The error table of the document: code, HTTP status and message of each row. */
const errorTable: Array<{ code: string; status: number; message: string }> = fixture('alibaba', 'error-codes').errors;

let gw: TestGateway;
let red: Buffer;
const call = (action: string, params: Record<string, string | number | boolean>, opts: { query?: Record<string, string> } = {}) => rpc(gw.url, action, params, opts);

beforeAll(async () => {
  gw = await startTestGateway({
    libraries: [
      { tenant: 'default', name: sampleRequest.InstanceName, mode: 'item_search' },
      { tenant: 'default', name: 'generic', mode: 'general_search' },
    ],
  });
  red = await productImage('#d02020', 'circle');
  for (const a of sampleResponse.Auctions) {
    const res = await call('AddImage', { InstanceName: sampleRequest.InstanceName, ProductId: a.ProductId, PicName: a.PicName, CategoryId: a.CategoryId, PicContent: red.toString('base64') });
    expect(res.status).toBe(200);
  }
});
afterAll(() => gw.destroy());

test('the document holds the examples and the error table this suite relies on', () => {
  expect(Object.keys(sampleRequest)).toEqual(['InstanceName', 'PicContent']);
  expect(sampleResponse.Auctions).toHaveLength(1);
  expect(errorTable.length).toBeGreaterThanOrEqual(25);
});

test('SearchImageByPic: the sample request answers in the documented shape, with the documented result', async () => {
  const res = await call('SearchImageByPic', { ...sampleRequest, PicContent: red.toString('base64') });
  expect(res.status).toBe(200);
  expect(shapeOf(res.body)).toEqual(shapeOf(sampleResponse));
  expect(res.body).toMatchObject({ Msg: 'success', Success: true, Code: 0, Head: { DocsFound: 1, DocsReturn: 1 } });
  const [hit] = res.body.Auctions;
  const [documented] = sampleResponse.Auctions;
  expect({ ProductId: hit.ProductId, PicName: hit.PicName, CategoryId: hit.CategoryId }).toEqual({
    ProductId: documented.ProductId,
    PicName: documented.PicName,
    CategoryId: documented.CategoryId,
  });
  // The same picture: the documented Score and, derived from it, the documented SortExprValues, to the character.
  expect([hit.Score, hit.SortExprValues]).toEqual([documented.Score, documented.SortExprValues]);
  expect(res.body.PicInfo.AllCategories).toEqual(sampleResponse.PicInfo.AllCategories);
  expect(res.body.PicInfo.Region).toMatch(/^\d+,\d+,\d+,\d+$/);
  expect(res.body.RequestId).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
});

test('every code of the vendor’s error table has its documented status and message in the adapter’s table', () => {
  for (const row of errorTable) {
    const ours = (ERRORS as Record<string, readonly [number, string]>)[row.code];
    if (ours === undefined) continue; // listed as not produced in docs/compatibility/alibaba.md
    expect([row.code, ours[0], ours[1]]).toEqual([row.code, row.status, row.message]);
  }
});

describe('error codes, triggered', () => {
  const I = () => sampleRequest.InstanceName as string;
  const base64 = () => red.toString('base64');
  const cases: Array<[string, () => Promise<{ status: number; body: any }>]> = [
    ['InvalidInstance', () => call('SearchImageByPic', { InstanceName: 'missing', PicContent: base64() })],
    ['InvalidInstanceName', () => call('SearchImageByPic', { PicContent: base64() })],
    ['InvalidCategory', () => call('SearchImageByPic', { InstanceName: I(), PicContent: base64(), CategoryId: 10 })],
    ['OverflowMaxReturnNum', () => call('SearchImageByPic', { InstanceName: I(), PicContent: base64(), Num: 101 })],
    ['OverflowMaxResultNum', () => call('SearchImageByPic', { InstanceName: I(), PicContent: base64(), Num: 100, Start: 401 })],
    ['InvalidNumParameter', () => call('SearchImageByPic', { InstanceName: I(), PicContent: base64(), Num: 'ten' })],
    ['InvalidStartParameter', () => call('SearchImageByPic', { InstanceName: I(), PicContent: base64(), Start: -1 })],
    ['InvalidIntAttr', () => call('AddImage', { InstanceName: I(), ProductId: 'p', PicName: 'n', PicContent: base64(), IntAttr: 'x' })],
    ['InvalidStrAttr', () => call('AddImage', { InstanceName: I(), ProductId: 'p', PicName: 'n', PicContent: base64(), StrAttr: 'a$b' })],
    ['InvalidFilterClause', () => call('SearchImageByPic', { InstanceName: I(), PicContent: base64(), Filter: 'price>1' })],
    ['InvalidRegion', () => call('SearchImageByPic', { InstanceName: I(), PicContent: base64(), Region: '10,5,0,10' })],
    ['NoSpecifiedPicContent', () => call('SearchImageByPic', { InstanceName: I() })],
    ['NoSpecifiedProductId', () => call('AddImage', { InstanceName: I(), PicName: 'n', PicContent: base64() })],
    ['InvalidPicContent', () => call('SearchImageByPic', { InstanceName: I(), PicContent: 'not*base64' })],
    ['UnsupportedPicFormat', () => call('SearchImageByPic', { InstanceName: I(), PicContent: Buffer.from('plain text, not an image').toString('base64') })],
    ['PicNotExist', () => call('SearchImageByName', { InstanceName: I(), ProductId: 'nope', PicName: 'nope.jpg' })],
    ['UnsupportedInstanceType', () => call('SearchImageByText', { InstanceName: 'generic', Text: 'red circle' })],
    ['InvalidTextLength', () => call('SearchImageByText', { InstanceName: 'generic', Text: 'x'.repeat(513) })],
    ['Console.InstanceNotFound', () => call('Detail', {}, { query: { InstanceName: 'missing' } })],
    ['InvalidAction.NotFound', () => call('CreateInstance', { InstanceName: I() })],
  ];
  test.each(cases)('%s', async (code, request) => {
    const res = await request();
    expect(res.body.Code).toBe(code);
    // The vendor's message, sometimes followed by what exactly was wrong.
    expect(res.body.Message.startsWith(ERRORS[code as keyof typeof ERRORS][1].replace(/\.$/, ''))).toBe(true);
    expect(res.status).toBe(ERRORS[code as keyof typeof ERRORS][0]);
    expect(Object.keys(res.body).sort()).toEqual(['Code', 'HostId', 'Message', 'Recommend', 'RequestId']);
  });

  test('UnsupportedPicPixels: a side below the minimum', async () => {
    const small = await productImage('#d02020', 'circle', { width: IMAGE_LIMITS.minWidth! - 1, height: 200 });
    const res = await call('SearchImageByPic', { InstanceName: I(), PicContent: small.toString('base64') });
    expect([res.status, res.body.Code]).toEqual([400, 'UnsupportedPicPixels']);
  });

  test('IncorrectOrientation: a JPEG with an EXIF rotation', async () => {
    const rotated = await sharp(red).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const res = await call('AddImage', { InstanceName: I(), ProductId: 'p', PicName: 'r.jpg', PicContent: rotated.toString('base64') });
    expect([res.status, res.body.Code]).toEqual([400, 'IncorrectOrientation']);
  });
});

describe('the page’s parameter rules (tests/fixtures/alibaba/parameters.json)', () => {
  const rules = fixture('alibaba', 'parameters');
  const I = () => sampleRequest.InstanceName as string;
  const tableRow = (code: string) => errorTable.find((row) => row.code === code)!;

  test('SortExprValues is the shown Score × the maximum of the category range, then ";0"', async () => {
    // Near the query picture (same colour and shape, another background): a score strictly between 0 and 1.
    const near = await productImage('#d02020', 'circle', { background: '#e8e0f8' });
    const added = [
      [I(), 'sort-a', 1],
      [I(), 'sort-b', 5],
      ['generic', 'sort-c', 88888888],
    ] as const;
    for (const [instance, product, categoryId] of added) {
      expect((await call('AddImage', { InstanceName: instance, ProductId: product, PicName: 'p.jpg', CategoryId: categoryId, PicContent: near.toString('base64') })).status).toBe(200);
    }
    const max = (categoryId: number) => Number(categoryId >= 0 && categoryId <= 2 ? rules.SortExprValues.maxForCategories0to2 : rules.SortExprValues.maxForOtherCategories);
    const checked: number[] = [];
    const scores: number[] = [];
    try {
      for (const instance of [I(), 'generic']) {
        const res = await call('SearchImageByPic', { InstanceName: instance, PicContent: red.toString('base64'), Num: 20 });
        expect(res.status).toBe(200);
        for (const a of res.body.Auctions) {
          expect(a.SortExprValues).toBe(`${a.Score * max(a.CategoryId)}${rules.SortExprValues.suffix}`);
          checked.push(a.CategoryId);
          scores.push(a.Score);
        }
      }
      // Both ranges, with scores below 1 (the sort-* pictures are near the query, not the same).
      expect(new Set(checked)).toEqual(new Set([0, 1, 5, 88888888]));
      expect(scores.some((score) => score > 0 && score < 1)).toBe(true);
    } finally {
      for (const [instance, product] of added) await call('DeleteImage', { InstanceName: instance, ProductId: product });
    }
  });

  test('PicContent: a picture in every documented format is read (PPM as P6 and P3)', async () => {
    const { data, info } = await sharp(red).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const { width, height } = info;
    const bmp = () => bmp24(width, height, (x, y) => {
      const i = 3 * (y * width + x);
      return [data[i], data[i + 1], data[i + 2]];
    });
    const encoders: Record<string, () => Buffer | Promise<Buffer>> = {
      PNG: () => sharp(red).png().toBuffer(),
      JPG: () => sharp(red).jpeg().toBuffer(),
      JPEG: () => sharp(red).jpeg({ quality: 95 }).toBuffer(),
      BMP: bmp,
      GIF: () => sharp(red).gif().toBuffer(),
      WebP: () => sharp(red).webp().toBuffer(),
      TIFF: () => sharp(red).tiff().toBuffer(),
      PPM: () => Buffer.concat([Buffer.from(`P6\n${width} ${height}\n255\n`, 'latin1'), data]),
    };
    expect(Object.keys(encoders)).toEqual(rules.PicContent.formats);
    const p3 = Buffer.from(`P3\n# plain PPM\n${width} ${height}\n255\n${[...data].join(' ')}\n`, 'latin1');
    for (const [format, encode] of [...Object.entries(encoders), ['PPM (P3)', () => p3] as const]) {
      const res = await call('SearchImageByPic', { InstanceName: I(), PicContent: (await encode()).toString('base64'), Num: 1 });
      expect([format, res.status, res.body.Code]).toEqual([format, 200, 0]);
      expect(res.body.Auctions[0].Score).toBeGreaterThan(0.9);
    }
    const added = await call('AddImage', { InstanceName: I(), ProductId: 'ppm', PicName: 'p.ppm', PicContent: (await encoders.PPM()).toString('base64') });
    expect([added.status, added.body.Code]).toEqual([200, 0]);
    await call('DeleteImage', { InstanceName: I(), ProductId: 'ppm' });
  });

  test('Filter: up to the page’s length answers, one character more is InvalidFilterClause', async () => {
    const { maxLength } = rules.Filter;
    const filterOf = (length: number) => `str_attr="${'x'.repeat(length - 'str_attr=""'.length)}"`;
    expect(filterOf(maxLength)).toHaveLength(maxLength);
    for (const [action, params] of [
      ['SearchImageByPic', { PicContent: red.toString('base64') }],
      ['SearchImageByFilter', {}],
      ['DeleteImage', { IsDeleteByFilter: true }],
    ] as const) {
      const ok = await call(action, { InstanceName: I(), ...params, Filter: filterOf(maxLength) });
      expect([action, ok.status]).toEqual([action, 200]);
      const long = await call(action, { InstanceName: I(), ...params, Filter: filterOf(maxLength + 1) });
      const row = tableRow('InvalidFilterClause');
      expect([action, long.status, long.body.Code, long.body.Message]).toEqual([action, row.status, row.code, row.message]);
    }
  });

  test('BadRequest answers the table’s message word for word, whatever parameter was wrong', async () => {
    const row = tableRow('BadRequest');
    const crop = await call('SearchImageByPic', { InstanceName: I(), PicContent: red.toString('base64'), Crop: 'maybe' });
    expect([crop.status, crop.body.Code, crop.body.Message]).toEqual([row.status, row.code, row.message]);
    const distinct = await call('SearchImageByPic', { InstanceName: I(), PicContent: red.toString('base64'), DistinctProductId: 'perhaps' });
    expect([distinct.status, distinct.body.Code, distinct.body.Message]).toEqual([row.status, row.code, row.message]);
  });
});

test('(ProductId, PicName) is the key: re-adding overwrites; DeleteImage of a missing image succeeds', async () => {
  const I = sampleRequest.InstanceName;
  await call('AddImage', { InstanceName: I, ProductId: 'k', PicName: 'k.jpg', PicContent: red.toString('base64'), IntAttr: 1 });
  await call('AddImage', { InstanceName: I, ProductId: 'k', PicName: 'k.jpg', PicContent: red.toString('base64'), IntAttr: 2 });
  const found = await call('SearchImageByFilter', { InstanceName: I, Filter: 'int_attr>=1' });
  expect(found.body.Auctions.filter((a: any) => a.ProductId === 'k')).toEqual([{ ProductId: 'k', PicName: 'k.jpg', CategoryId: 88888888, IntAttr: 2 }]);
  const del = await call('DeleteImage', { InstanceName: I, ProductId: 'none', PicName: 'none.jpg' });
  expect([del.status, del.body.Data.PicNames]).toEqual([200, []]);
  const byFilter = await call('DeleteImage', { InstanceName: I, IsDeleteByFilter: true, Filter: 'int_attr=2' });
  expect(byFilter.body.Data.PicNames).toEqual(['k.jpg']);
});

test('generic instances force CategoryId 88888888; DistinctProductId keeps one image per product', async () => {
  await call('AddImage', { InstanceName: 'generic', ProductId: 'g', PicName: 'a.jpg', PicContent: red.toString('base64'), CategoryId: 3 });
  await call('AddImage', { InstanceName: 'generic', ProductId: 'g', PicName: 'b.jpg', PicContent: red.toString('base64') });
  const all = await call('SearchImageByPic', { InstanceName: 'generic', PicContent: red.toString('base64'), CategoryId: 3 });
  expect(all.body.PicInfo.CategoryId).toBe(88888888);
  expect(all.body.Auctions.map((a: any) => a.CategoryId)).toEqual([88888888, 88888888]);
  const distinct = await call('SearchImageByPic', { InstanceName: 'generic', PicContent: red.toString('base64'), DistinctProductId: true });
  expect(distinct.body.Auctions).toHaveLength(1);
});

test('parameters merge from the query and the form body; V1-style Action in the query is routed', async () => {
  const res = await call('SearchImageByPic', { InstanceName: sampleRequest.InstanceName, PicContent: red.toString('base64') }, { query: { ScoreThreshold: '1.00', Num: '3' } });
  expect(res.status).toBe(200);
  expect(res.body.Auctions.every((a: any) => a.Score >= 1)).toBe(true);
  const v1 = await fetch(`${gw.url}/?Action=Detail&Version=2020-12-14&InstanceName=generic`, { method: 'GET' });
  expect(v1.status).toBe(404); // Detail is not one of the GET actions
  const list = await fetch(`${gw.url}/?Action=DumpMetaList&Version=2020-12-14&InstanceName=generic`);
  const listed = (await list.json()) as Record<string, unknown>;
  expect([list.status, Object.keys(listed).sort()]).toEqual([200, ['Data', 'RequestId']]);
});

test('requests that are not Alibaba calls pass by the adapter', async () => {
  const res = await fetch(`${gw.url}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  expect(res.status).toBe(404);
  expect(await res.json()).toEqual({ error: 'not found' });
});

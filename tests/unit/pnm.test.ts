/**
 * Netpbm images (core/image/pnm.ts): PPM P3/P6, PGM P2/P5 and PBM P1/P4, written by hand here, decode to the
 * pixels they hold, in the decoder thread, under the same pixel limit and decode budget as every format;
 * damaged files are corrupt, and no caller gets them unless it names the format.
 */
import { threadId } from 'node:worker_threads';
import { ImageInvalidError } from '../../core/errors';
import { checkImage, decodeBudget, decodeImage, sniffFormat, type ImageLimits } from '../../core/image';
import { decoderStats } from '../../core/image/raw-decode-pool';

const PNM: ImageLimits = { formats: ['pnm'] };
const W = 5;
const H = 3;
/** The test picture: a colour per pixel, distinct enough that row order and channel order show. */
const rgb = (x: number, y: number): [number, number, number] => [x * 60, y * 120, 255 - x * 50];
const grey = (x: number, y: number) => (x * 50 + y * 20) % 256;
const black = (x: number, y: number) => (x + y) % 2 === 1;

function plain(magic: string, header: string, values: number[][]): Buffer {
  return Buffer.from(`${magic}\n# a comment\n${header}\n${values.map((row) => row.join(' ')).join('\n')}\n`, 'latin1');
}
function raw(magic: string, header: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${magic} ${header}\n`, 'latin1'), body]);
}
const rows = <T>(f: (x: number, y: number) => T) => Array.from({ length: H }, (_, y) => Array.from({ length: W }, (_, x) => f(x, y)));

const P3 = plain('P3', `${W} ${H}\n255`, rows(rgb).map((row) => row.flat()));
const P6 = raw('P6', `${W} ${H} 255`, Buffer.from(rows(rgb).flat(2)));
const P6_16 = (() => {
  const body = Buffer.alloc(W * H * 3 * 2);
  rows(rgb).flat(2).forEach((v, i) => body.writeUInt16BE(v * 257, i * 2)); // 0..255 scaled to 0..65535
  return raw('P6', `${W} ${H} 65535`, body);
})();
const P2 = plain('P2', `${W} ${H} 255`, rows(grey));
const P5 = raw('P5', `${W} ${H}\n#comment before maxval\n255`, Buffer.from(rows(grey).flat()));
const P1 = plain('P1', `${W} ${H}`, rows((x, y) => (black(x, y) ? 1 : 0)));
const P4 = raw(
  'P4',
  `${W} ${H}`,
  Buffer.from(rows(black).map((row) => row.reduce((byte, b, x) => byte | ((b ? 1 : 0) << (7 - x)), 0))),
);

async function pixels(bytes: Buffer, limits: ImageLimits = PNM) {
  const checked = await checkImage(bytes, limits);
  return decodeImage(checked, {}, (image) => image.raw().toBuffer({ resolveWithObject: true }));
}
const at = (img: { data: Buffer; info: { width: number; channels: number } }, x: number, y: number) => {
  const o = (y * img.info.width + x) * img.info.channels;
  return [...img.data.subarray(o, o + 3)];
};

async function reasonOf(p: Promise<unknown>): Promise<string | undefined> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  if (e === undefined) return undefined;
  if (e instanceof ImageInvalidError) return e.reason;
  throw e;
}

test.each([
  ['P3 (plain PPM)', P3, rgb],
  ['P6 (raw PPM)', P6, rgb],
  ['P6 with 16-bit samples', P6_16, rgb],
  ['P2 (plain PGM)', P2, (x: number, y: number) => [grey(x, y), grey(x, y), grey(x, y)]],
  ['P5 (raw PGM), a comment inside the header', P5, (x: number, y: number) => [grey(x, y), grey(x, y), grey(x, y)]],
  ['P1 (plain PBM)', P1, (x: number, y: number) => Array(3).fill(black(x, y) ? 0 : 255)],
  ['P4 (raw PBM)', P4, (x: number, y: number) => Array(3).fill(black(x, y) ? 0 : 255)],
] as const)('%s decodes to its pixels', async (_name, bytes, expected) => {
  expect(sniffFormat(bytes)).toBe('pnm');
  expect(await checkImage(bytes, PNM)).toMatchObject({ format: 'pnm', width: W, height: H });
  const img = await pixels(bytes);
  expect([img.info.width, img.info.height]).toEqual([W, H]);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) expect([x, y, at(img, x, y)]).toEqual([x, y, [...expected(x, y)]]);
});

test('samples scale from any maxval to 0..255', async () => {
  const img = await pixels(plain('P2', '3 1 15', [[0, 7, 15]]));
  expect([at(img, 0, 0)[0], at(img, 1, 0)[0], at(img, 2, 0)[0]]).toEqual([0, Math.round((7 * 255) / 15), 255]);
});

test('PNM is decoded in the decoder thread, not on the event loop', async () => {
  const before = decoderStats.decoded;
  await pixels(P6);
  expect(decoderStats.decoded).toBe(before + 1);
  expect(decoderStats.threadId).not.toBe(threadId);
});

test('damaged files are corrupt: truncated raster, sample above maxval, bad header', async () => {
  expect(await reasonOf(checkImage(P6.subarray(0, P6.length - 1), PNM))).toBe('corrupt');
  expect(await reasonOf(checkImage(Buffer.from('P6 5'), PNM))).toBe('corrupt');
  expect(await reasonOf(checkImage(Buffer.from('P6 0 5 255\n'), PNM))).toBe('corrupt');
  expect(await reasonOf(checkImage(Buffer.from('P5 2 2 0\n\0\0\0\0'), PNM))).toBe('corrupt');
  expect(await reasonOf(checkImage(Buffer.from('P6 -2 2 255\n'), PNM))).toBe('corrupt');
  // Plain rasters are checked as they are decoded, in the decoder thread.
  expect(await reasonOf(pixels(plain('P2', '2 1 10', [[3, 11]])))).toBe('corrupt');
  expect(await reasonOf(pixels(plain('P3', '2 1 255', [[1, 2, 3]])))).toBe('corrupt');
  expect(await reasonOf(pixels(Buffer.from('P1 2 2\n0 1 2 0\n')))).toBe('corrupt');
});

test('the same pixel limit and decode budget as every format', async () => {
  const huge = Buffer.from('P6 20000 20000 255\n');
  expect(await reasonOf(checkImage(huge, { ...PNM, maxPixels: 100_000_000 }))).toBe('too_many_pixels');
  const big = raw('P5', '400 300 255', Buffer.alloc(400 * 300, 128));
  expect(await reasonOf(checkImage(big, { ...PNM, maxPixels: 400 * 300 - 1 }))).toBe('too_many_pixels');
  const limit = decodeBudget.limitBytes;
  decodeBudget.limitBytes = 400 * 300 * 4 - 1;
  try {
    expect(await reasonOf(pixels(big))).toBe('too_many_pixels');
  } finally {
    decodeBudget.limitBytes = limit;
  }
  expect((await pixels(big)).info.width).toBe(400);
});

test('only a caller that names the format gets it', async () => {
  expect(await reasonOf(checkImage(P6, {}))).toBe('bad_format');
  expect(await reasonOf(checkImage(P6, { formats: ['jpeg', 'png', 'bmp'] }))).toBe('bad_format');
});

/**
 * Pixel bombs cannot stall or exhaust the gateway: BMPs (the one format decoded in JavaScript) are decoded in
 * the decoder thread, not on the event loop, and every decode holds width × height × 4 bytes of a process-wide
 * budget while it runs — an image alone above it is "too many pixels", one that does not fit beside the
 * decodes in flight is a full queue (each vendor's throttling error), and the budget is given back after.
 */
import { threadId } from 'node:worker_threads';
import sharp from 'sharp';
import { ImageInvalidError, QuotaExceededError } from '../../core/errors';
import { checkImage, decodeBudget, DecodeBudget, decodeImage } from '../../core/image';
import { decoderStats } from '../../core/image/raw-decode-pool';
import { bmp24 } from '../helpers/bmp';

/** A decode that finishes when the test says so. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, decode: () => opened.then(() => 'decoded') };
}

test('a BMP is decoded in the decoder thread, with the right pixels', async () => {
  const before = decoderStats.decoded;
  const checked = await checkImage(bmp24(300, 200, () => [200, 40, 10]));
  const { data, info } = await decodeImage(checked, {}, (image) => image.raw().toBuffer({ resolveWithObject: true }));
  expect([info.width, info.height, info.channels]).toEqual([300, 200, 3]);
  expect([...data.subarray(0, 3)]).toEqual([200, 40, 10]);
  expect(decoderStats.decoded).toBe(before + 1);
  expect(decoderStats.threadId).not.toBe(threadId);
});

test('a damaged BMP is still refused as corrupt from the decoder thread', async () => {
  const file = bmp24(64, 64, () => [1, 2, 3]);
  const checked = await checkImage(file);
  file.writeUInt16LE(7, 28); // bits per pixel the decoder does not know, after the header check passed
  const error = await decodeImage(checked, {}, (image) => image.raw().toBuffer()).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ImageInvalidError);
});

test('an image alone above the budget is too many pixels', async () => {
  const budget = new DecodeBudget(10_000 * 4);
  const error = await budget.hold({ width: 101, height: 100 }, async () => 'decoded').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ImageInvalidError);
  expect((error as ImageInvalidError).reason).toBe('too_many_pixels');
  expect(await budget.hold({ width: 100, height: 100 }, async () => 'decoded')).toBe('decoded');
});

test('a decode that does not fit beside the ones in flight is a full queue; the budget comes back after', async () => {
  const budget = new DecodeBudget(10_000 * 4);
  const first = gate();
  const running = budget.hold({ width: 100, height: 60 }, first.decode);
  expect(budget.reserved).toBe(100 * 60 * 4);

  const refused = await budget.hold({ width: 100, height: 50 }, async () => 'decoded').catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(QuotaExceededError);
  expect((refused as QuotaExceededError).quota).toBe('queue');
  // What still fits goes ahead.
  expect(await budget.hold({ width: 100, height: 40 }, async () => 'decoded')).toBe('decoded');

  first.open();
  expect(await running).toBe('decoded');
  expect(budget.reserved).toBe(0);
  expect(await budget.hold({ width: 100, height: 100 }, async () => 'decoded')).toBe('decoded');
});

test('a failed decode gives its reservation back', async () => {
  const budget = new DecodeBudget(10_000 * 4);
  await expect(budget.hold({ width: 100, height: 100 }, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  expect(budget.reserved).toBe(0);
});

test('every decode goes through the process budget: an image above it is refused before decoding', async () => {
  const saved = decodeBudget.limitBytes;
  decodeBudget.limitBytes = 1000 * 1000 * 4;
  try {
    const big = await sharp({ create: { width: 1200, height: 1000, channels: 3, background: '#808080' } }).png().toBuffer();
    const checked = await checkImage(big);
    const error = await decodeImage(checked, {}, (image) => image.raw().toBuffer()).catch((e: unknown) => e);
    expect((error as ImageInvalidError).reason).toBe('too_many_pixels');
  } finally {
    decodeBudget.limitBytes = saved;
  }
});

test('at most maxRunning decodes run at once; the others wait in order and start as slots free', async () => {
  const budget = new DecodeBudget(10_000 * 4, 2);
  const started: string[] = [];
  const gates = ['a', 'b', 'c', 'd'].map((name) => ({ name, ...gate() }));
  const all = gates.map((g) => budget.hold({ width: 10, height: 10 }, () => (started.push(g.name), g.decode())));
  await new Promise((r) => setImmediate(r));
  expect(started).toEqual(['a', 'b']);
  expect(budget.queued).toBe(2);
  gates[1].open();
  await all[1];
  await new Promise((r) => setImmediate(r));
  expect(started).toEqual(['a', 'b', 'c']);
  gates[0].open();
  gates[2].open();
  await Promise.all([all[0], all[2]]);
  await new Promise((r) => setImmediate(r));
  expect(started).toEqual(['a', 'b', 'c', 'd']);
  gates[3].open();
  expect(await Promise.all(all)).toEqual(['decoded', 'decoded', 'decoded', 'decoded']);
  expect([budget.reserved, budget.queued]).toEqual([0, 0]);
});

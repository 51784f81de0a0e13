/**
 * A short, seeded fuzzing run (tests/fuzz/fuzzer.ts) in the suite: valid requests of every route of the four
 * APIs and the gateway's own surfaces, mutated, against a real gateway. Every answer must be the vendor's own
 * (no 5xx beyond the documented ones, the vendor's error shape, no stack trace or path), nothing may be
 * logged as an internal failure, and the gateway must be healthy at the end. `npm run fuzz -- --n 20000`
 * runs the same fuzzer longer.
 */
import sharp from 'sharp';
import type { FuzzRequest } from '../fuzz/fuzzer';
import { describeFinding, fuzzSession } from '../fuzz/session';

test('600 mutated requests: every answer in the vendor\'s words, nothing logged as an internal error, still healthy', async () => {
  const report = await fuzzSession({ seed: 20261205, n: 600 });
  expect(report.sent).toBe(600);
  expect(report.findings.map(describeFinding)).toEqual([]);
  expect(report.errorLogs).toEqual([]);
  expect(report.healthy).toBe(true);
}, 120_000);

test('a client\'s mistake answered with a 5xx code of the vendor (Qiniu 612 no such entry) is not logged as a failure', async () => {
  const jpeg = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#2080c0' } }).jpeg().toBuffer();
  const qiniu = (path: string, body: unknown): FuzzRequest => ({
    vendor: 'qiniu',
    method: 'POST',
    path: `/v1/image/group/g612${path}`,
    headers: { 'content-type': 'application/json', authorization: 'Qiniu fuzz-ak:c2lnbmF0dXJl' },
    body: JSON.stringify(body),
    mutation: 'none',
  });
  const report = await fuzzSession({
    seed: 1,
    n: 0,
    extra: [
      qiniu('/new', { data: [{ uri: `data:application/octet-stream;base64,${jpeg.toString('base64')}`, attribute: { id: 'a', label: 'x', desc: '' } }] }),
      qiniu('/image', { id: 'missing' }),
    ],
  });
  expect(report.answers.map((a) => a.status)).toEqual([200, 612]);
  expect(JSON.parse(report.answers[1].body)).toEqual({ error: 'no such entry' });
  expect(report.errorLogs).toEqual([]);
});

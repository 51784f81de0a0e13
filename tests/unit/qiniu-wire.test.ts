/** Qiniu wire details: float32 scores as the vendor prints them, and the etag of inline images. */
import { createHash } from 'node:crypto';
import { qetag } from '../../adapters/qiniu/etag';
import { float32 } from '../../adapters/qiniu/operations';
import { responseExample } from '../helpers/qiniu';

test('documented scores are float32 printed shortest: float32() gives them back from their float32 value', () => {
  const scores: number[] = [...responseExample('图片搜索').result, ...responseExample('图片搜索(旧版本)').result].map((r: any) => r.score);
  expect(scores.length).toBeGreaterThan(3);
  for (const s of scores) {
    expect(float32(Math.fround(s))).toBe(s);
    expect(String(float32(Math.fround(s))).length).toBeLessThan(String(Math.fround(s)).length);
  }
  expect(float32(1)).toBe(1);
  expect(float32(0)).toBe(0);
});

test('qetag: one block is 0x16 + SHA-1; more than 4 MiB hashes the block digests under 0x96', () => {
  const small = Buffer.from('image bytes');
  const expected = Buffer.concat([Buffer.from([0x16]), createHash('sha1').update(small).digest()]).toString('base64url');
  expect(qetag(small)).toBe(expected);
  const big = Buffer.alloc(4 * 1024 * 1024 + 1, 7);
  const blocks = [big.subarray(0, 4 * 1024 * 1024), big.subarray(4 * 1024 * 1024)].map((b) => createHash('sha1').update(b).digest());
  expect(qetag(big)).toBe(Buffer.concat([Buffer.from([0x96]), createHash('sha1').update(Buffer.concat(blocks)).digest()]).toString('base64url'));
  expect(qetag(big)).toHaveLength(28);
});

/** Base64 pictures decoded ahead in slices: the same bytes as Buffer.from, the same refusals as decodeBase64Strict. */
import { randomBytes } from 'node:crypto';
import { decodeBase64Strict } from '../../core/image';
import { PIECE, decodeBase64InSlices, predecodedBytes, registerPredecoded, releasePredecoded } from '../../core/image/predecoded';

const inSlices = (text: string) => {
  const raw = Buffer.from(`{"x":"${text}"}`, 'latin1');
  return decodeBase64InSlices(raw, 6, 6 + text.length);
};

describe('decodeBase64InSlices', () => {
  test.each([
    ['three slices, no padding', 3 * 786_432],
    ['one byte of padding across a slice edge', (1 << 20) * 0.75 + 2],
    ['two bytes of padding', 2_000_000 + 1],
    ['shorter than a slice', 1000],
  ])('%s: the bytes Buffer.from gives', async (_name, size) => {
    const bytes = randomBytes(size);
    expect((await inSlices(bytes.toString('base64')))?.equals(bytes)).toBe(true);
    const urlSafe = bytes.toString('base64url');
    expect((await inSlices(urlSafe))?.equals(bytes)).toBe(true);
  });

  test.each([
    ['a character outside the alphabet in a later slice', (s: string) => `${s.slice(0, 1_500_000)}*${s.slice(1_500_001)}`],
    ['padding in the middle', (s: string) => `${s.slice(0, 2_000_000)}==${s.slice(2_000_002)}`],
    ['padding at the end of a piece', (s: string) => `${s.slice(0, 3 * PIECE - 2)}==${s.slice(3 * PIECE)}`],
    ['a character outside the alphabet opening a piece', (s: string) => `${s.slice(0, 5 * PIECE)}*${s.slice(5 * PIECE + 1)}`],
    ['three padding characters', (s: string) => `${s.slice(0, -4)}A===`],
    ['a length of 4n + 1', (s: string) => `${s}A`],
  ])('not clean base64 (%s): undefined, and decodeBase64Strict refuses it too', async (_name, spoil) => {
    const text = spoil(randomBytes(2_400_000).toString('base64'));
    expect(await inSlices(text)).toBeUndefined();
    expect(() => decodeBase64Strict(text)).toThrow();
  });
});

test('whitespace is left to the ordinary path, which tolerates it', async () => {
  const bytes = randomBytes(1_200_000);
  const text = bytes.toString('base64').replace(/(.{76})/g, '$1 ');
  expect(await inSlices(text)).toBeUndefined();
  expect(decodeBase64Strict(text).equals(bytes)).toBe(true);
});

test('a registered stand-in decodes to its bytes until released', () => {
  const bytes = Buffer.from('picture');
  const standIn = registerPredecoded(bytes);
  expect(decodeBase64Strict(standIn)).toBe(bytes);
  expect(predecodedBytes(standIn)).toBe(bytes);
  releasePredecoded(standIn);
  expect(predecodedBytes(standIn)).toBeUndefined();
  expect(() => decodeBase64Strict(standIn)).toThrow();
});

import { randomBytes } from 'node:crypto';
import { ImageInvalidError } from '../../core/errors';
import { decodeImageData, isDataUri } from '../../core/image';

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof ImageInvalidError) return e.reason;
    throw e;
  }
  return undefined;
}

describe('decodeImageData', () => {
  // Bytes chosen so the encodings use '+' and '/' (standard) or '-' and '_' (URL-safe).
  const bytes = Buffer.from([0xfb, 0xff, 0xbf, 0x00, 0x01, 0x02, 0xfe]);
  const standard = bytes.toString('base64'); // "+/+/AAECAv4=" style, with padding
  const urlSafe = bytes.toString('base64url'); // no padding

  it('decodes standard base64 with and without padding', () => {
    expect(standard).toMatch(/[+/]/);
    expect(decodeImageData(standard)).toEqual(bytes);
    expect(decodeImageData(standard.replace(/=+$/, ''))).toEqual(bytes);
  });

  it('decodes URL-safe base64, padded or not', () => {
    expect(urlSafe).toMatch(/[-_]/);
    expect(decodeImageData(urlSafe)).toEqual(bytes);
    expect(decodeImageData(urlSafe + '==')).toEqual(bytes);
    expect(reasonOf(() => decodeImageData(urlSafe + '='))).toBe('bad_encoding');
  });

  it('tolerates whitespace and line breaks (MIME-style wrapping)', () => {
    const long = randomBytes(300);
    const wrapped = long.toString('base64').replace(/.{76}/g, '$&\r\n');
    expect(decodeImageData(`  ${wrapped}\n\t`)).toEqual(long);
  });

  it('decodes data URIs, with or without a MIME type and parameters', () => {
    expect(decodeImageData(`data:image/png;base64,${standard}`)).toEqual(bytes);
    expect(decodeImageData(`DATA:image/jpeg;name=x.jpg;base64,${urlSafe}`)).toEqual(bytes);
    expect(decodeImageData(`data:;base64,${standard}`)).toEqual(bytes);
    expect(decodeImageData(`  data:image/png;base64,\n${standard}`)).toEqual(bytes);
  });

  it('refuses characters outside the alphabet', () => {
    expect(reasonOf(() => decodeImageData('AAAA*AAA'))).toBe('bad_encoding');
    expect(reasonOf(() => decodeImageData('AAAA.AAA'))).toBe('bad_encoding');
    expect(reasonOf(() => decodeImageData('QUJD\u00e9'))).toBe('bad_encoding');
    expect(reasonOf(() => decodeImageData('data:image/png;base64,AA%3D'))).toBe('bad_encoding');
  });

  it('refuses wrong lengths and misplaced padding', () => {
    expect(reasonOf(() => decodeImageData('AAAAA'))).toBe('bad_encoding'); // 5 chars: one dangling
    expect(reasonOf(() => decodeImageData('AA=A'))).toBe('bad_encoding');
    expect(reasonOf(() => decodeImageData('A==='))).toBe('bad_encoding');
    expect(reasonOf(() => decodeImageData('AAA=='))).toBe('bad_encoding');
    expect(reasonOf(() => decodeImageData('AAAA=='))).toBe('bad_encoding');
  });

  it('reads the standard and URL-safe alphabets alike, even mixed (as Node does)', () => {
    expect(decodeImageData('-_8+/w==')).toEqual(Buffer.from([0xfb, 0xff, 0x3e, 0xff]));
  });

  it('refuses a single stray character anywhere in a long text', () => {
    const clean = Buffer.alloc(30_000, 7).toString('base64');
    for (const at of [0, 1, 12_345, clean.length - 1]) {
      expect(reasonOf(() => decodeImageData(clean.slice(0, at) + '*' + clean.slice(at + 1)))).toBe('bad_encoding');
      expect(reasonOf(() => decodeImageData(clean.slice(0, at) + '.' + clean.slice(at)))).toBe('bad_encoding');
    }
  });

  it('says empty for nothing to decode', () => {
    expect(reasonOf(() => decodeImageData(''))).toBe('empty');
    expect(reasonOf(() => decodeImageData(' \n '))).toBe('empty');
    expect(reasonOf(() => decodeImageData('data:image/png;base64,'))).toBe('empty');
  });

  it('refuses malformed and non-base64 data URIs', () => {
    expect(reasonOf(() => decodeImageData('data:image/png;base64'))).toBe('bad_encoding');
    expect(reasonOf(() => decodeImageData('data:image/svg+xml,<svg/>'))).toBe('bad_encoding');
  });

  it('honours allowDataUri and allowRaw', () => {
    expect(reasonOf(() => decodeImageData(`data:image/png;base64,${standard}`, { allowDataUri: false }))).toBe(
      'bad_encoding',
    );
    expect(reasonOf(() => decodeImageData(standard, { allowRaw: false }))).toBe('bad_encoding');
    expect(decodeImageData(`data:image/png;base64,${standard}`, { allowRaw: false })).toEqual(bytes);
  });

  it('is fast on multi-MB strings', () => {
    const big = randomBytes(8 * 1024 * 1024);
    const text = big.toString('base64');
    const started = process.hrtime.bigint();
    const decoded = decodeImageData(text);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(decoded.equals(big)).toBe(true);
    expect(ms).toBeLessThan(1000);
    // A bad character at the very end is still found.
    expect(reasonOf(() => decodeImageData(text.slice(0, -4) + 'AA!A'))).toBe('bad_encoding');
  });
});

describe('isDataUri', () => {
  it('recognises data URIs only', () => {
    expect(isDataUri('data:image/png;base64,AAAA')).toBe(true);
    expect(isDataUri(' Data:,x')).toBe(true);
    expect(isDataUri('AAAA')).toBe(false);
    expect(isDataUri('http://example.com/data:x')).toBe(false);
  });
});

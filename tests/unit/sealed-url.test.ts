/** URLs at rest: credentials redacted in the shown form, the original sealed under the secret key. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { redactUrl, REDACTED, UrlSealer } from '../../adapters/http/sealed-url';

describe('redactUrl', () => {
  test.each([
    ['https://user:pass@files.example.com/a.jsonl', 'https://files.example.com/a.jsonl'],
    ['https://files.example.com/a.jsonl?X-Amz-Signature=abc&X-Amz-Credential=AK%2F1', `https://files.example.com/a.jsonl?X-Amz-Signature=${REDACTED}&X-Amz-Credential=${REDACTED}`],
    ['http://tok@h:8080/p?t=1#frag', `http://h:8080/p?t=${REDACTED}`],
  ])('%s', (raw, shown) => {
    expect(redactUrl(raw)).toBe(shown);
  });

  test('nothing to redact, or not a URL: undefined', () => {
    expect(redactUrl('https://files.example.com/a.jsonl')).toBeUndefined();
    expect(redactUrl('not a url')).toBeUndefined();
  });
});

describe('UrlSealer', () => {
  const sealer = UrlSealer.fromKey(randomBytes(32));

  test('a URL with credentials is stored redacted and sealed, and unseals to the original', () => {
    const raw = 'https://reader:s3cret@files.example.com/a.jsonl?token=t0k';
    const stored = sealer.seal(raw);
    expect(stored.shown).toBe(`https://files.example.com/a.jsonl?token=${REDACTED}`);
    expect(Buffer.from(stored.sealed!, 'base64').toString('latin1')).not.toMatch(/s3cret|t0k/);
    expect(sealer.unseal(stored)).toBe(raw);
  });

  test('a plain URL is stored as it is, with nothing sealed', () => {
    expect(sealer.seal('https://files.example.com/a.jsonl')).toEqual({ shown: 'https://files.example.com/a.jsonl' });
  });

  test('another key, or a tampered seal, cannot unseal', () => {
    const stored = sealer.seal('https://u:p@h/x');
    expect(() => UrlSealer.fromKey(randomBytes(32)).unseal(stored)).toThrow();
    const bytes = Buffer.from(stored.sealed!, 'base64');
    bytes[14] ^= 1;
    expect(() => sealer.unseal({ ...stored, sealed: bytes.toString('base64') })).toThrow();
  });

  test('open(): the data directory key is created once, private, and reused; ISG_SECRET_KEY overrides it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'isg-key-'));
    const other = mkdtempSync(path.join(os.tmpdir(), 'isg-key-'));
    try {
      const stored = UrlSealer.open(dir, {}).seal('https://u:p@h/x');
      const keyFile = path.join(dir, 'secret.key');
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(UrlSealer.open(dir, {}).unseal(stored)).toBe('https://u:p@h/x');
      const env = { ISG_SECRET_KEY: readFileSync(keyFile).toString('base64') };
      expect(UrlSealer.open(other, env).unseal(stored)).toBe('https://u:p@h/x');
      expect(() => UrlSealer.open(dir, { ISG_SECRET_KEY: 'c2hvcnQ=' })).toThrow(/32 bytes/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(other, { recursive: true, force: true });
    }
  });
});

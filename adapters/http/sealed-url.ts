/**
 * URLs that may carry credentials (`user:pass@host`, signed or token queries such as `?X-Amz-Signature=…`),
 * kept at rest without them in the clear: the stored and shown form has the user info removed and every
 * query value replaced by `REDACTED`; the original is sealed with AES-256-GCM under the gateway's secret key
 * and unsealed only when the URL is fetched. A URL without user info or query is stored as it is.
 *
 * The key is `<dataDir>/secret.key` (32 random bytes, created on first start, mode 0600), or ISG_SECRET_KEY
 * (Base64 of 32 bytes), which every process of a cluster sharing one Qdrant must set alike.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const REDACTED = 'REDACTED';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface StoredUrl {
  /** The URL without credentials: safe to store in the clear, log and echo back. */
  shown: string;
  /** Base64 of iv | ciphertext | tag of the original URL; absent when `shown` is the original. */
  sealed?: string;
}

/** The URL with its user info dropped and its query values redacted; undefined when nothing needed it. */
export function redactUrl(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (url.username === '' && url.password === '' && url.search === '' && url.hash === '') return undefined;
  url.username = '';
  url.password = '';
  url.hash = '';
  const names = [...url.searchParams.keys()];
  url.search = names.length > 0 ? names.map((name) => `${encodeURIComponent(name)}=${REDACTED}`).join('&') : '';
  return url.toString();
}

export class UrlSealer {
  private constructor(private readonly key: Buffer) {}

  static fromKey(key: Buffer): UrlSealer {
    if (key.length !== KEY_BYTES) throw new Error(`the secret key must be ${KEY_BYTES} bytes`);
    return new UrlSealer(key);
  }

  /** ISG_SECRET_KEY when set, else `<dataDir>/secret.key`, created once with fresh random bytes. */
  static open(dataDir: string, env: NodeJS.ProcessEnv = process.env): UrlSealer {
    if (env.ISG_SECRET_KEY) {
      const key = Buffer.from(env.ISG_SECRET_KEY, 'base64');
      if (key.length !== KEY_BYTES) throw new Error(`ISG_SECRET_KEY must be the Base64 of ${KEY_BYTES} bytes`);
      return new UrlSealer(key);
    }
    const file = path.join(dataDir, 'secret.key');
    try {
      fs.writeFileSync(file, randomBytes(KEY_BYTES), { flag: 'wx', mode: 0o600 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    return UrlSealer.fromKey(fs.readFileSync(file));
  }

  seal(raw: string): StoredUrl {
    const shown = redactUrl(raw);
    if (shown === undefined) return { shown: raw };
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(raw, 'utf8'), cipher.final()]);
    return { shown, sealed: Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64') };
  }

  /** The original URL; throws when it was sealed under another key. */
  unseal(stored: StoredUrl): string {
    if (stored.sealed === undefined) return stored.shown;
    const bytes = Buffer.from(stored.sealed, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  }
}

/**
 * The OSS side of the API, emulated: the *Advance upload flow (AuthorizeFileUpload tickets, the PostObject
 * upload, reading the object back when the action names its URL; shared/specs/alibaba.md §5 and
 * shared/specs/sdk-clients.md §1.5) and signed, expiring download links for DumpMeta's MetaUrl and
 * IncreaseList's ErrorUrl.
 *
 * Uploads are spooled to files in the data directory (not memory) for UPLOAD_TTL_MS (they are read once,
 * right after the upload), within a per-tenant byte quota; tickets and links are signed with a per-process
 * secret, so they do not outlive a restart, and the spool is emptied at start.
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { IMAGE_LIMITS, UPLOAD_MAX_OBJECTS, UPLOAD_TENANT_QUOTA_BYTES, UPLOAD_TTL_MS } from './limits';

/** The access key id the tickets name (opaque to the SDK, checked on upload). */
export const UPLOAD_ACCESS_KEY_ID = 'ISGUploadAccessKey';

export interface UploadTicket {
  AccessKeyId: string;
  EncodedPolicy: string;
  Signature: string;
  ObjectKey: string;
  Bucket: string;
  Endpoint: string;
  UseAccelerate: boolean;
}

/** Where the OSS listener is reached: host and port of the TLS server. */
export interface OssAddress {
  host: string;
  port: number;
}

export class OssError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface StoredObject {
  tenant: string;
  expires: number;
  /** Spool file and size, once uploaded. */
  file?: string;
  size: number;
}

export interface OssEmulatorOptions {
  /** Folder the uploads are spooled to (emptied at start). */
  spoolDir: string;
  /** Bytes of unexpired uploads one tenant may hold (alibaba.uploadQuotaBytes). */
  tenantQuotaBytes?: number;
  now?: () => number;
}

/**
 * Bucket and Endpoint such that the SDK's https://<Bucket>.<Endpoint>/ is the listener: an IPv4 address is
 * split after its first label (127 + 0.0.1:port); a host name needs a wildcard DNS entry for isg.<host>.
 */
export function bucketAndEndpoint(address: OssAddress): { Bucket: string; Endpoint: string } {
  const dot = address.host.indexOf('.');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(address.host)) return { Bucket: address.host.slice(0, dot), Endpoint: `${address.host.slice(dot + 1)}:${address.port}` };
  return { Bucket: 'isg', Endpoint: `${address.host}:${address.port}` };
}

export class OssEmulator {
  private readonly secret = randomBytes(32);
  private readonly objects = new Map<string, StoredObject>();
  private readonly spoolDir: string;
  private readonly tenantQuotaBytes: number;
  private readonly now: () => number;

  constructor(options: OssEmulatorOptions) {
    this.spoolDir = options.spoolDir;
    this.tenantQuotaBytes = options.tenantQuotaBytes ?? UPLOAD_TENANT_QUOTA_BYTES;
    this.now = options.now ?? Date.now;
    // Uploads of an earlier process were signed with its secret: nothing can read them any more.
    rmSync(this.spoolDir, { recursive: true, force: true });
    mkdirSync(this.spoolDir, { recursive: true });
  }

  private sign(text: string): string {
    return createHmac('sha1', this.secret).update(text).digest('base64');
  }

  /** AuthorizeFileUpload: a ticket for one object, bound to the tenant that asked. */
  ticket(tenant: string, region: string, address: OssAddress): UploadTicket {
    void this.prune();
    const ObjectKey = `imagesearch/${region}/${randomUUID()}.jpg`;
    const expires = this.now() + UPLOAD_TTL_MS;
    const policy = {
      expiration: new Date(expires).toISOString(),
      conditions: [['eq', '$key', ObjectKey], ['content-length-range', 0, IMAGE_LIMITS.maxBytes]],
    };
    const EncodedPolicy = Buffer.from(JSON.stringify(policy)).toString('base64');
    this.objects.set(ObjectKey, { tenant, expires, size: 0 });
    return { AccessKeyId: UPLOAD_ACCESS_KEY_ID, EncodedPolicy, Signature: this.sign(EncodedPolicy), ObjectKey, ...bucketAndEndpoint(address), UseAccelerate: false };
  }

  /** PostObject: checks the ticket fields and spools the file; resolves the object key. */
  async accept(fields: Record<string, string>, file: Buffer | undefined): Promise<string> {
    await this.prune();
    const { OSSAccessKeyId, policy, Signature, key } = fields;
    if (!OSSAccessKeyId || !policy || !Signature || !key) throw new OssError(400, 'InvalidArgument', 'OSSAccessKeyId, policy, Signature and key are required.');
    if (OSSAccessKeyId !== UPLOAD_ACCESS_KEY_ID) throw new OssError(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.');
    if (!sameText(this.sign(policy), Signature)) throw new OssError(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    let conditions: unknown[];
    try {
      conditions = JSON.parse(Buffer.from(policy, 'base64').toString('utf8')).conditions;
    } catch {
      throw new OssError(400, 'InvalidPolicyDocument', 'Invalid Policy.');
    }
    const keyRule = conditions.find((c) => Array.isArray(c) && c[0] === 'eq' && c[1] === '$key') as string[] | undefined;
    const object = this.objects.get(key);
    if (!keyRule || keyRule[2] !== key || !object || object.expires <= this.now()) {
      throw new OssError(403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["eq", "$key", ...].');
    }
    if (!file) throw new OssError(400, 'FieldItemTooLong', 'The file field is missing.');
    if (file.length > IMAGE_LIMITS.maxBytes!) throw new OssError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.');
    if (this.heldBy(object.tenant) - object.size + file.length > this.tenantQuotaBytes) {
      throw new OssError(403, 'AccessDenied', 'The upload quota of this account is used up; uploads expire 30 minutes after they are made.');
    }
    // Named by a hash of the key: nothing the client sent becomes part of a path.
    const spooled = path.join(this.spoolDir, createHash('sha256').update(key).digest('hex'));
    await writeFile(spooled, file);
    object.file = spooled;
    object.size = file.length;
    return key;
  }

  /** Bytes of unexpired uploads a tenant holds. */
  heldBy(tenant: string): number {
    let bytes = 0;
    for (const o of this.objects.values()) if (o.tenant === tenant && o.expires > this.now()) bytes += o.size;
    return bytes;
  }

  /** The bytes uploaded under the object key a PicContent URL names, for the tenant that uploaded them. */
  async uploaded(url: string, tenant: string): Promise<Buffer | undefined> {
    let key: string;
    try {
      key = decodeURIComponent(new URL(url).pathname.replace(/^\/+/, ''));
    } catch {
      return undefined;
    }
    const object = this.objects.get(key);
    if (!object?.file || object.tenant !== tenant || object.expires <= this.now()) return undefined;
    return readFile(object.file).catch(() => undefined);
  }

  /** A signed link to a file in the output directory, valid for `ttlMs`. */
  downloadLink(baseUrl: string, file: string, ttlMs: number): string {
    const expires = Math.floor((this.now() + ttlMs) / 1000);
    return `${baseUrl}${DOWNLOAD_PREFIX}/${encodeURIComponent(file)}?Expires=${expires}&Signature=${encodeURIComponent(this.sign(`${file}\n${expires}`))}`;
  }

  /** Whether a download link's Expires and Signature are ours and current. */
  checkDownload(file: string, expires: string | undefined, signature: string | undefined): boolean {
    if (!expires || !signature || !/^\d+$/.test(expires) || Number(expires) * 1000 <= this.now()) return false;
    return sameText(this.sign(`${file}\n${expires}`), signature);
  }

  /** Forgets expired objects (and the oldest beyond UPLOAD_MAX_OBJECTS); resolves when their files are gone. */
  private prune(): Promise<void> {
    const now = this.now();
    const removed: Array<Promise<void>> = [];
    for (const [k, o] of this.objects) if (o.expires <= now) removed.push(this.drop(k, o));
    // Oldest first: a flood of tickets cannot grow without bound.
    while (this.objects.size >= UPLOAD_MAX_OBJECTS) {
      const [k, o] = this.objects.entries().next().value!;
      removed.push(this.drop(k, o));
    }
    return Promise.all(removed).then(() => undefined);
  }

  private drop(key: string, object: StoredObject): Promise<void> {
    this.objects.delete(key);
    return object.file ? unlink(object.file).catch(() => undefined) : Promise.resolve(); // already gone is fine
  }
}

/** The gateway's emulated OSS paths: every request under it is answered in OSS's XML words. */
export const ALIBABA_PREFIX = '/_alibaba';
/** Where MetaUrl / ErrorUrl files are served. */
export const DOWNLOAD_PREFIX = `${ALIBABA_PREFIX}/files`;

/**
 * A multipart/form-data body parsed the tolerant way the SDK needs: its FileFormStream writes the next
 * delimiter straight after the file bytes (no CRLF) and an extra CRLF before the closing one.
 */
export function parseMultipart(body: Buffer, contentType: string): { fields: Record<string, string>; file?: Buffer } {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!m) throw new OssError(400, 'InvalidArgument', 'The multipart boundary is missing.');
  const delimiter = Buffer.from(`--${m[1] ?? m[2]}`);
  const fields: Record<string, string> = {};
  let file: Buffer | undefined;
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const from = start + delimiter.length;
    const next = body.indexOf(delimiter, from);
    if (next < 0) break;
    let part = body.subarray(from, next);
    if (part[0] === 0x0d && part[1] === 0x0a) part = part.subarray(2);
    const split = part.indexOf('\r\n\r\n');
    if (split >= 0) {
      const headers = part.subarray(0, split).toString('utf8');
      let content = part.subarray(split + 4);
      if (content.length >= 2 && content[content.length - 2] === 0x0d && content[content.length - 1] === 0x0a) content = content.subarray(0, content.length - 2);
      const name = /name="([^"]*)"/i.exec(headers)?.[1];
      if (name === 'file') file = content;
      else if (name !== undefined) fields[name] = content.toString('utf8').trim();
    }
    start = next;
  }
  return { fields, file };
}

export function postResponseXml(bucket: string, location: string, key: string, bytes: Buffer): string {
  const etag = createHash('md5').update(bytes).digest('hex').toUpperCase();
  return `<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse><Bucket>${xml(bucket)}</Bucket><Location>${xml(location)}</Location><Key>${xml(key)}</Key><ETag>"${etag}"</ETag></PostResponse>`;
}

export function ossErrorXml(error: OssError, requestId: string, host: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xml(error.code)}</Code><Message>${xml(error.message)}</Message><RequestId>${requestId}</RequestId><HostId>${xml(host)}</HostId></Error>`;
}

function xml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

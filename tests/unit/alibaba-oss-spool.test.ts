/**
 * The *Advance uploads (OSS PostObject) are spooled to files, not kept in memory, within a per-tenant byte
 * quota refused in OSS's words; they expire, their files go with them, and a restart empties the spool.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UPLOAD_TTL_MS } from '../../adapters/alibaba/limits';
import { OssEmulator, OssError } from '../../adapters/alibaba/oss';

const ADDRESS = { host: '127.0.0.1', port: 8443 };
let dir: string;
let clock: number;

beforeEach(() => {
  dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'isg-oss-')), 'uploads');
  clock = 1_700_000_000_000;
});
afterEach(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

const emulator = (tenantQuotaBytes?: number) => new OssEmulator({ spoolDir: dir, tenantQuotaBytes, now: () => clock });

/** AuthorizeFileUpload then PostObject, as the SDK does; the URL the action then names. */
async function upload(oss: OssEmulator, tenant: string, bytes: Buffer): Promise<string> {
  const t = oss.ticket(tenant, 'cn-shanghai', ADDRESS);
  const key = await oss.accept({ OSSAccessKeyId: t.AccessKeyId, policy: t.EncodedPolicy, Signature: t.Signature, key: t.ObjectKey }, bytes);
  return `https://${t.Bucket}.${t.Endpoint}/${key}`;
}

const spooled = () => readdirSync(dir).map((f) => readFileSync(path.join(dir, f)));

test('an upload lands in a spool file and is read back by its tenant only', async () => {
  const oss = emulator();
  const bytes = Buffer.from('pretend these are JPEG bytes');
  const url = await upload(oss, 'acme', bytes);
  expect(spooled()).toEqual([bytes]);
  expect(await oss.uploaded(url, 'acme')).toEqual(bytes);
  expect(await oss.uploaded(url, 'other')).toBeUndefined();
});

test('past the tenant quota the upload is refused as OSS AccessDenied; other tenants are not affected', async () => {
  const oss = emulator(1000);
  await upload(oss, 'acme', Buffer.alloc(600));
  const refused = await upload(oss, 'acme', Buffer.alloc(600)).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(OssError);
  expect([(refused as OssError).status, (refused as OssError).code]).toEqual([403, 'AccessDenied']);
  await upload(oss, 'other', Buffer.alloc(600));
  expect(oss.heldBy('acme')).toBe(600);
});

test('uploads expire: their files are removed and the quota comes back', async () => {
  const oss = emulator(1000);
  const url = await upload(oss, 'acme', Buffer.alloc(600, 1));
  clock += UPLOAD_TTL_MS + 1;
  expect(await oss.uploaded(url, 'acme')).toBeUndefined();
  expect(oss.heldBy('acme')).toBe(0);
  await upload(oss, 'acme', Buffer.alloc(600, 2)); // removes the expired one's file first
  const files = spooled();
  expect(files).toHaveLength(1);
  expect(files[0][0]).toBe(2);
});

test('a new process starts with an empty spool (older uploads were signed with another secret)', async () => {
  emulator();
  writeFileSync(path.join(dir, 'left-over'), 'x');
  emulator();
  expect(readdirSync(dir)).toEqual([]);
});

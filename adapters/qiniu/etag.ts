/**
 * Qiniu's etag (qetag) of an image given inline: SHA-1 in 4 MiB blocks. One block: 0x16 + SHA1(data);
 * more: 0x96 + SHA1(SHA1(block1) + SHA1(block2) + ...); URL-safe Base64 of the 21 bytes.
 */
import { createHash } from 'node:crypto';

const BLOCK = 4 * 1024 * 1024;

const sha1 = (data: Buffer) => createHash('sha1').update(data).digest();

export function qetag(data: Buffer): string {
  let tagged: Buffer;
  if (data.length <= BLOCK) {
    tagged = Buffer.concat([Buffer.from([0x16]), sha1(data)]);
  } else {
    const digests: Buffer[] = [];
    for (let at = 0; at < data.length; at += BLOCK) digests.push(sha1(data.subarray(at, at + BLOCK)));
    tagged = Buffer.concat([Buffer.from([0x96]), sha1(Buffer.concat(digests))]);
  }
  return tagged.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

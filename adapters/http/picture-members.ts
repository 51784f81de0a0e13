/**
 * The picture members of a JSON body (`image_base64`, `file`, `uri`: each adapter's images.pictureFields), decoded from the
 * raw body before the handler runs (core/image/predecoded.ts), found without parsing the JSON.
 */
import type { Request, Response } from 'express';
import { isDataUri } from '../../core/image';
import { decodeBase64InSlices, registerPredecoded, releasePredecoded } from '../../core/image/predecoded';
import { longLiterals } from './json-text';

/**
 * Decodes the pictures of a JSON body (long string literals of the API's picture members) before the
 * handler runs, a MiB per turn of the event loop, and records the stand-ins parseJsonBody puts in their
 * place (core/image/predecoded.ts): no 22 MB string is ever made of a 16 MB picture, and the base64 is
 * read once, straight from the body. A `data:…;base64,` literal keeps its header in front of the stand-in.
 * What is not clean base64 is left as it is, for the ordinary path to refuse in the vendor's words.
 */
export async function predecodePictures(req: Request, res: Response, pictureFields: ReadonlySet<string>): Promise<void> {
  const raw = req.rawBody!;
  const literals = longLiterals(raw);
  if (!literals) return;
  const standIns = new Map<number, string>();
  for (const [start, end] of literals) {
    const member = memberName(raw, start - 1);
    if (member === undefined || !pictureFields.has(member)) continue;
    const head = raw.toString('latin1', start, start + 1024);
    const header = isDataUri(head) && head.includes(',') ? head.slice(0, head.indexOf(',') + 1) : '';
    const bytes = await decodeBase64InSlices(raw, start + header.length, end);
    if (!bytes) continue;
    const standIn = registerPredecoded(bytes);
    res.once('close', () => releasePredecoded(standIn));
    standIns.set(start, header + standIn);
  }
  if (standIns.size > 0) req.jsonStandIns = standIns;
}

/**
 * The name of the object member whose value is the string literal opening at `quote`, read backwards
 * (`"name" : "`); undefined for an array element or anything unusual.
 */
function memberName(raw: Buffer, quote: number): string | undefined {
  let at = quote - 1;
  const skipSpace = () => {
    while (at >= 0 && (raw[at] === 0x20 || raw[at] === 0x0a || raw[at] === 0x0d || raw[at] === 0x09)) at--;
  };
  skipSpace();
  if (raw[at] !== 0x3a /* : */) return undefined;
  at--;
  skipSpace();
  if (raw[at] !== 0x22) return undefined;
  const end = at;
  const start = raw.lastIndexOf(0x22, end - 1);
  const escaped = raw[start - 1] === 0x5c || raw.subarray(start, end).includes(0x5c); // a name with escapes: not ours
  if (start < 1 || end - start > 64 || escaped) return undefined;
  return raw.toString('latin1', start + 1, end);
}

/**
 * Reads the whole request body as bytes, before any parsing: signatures are computed over the raw bytes,
 * bodies arrive chunked, and some vendors send a body on DELETE. Over the limit → BodyTooLargeError,
 * which each adapter answers in its vendor's shape.
 */
import type { NextFunction, Request, Response } from 'express';
import { decodeBase64InSlices, registerPredecoded, releasePredecoded } from '../../core/image/predecoded';
import { longLiterals, parseJsonText } from './json-text';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body is larger than ${limit} bytes`);
  }
}

export class BodyAbortedError extends Error {
  constructor() {
    super('request body was not received in full');
  }
}

declare module 'express-serve-static-core' {
  interface Request {
    /** The body exactly as received (empty when none). */
    rawBody?: Buffer;
    /** Stand-ins of the pictures decoded ahead (predecodePictures), by literal offset in rawBody. */
    jsonStandIns?: Map<number, string>;
  }
}

/** Bodies declared at least this long are gathered into one buffer allocated up front. */
const PREALLOCATE_FROM = 256 * 1024;

/**
 * `pictureFields`: the JSON members of this API that carry a picture as base64 or a base64 data URI
 * (operator `image_base64`, Huawei `file`, Qiniu `uri`); their values are decoded ahead (predecodePictures).
 */
export function rawBody(limit: number, pictureFields?: ReadonlySet<string>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.rawBody) return next();
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      return next(new BodyTooLargeError(limit));
    }
    // A large body of declared length is copied into one buffer as it arrives: joining 16 MB of chunks at
    // the end took tens of milliseconds of the event loop in one piece.
    const whole = Number.isFinite(declared) && declared >= PREALLOCATE_FROM ? Buffer.allocUnsafe(declared) : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      if (size + chunk.length > limit || (whole && size + chunk.length > whole.length)) {
        failed = true;
        chunks.length = 0;
        next(new BodyTooLargeError(limit));
        return;
      }
      if (whole) chunk.copy(whole, size);
      else chunks.push(chunk);
      size += chunk.length;
    });
    req.on('end', () => {
      if (failed) return;
      req.rawBody = whole ? whole.subarray(0, size) : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      (pictureFields ? predecodePictures(req, res, pictureFields) : Promise.resolve()).then(
        () => bodyTurns.admit(size, next),
        (e: unknown) => next(e),
      );
    });
    req.on('aborted', () => {
      if (!failed) {
        failed = true;
        next(new BodyAbortedError());
      }
    });
  };
}

/**
 * Hands complete bodies to their handlers a few at a time, one batch per turn of the event loop. When a
 * crowd of requests finishes arriving in the same turn (1,000 concurrent searches), starting all their
 * handlers at once (parse, validate, check the image) held the loop for most of a second, and requests
 * that need no body — health checks above all — waited behind them. Between two batches the loop polls
 * the sockets again. A batch is at most BATCH_REQUESTS bodies or BATCH_BYTES of them (at least one).
 */
class BodyTurns {
  private readonly queue: Array<{ size: number; start: () => void }> = [];
  private scheduled = false;

  constructor(
    private readonly batchRequests: number,
    private readonly batchBytes: number,
  ) {}

  admit(size: number, start: () => void): void {
    this.queue.push({ size, start });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.runBatch);
    }
  }

  private readonly runBatch = (): void => {
    let bytes = 0;
    for (let n = 0; n < this.batchRequests && this.queue.length > 0; n++) {
      if (n > 0 && bytes + this.queue[0].size > this.batchBytes) break;
      const { size, start } = this.queue.shift()!;
      bytes += size;
      start();
    }
    if (this.queue.length > 0) setImmediate(this.runBatch);
    else this.scheduled = false;
  };
}

const bodyTurns = new BodyTurns(8, 4 * 1024 * 1024);

const DATA_URI_START = /^\s*data:/i;

/**
 * Decodes the pictures of a JSON body (long string literals of the API's picture members) before the
 * handler runs, a MiB per turn of the event loop, and records the stand-ins parseJsonBody puts in their
 * place (core/image/predecoded.ts): no 22 MB string is ever made of a 16 MB picture, and the base64 is
 * read once, straight from the body. A `data:…;base64,` literal keeps its header in front of the stand-in.
 * What is not clean base64 is left as it is, for the ordinary path to refuse in the vendor's words.
 */
async function predecodePictures(req: Request, res: Response, pictureFields: ReadonlySet<string>): Promise<void> {
  const raw = req.rawBody!;
  const literals = longLiterals(raw);
  if (!literals) return;
  const standIns = new Map<number, string>();
  for (const [start, end] of literals) {
    const member = memberName(raw, start - 1);
    if (member === undefined || !pictureFields.has(member)) continue;
    const head = raw.toString('latin1', start, start + 1024);
    const header = DATA_URI_START.test(head) && head.includes(',') ? head.slice(0, head.indexOf(',') + 1) : '';
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

/** Parses req.rawBody as JSON; undefined for an empty body; throws SyntaxError for bad JSON. */
export function parseJsonBody(req: Request): unknown {
  const raw = req.rawBody;
  if (!raw || raw.length === 0) return undefined;
  const value: unknown = parseJsonText(raw, req.jsonStandIns);
  assertJsonDepth(value);
  return value;
}

/** No request of any vendor nests deeper; deeper documents only exhaust recursive validators. */
export const MAX_JSON_DEPTH = 64;

/**
 * Refuses a parsed body nested deeper than MAX_JSON_DEPTH as a SyntaxError, which every adapter answers
 * with its "invalid JSON" error. Iterative, so the check itself cannot overflow the stack.
 */
export function assertJsonDepth(value: unknown): void {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > MAX_JSON_DEPTH) throw new SyntaxError(`The request body is nested more than ${MAX_JSON_DEPTH} levels deep.`);
    for (const child of Object.values(node)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
}

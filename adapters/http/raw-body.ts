/**
 * Reads the whole request body as bytes, before any parsing: signatures are computed over the raw bytes,
 * bodies arrive chunked, and some vendors send a body on DELETE. Over the limit → BodyTooLargeError,
 * which each adapter answers in its vendor's shape.
 */
import type { NextFunction, Request, Response } from 'express';
import { bodyTurns } from './body-turns';
import { parseJsonText } from './json-text';
import { predecodePictures } from './picture-members';

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
 * (each adapter's images.pictureFields: `image_base64`, `file`, `uri`); their values are decoded ahead (predecodePictures).
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
      bodyTurns.admit(size, () => {
        if (!pictureFields) return next();
        predecodePictures(req, res, pictureFields).then(() => next(), next);
      });
    });
    req.on('aborted', () => {
      if (!failed) {
        failed = true;
        next(new BodyAbortedError());
      }
    });
  };
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

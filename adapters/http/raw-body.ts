/**
 * Reads the whole request body as bytes, before any parsing: signatures are computed over the raw bytes,
 * bodies arrive chunked, and some vendors send a body on DELETE. Over the limit → BodyTooLargeError,
 * which each adapter answers in its vendor's shape.
 */
import type { NextFunction, Request, Response } from 'express';
import { parseJsonText } from './json-text';

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
  }
}

export function rawBody(limit: number) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (req.rawBody) return next();
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      return next(new BodyTooLargeError(limit));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        next(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (failed) return;
      req.rawBody = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      next();
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
  const value: unknown = parseJsonText(raw);
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

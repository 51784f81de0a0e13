/**
 * Small helpers the vendors' migration hooks (adapters/<vendor>/migration.ts) share: reading a JSON answer
 * that may not be one, the engine error for an upstream failure, and the key separator of hits.
 */
import type { Request } from 'express';
import { UnavailableError } from '../../core/errors';
import { BodyTooLargeError } from '../http/raw-body';
import type { UpstreamFailure } from '../vendor';

/** Joins the parts of a hit's key (a character no vendor key holds). */
export const SEP = '\u001f';

/** A body parsed as JSON; undefined when empty or not JSON. */
export function jsonOf(body: Buffer | undefined): any {
  if (!body || body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The error the vendor's own table turns into its answer for an upstream failure. */
export function failureError(_req: Request, failure: UpstreamFailure, limit: number): Error {
  if (failure === 'too_large') return new BodyTooLargeError(limit);
  return new UnavailableError(failure === 'timeout' ? 'the upstream did not answer in time' : 'the upstream cannot be reached');
}

/** A path segment decoded, or as it is when it is not valid percent-encoding. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function numeric(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}

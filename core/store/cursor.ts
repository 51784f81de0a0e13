/**
 * List cursors, one format for every store: base64url of a one-letter tag (which store wrote it) and a
 * position, opaque to clients. A cursor from another store, or forged, is refused as invalid.
 */
import { InvalidArgumentError } from '../errors';

function encode(tag: string, position: string | number): string {
  return Buffer.from(`${tag}${position}`, 'utf8').toString('base64url');
}

function decode(cursor: string, tag: string, position: RegExp): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const rest = text.startsWith(tag) ? text.slice(tag.length) : undefined;
  if (rest === undefined || !position.test(rest)) throw new InvalidArgumentError('cursor', 'invalid cursor');
  return rest;
}

/** The embedded store's: the image key after which the next page starts (keys only grow). */
export function encodeKeyCursor(afterKey: number): string {
  return encode('k', afterKey);
}

export function decodeKeyCursor(cursor: string): number {
  return Number(decode(cursor, 'k', /^\d{1,16}$/));
}

/** Qdrant's: the id of the first point of the next page (scroll order is point-id order). */
export function encodePointCursor(id: string | number): string {
  return encode('q', id);
}

export function decodePointCursor(cursor: string): string {
  return decode(cursor, 'q', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
}

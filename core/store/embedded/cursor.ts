/** Opaque list cursors: the image key after which the next page starts (keys only grow). */
import { InvalidArgumentError } from '../../errors';

export function encodeCursor(afterKey: number): string {
  return Buffer.from(`k${afterKey}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^k(\d{1,16})$/.exec(text);
  if (!match) throw new InvalidArgumentError('cursor', 'invalid cursor');
  return Number(match[1]);
}

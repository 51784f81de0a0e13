/**
 * JSON.parse for request bodies that carry a picture as one long Base64 string (180 KB for a typical photo,
 * megabytes for a large one). Decoding the whole body to a UTF-8 string and scanning it character by
 * character was a third of the main thread's time per image at ingest. Here the long string literals are
 * found with memchr (Buffer#indexOf), copied out as one-byte strings (a memcpy), and only the small rest of
 * the document goes through JSON.parse. The result is exactly what JSON.parse(body) gives, errors included:
 * any literal that is not plain ASCII without escapes or control characters leaves the body to JSON.parse.
 */
import { isAscii } from 'node:buffer';

/** String literals at least this long (in bytes) are lifted out of the text before parsing. */
const LONG_LITERAL = 4096;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const CONTROL = /[\u0000-\u001f]/;
const COLON = 0x3a;
/** Stands in for the i-th long literal: NUL followed by i. Bodies that spell `\u0000` anywhere are parsed whole. */
const placeholder = (i: number) => `\u0000${i}`;

/**
 * `standIns`: values to put in place of some long literals, by the offset where their contents start
 * (a decoded picture's stand-in, core/image/predecoded.ts); they must be base64 the caller checked.
 */
export function parseJsonText(raw: Buffer, standIns?: ReadonlyMap<number, string>): unknown {
  const long = longLiterals(raw);
  if (long === undefined) return JSON.parse(raw.toString('utf8'));
  const values: string[] = [];
  let rest = '';
  let from = 0;
  for (const [start, end] of long) {
    const value = standIns?.get(start) ?? raw.toString('latin1', start, end);
    if (!standIns?.has(start) && CONTROL.test(value)) return JSON.parse(raw.toString('utf8')); // invalid JSON: let JSON.parse say so
    rest += `${raw.toString('utf8', from, start)}\\u0000${values.length}`;
    values.push(value);
    from = end;
  }
  rest += raw.toString('utf8', from);
  return restore(JSON.parse(rest), values);
}

/**
 * [start, end) of the contents of every string literal of LONG_LITERAL bytes or more, when there is one
 * and each is plain ASCII without a backslash; undefined otherwise (the caller parses the whole text).
 * Quotes alternate open/close in valid JSON, except an escaped one inside a literal.
 */
export function longLiterals(raw: Buffer, minLength = LONG_LITERAL): Array<[number, number]> | undefined {
  if (raw.length < minLength || raw.includes('\\u0000')) return undefined;
  const found: Array<[number, number]> = [];
  let at = raw.indexOf(QUOTE);
  while (at !== -1) {
    const start = at + 1;
    let end = raw.indexOf(QUOTE, start);
    while (end !== -1 && escaped(raw, end)) end = raw.indexOf(QUOTE, end + 1);
    if (end === -1) return undefined; // unterminated: invalid JSON
    if (end - start >= minLength) {
      const backslash = raw.indexOf(BACKSLASH, start);
      if ((backslash !== -1 && backslash < end) || !isAscii(raw.subarray(start, end))) return undefined;
      if (nextToken(raw, end + 1) === COLON) return undefined; // a key, not a value
      found.push([start, end]);
    }
    at = raw.indexOf(QUOTE, end + 1);
  }
  return found.length > 0 ? found : undefined;
}

/** True when the quote at `at` is preceded by an odd number of backslashes. */
function escaped(raw: Buffer, at: number): boolean {
  let n = 0;
  while (at - 1 - n >= 0 && raw[at - 1 - n] === BACKSLASH) n++;
  return n % 2 === 1;
}

/** The first byte at or after `at` that is not JSON whitespace (-1 at the end). */
function nextToken(raw: Buffer, at: number): number {
  while (at < raw.length && (raw[at] === 0x20 || raw[at] === 0x0a || raw[at] === 0x0d || raw[at] === 0x09)) at++;
  return at < raw.length ? raw[at] : -1;
}

/** Puts the long literals back where their placeholders landed in the parsed value. */
function restore(value: unknown, values: string[]): unknown {
  const swap = (v: unknown): unknown => {
    if (typeof v === 'string' && v.charCodeAt(0) === 0) {
      const i = Number(v.slice(1));
      if (v === placeholder(i) && i < values.length) return values[i];
    }
    return v;
  };
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    const target = node as Record<string, unknown>;
    for (const key of Object.keys(target)) {
      const child = target[key];
      // defineProperty, not assignment: an own "__proto__" key must not reach the prototype setter.
      if (typeof child === 'string' && child.charCodeAt(0) === 0) Object.defineProperty(target, key, { value: swap(child), writable: true, enumerable: true, configurable: true });
      else if (child !== null && typeof child === 'object') stack.push(child);
    }
  }
  return swap(value);
}

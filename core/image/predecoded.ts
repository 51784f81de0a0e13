/**
 * Base64 payloads of a request body decoded before its handler runs, a slice per turn of the event loop.
 * A 16 MB picture in a JSON body is a 22 MB string: copying it out of the body and decoding it took
 * 40–70 ms of the event loop in one piece, during which no other request was answered. The HTTP layer
 * decodes a picture member straight from the body in 1 MiB slices instead (adapters/http/raw-body.ts),
 * registers the bytes here under a short stand-in string
 * and puts the stand-in in the parsed body where the literal was; decodeBase64Strict (source.ts), the one
 * place image text becomes bytes, returns the registered bytes for it. Stand-ins start with NUL, which no
 * JSON text carries unescaped, and are released when the request ends.
 */
const SLICE = 1 << 20; // characters per turn of the event loop, a multiple of PIECE
/**
 * Characters per string handed to the decoder, a multiple of 4. A string past V8's regular object size
 * (128 KiB) is allocated on a page of its own and freed by a full GC: decoding a 180 KB photo through one
 * string cost 0.3 ms of CPU, through 16 Ki-character pieces in the young generation 0.05 ms (measured).
 */
export const PIECE = 1 << 14;

const registered = new Map<string, Buffer>();
let counter = 0;

/** The bytes registered under `text`, when it is a stand-in. */
export function predecodedBytes(text: string): Buffer | undefined {
  return text.charCodeAt(0) === 0 ? registered.get(text) : undefined;
}

/** Registers decoded bytes; returns their stand-in. Release it when the request ends. */
export function registerPredecoded(bytes: Buffer): string {
  const standIn = `\u0000predecoded:${++counter}`;
  registered.set(standIn, bytes);
  return standIn;
}

export function releasePredecoded(standIn: string): void {
  registered.delete(standIn);
}

/**
 * Decodes raw[start, end) as strict base64 (either alphabet, padding optional but correct, no whitespace)
 * in slices, yielding to the event loop between them. Undefined when the text is not clean base64: the
 * caller then leaves it to the ordinary path, which reports what is wrong.
 */
export async function decodeBase64InSlices(raw: Buffer, start: number, end: number): Promise<Buffer | undefined> {
  let padding = 0;
  while (padding < 3 && end - 1 - padding >= start && raw[end - 1 - padding] === 0x3d /* = */) padding++;
  const length = end - start;
  if (padding > 2 || (padding > 0 && length % 4 !== 0)) return undefined;
  const significant = length - padding;
  if (significant % 4 === 1) return undefined;
  const out = Buffer.allocUnsafe(Math.floor((significant * 3) / 4));
  let written = 0;
  for (let at = start; at < end; at += PIECE) {
    const pieceEnd = Math.min(end, at + PIECE);
    const expected = pieceEnd === end ? out.length - written : ((pieceEnd - at) / 4) * 3;
    // Node's decoder skips characters outside the alphabet: a short count means the text was not clean.
    if (out.write(raw.toString('latin1', at, pieceEnd), written, 'base64') !== expected) return undefined;
    written += expected;
    if (pieceEnd < end && (pieceEnd - start) % SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return out;
}

/** How many stand-ins are registered now (all released once their requests have ended). */
export function predecodedCount(): number {
  return registered.size;
}

/** parseJsonText gives exactly what JSON.parse gives — values, key order, own "__proto__", errors — faster. */
import { parseJsonText } from '../../adapters/http/json-text';
import { prng } from '../../core/prng';

const big = (n: number, c = 'A') => c.repeat(n);

/** Same outcome as JSON.parse(text): the same value (deep, with key order), or a SyntaxError. */
function expectSameAsJsonParse(text: string): void {
  let expected: unknown;
  let expectedError: unknown;
  try {
    expected = JSON.parse(text);
  } catch (e) {
    expectedError = e;
  }
  if (expectedError) {
    expect(() => parseJsonText(Buffer.from(text))).toThrow(SyntaxError);
    return;
  }
  const got = parseJsonText(Buffer.from(text));
  expect(got).toStrictEqual(expected);
  expect(JSON.stringify(got)).toBe(JSON.stringify(expected));
}

describe('parseJsonText', () => {
  test.each([
    ['an operator image/add body', JSON.stringify({ library_name: 'l', image_id: 'a', image_base64: big(200_000), tags: { k: 1 } })],
    ['two long values and an array of them', JSON.stringify({ a: big(5000), b: [big(6000, 'x'), 'short', big(4096, 'y')], c: null })],
    ['a long string at the top level', JSON.stringify(big(9000))],
    ['a long key', `{"${big(5000)}": 1, "k": "${big(5000)}"}`],
    ['a long value under an own "__proto__" key', `{"__proto__": "${big(5000)}", "x": {"__proto__": "${big(5000, 'q')}"}}`],
    ['escaped quotes and backslashes around long values', `{"a\\\\": "${big(5000)}", "b": "x\\"y", "c": "${big(4000)}\\\\", "d": "\\\\\\"${big(5000)}"}`],
    ['a long value with escapes, non-ASCII and an emoji', JSON.stringify({ a: `${big(5000)}\n"é😀`, b: `${big(5000)}é` })],
    ['a body that spells the placeholder itself', `{"a": "\\u00000", "b": "${big(5000)}"}`],
    ['whitespace everywhere', ` \n{ "a" :\t"${big(5000)}" , "b" : [ "${big(5000)}" ] }\r\n`],
  ])('%s', (_name, text) => expectSameAsJsonParse(text));

  test.each([
    ['unterminated long string', `{"a": "${big(5000)}`],
    ['a raw control character inside a long string', `{"a": "${big(3000)}\t${big(3000)}"}`],
    ['trailing garbage after a long value', `{"a": "${big(5000)}"} x`],
    ['a missing comma between long values', `{"a": "${big(5000)}" "b": "${big(5000)}"}`],
    ['bad escape in the short part', `{"a": "${big(5000)}", "b": "\\x"}`],
  ])('refuses as JSON.parse does: %s', (_name, text) => expectSameAsJsonParse(text));

  test('random documents of long and short strings, nested, some broken, agree with JSON.parse', () => {
    const rand = prng(20261205);
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    const value = (depth: number): unknown => {
      const r = rand();
      if (depth > 3 || r < 0.3) return pick([big(4096 + Math.floor(rand() * 3000), pick(['A', 'b', '/', '+'])), 'x', 'a"b', `é${big(4100)}`, 12, null, true]);
      if (r < 0.6) return Array.from({ length: 1 + Math.floor(rand() * 3) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: 1 + Math.floor(rand() * 3) }, (_, i) => [pick(['k', '__proto__', `k${i}`, big(4200)]), value(depth + 1)]));
    };
    for (let i = 0; i < 200; i++) {
      let text = JSON.stringify(value(0));
      if (rand() < 0.2) {
        const at = Math.floor(rand() * text.length);
        text = text.slice(0, at) + pick(['"', '\\', '', '\u0001', '}']) + text.slice(at + 1);
      }
      expectSameAsJsonParse(text);
    }
  });
});

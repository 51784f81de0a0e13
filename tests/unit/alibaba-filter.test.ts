/** The Alibaba Filter language: the vendor's own examples, the operators, precedence, and refusals. */
import { AlibabaError } from '../../adapters/alibaba/errors';
import { parseFilter } from '../../adapters/alibaba/filter';
import { MAX_FILTER_LENGTH } from '../../adapters/alibaba/limits';
import { f, matches } from '../../core/filter';
import { fixture } from '../helpers/fixtures';

const examples: string[] = fixture('alibaba', 'filter-examples').examples;

function code(text: string): string {
  try {
    parseFilter(text);
  } catch (e) {
    if (e instanceof AlibabaError) return e.code;
    throw e;
  }
  return 'accepted';
}

test('the vendor page’s examples parse to what they say', () => {
  expect(examples).toEqual(['int_attr>=100', 'str_attr!="value1"', 'int_attr=1000 AND str_attr="value1"']);
  expect(parseFilter(examples[0])).toEqual(f.cmp('int_attr', '>=', 100));
  expect(parseFilter(examples[1])).toEqual(f.cmp('str_attr', '!=', 'value1'));
  expect(parseFilter(examples[2])).toEqual(f.and(f.cmp('int_attr', '=', 1000), f.cmp('str_attr', '=', 'value1')));
});

test('AND binds tighter than OR; parentheses group; keywords are case-insensitive', () => {
  const filter = parseFilter('int_attr=1 or int_attr2=2 AND str_attr="a"');
  expect(filter).toEqual(f.or(f.cmp('int_attr', '=', 1), f.and(f.cmp('int_attr2', '=', 2), f.cmp('str_attr', '=', 'a'))));
  expect(matches(parseFilter('(int_attr=1 OR int_attr=2) AND str_attr4="x y"'), { int_attr: 2, str_attr4: 'x y' })).toBe(true);
  expect(matches(parseFilter('(int_attr=1 OR int_attr=2) AND str_attr4="x y"'), { int_attr: 3, str_attr4: 'x y' })).toBe(false);
});

test('in / not in, negative numbers, quotes and escapes', () => {
  expect(parseFilter('int_attr3 in (1, -2, 3)')).toEqual(f.in('int_attr3', [1, -2, 3]));
  expect(parseFilter(`str_attr not in ('a', "b\\"c")`)).toEqual(f.not(f.in('str_attr', ['a', 'b"c'])));
  expect(parseFilter('str_attr2="a AND b"')).toEqual(f.cmp('str_attr2', '=', 'a AND b'));
});

test.each([
  ['unknown field', 'price>1'],
  ['string compared with >', 'str_attr>"a"'],
  ['int compared with a string', 'int_attr="1"'],
  ['unquoted string', 'str_attr=abc'],
  ['unclosed quote', 'str_attr="abc'],
  ['dangling AND', 'int_attr=1 AND'],
  ['unclosed parenthesis', '(int_attr=1'],
  ['empty', '   '],
  ['beyond int32', 'int_attr=2147483648'],
  ['too long', `str_attr="${'x'.repeat(MAX_FILTER_LENGTH)}"`],
  ['nested too deep', `${'('.repeat(40)}int_attr=1${')'.repeat(40)}`],
])('%s → InvalidFilterClause', (_why, text) => {
  expect(code(text)).toBe('InvalidFilterClause');
});

import { compareTag, f, filterFields, matches } from '../../core/filter';

describe('filter AST evaluation', () => {
  const shirt = { color: 'red', season: 'summer', price: 80, size: '42', sale: true };

  test('comparisons on strings and numbers', () => {
    expect(matches(f.cmp('color', '=', 'red'), shirt)).toBe(true);
    expect(matches(f.cmp('color', '=', 'blue'), shirt)).toBe(false);
    expect(matches(f.cmp('price', '>=', 80), shirt)).toBe(true);
    expect(matches(f.cmp('price', '>', 80), shirt)).toBe(false);
    expect(matches(f.cmp('price', '<', 100), shirt)).toBe(true);
    expect(matches(f.cmp('price', '<=', 79.5), shirt)).toBe(false);
    expect(matches(f.cmp('color', '<', 's'), shirt)).toBe(true); // code-point order
  });

  test('numeric strings compare numerically with numbers, both ways', () => {
    expect(matches(f.cmp('size', '>', 9), shirt)).toBe(true); // "42" > 9 numerically, not "42" < "9"
    expect(matches(f.cmp('price', '=', '80'), shirt)).toBe(true);
    expect(matches(f.cmp('color', '>', 1), shirt)).toBe(false); // "red" is not a number: not ordered
    expect(compareTag('abc', 3)).toBeUndefined();
  });

  test('booleans match only by equality', () => {
    expect(matches(f.cmp('sale', '=', true), shirt)).toBe(true);
    expect(matches(f.cmp('sale', '!=', false), shirt)).toBe(true);
    expect(matches(f.cmp('sale', '>', false), shirt)).toBe(false);
    expect(matches(f.in('sale', [true]), shirt)).toBe(true);
  });

  test('a missing field fails positive conditions and passes their negations', () => {
    expect(matches(f.cmp('brand', '=', 'x'), shirt)).toBe(false);
    expect(matches(f.cmp('brand', '!=', 'x'), shirt)).toBe(true);
    expect(matches(f.cmp('brand', '<', 'x'), shirt)).toBe(false);
    expect(matches(f.in('brand', ['x']), shirt)).toBe(false);
    expect(matches(f.not(f.in('brand', ['x'])), shirt)).toBe(true);
    expect(matches(f.contains('brand', 'x'), shirt)).toBe(false);
    expect(matches(f.not(f.contains('brand', 'x')), shirt)).toBe(true);
  });

  test('in, contains, and/or/not, empty combinations', () => {
    expect(matches(f.in('color', ['blue', 'red']), shirt)).toBe(true);
    expect(matches(f.in('price', [79, '80']), shirt)).toBe(true);
    expect(matches(f.contains('season', 'umm'), shirt)).toBe(true);
    expect(matches(f.contains('price', '8'), shirt)).toBe(true); // numbers contain as their decimal text
    expect(matches(f.and(f.cmp('color', '=', 'red'), f.cmp('season', '=', 'winter')), shirt)).toBe(false);
    expect(matches(f.or(f.cmp('color', '=', 'blue'), f.cmp('season', '=', 'summer')), shirt)).toBe(true);
    expect(matches(f.and(), shirt)).toBe(true);
    expect(matches(f.or(), shirt)).toBe(false);
  });

  test('filterFields lists every field read', () => {
    const filter = f.and(f.cmp('a', '=', 1), f.or(f.in('b', [1]), f.not(f.contains('c', 'x'))));
    expect([...filterFields(filter)].sort()).toEqual(['a', 'b', 'c']);
  });
});

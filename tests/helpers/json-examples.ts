/** Comparing answers with documented JSON examples by shape, where the values are the example's own. */

/** The shape of a JSON value: keys and JSON types, recursively (arrays by their first element). */
export function shapeOf(value: unknown): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? [] : [shapeOf(value[0])];
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, shapeOf(v)]).sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1)));
  }
  return typeof value;
}

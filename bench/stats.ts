/** The one percentile of the benchmarks: the value at rank floor(q·n) of the sorted values (q in [0, 1]). */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** The middle value (for an even count, the upper of the two middle ones). */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

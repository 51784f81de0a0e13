/** The migration layer's pure parts: mode resolution, overlap@k, score deltas, and the Prometheus gauges. */
import { Registry } from 'prom-client';
import { AgreementStats, overlapAtK, scoreDeltas } from '../../adapters/migration/agreement';
import { OVERLAP_K_MAX } from '../../adapters/migration/limits';
import { registerMigrationMetrics } from '../../adapters/migration/metrics';
import { modeOf, uniformMode } from '../../adapters/migration/modes';

const hits = (...keys: string[]) => keys.map((key, i) => ({ key, score: 1 - i / 10 }));

test('a library takes its own mode, else the vendor default; several libraries take the least migrated', () => {
  const config = { upstream: 'http://vendor', mode: 'upstream' as const, libraries: { a: 'local' as const, b: 'shadow' as const } };
  expect(modeOf(config, ['a'])).toBe('local');
  expect(modeOf(config, ['b'])).toBe('shadow');
  expect(modeOf(config, ['c'])).toBe('upstream');
  expect(modeOf(config, [])).toBe('upstream');
  expect(modeOf(config, ['a', 'b'])).toBe('shadow');
  expect(modeOf(config, ['a', 'c'])).toBe('upstream');
  expect(modeOf({}, ['x'])).toBe('local');
  expect(uniformMode(config)).toBeUndefined();
  expect(uniformMode({ mode: 'shadow', libraries: { a: 'shadow' } })).toBe('shadow');
});

test('overlap@k counts the upstream top-k found in the local top-k; k follows the upstream answer', () => {
  expect(overlapAtK(hits('a', 'b', 'c', 'd'), hits('a', 'x', 'c', 'b'))).toBe(3 / 4);
  expect(overlapAtK(hits('a', 'b'), hits('b', 'a', 'c'))).toBe(1);
  expect(overlapAtK(hits(), hits())).toBe(1);
  expect(overlapAtK(hits(), hits('a'))).toBe(0);
  const many = Array.from({ length: OVERLAP_K_MAX + 5 }, (_, i) => `k${i}`);
  // Beyond k the lists are not compared.
  expect(overlapAtK(hits(...many), hits(...many.slice(0, OVERLAP_K_MAX), 'other'))).toBe(1);
  expect(scoreDeltas([{ key: 'a', score: 0.9 }, { key: 'b', score: 0.5 }], [{ key: 'a', score: 0.7 }])).toEqual([expect.closeTo(0.2, 10)]);
});

test('the figures appear as gauges on the registry they are registered with', async () => {
  const stats = new AgreementStats();
  stats.upstreamAnswered('qiniu', ['shop'], 'shadow', 200, 12);
  stats.searchCompared('qiniu', ['shop'], hits('a', 'b'), hits('a', 'c'), 3);
  stats.writeReplayed('qiniu', ['shop'], false, 4);
  const registry = new Registry();
  registerMigrationMetrics(registry, stats);
  const text = await registry.metrics();
  expect(text).toContain('isg_migration_upstream_requests{vendor="qiniu",library="shop",mode="shadow",status="200"} 1');
  expect(text).toContain('isg_migration_overlap_at_k{vendor="qiniu",library="shop"} 0.5');
  expect(text).toContain('isg_migration_writes{vendor="qiniu",library="shop",outcome="disagreed"} 1');
  expect(text).toContain('isg_migration_latency_ms{vendor="qiniu",library="shop",side="local",quantile="0.5"} 3');
});

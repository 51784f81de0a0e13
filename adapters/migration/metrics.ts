/**
 * The agreement figures as Prometheus gauges on a registry the caller owns (the gateway's metrics registry,
 * adapters/control/metrics.ts), read from the stats at scrape time:
 *   isg_migration_upstream_requests{vendor,library,mode,status}   calls forwarded, by upstream status
 *   isg_migration_upstream_failures{vendor,library,mode}          timeouts and unreachable upstreams
 *   isg_migration_searches_compared{vendor,library}               shadow searches compared
 *   isg_migration_overlap_at_k{vendor,library}                    mean overlap@k of those searches
 *   isg_migration_score_delta{vendor,library}                     mean |upstream score - local score|
 *   isg_migration_writes{vendor,library,outcome}                  shadow writes replayed: agreed | disagreed
 *   isg_migration_latency_ms{vendor,library,side,quantile}        p50/p95 of upstream and local answers
 */
import { Gauge, type Registry } from 'prom-client';
import type { AgreementStats } from './agreement';

export function registerMigrationMetrics(registry: Registry, stats: AgreementStats): void {
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (g: Gauge<L>) => void) =>
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        fill(this);
      },
    });
  gauge('isg_migration_upstream_requests', 'Calls forwarded to the vendor endpoint, by its HTTP status', ['vendor', 'library', 'mode', 'status'], (g) => {
    for (const f of stats.figures()) for (const [status, n] of Object.entries(f.upstream.byStatus)) g.set({ vendor: f.vendor, library: f.library, mode: f.mode, status }, n);
  });
  gauge('isg_migration_upstream_failures', 'Forwarded calls the vendor endpoint did not answer (timeout, unreachable)', ['vendor', 'library', 'mode'], (g) => {
    for (const f of stats.figures()) g.set({ vendor: f.vendor, library: f.library, mode: f.mode }, f.upstream.failures);
  });
  gauge('isg_migration_searches_compared', 'Shadow searches whose local answer was compared with the vendor answer', ['vendor', 'library'], (g) => {
    for (const f of stats.figures()) g.set({ vendor: f.vendor, library: f.library }, f.searches.compared);
  });
  gauge('isg_migration_overlap_at_k', 'Mean overlap@k of local and vendor search results', ['vendor', 'library'], (g) => {
    for (const f of stats.figures()) if (f.searches.meanOverlapAtK !== null) g.set({ vendor: f.vendor, library: f.library }, f.searches.meanOverlapAtK);
  });
  gauge('isg_migration_score_delta', 'Mean absolute score difference of results both answers hold', ['vendor', 'library'], (g) => {
    for (const f of stats.figures()) if (f.searches.meanScoreDelta !== null) g.set({ vendor: f.vendor, library: f.library }, f.searches.meanScoreDelta);
  });
  gauge('isg_migration_writes', 'Shadow writes replayed locally, by whether both sides succeeded (or failed) alike', ['vendor', 'library', 'outcome'], (g) => {
    for (const f of stats.figures()) {
      g.set({ vendor: f.vendor, library: f.library, outcome: 'agreed' }, f.writes.agreed);
      g.set({ vendor: f.vendor, library: f.library, outcome: 'disagreed' }, f.writes.disagreed);
    }
  });
  gauge('isg_migration_latency_ms', 'Recent answer latency of the vendor endpoint and of the local replay', ['vendor', 'library', 'side', 'quantile'], (g) => {
    for (const f of stats.figures()) {
      for (const [side, l] of [['upstream', f.upstream.latencyMs], ['local', f.local.latencyMs]] as const) {
        if (l.p50 !== null) g.set({ vendor: f.vendor, library: f.library, side, quantile: '0.5' }, l.p50);
        if (l.p95 !== null) g.set({ vendor: f.vendor, library: f.library, side, quantile: '0.95' }, l.p95);
      }
    }
  });
}

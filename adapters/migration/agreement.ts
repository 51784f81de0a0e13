/**
 * Agreement between a vendor's answers and the gateway's, per vendor and library, as plain data:
 * what GET /_gateway/migration shows and what metrics read (migrationFigures()).
 *
 * For a search both answered: overlap@k = |top-k upstream ∩ top-k local| / k, with k the number of results
 * the upstream returned (at most OVERLAP_K_MAX; two empty answers agree fully), and the mean absolute score
 * difference of the results both returned. For a write: whether both succeeded or both failed.
 */
import type { RouteMode } from '../config';
import { LATENCY_WINDOW, OVERLAP_K_MAX } from './limits';
import type { Hit } from '../vendor';

/** A vendor adapter's name. */
type VendorName = string;

/** A bounded window of recent values, for percentiles. */
class Window {
  private readonly values: number[] = [];
  private next = 0;
  add(v: number): void {
    if (this.values.length < LATENCY_WINDOW) this.values.push(v);
    else this.values[this.next] = v;
    this.next = (this.next + 1) % LATENCY_WINDOW;
  }
  percentile(p: number): number | null {
    if (this.values.length === 0) return null;
    const sorted = [...this.values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  }
}

interface LibraryCounters {
  vendor: VendorName;
  library: string;
  mode: RouteMode;
  /** Calls forwarded upstream (upstream and shadow modes), by the upstream's HTTP status. */
  upstreamStatus: Record<string, number>;
  /** Calls the gateway answered because the upstream failed (timeout, unreachable). */
  upstreamFailures: number;
  searches: { compared: number; overlapSum: number; scoreDeltaSum: number; scoreDeltaCount: number; localFailed: number };
  writes: { replayed: number; agreed: number; disagreed: number };
  /** Shadow replays dropped because the local queue was full. */
  skipped: number;
  upstreamMs: Window;
  localMs: Window;
}

export interface LibraryFigures {
  vendor: VendorName;
  library: string;
  mode: RouteMode;
  upstream: { byStatus: Record<string, number>; failures: number; latencyMs: { p50: number | null; p95: number | null } };
  local: { latencyMs: { p50: number | null; p95: number | null } };
  searches: { compared: number; meanOverlapAtK: number | null; meanScoreDelta: number | null; localFailed: number };
  writes: { replayed: number; agreed: number; disagreed: number };
  skipped: number;
  /** Shadow replays still waiting or running. */
  pending: number;
}

/** overlap@k of two ranked answers (k from the upstream's, at most OVERLAP_K_MAX). */
export function overlapAtK(upstream: Hit[], local: Hit[]): number {
  const k = Math.min(OVERLAP_K_MAX, upstream.length);
  if (k === 0) return local.length === 0 ? 1 : 0;
  const top = new Set(upstream.slice(0, k).map((h) => h.key));
  return local.slice(0, k).filter((h) => top.has(h.key)).length / k;
}

/** Absolute score differences of the results both answers hold. */
export function scoreDeltas(upstream: Hit[], local: Hit[]): number[] {
  const scores = new Map(local.map((h) => [h.key, h.score]));
  return upstream.filter((h) => scores.has(h.key) && Number.isFinite(h.score)).map((h) => Math.abs(h.score - scores.get(h.key)!));
}

export class AgreementStats {
  private readonly libraries = new Map<string, LibraryCounters>();
  private readonly pending = new Map<string, number>();

  private counters(vendor: VendorName, library: string, mode: RouteMode): LibraryCounters {
    const id = `${vendor}\u001f${library}`;
    let c = this.libraries.get(id);
    if (!c) {
      c = {
        vendor,
        library,
        mode,
        upstreamStatus: {},
        upstreamFailures: 0,
        searches: { compared: 0, overlapSum: 0, scoreDeltaSum: 0, scoreDeltaCount: 0, localFailed: 0 },
        writes: { replayed: 0, agreed: 0, disagreed: 0 },
        skipped: 0,
        upstreamMs: new Window(),
        localMs: new Window(),
      };
      this.libraries.set(id, c);
    }
    c.mode = mode;
    return c;
  }

  upstreamAnswered(vendor: VendorName, libraries: string[], mode: RouteMode, status: number, ms: number): void {
    for (const library of namesOf(libraries)) {
      const c = this.counters(vendor, library, mode);
      c.upstreamStatus[status] = (c.upstreamStatus[status] ?? 0) + 1;
      c.upstreamMs.add(ms);
    }
  }

  upstreamFailed(vendor: VendorName, libraries: string[], mode: RouteMode): void {
    for (const library of namesOf(libraries)) this.counters(vendor, library, mode).upstreamFailures++;
  }

  searchCompared(vendor: VendorName, libraries: string[], upstream: Hit[], local: Hit[] | undefined, localMs: number): void {
    for (const library of namesOf(libraries)) {
      const c = this.counters(vendor, library, 'shadow');
      c.localMs.add(localMs);
      if (!local) {
        c.searches.localFailed++;
        continue;
      }
      c.searches.compared++;
      c.searches.overlapSum += overlapAtK(upstream, local);
      for (const d of scoreDeltas(upstream, local)) {
        c.searches.scoreDeltaSum += d;
        c.searches.scoreDeltaCount++;
      }
    }
  }

  writeReplayed(vendor: VendorName, libraries: string[], agreed: boolean, localMs: number): void {
    for (const library of namesOf(libraries)) {
      const c = this.counters(vendor, library, 'shadow');
      c.localMs.add(localMs);
      c.writes.replayed++;
      if (agreed) c.writes.agreed++;
      else c.writes.disagreed++;
    }
  }

  replaySkipped(vendor: VendorName, libraries: string[]): void {
    for (const library of namesOf(libraries)) this.counters(vendor, library, 'shadow').skipped++;
  }

  /** Shadow replays in flight per vendor/library (kept by the replay queue). */
  setPending(vendor: VendorName, library: string, n: number): void {
    this.pending.set(`${vendor}\u001f${library}`, n);
  }

  figures(): LibraryFigures[] {
    return [...this.libraries.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([id, c]) => ({
        vendor: c.vendor,
        library: c.library,
        mode: c.mode,
        upstream: { byStatus: { ...c.upstreamStatus }, failures: c.upstreamFailures, latencyMs: { p50: c.upstreamMs.percentile(50), p95: c.upstreamMs.percentile(95) } },
        local: { latencyMs: { p50: c.localMs.percentile(50), p95: c.localMs.percentile(95) } },
        searches: {
          compared: c.searches.compared,
          meanOverlapAtK: c.searches.compared > 0 ? round(c.searches.overlapSum / c.searches.compared) : null,
          meanScoreDelta: c.searches.scoreDeltaCount > 0 ? round(c.searches.scoreDeltaSum / c.searches.scoreDeltaCount) : null,
          localFailed: c.searches.localFailed,
        },
        writes: { ...c.writes },
        skipped: c.skipped,
        pending: this.pending.get(id) ?? 0,
      }));
  }
}

/** Calls that name no library are counted under "". */
function namesOf(libraries: string[]): string[] {
  return libraries.length > 0 ? libraries : [''];
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/**
 * The recent calls of each vendor API, newest last, for test suites that assert what their client sent
 * (GET /_gateway/requests). Method, path (never the query string: V1 signatures and keys travel there),
 * status and the vendor error code; never headers or bodies. Bounded per vendor.
 */
import type { Vendor } from '../http/observe';

export interface LoggedRequest {
  /** Increases with every logged request (order across vendors). */
  seq: number;
  time: string;
  requestId: string;
  vendor: Vendor;
  operation: string | null;
  tenant: string | null;
  method: string;
  path: string;
  status: number;
  errorCode: string | null;
  /** The injected fault that answered the request, if any. */
  fault: string | null;
  durationMs: number;
}

export const DEFAULT_REQUEST_LOG_SIZE = 200;

export class RequestLog {
  private readonly byVendor = new Map<Vendor, LoggedRequest[]>();
  private seq = 0;

  constructor(private readonly perVendor = DEFAULT_REQUEST_LOG_SIZE) {}

  add(fields: Omit<LoggedRequest, 'seq'>): void {
    const entry = { seq: ++this.seq, ...fields };
    let list = this.byVendor.get(entry.vendor);
    if (!list) this.byVendor.set(entry.vendor, (list = []));
    list.push(entry);
    if (list.length > this.perVendor) list.splice(0, list.length - this.perVendor);
  }

  /** Newest first, optionally of one vendor / operation / tenant. */
  list(filter: { vendor?: string; operation?: string; tenant?: string; limit?: number } = {}): LoggedRequest[] {
    const all = filter.vendor ? [...(this.byVendor.get(filter.vendor as Vendor) ?? [])] : [...this.byVendor.values()].flat();
    return all
      .filter((e) => (filter.operation === undefined || e.operation === filter.operation) && (filter.tenant === undefined || e.tenant === filter.tenant))
      .sort((a, b) => b.seq - a.seq)
      .slice(0, filter.limit ?? this.perVendor);
  }

  clear(tenant?: string): void {
    if (tenant === undefined) return this.byVendor.clear();
    for (const [vendor, list] of this.byVendor) this.byVendor.set(vendor, list.filter((e) => e.tenant !== tenant));
  }
}

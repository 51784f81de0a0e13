/**
 * Instance QPS limits (the vendor sells 1, 5 or 10 QPS per instance; shared/specs/alibaba.md §1): at most
 * `qps` requests per instance in any sliding second, beyond that 403 DeniedRequest. Limits come from the
 * config (alibaba.instances[].qps); an instance without one is not limited. Counted per gateway process.
 */
export interface InstanceQps {
  tenant: string;
  name: string;
  qps: number;
}

export class InstanceThrottle {
  private readonly limits = new Map<string, number>();
  private readonly recent = new Map<string, number[]>();

  constructor(
    limits: InstanceQps[] = [],
    private readonly now: () => number = Date.now,
  ) {
    for (const l of limits) this.limits.set(key(l.tenant, l.name), l.qps);
  }

  qpsOf(tenant: string, name: string): number | undefined {
    return this.limits.get(key(tenant, name));
  }

  /** Counts one request; false when the instance is over its limit (the request is then not counted). */
  admit(tenant: string, name: string): boolean {
    const k = key(tenant, name);
    const qps = this.limits.get(k);
    if (qps === undefined) return true;
    const now = this.now();
    const times = (this.recent.get(k) ?? []).filter((t) => now - t < 1000);
    if (times.length >= qps) {
      this.recent.set(k, times);
      return false;
    }
    times.push(now);
    this.recent.set(k, times);
    return true;
  }
}

function key(tenant: string, name: string): string {
  return `${tenant}\u001f${name}`;
}

/** Which mode serves a request: the library's own, else the vendor's default; several libraries → the least migrated. */
import type { RouteMode, VendorMigrationConfig } from '../config';

/** upstream > shadow > local: a client sees local answers only when every library it addresses is local. */
const RANK: Record<RouteMode, number> = { local: 0, shadow: 1, upstream: 2 };

export function defaultMode(config: VendorMigrationConfig): RouteMode {
  return config.mode ?? 'local';
}

export function modeOf(config: VendorMigrationConfig, libraries: readonly string[]): RouteMode {
  if (libraries.length === 0) return defaultMode(config);
  return libraries
    .map((name) => (Object.prototype.hasOwnProperty.call(config.libraries ?? {}, name) ? config.libraries![name] : defaultMode(config)))
    .reduce((a, b) => (RANK[b] > RANK[a] ? b : a));
}

/** Whether every library resolves to one mode whatever the request names (then the body need not be read). */
export function uniformMode(config: VendorMigrationConfig): RouteMode | undefined {
  const base = defaultMode(config);
  return Object.values(config.libraries ?? {}).every((m) => m === base) ? base : undefined;
}

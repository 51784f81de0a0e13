/**
 * The gateway's configuration as adapters see it. The JSON file shape (schemas/config.json) is relied on
 * by tests outside this repository: extend it, never rename.
 */
export type AuthMode = 'open' | 'verify';

export interface TenantCredentials {
  id: string;
  huawei?: {
    domain?: string;
    users?: Array<{ name: string; password: string }>;
    projects?: Array<{ id: string; name: string }>;
    accessKeys?: Array<{ ak: string; sk: string }>;
  };
  alibaba?: { accessKeys?: Array<{ id: string; secret: string }> };
  qiniu?: { accessKeys?: Array<{ ak: string; sk: string }> };
  operator?: { apiKeys?: string[] };
}

export interface AuthConfig {
  /** open: any credentials, tenant derived from the access key (local use). verify: checked against tenants. */
  mode: AuthMode;
  tokenSecret?: string;
  tenants: TenantCredentials[];
  /** open mode refuses to listen beyond loopback unless this is set. */
  allowOpenRemote?: boolean;
}

export interface GatewayConfig {
  auth: AuthConfig;
  libraries: Array<{ tenant: string; name: string; mode: string; model?: string; description?: string; views?: string[] }>;
  /** Downloads of image URLs and import files: hosts or CIDRs allowed even though private. */
  fetch: { allowHosts: string[]; maxBytes: number; timeoutMs: number };
  /** Batch import files are read only from inside this folder. */
  imports: { dir: string };
  /** Huawei ImageSearch: which variant answers auth and routing failures (default "gateway", the live API Gateway's). */
  huawei?: { errorStyle?: 'gateway' | 'documented' };
  /** Qiniu 以图搜图: the "system setting" threshold searches never go below (default in adapters/qiniu/limits.ts). */
  qiniu?: { searchThreshold?: number };
  /** Alibaba Image Search: instance QPS limits, the region Detail reports, the OSS listener of the *Advance flow. */
  alibaba?: AlibabaConfig;
  /** The control plane (/_gateway): who may reset state and inject faults in verify mode, request log size. */
  control?: ControlConfig;
  /** The embedding queue: most images per session run and most waiting (beyond, each vendor's throttling error). */
  embedding?: EmbeddingConfig;
  /** Migration off a vendor's own endpoint: per vendor and library, local, upstream or shadow (docs/migration.md). */
  migration?: MigrationConfig;
}

/** Tenant used by open mode when a request carries no credentials at all. */
export const OPEN_MODE_DEFAULT_TENANT = 'default';

/** The `alibaba` section of the config file (docs/compatibility/alibaba.md). */
export interface AlibabaConfig {
  /** Region reported by Detail and named in upload object keys (default cn-shanghai). */
  region?: string;
  /** Per-instance QPS (the vendor sells 1, 5 or 10): more requests in a second → 403 DeniedRequest. */
  instances?: Array<{ tenant: string; name: string; qps: number }>;
  /** Bytes of *Advance uploads one tenant may hold at once (default 256 MiB; they expire after 30 minutes). */
  uploadQuotaBytes?: number;
  /** TLS listener that takes the OSS PostObject uploads of the SDK's *Advance methods. */
  oss?: { host?: string; port: number; certFile: string; keyFile: string };
}

/** Where a vendor request is served: by the engine, by the vendor's endpoint, or by both (the client gets the vendor's). */
export type RouteMode = 'local' | 'upstream' | 'shadow';

/** One vendor's `migration` section (adapters/migration/README.md). */
export interface VendorMigrationConfig {
  /** The vendor's endpoint requests are forwarded to, e.g. https://imagesearch.cn-shanghai.aliyuncs.com. */
  upstream?: string;
  /** Mode of libraries not listed, and of requests that name no library (default local). */
  mode?: RouteMode;
  /** Mode per instance / group / library name. */
  libraries?: Record<string, RouteMode>;
  /** How long the upstream may take to answer (default in adapters/migration/limits.ts). */
  timeoutMs?: number;
  /** Send the upstream's host in Host instead of the client's (breaks signatures that cover Host). */
  rewriteHost?: boolean;
}

/** Per vendor name (adapters/vendors.ts); schemas/config.json says which names the file may hold. */
export type MigrationConfig = Partial<Record<string, VendorMigrationConfig>>;

/** The `control` section (adapters/control/README.md). */
export interface ControlConfig {
  /** verify mode: Bearer keys that may use reset, faults and the request log (open mode needs none). */
  adminKeys?: string[];
  /** Recent requests kept per vendor for GET /_gateway/requests (default 200). */
  requestLogSize?: number;
  /** Who may read /metrics: "admin" (control.adminKeys, the default in verify mode) or "open" (the default in open mode). */
  metrics?: 'admin' | 'open';
}

/** The `embedding` section: core/embed/runner.ts LoadModelOptions. */
export interface EmbeddingConfig {
  maxBatch?: number;
  maxQueue?: number;
}

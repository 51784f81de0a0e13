/**
 * The express application: request ids, the control plane, the migration layer, the API documents and
 * every vendor adapter of the list (adapters/vendors.ts, or the one given) mounted at the root in order.
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Engine } from '../core/engine';
import type { UrlFetcher } from '../core/net/fetch';
import type { TaskRunner } from '../core/tasks';
import type { GatewayConfig } from './config';
import { createControlPlane, GatewayMetrics } from './control';
import { docsRouter } from './control/docs';
import { requestId } from './http/request-id';
import type { UrlSealer } from './http/sealed-url';
import { createMigration, registerMigrationMetrics } from './migration';
import { faultOperations, type MountedVendor, type VendorAdapter } from './vendor';
import { VENDORS } from './vendors';

export interface AppDeps {
  engine: Engine;
  tasks: TaskRunner;
  config: GatewayConfig;
  log: Logger;
  ready: () => boolean;
  /** The gateway's data folder (vendors keep files of their own below it). */
  dataDir: string;
  /** An SSRF-guarded downloader of at most maxBytes (config fetch.allowHosts and timeout). */
  fetcher: (maxBytes: number) => UrlFetcher;
  /** The vendor adapters to mount, in order (default adapters/vendors.ts). */
  vendors?: readonly VendorAdapter[];
  /** Prometheus registry (bin/gateway.ts shares it with the model registry for batch metrics). */
  metrics?: GatewayMetrics;
  /** POST /_gateway/state/reset: empty the store (one tenant or all) and restore what a fresh start has. */
  resetState?: (tenant?: string) => Promise<void>;
  /** Seals credentials in URLs kept at rest (task file_url). */
  urls: UrlSealer;
}

/** The app, and each vendor as mounted (its listeners are the composition root's to start). */
export interface GatewayApp {
  app: Express;
  vendors: Array<{ adapter: VendorAdapter; mounted: MountedVendor }>;
}

export function createApp(deps: AppDeps): GatewayApp {
  const vendors = deps.vendors ?? VENDORS;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestId());
  const control = createControlPlane({
    engine: deps.engine,
    auth: deps.config.auth,
    control: deps.config.control,
    log: deps.log,
    ready: deps.ready,
    metrics: deps.metrics ?? new GatewayMetrics(),
    faults: Object.fromEntries(vendors.map((v) => [v.name, { codes: v.errors.codes, throttle: v.errors.throttle, operations: faultOperations(v.routes) }])),
    resetState: deps.resetState,
  });
  // Request log, metrics and the access log (method, path, status, vendor code: never bodies or credentials).
  app.use(control.observer);
  // Migration: per vendor and library, local, upstream (forwarded unchanged) or shadow, decided before any
  // adapter reads the request; GET /_gateway/migration shows the agreement figures.
  const migration = createMigration(deps.config.migration, vendors, deps.log);
  if (deps.metrics) registerMigrationMetrics(deps.metrics.registry, migration.stats);
  app.use(migration.router);
  app.use('/_gateway', control.router);
  app.use(control.rootRouter);
  app.use(docsRouter(vendors));
  // Each vendor takes what is its own and passes the rest on; the list's order settles overlapping spaces.
  const ctx = { engine: deps.engine, tasks: deps.tasks, config: deps.config, log: deps.log, urls: deps.urls, dataDir: deps.dataDir, fetcher: deps.fetcher };
  const mounted = vendors.map((adapter) => ({ adapter, mounted: adapter.mount(ctx) }));
  for (const { mounted: m } of mounted) app.use(m.router);
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  // The last word on any error no router answered: never express's HTML page (which shows a stack and the
  // install path). Malformed URLs and bodies are the client's (4xx, not logged as failures); the rest is ours.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = (err as { status?: number }).status;
    const client = err instanceof URIError || (typeof status === 'number' && status >= 400 && status < 500);
    if (!client) deps.log.error({ err, reqId: req.id }, 'request failed');
    if (res.headersSent) return void res.destroy();
    res.status(client ? (status ?? 400) : 500).json({ error: client ? 'bad request' : 'internal error' });
  });
  return { app, vendors: mounted };
}

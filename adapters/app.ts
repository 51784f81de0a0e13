/** The express application: request ids, the control plane, and every vendor adapter at its own prefix. */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Engine } from '../core/engine';
import type { UrlFetcher } from '../core/net/fetch';
import type { TaskRunner } from '../core/tasks';
import type { GatewayConfig } from './config';
import { createControlPlane, GatewayMetrics } from './control';
import { docsRouter } from './control/docs';
import { consoleRouter } from './console';
import { requestId } from './http/request-id';
import type { UrlSealer } from './http/sealed-url';
import { createMigration, registerMigrationMetrics } from './migration';
import { operatorRouter, PREFIX as OPERATOR_PREFIX, FAULT_CATALOG as OPERATOR_FAULTS } from './operator';
import { operatorTenant } from './operator/auth';
import { imageKey, operatorKeys } from './operator/keys';
import { qiniuRouter, PREFIX as QINIU_PREFIX, FAULT_CATALOG as QINIU_FAULTS } from './qiniu';
import { huaweiRouter, FAULT_CATALOG as HUAWEI_FAULTS } from './huawei';
import { alibabaRouter, FAULT_CATALOG as ALIBABA_FAULTS, type AlibabaDeps, type OssAddress } from './alibaba';

export interface AppDeps {
  engine: Engine;
  tasks: TaskRunner;
  config: GatewayConfig;
  log: Logger;
  ready: () => boolean;
  /** Downloads Qiniu `uri` images (SSRF-guarded, the vendor's 10 MB limit). */
  qiniuFetchImage: UrlFetcher;
  /** Downloads Huawei `path` images when no `file` is sent (SSRF-guarded, the adapter's byte limit). */
  huaweiFetchImage: UrlFetcher;
  /** The Alibaba adapter's parts, and where its OSS upload listener is (when configured). */
  alibaba: AlibabaDeps;
  alibabaOssAddress?: () => OssAddress | undefined;
  /** Prometheus registry (bin/gateway.ts shares it with the model registry for batch metrics). */
  metrics?: GatewayMetrics;
  /** POST /_gateway/state/reset: empty the store (one tenant or all) and restore what a fresh start has. */
  resetState?: (tenant?: string) => Promise<void>;
  /** Seals credentials in URLs kept at rest (task file_url). */
  urls: UrlSealer;
}

export function createApp(deps: AppDeps): Express {
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
    faults: { operator: OPERATOR_FAULTS, huawei: HUAWEI_FAULTS, alibaba: ALIBABA_FAULTS, qiniu: QINIU_FAULTS },
    resetState: deps.resetState,
  });
  // Request log, metrics and the access log (method, path, status, vendor code: never bodies or credentials).
  app.use(control.observer);
  // Migration: per vendor and library, local, upstream (forwarded unchanged) or shadow, decided before any
  // adapter reads the request; GET /_gateway/migration shows the agreement figures.
  const migration = createMigration(deps.config.migration, deps.log);
  if (deps.metrics) registerMigrationMetrics(deps.metrics.registry, migration.stats);
  app.use(migration.router);
  app.use('/_gateway', control.router);
  app.use(control.rootRouter);
  app.use(docsRouter());
  app.use(consoleRouter({ engine: deps.engine, log: deps.log, tenantOf: (authorization) => operatorTenant(deps.config.auth, authorization), authMode: deps.config.auth.mode, keys: { imageKey, operatorKeys } }));
  app.use(OPERATOR_PREFIX, operatorRouter({ engine: deps.engine, tasks: deps.tasks, urls: deps.urls }, deps.config.auth, deps.log));
  // Alibaba RPC on "/" (x-acs-action or Action, form or multipart bodies) and /_alibaba/files; the rest passes by.
  app.use(alibabaRouter(deps.alibaba, deps.config.auth, deps.log, { ossAddress: deps.alibabaOssAddress }));
  // Qiniu takes /v1/image only; /v1/<project_id>/... (Huawei) passes by.
  app.use(QINIU_PREFIX, qiniuRouter({ engine: deps.engine, fetchImage: deps.qiniuFetchImage }, deps.config, deps.log));
  // Huawei: /v1/{project_id}/... and IAM /v3/auth/tokens; other vendors' requests pass by.
  app.use(huaweiRouter({ engine: deps.engine, config: deps.config, fetchImage: deps.huaweiFetchImage, log: deps.log }));
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
  return app;
}

/** The express application: request ids, the control plane, and every vendor adapter at its own prefix. */
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { Engine } from '../core/engine';
import type { UrlFetcher } from '../core/image';
import type { TaskRunner } from '../core/tasks';
import type { GatewayConfig } from './config';
import { controlRouter } from './control';
import { requestId } from './http/request-id';
import { operatorRouter, PREFIX as OPERATOR_PREFIX } from './operator';
import { qiniuRouter, PREFIX as QINIU_PREFIX } from './qiniu';
import { huaweiRouter } from './huawei';
import { alibabaRouter, type AlibabaDeps, type OssAddress } from './alibaba';

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
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestId());
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      // Method, path and status only: never bodies, query strings or credentials.
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      deps.log.debug({ reqId: req.id, method: req.method, path: req.path, status: res.statusCode, ms }, 'request');
    });
    next();
  });
  app.use('/_gateway', controlRouter({ ready: deps.ready }));
  app.use(OPERATOR_PREFIX, operatorRouter({ engine: deps.engine, tasks: deps.tasks }, deps.config.auth, deps.log));
  // Alibaba RPC on "/" (x-acs-action or Action, form or multipart bodies) and /_alibaba/files; the rest passes by.
  app.use(alibabaRouter(deps.alibaba, deps.config.auth, deps.log, { ossAddress: deps.alibabaOssAddress }));
  // Qiniu takes /v1/image only; /v1/<project_id>/... (Huawei) passes by.
  app.use(QINIU_PREFIX, qiniuRouter({ engine: deps.engine, fetchImage: deps.qiniuFetchImage }, deps.config, deps.log));
  // Huawei: /v1/{project_id}/... and IAM /v3/auth/tokens; other vendors' requests pass by.
  app.use(huaweiRouter({ engine: deps.engine, config: deps.config, fetchImage: deps.huaweiFetchImage, log: deps.log }));
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  return app;
}

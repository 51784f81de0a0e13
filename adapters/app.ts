/** The express application: request ids, the control plane, and every vendor adapter at its own prefix. */
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { Engine } from '../core/engine';
import type { TaskRunner } from '../core/tasks';
import type { GatewayConfig } from './config';
import { controlRouter } from './control';
import { requestId } from './http/request-id';
import { operatorRouter, PREFIX as OPERATOR_PREFIX } from './operator';

export interface AppDeps {
  engine: Engine;
  tasks: TaskRunner;
  config: GatewayConfig;
  log: Logger;
  ready: () => boolean;
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
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  return app;
}

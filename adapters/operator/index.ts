/**
 * The operator image-search API (AnalyticDB-style) under /api/v1/operators/image-search: routes →
 * operations, the {status, message, data} envelope, and the API's own 401/404/405/413 answers.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { AuthConfig } from '../config';
import { rawBody, parseJsonBody } from '../http/raw-body';
import { injectFault, noteError, observe } from '../http/observe';
import { operatorTenant } from './auth';
import { METHOD_NOT_ALLOWED, ROUTE_NOT_FOUND, UNAUTHORIZED, operatorFaultCatalog, toOperatorError, type OperatorError } from './errors';
import { BODY_LIMIT, PICTURE_FIELDS, PREFIX } from './limits';
import * as ops from './operations';

export { PREFIX };

type Operation = (call: ops.Call) => Promise<unknown>;

/** Every route of the API: method, path below the prefix, operation. */
const ROUTES: Array<[method: 'get' | 'post', path: string, op: Operation]> = [
  ['post', '/search/by-image', ops.searchByImage],
  ['post', '/search/by-text', ops.searchByText],
  ['post', '/image/add', ops.imageAdd],
  ['post', '/image/delete', ops.imageDelete],
  ['post', '/image/list', ops.imageList],
  ['post', '/image/tasks/create', ops.tasksCreate],
  ['get', '/image/tasks/results/:task_id', ops.tasksResults],
  ['post', '/library/create', ops.libraryCreate],
  ['post', '/library/list', ops.libraryList],
  ['post', '/library/describe', ops.libraryDescribe],
  ['post', '/library/delete', ops.libraryDelete],
];

/** An operation's name in the request log, metrics and fault rules: its path without parameters. */
const operationName = (path: string) => path.slice(1).replace(/\/:.*$/, '');

/** Codes, throttling code and operation names for fault injection (/_gateway/faults). */
export const FAULT_CATALOG = operatorFaultCatalog(ROUTES.map(([, path]) => operationName(path)));

declare module 'express-serve-static-core' {
  interface Request {
    tenant?: string;
  }
}

export function operatorRouter(deps: ops.OperatorDeps, auth: AuthConfig, log: Logger): Router {
  const router = Router();

  const sendError = (res: Response, error: OperatorError) => {
    noteError(res, error.status);
    res.status(error.http).json({ status: error.status, message: error.message, data: null });
  };

  router.use((req, res, next) => {
    observe(res, 'operator');
    const tenant = operatorTenant(auth, req.headers.authorization);
    if (tenant === undefined) return sendError(res, UNAUTHORIZED);
    req.tenant = tenant;
    next();
  });

  for (const [method, path, op] of ROUTES) {
    router[method](path, rawBody(BODY_LIMIT, PICTURE_FIELDS), async (req: Request, res: Response) => {
      try {
        observe(res, 'operator', operationName(path), req.tenant);
        await injectFault(res);
        const data = await op({
          deps,
          tenant: req.tenant!,
          body: method === 'post' ? parseJsonBody(req) : undefined,
          params: req.params as Record<string, string>,
          query: req.query as Record<string, unknown>,
        });
        res.status(200).json({ status: 'SUCCESS', message: null, data });
      } catch (e) {
        const error = toOperatorError(e);
        if (error.http >= 500) log.error({ err: e, reqId: req.id, route: path }, 'operator request failed');
        sendError(res, error);
      }
    });
    // The path exists, the method does not.
    router.all(path, (_req, res) => sendError(res, METHOD_NOT_ALLOWED));
  }

  router.use((_req, res) => sendError(res, ROUTE_NOT_FOUND));
  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const error = toOperatorError(err);
    if (error.http >= 500) log.error({ err, reqId: req.id }, 'operator request failed');
    sendError(res, error);
  });
  return router;
}

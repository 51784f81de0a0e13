/**
 * The operator image-search API (AnalyticDB-style) under /api/v1/operators/image-search: routes →
 * operations, the {status, message, data} envelope, and the API's own 401/404/405/413 answers.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { rawBody, parseJsonBody } from '../http/raw-body';
import { injectFault, noteError, observe } from '../http/observe';
import { expressPath, faultOperations, type Identity } from '../vendor';
import { errorEnvelope, METHOD_NOT_ALLOWED, ROUTE_NOT_FOUND, operatorFaultCatalog, toOperatorError, type OperatorError } from './errors';
import { BODY_LIMIT, PICTURE_FIELDS, PREFIX } from './limits';
import type * as ops from './operations';
import { ROUTES } from './routes';

export { PREFIX };

/** The vendor's name in metrics, the request log and fault rules. */
export const NAME = 'operator';

/** Codes, throttling code and operation names for fault injection (/_gateway/faults). */
export const FAULT_CATALOG = operatorFaultCatalog(faultOperations(ROUTES));

/** The API's router, to mount at PREFIX. `authenticate` is auth.ts's, bound to the config. */
export function operatorRouter(deps: ops.OperatorDeps, authenticate: (req: Request) => Identity, log: Logger): Router {
  const router = Router();

  const sendError = (res: Response, error: OperatorError) => {
    noteError(res, error.status);
    res.status(error.http).json(errorEnvelope(error));
  };

  router.use((req, res, next) => {
    observe(res, NAME);
    try {
      req.tenant = authenticate(req).tenant;
    } catch (e) {
      return sendError(res, toOperatorError(e));
    }
    next();
  });

  for (const { method, path: route, operation, run } of ROUTES) {
    const path = expressPath(route);
    router[method](path, rawBody(BODY_LIMIT, PICTURE_FIELDS), async (req: Request, res: Response) => {
      try {
        observe(res, NAME, operation, req.tenant);
        await injectFault(res);
        const data = await run({
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

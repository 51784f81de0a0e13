/**
 * Qiniu 以图搜图 under /v1/image: routes → operations, the signature check over the raw request, and the
 * vendor's answers (the JSON of each operation with 200; `{"error": "..."}` with the error's status).
 * Only paths below /v1/image are taken, so /v1/<project_id>/... (Huawei) stays free.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config';
import { parseJsonBody, rawBody } from '../http/raw-body';
import { injectFault, noteError, observe } from '../http/observe';
import { expressPath, faultOperations, type Identity } from '../vendor';
import { identify } from './auth';
import { ERRORS, errorBody, isInternal, qiniuFaultCatalog, toQiniuError, type QiniuError } from './errors';
import { BODY_LIMIT, PICTURE_FIELDS, PREFIX, SEARCH_THRESHOLD_DEFAULT } from './limits';
import type * as ops from './operations';
import { ROUTES } from './routes';

export { PREFIX };

/** The vendor's name in metrics, the request log and fault rules. */
export const NAME = 'qiniu';

/** Codes, throttling code and operation names for /_gateway/faults. */
export const FAULT_CATALOG = qiniuFaultCatalog(faultOperations(ROUTES));

const NO_BODY = Buffer.alloc(0);

/** The credentials of a request as received (the signature covers the raw body: read it first). */
export function authenticate(auth: GatewayConfig['auth'], req: Request): Identity {
  return identify(auth, {
    method: req.method,
    target: req.originalUrl, // the request target exactly as received, prefix included
    rawHeaders: req.rawHeaders,
    body: req.rawBody ?? NO_BODY,
  });
}

/** The API's router, to mount at PREFIX. */
export function qiniuRouter(wiring: Omit<ops.QiniuDeps, 'searchThreshold'>, config: GatewayConfig, log: Logger): Router {
  const router = Router();
  const deps: ops.QiniuDeps = { ...wiring, searchThreshold: config.qiniu?.searchThreshold ?? SEARCH_THRESHOLD_DEFAULT };

  const sendError = (res: Response, error: QiniuError) => {
    noteError(res, String(error.http));
    res.status(error.http).json(errorBody(error));
  };

  router.use((_req, res, next) => (observe(res, NAME), next()));
  // The signature covers the body, so the body is read (raw) before anything else.
  router.use(rawBody(BODY_LIMIT, PICTURE_FIELDS));
  router.use((req, res, next) => {
    try {
      req.tenant = authenticate(config.auth, req).tenant;
    } catch (e) {
      return sendError(res, toQiniuError(e));
    }
    next();
  });

  for (const { method, path: route, operation, run } of ROUTES) {
    const path = expressPath(route);
    router[method](path, async (req: Request, res: Response) => {
      try {
        observe(res, NAME, operation, req.tenant);
        await injectFault(res);
        const data = await run({
          deps,
          tenant: req.tenant!,
          group: (req.params as Record<string, string>).group ?? '',
          body: method === 'post' ? parseJsonBody(req) : undefined,
          query: req.query as Record<string, unknown>,
        });
        res.status(200).json(data);
      } catch (e) {
        const error = toQiniuError(e);
        if (isInternal(error)) log.error({ err: e, reqId: req.id, route: path }, 'qiniu request failed');
        sendError(res, error);
      }
    });
  }
  // The path exists, the method does not.
  for (const path of new Set(ROUTES.map((r) => expressPath(r.path)))) router.all(path, (_req, res) => sendError(res, ERRORS.methodNotAllowed));

  router.use((_req, res) => sendError(res, ERRORS.routeNotFound));
  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const error = toQiniuError(err);
    if (isInternal(error)) log.error({ err, reqId: req.id }, 'qiniu request failed');
    sendError(res, error);
  });
  return router;
}

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
import { qiniuTenant } from './auth';
import { ERRORS, isInternal, qiniuFaultCatalog, toQiniuError, type QiniuError } from './errors';
import { BODY_LIMIT, PICTURE_FIELDS, PREFIX, SEARCH_THRESHOLD_DEFAULT } from './limits';
import * as ops from './operations';

export { PREFIX };

type Operation = (call: ops.Call) => Promise<unknown>;

/** Every route of the API: method, path below the prefix, operation (order as in the vendor's table). */
const ROUTES: Array<[method: 'get' | 'post', path: string, op: Operation]> = [
  ['post', '/group/:group/new', ops.groupNew],
  ['post', '/group/:group/remove', ops.groupRemove],
  ['post', '/group/:group/add', ops.imagesAdd],
  ['post', '/group/:group/delete', ops.imagesDelete],
  ['get', '/group', ops.groupList],
  ['get', '/group/:group/info', ops.groupInfo],
  ['get', '/group/:group', ops.imagesList],
  ['post', '/group/:group/image', ops.imageInfo],
  ['post', '/groups/search', ops.groupsSearch],
  ['post', '/group/:group/search', ops.groupSearch],
];

/** Codes, throttling code and operation names (the operation functions' names) for /_gateway/faults. */
export const FAULT_CATALOG = qiniuFaultCatalog(ROUTES.map(([, , op]) => op.name));

declare module 'express-serve-static-core' {
  interface Request {
    tenant?: string;
  }
}

const NO_BODY = Buffer.alloc(0);

export function qiniuRouter(wiring: Omit<ops.QiniuDeps, 'searchThreshold'>, config: GatewayConfig, log: Logger): Router {
  const router = Router();
  const auth = config.auth;
  const deps: ops.QiniuDeps = { ...wiring, searchThreshold: config.qiniu?.searchThreshold ?? SEARCH_THRESHOLD_DEFAULT };

  const sendError = (res: Response, error: QiniuError) => {
    noteError(res, String(error.http));
    res.status(error.http).json({ error: error.message });
  };

  router.use((_req, res, next) => (observe(res, 'qiniu'), next()));
  // The signature covers the body, so the body is read (raw) before anything else.
  router.use(rawBody(BODY_LIMIT, PICTURE_FIELDS));
  router.use((req, res, next) => {
    const tenant = qiniuTenant(auth, {
      method: req.method,
      target: req.originalUrl, // the request target exactly as received, prefix included
      rawHeaders: req.rawHeaders,
      body: req.rawBody ?? NO_BODY,
    });
    if (tenant === undefined) return sendError(res, ERRORS.badToken);
    req.tenant = tenant;
    next();
  });

  for (const [method, path, op] of ROUTES) {
    router[method](path, async (req: Request, res: Response) => {
      try {
        observe(res, 'qiniu', op.name, req.tenant);
        await injectFault(res);
        const data = await op({
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
  for (const path of new Set(ROUTES.map(([, p]) => p))) router.all(path, (_req, res) => sendError(res, ERRORS.methodNotAllowed));

  router.use((_req, res) => sendError(res, ERRORS.routeNotFound));
  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const error = toQiniuError(err);
    if (isInternal(error)) log.error({ err, reqId: req.id }, 'qiniu request failed');
    sendError(res, error);
  });
  return router;
}

/**
 * Huawei Cloud ImageSearch v1 (/v1/{project_id}/...) and the emulated IAM token route (/v3/auth/tokens),
 * mounted at the root of the app: routes → operations, the vendor's error envelopes, and the API
 * gateway's own answers (401 auth, 404 unknown route or method, 413 body too large).
 *
 * The /v1 space is shared with other vendors (Qiniu serves /v1/image/...): a request whose Authorization
 * is another scheme is passed on untouched, and an unknown route is answered here only when the request
 * carries Huawei credentials.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Engine } from '../../core/engine';
import type { UrlFetcher } from '../../core/net/fetch';
import type { GatewayConfig } from '../config';
import { parseJsonBody, rawBody, BodyTooLargeError } from '../http/raw-body';
import { injectFault, noteError, observe } from '../http/observe';
import { expressPath, faultOperations, type Identity } from '../vendor';
import { hasHuaweiCredentials, HuaweiRefusal, identify, isAkSkRequest, type AuthContext } from './auth';
import { answerResponse, documentedVariant, GATEWAY, IAM, huaweiFaultCatalog, isInternal, toHuaweiAnswer, type Answer, type GatewayError, type IamError } from './errors';
import { Iam } from './iam';
import { AKSK_BODY_LIMIT, IAM_BODY_LIMIT, PICTURE_FIELDS, TOKEN_BODY_LIMIT } from './limits';
import { IAM_ROUTE, IAM_TOKENS_PATH, ROUTES } from './routes';
import type * as ops from './operations';
import { ALGORITHM, headerValue } from './signer';

export { IAM_TOKENS_PATH };

/** The vendor's name in metrics, the request log and fault rules. */
export const NAME = 'huawei';

/** Codes, throttling code and operation names for /_gateway/faults. */
export const FAULT_CATALOG = huaweiFaultCatalog(faultOperations(ROUTES));

export interface HuaweiRouterDeps {
  engine: Engine;
  config: Pick<GatewayConfig, 'auth' | 'huawei'>;
  /** Downloads `path` when no `file` is sent (core's SSRF-guarded fetcher, allow-list from config). */
  fetchImage: UrlFetcher;
  log: Logger;
  /** The clock the X-Sdk-Date window and token expiry are checked against (tests pin it). */
  now?: () => number;
}

/** Another vendor's Authorization scheme: not ours to answer. */
export function isForeign(req: Request): boolean {
  const authorization = headerValue(req.rawHeaders, 'authorization');
  return authorization !== undefined && !authorization.startsWith(ALGORITHM);
}

/** A gateway answer; with `documented` (huawei.errorStyle "documented") the ImageSearch table's 400 for it. */
function sendGateway(req: Request, res: Response, error: GatewayError, documented: boolean): void {
  const variant = documented ? documentedVariant(error) : undefined;
  if (variant) return sendAnswer(req, res, { kind: 'service', error: variant }, documented);
  noteError(res, error.code);
  const { status, body } = answerResponse({ kind: 'gateway', error }, req.id);
  res.status(status).json(body);
}

function sendAnswer(req: Request, res: Response, answer: Answer, documented: boolean): void {
  if (answer.kind === 'gateway') return sendGateway(req, res, answer.error, documented);
  noteError(res, answer.error.code);
  const { status, body } = answerResponse(answer, req.id);
  res.status(status).json(body);
}

function sendIam(res: Response, error: IamError): void {
  noteError(res, String(error.http));
  res.status(error.http).json({ error: { code: error.http, message: error.message, title: error.title } });
}

/** The {project_id} a request addresses: the route's parameter, else the path's second segment. */
function projectOf(req: Request): string {
  const param = (req.params as Record<string, string> | undefined)?.project_id;
  if (param !== undefined) return param;
  const segment = req.path.split('/')[2] ?? '';
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The adapter contract's authenticate, over the raw request (read the body first). */
export function authenticate(ctx: AuthContext, req: Request): Identity {
  return identify(ctx, { method: req.method, url: req.originalUrl, rawHeaders: req.rawHeaders, body: req.rawBody ?? Buffer.alloc(0) }, projectOf(req));
}

export function huaweiRouter(deps: HuaweiRouterDeps): Router {
  const iam = new Iam(deps.config.auth);
  const ctx: AuthContext = { auth: deps.config.auth, iam, now: deps.now };
  return huaweiRoutes(deps, ctx, iam);
}

/** The router over an auth context the caller keeps (adapter.ts shares it with authenticate). */
export function huaweiRoutes(deps: HuaweiRouterDeps, ctx: AuthContext, iam: Iam): Router {
  const router = Router();
  const opsDeps: ops.HuaweiDeps = { engine: deps.engine, fetchImage: deps.fetchImage };
  const documented = deps.config.huawei?.errorStyle === 'documented';

  // ---- IAM -------------------------------------------------------------------------------------
  router.post(IAM_TOKENS_PATH, (_req, res, next) => (observe(res, NAME, IAM_ROUTE.operation), next()), rawBody(IAM_BODY_LIMIT), (req: Request, res: Response) => {
    let body: unknown;
    try {
      body = parseJsonBody(req);
    } catch {
      return sendIam(res, IAM.badBody);
    }
    const result = iam.issue(body, req.query.nocatalog === undefined || req.query.nocatalog === '', (deps.now ?? Date.now)());
    if (!result.ok) return sendIam(res, result.error);
    res.status(201).setHeader('X-Subject-Token', result.token);
    res.json(result.body);
  });

  // ---- ImageSearch v1 --------------------------------------------------------------------------
  const readBody = (req: Request, res: Response, next: NextFunction) =>
    rawBody(isAkSkRequest(req.rawHeaders) ? AKSK_BODY_LIMIT : TOKEN_BODY_LIMIT, PICTURE_FIELDS)(req, res, next);

  const authorize = (req: Request, res: Response, next: NextFunction) => {
    try {
      req.tenant = authenticate(ctx, req).tenant;
    } catch (e) {
      if (e instanceof HuaweiRefusal) return sendAnswer(req, res, e.answer, documented);
      return next(e);
    }
    next();
  };

  for (const { method, path: route, operation, schema, run } of ROUTES) {
    if (!run) continue; // the IAM route, above
    const path = expressPath(route);
    const hasBody = schema !== undefined;
    router[method](
      path,
      (req: Request, res: Response, next: NextFunction) => {
        if (isForeign(req)) return next('route');
        observe(res, NAME, operation);
        next();
      },
      readBody,
      authorize,
      async (req: Request, res: Response) => {
        try {
          observe(res, NAME, operation, req.tenant);
          await injectFault(res);
          const body = hasBody ? parseJsonBody(req) : undefined;
          const data = await run({ deps: opsDeps, tenant: req.tenant!, body, instance: (req.params as Record<string, string>).instance_name });
          res.status(200).json(data);
        } catch (e) {
          const answer = toHuaweiAnswer(e);
          if (isInternal(answer)) deps.log.error({ err: e, reqId: req.id, route: path }, 'huawei request failed');
          sendAnswer(req, res, answer, documented);
        }
      },
    );
  }

  // Unknown routes and methods, as the API gateway answers them, for requests that are Huawei's.
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (!hasHuaweiCredentials(req.rawHeaders) || isForeign(req)) return next();
    observe(res, NAME);
    sendGateway(req, res, GATEWAY.routeNotFound, documented);
  });

  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (req.path === IAM_TOKENS_PATH) return sendIam(res, err instanceof BodyTooLargeError ? IAM.tooLarge : IAM.badBody);
    const answer = toHuaweiAnswer(err);
    if (isInternal(answer)) deps.log.error({ err, reqId: req.id }, 'huawei request failed');
    sendAnswer(req, res, answer, documented);
  });
  return router;
}

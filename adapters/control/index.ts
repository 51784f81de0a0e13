/**
 * The gateway's own surface, for test suites and the people who run it (README.md in this folder):
 *   /_gateway/health, /_gateway/ready            liveness and readiness
 *   POST /_gateway/state/reset                   every tenant's data, or one tenant's (body or ?tenant=)
 *   GET|DELETE /_gateway/requests                recent calls per vendor with status and error code
 *   GET|POST|DELETE /_gateway/faults[/:id]       fault injection per vendor/operation
 *   /metrics                                     Prometheus
 *   /_localstack/state/reset, /moto-api/reset, /_localstack/health   aliases LocalStack and moto users call
 * and the middleware that observes every request (request log, metrics, access log).
 */
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import type { Engine } from '../../core/engine';
import type { AuthConfig, ControlConfig } from '../config';
import { attachFaults, observationOf } from '../http/observe';
import { parseJsonBody, rawBody } from '../http/raw-body';
import { validator } from '../http/validate';
import resetSchema from '../../schemas/gateway/reset.json';
import { requireAdmin } from './access';
import { sendControlError, sendThrown } from './answers';
import { FaultInjector, type FaultCatalogs } from './faults';
import { GatewayMetrics } from './metrics';
import { tenantLabel } from './tenant-label';
import { RequestLog } from './request-log';

export { GatewayMetrics } from './metrics';
export type { FaultCatalogs } from './faults';

/** Control request bodies are small JSON documents. */
const CONTROL_BODY_LIMIT = 64 * 1024;

export interface ControlDeps {
  engine: Engine;
  auth: AuthConfig;
  control?: ControlConfig;
  log: Logger;
  ready: () => boolean;
  metrics: GatewayMetrics;
  faults: FaultCatalogs;
  /** Empties the store (one tenant or all) and brings back what a fresh start has (configured libraries). */
  resetState?: (tenant?: string) => Promise<void>;
}

export interface ControlPlane {
  /** Mount first: observes every request. */
  observer: RequestHandler;
  /** Mount at /_gateway. */
  router: Router;
  /** Mount at the root: /metrics and the LocalStack/moto aliases. */
  rootRouter: Router;
  requestLog: RequestLog;
  injector: FaultInjector;
}

const validateReset = validator<{ tenant?: string }>(resetSchema);

export function createControlPlane(deps: ControlDeps): ControlPlane {
  const requestLog = new RequestLog(deps.control?.requestLogSize);
  const injector = new FaultInjector(deps.faults);
  const label = (tenant: string) => tenantLabel(deps.auth.mode, tenant);
  deps.metrics.watch(deps.engine, label);
  const admin = requireAdmin(deps.auth.mode, deps.control?.adminKeys);
  // Metrics name every tenant and library: behind the admin key by default in verify mode.
  const metricsAccess = deps.control?.metrics ?? (deps.auth.mode === 'verify' ? 'admin' : 'open');
  const json = rawBody(CONTROL_BODY_LIMIT);

  const observer: RequestHandler = (req, res, next) => {
    attachFaults(res, injector);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const o = observationOf(res);
      const vendor = o?.vendor;
      const errorCode = o?.errorCode ?? (res.statusCode >= 400 ? String(res.statusCode) : '');
      deps.metrics.observeRequest({ vendor: vendor ?? 'gateway', operation: o?.operation ?? '', status: res.statusCode, errorCode }, seconds);
      const durationMs = Math.round(seconds * 1e6) / 1e3;
      // Method and path only (no query string, headers or bodies: signatures, keys and images travel there).
      const path = req.originalUrl.split('?')[0];
      const tenant = o?.tenant === undefined ? undefined : label(o.tenant);
      const line = { reqId: req.id, vendor, operation: o?.operation, tenant, method: req.method, path, status: res.statusCode, errorCode: o?.errorCode, fault: o?.fault, ms: durationMs };
      if (!vendor) return deps.log.debug(line, 'request');
      deps.log.info(line, 'request');
      requestLog.add({
        time: new Date().toISOString(),
        requestId: req.id,
        vendor,
        operation: o?.operation ?? null,
        tenant: tenant ?? null,
        method: req.method,
        path,
        status: res.statusCode,
        errorCode: o?.errorCode ?? null,
        fault: o?.fault ?? null,
        durationMs,
      });
    });
    next();
  };

  async function reset(tenant: string | undefined): Promise<{ reset: string; ms: number }> {
    const started = performance.now();
    if (deps.resetState) await deps.resetState(tenant);
    else await deps.engine.reset(tenant);
    requestLog.clear(tenant === undefined ? undefined : label(tenant));
    if (tenant === undefined) injector.clear();
    deps.log.info({ tenant: tenant === undefined ? '*' : label(tenant) }, 'state reset');
    return { reset: tenant ?? 'all', ms: Math.round((performance.now() - started) * 1000) / 1000 };
  }

  const resetHandler = async (req: Request, res: Response) => {
    try {
      const body = validateReset(parseJsonBody(req));
      const fromQuery = typeof req.query.tenant === 'string' && req.query.tenant !== '' ? validateReset({ tenant: req.query.tenant }).tenant : undefined;
      res.status(200).json(await reset(body.tenant ?? fromQuery));
    } catch (e) {
      sendThrown(res, e);
    }
  };

  const router = Router();
  router.get('/health', (_req, res) => {
    res.status(deps.ready() ? 200 : 503).json({ status: deps.ready() ? 'ok' : 'starting' });
  });
  router.get('/ready', (_req, res) => {
    res.status(deps.ready() ? 200 : 503).json({ ready: deps.ready() });
  });
  router.post('/state/reset', admin, json, resetHandler);

  router.get('/requests', admin, (req, res) => {
    const q = req.query as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
    const limit = str(q.limit) === undefined ? undefined : Number(q.limit);
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) return sendControlError(res, 400, 'INVALID_ARGUMENT', 'limit must be a positive integer');
    res.json({ requests: requestLog.list({ vendor: str(q.vendor), operation: str(q.operation), tenant: str(q.tenant), limit }) });
  });
  router.delete('/requests', admin, (_req, res) => {
    requestLog.clear();
    res.status(204).end();
  });

  router.get('/faults', admin, (_req, res) => {
    res.json({ faults: injector.list(), catalog: deps.faults });
  });
  router.post('/faults', admin, json, (req, res) => {
    try {
      res.status(201).json(injector.add(parseJsonBody(req)));
    } catch (e) {
      sendThrown(res, e);
    }
  });
  router.delete('/faults', admin, (_req, res) => {
    injector.clear();
    res.status(204).end();
  });
  router.delete('/faults/:id', admin, (req, res) => {
    const id = String(req.params.id);
    if (!injector.remove(id)) return sendControlError(res, 404, 'NOT_FOUND', `no fault rule '${id}'`);
    res.status(204).end();
  });

  const rootRouter = Router();
  rootRouter.get('/metrics', metricsAccess === 'admin' ? admin : (_req, _res, next) => next(), async (_req, res) => {
    try {
      const { contentType, body } = await deps.metrics.render();
      res.status(200).type(contentType).send(body);
    } catch (e) {
      deps.log.error({ err: e }, 'metrics failed');
      sendThrown(res, e);
    }
  });
  // LocalStack (POST /_localstack/state/reset, GET /_localstack/health) and moto (POST /moto-api/reset):
  // no vendor uses these paths. Reset takes the same body and ?tenant= as /_gateway/state/reset.
  rootRouter.post('/_localstack/state/reset', admin, json, resetHandler);
  rootRouter.post('/moto-api/reset', admin, json, resetHandler);
  rootRouter.get('/_localstack/health', (_req, res) => {
    res.status(deps.ready() ? 200 : 503).json({ services: {}, edition: 'image-search-gateway', version: 'compatible' });
  });
  rootRouter.use(['/_localstack', '/moto-api'], (err: unknown, _req: Request, res: Response, _next: NextFunction) => sendThrown(res, err));
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => sendThrown(res, err));

  return { observer, router, rootRouter, requestLog, injector };
}

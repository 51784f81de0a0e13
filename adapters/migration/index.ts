/**
 * The migration layer: mounted ahead of the vendor adapters, it decides per vendor and per library whether
 * a request is served locally (it falls through to the adapter untouched), forwarded to the vendor's own
 * endpoint unchanged (`upstream`), or both (`shadow`: the client gets the vendor's answer, the gateway
 * replays the call locally and records agreement). GET /_gateway/migration shows the configuration and
 * the agreement figures. With no `migration` section only that route exists: nothing else changes.
 */
import http from 'node:http';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import type { Logger } from 'pino';

type ProxyHandler = (req: Request, res: Response, next: NextFunction) => void;
import type { MigrationConfig, RouteMode, VendorMigrationConfig } from '../config';
import { BodyTooLargeError, rawBody } from '../http/raw-body';
import { AgreementStats } from './agreement';
import { LOCAL_REPLAY_HEADER, UPSTREAM_TIMEOUT_MS_DEFAULT } from './limits';
import { modeOf, uniformMode } from './modes';
import { ReplayQueues, replayLocally, replayRequestOf, type Captured } from './shadow';
import type { Call, MigrationHooks, VendorAdapter } from '../vendor';

export { AgreementStats, type LibraryFigures } from './agreement';
export { registerMigrationMetrics } from './metrics';

export const STATUS_PATH = '/_gateway/migration';

/** The largest upstream answer kept for comparison (search answers are far smaller). */
const CAPTURE_MAX_BYTES = 16 * 1024 * 1024;

/** Hop-by-hop headers: the proxy's own connection to the upstream decides them. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer', LOCAL_REPLAY_HEADER]);

interface Routed {
  vendor: string;
  call: Call;
  mode: RouteMode;
  started: bigint;
  timedOut?: boolean;
  /** Shadow: the upstream answer, delivered once it is complete (undefined when it failed). */
  upstream?: (answer: Captured | undefined) => void;
}

declare module 'express-serve-static-core' {
  interface Request {
    migration?: Routed;
  }
}

/** A vendor's hooks under the name they are reported by. */
type VendorRules = MigrationHooks & { name: string };

interface VendorRoute {
  rules: VendorRules;
  config: VendorMigrationConfig;
  proxy?: ProxyHandler;
}

export interface Migration {
  router: Router;
  stats: AgreementStats;
}

/** `vendors`: the adapters mounted, in mount order (adapters/vendors.ts): the first that owns a request has it. */
export function createMigration(config: MigrationConfig | undefined, vendors: readonly VendorAdapter[], log: Logger): Migration {
  const stats = new AgreementStats();
  const queues = new ReplayQueues((key, n) => {
    const [vendor, library] = key.split('\u001f');
    stats.setPending(vendor, library, n);
  });
  const secret = randomBytes(24).toString('hex');
  const routes: VendorRoute[] = vendors.filter((v) => config?.[v.name]).map((v) => {
    const vendorConfig = config![v.name]!;
    const rules: VendorRules = { ...v.migration, name: v.name };
    return { rules, config: vendorConfig, proxy: vendorConfig.upstream ? upstreamProxy(rules, vendorConfig, stats, log) : undefined };
  });

  const router = Router();
  router.get(STATUS_PATH, (_req, res) => {
    res.json({
      vendors: routes.map(({ rules, config: c }) => ({
        vendor: rules.name,
        upstream: c.upstream ? new URL(c.upstream).origin : null,
        mode: c.mode ?? 'local',
        libraries: { ...(c.libraries ?? {}) },
      })),
      libraries: stats.figures(),
    });
  });
  if (routes.length === 0) return { router, stats };

  router.use((req: Request, res: Response, next: NextFunction) => {
    const replay = req.headers[LOCAL_REPLAY_HEADER];
    if (replay !== undefined) {
      // A shadow replay of this process goes to the local adapter; the header from anyone else is dropped.
      delete req.headers[LOCAL_REPLAY_HEADER];
      if (replay === secret) return next();
    }
    // The vendor whose request it is (the first in mount order that owns it); routed only when configured.
    const owner = vendors.find((v) => v.owns(req));
    const route = owner && routes.find((r) => r.rules.name === owner.name);
    if (!route) return next();
    route_(route, req, res, next).catch(next);
  });

  async function route_(route: VendorRoute, req: Request, res: Response, next: NextFunction): Promise<void> {
    const { rules, config: c } = route;
    const uniform = uniformMode(c);
    if (uniform === 'local') return next();
    let body: Buffer | undefined;
    // The body is read when the library names may be in it, and always for shadow (it is replayed).
    if (uniform === undefined ? rules.needsBody(req) : uniform === 'shadow') {
      const read = await readBody(req, res, rules.bodyLimit(req));
      if (read === 'too_large') return rules.sendFailure(req, res, 'too_large');
      if (read === 'aborted') return;
      body = read;
    }
    let call = rules.classify(req, body);
    let mode = uniform ?? modeOf(c, call.libraries);
    if (mode === 'local') return next();
    if (mode === 'shadow' && body === undefined) {
      const read = await readBody(req, res, rules.bodyLimit(req));
      if (read === 'too_large') return rules.sendFailure(req, res, 'too_large');
      if (read === 'aborted') return;
      body = read;
      call = rules.classify(req, body);
      mode = modeOf(c, call.libraries);
    }
    const routed: Routed = { vendor: rules.name, call, mode, started: process.hrtime.bigint() };
    if (mode === 'shadow') {
      const replay = replayRequestOf(req, body ?? Buffer.alloc(0));
      let deliver!: (answer: Captured | undefined) => void;
      const upstreamAnswer = new Promise<Captured | undefined>((resolve) => (deliver = resolve));
      routed.upstream = deliver;
      // Whatever happens to the upstream call (client gone, connection reset), the replay slot is released.
      res.on('close', () => deliver(undefined));
      const keys = (call.libraries.length > 0 ? call.libraries : ['']).map((l) => `${rules.name}\u001f${l}`);
      const queued = queues.enqueue(keys, call.kind, async () => {
        const up = await upstreamAnswer;
        if (!up) return; // the upstream failed: nothing to compare, nothing the client saw to mirror
        let local: Captured | undefined;
        try {
          local = await replayLocally(replay, secret);
        } catch (err) {
          log.warn({ err, vendor: rules.name, path: req.path }, 'shadow replay failed');
        }
        record(stats, rules, call, up, local);
      });
      if (!queued) {
        stats.replaySkipped(rules.name, call.libraries);
        routed.upstream = undefined;
      }
    }
    req.migration = routed;
    route.proxy!(req, res, next);
  }

  return { router, stats };
}

/** Shadow comparison of one call. */
function record(stats: AgreementStats, rules: VendorRules, call: Call, up: Captured, local: Captured | undefined): void {
  const localMs = local?.ms ?? 0;
  if (call.kind === 'search') {
    const upHits = rules.hits(up.status, up.body);
    if (!upHits) return; // the vendor refused the search: its status is counted already
    stats.searchCompared(rules.name, call.libraries, upHits, local ? rules.hits(local.status, local.body) : undefined, localMs);
  } else if (call.kind === 'write') {
    const agreed = local !== undefined && rules.succeeded(up.status, up.body) === rules.succeeded(local.status, local.body);
    stats.writeReplayed(rules.name, call.libraries, agreed, localMs);
  }
}

function readBody(req: Request, res: Response, limit: number): Promise<Buffer | 'too_large' | 'aborted'> {
  return new Promise((resolve) => {
    rawBody(limit)(req, res, (err?: unknown) => {
      if (err === undefined) resolve(req.rawBody ?? Buffer.alloc(0));
      else resolve(err instanceof BodyTooLargeError ? 'too_large' : 'aborted');
    });
  });
}

/** The raw request → the vendor's endpoint, unchanged; its answer (or the vendor's error for a failure) → the client. */
function upstreamProxy(rules: VendorRules, config: VendorMigrationConfig, stats: AgreementStats, log: Logger): ProxyHandler {
  const target = new URL(config.upstream!);
  const basePath = target.pathname.replace(/\/+$/, '');
  const agent = target.protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  const proxy = createProxyMiddleware<Request, Response>({
    target: target.origin,
    agent,
    changeOrigin: config.rewriteHost === true,
    proxyTimeout: config.timeoutMs ?? UPSTREAM_TIMEOUT_MS_DEFAULT,
    xfwd: false,
    preserveHeaderKeyCase: true,
    on: {
      proxyReq(proxyReq, req) {
        // The request line and headers exactly as received (http-proxy would normalise the path and
        // lower-case the names), then the body bytes as received when they were read here.
        proxyReq.path = basePath + req.originalUrl;
        for (const name of proxyReq.getHeaderNames()) if (!(name === 'host' && config.rewriteHost)) proxyReq.removeHeader(name);
        const headers = new Map<string, { name: string; values: string[] }>();
        for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
          const lower = req.rawHeaders[i].toLowerCase();
          if (HOP_BY_HOP.has(lower) || (lower === 'host' && config.rewriteHost)) continue;
          const entry = headers.get(lower) ?? { name: req.rawHeaders[i], values: [] };
          entry.values.push(req.rawHeaders[i + 1]);
          headers.set(lower, entry);
        }
        for (const { name, values } of headers.values()) proxyReq.setHeader(name, values.length === 1 ? values[0] : values);
        proxyReq.on('timeout', () => {
          if (req.migration) req.migration.timedOut = true;
        });
        if (req.rawBody && req.rawBody.length > 0) proxyReq.write(req.rawBody);
      },
      proxyRes(proxyRes, req) {
        const routed = req.migration!;
        const ms = Number(process.hrtime.bigint() - routed.started) / 1e6;
        stats.upstreamAnswered(routed.vendor, routed.call.libraries, routed.mode, proxyRes.statusCode ?? 0, ms);
        const deliver = routed.upstream;
        if (!deliver) return;
        const chunks: Buffer[] = [];
        let size = 0;
        proxyRes.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= CAPTURE_MAX_BYTES) chunks.push(c);
        });
        proxyRes.on('end', () => deliver(size <= CAPTURE_MAX_BYTES ? { status: proxyRes.statusCode ?? 0, body: Buffer.concat(chunks), ms } : undefined));
        proxyRes.on('error', () => deliver(undefined));
      },
      error(err, req, res) {
        const routed = (req as Request).migration;
        routed?.upstream?.(undefined);
        if (routed) stats.upstreamFailed(routed.vendor, routed.call.libraries, routed.mode);
        const failure = routed?.timedOut ? 'timeout' : 'unreachable';
        log.warn({ vendor: rules.name, path: (req as Request).path, failure, code: (err as NodeJS.ErrnoException).code }, 'upstream failed');
        const response = res as Response;
        if (typeof response.status !== 'function') return; // not an HTTP response (sockets are not proxied)
        if (response.headersSent) {
          response.destroy();
          return;
        }
        rules.sendFailure(req as Request, response, failure);
      },
    },
  });
  return (req, res, next) => void proxy(req, res, next);
}

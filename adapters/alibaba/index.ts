/**
 * Alibaba Cloud Image Search (2020-12-14): the RPC dispatch on "/" and the OSS-side routes. The handler
 * takes only what is Alibaba's, so other vendors can be mounted beside it:
 *   - GET or POST "/" naming an action (x-acs-action header, or Action in the query: V1 signature),
 *     or POST "/" with a form body (an Action given in the body only);
 *   - POST "/" with a multipart body: the OSS PostObject of the *Advance upload flow;
 *   - GET /_alibaba/files/<name>: MetaUrl / ErrorUrl downloads (signed, expiring links).
 * Everything else falls through to the next handler.
 *
 * Order of checks, as the platform does: action and version → signature → parameters → instance QPS.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { AlibabaConfig, AuthConfig } from '../config';
import { rawBody } from '../http/raw-body';
import { injectFault, observe } from '../http/observe';
import { faultOperations, type Identity } from '../vendor';
import { claimNonce, identify, type RequestParts } from './auth';
import { AlibabaError, alibabaFaultCatalog, newRequestId, sendError, toAlibabaError } from './errors';
import { API_VERSION, BODY_LIMIT, DEFAULT_REGION, OPEN_PLATFORM_VERSION } from './limits';
import { CONSOLE_ACTIONS, GET_ACTIONS, OPERATIONS, type AlibabaDeps } from './operations';
import { ROUTES } from './routes';
import { ALIBABA_PREFIX, DOWNLOAD_PREFIX, OssEmulator, OssError, ossErrorXml, parseMultipart, postResponseXml, type OssAddress } from './oss';
import { InstanceThrottle } from './throttle';
import { isAction, mergeParams, parseForm, type ParamPairs } from './params';

export type { AlibabaDeps } from './operations';
export type { OssAddress } from './oss';
export { DUMP_TASK_KIND, INCREMENT_TASK_KIND, dumpTaskHandler, incrementTaskHandler } from './tasks';

export interface AlibabaRouterOptions {
  /** The OSS PostObject listener (TLS), when the *Advance flow is enabled. */
  ossAddress?: () => OssAddress | undefined;
  /** The clock signatures are checked against (tests pin it). */
  now?: () => number;
}

/** The vendor's name in metrics, the request log and fault rules. */
export const NAME = 'alibaba';

/** Codes, throttling code and actions for /_gateway/faults. */
export const FAULT_CATALOG = alibabaFaultCatalog(faultOperations(ROUTES));

/** A form body: parameters may be there as well as in the query. */
export const FORM = /^application\/x-www-form-urlencoded/i;
const MULTIPART = /^multipart\/form-data/i;

/** The query string exactly as received. */
export function rawQuery(req: Request): string {
  const url = req.originalUrl ?? req.url;
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q + 1);
}

/**
 * Which of the adapter's requests this is, on method, path and headers (the body unread); undefined: not
 * Alibaba's. The router and the migration layer (adapter.ts owns: RPC calls only) decide with this alone.
 */
export function requestKind(req: Request): 'download' | 'rpc' | 'upload' | 'bad-method' | undefined {
  if (req.path === ALIBABA_PREFIX || req.path.startsWith(`${ALIBABA_PREFIX}/`)) return 'download';
  if (req.path !== '/') return undefined;
  const query = parseForm(rawQuery(req));
  const contentType = req.headers['content-type'] ?? '';
  const named = req.headers['x-acs-action'] !== undefined || query.some(([k]) => k === 'Action' || k === 'Signature');
  // An RPC call by its headers or parameters, with a method RPC does not take: the API's own 404.
  if (req.method !== 'GET' && req.method !== 'POST') return named ? 'bad-method' : undefined;
  if (named || (req.method === 'POST' && FORM.test(contentType))) return 'rpc';
  if (req.method === 'POST' && MULTIPART.test(contentType)) return 'upload';
  return undefined;
}

/** What the signature verifiers read of a request whose body has been read (raw). */
export function requestParts(req: Request): RequestParts {
  const body = req.rawBody ?? Buffer.alloc(0);
  const form = FORM.test(req.headers['content-type'] ?? '') ? parseForm(body.toString('utf8')) : [];
  return { method: req.method, query: parseForm(rawQuery(req)), form, rawHeaders: req.rawHeaders, body };
}

/** The adapter contract's authenticate (read the body first): the caller, or the vendor's error thrown. */
export function authenticate(auth: AuthConfig, req: Request, opts: { now: number }): Identity {
  return identify(auth, requestParts(req), opts);
}

function readBody(req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => rawBody(BODY_LIMIT)(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
}

export function alibabaRouter(deps: AlibabaDeps, auth: AuthConfig, log: Logger, options: AlibabaRouterOptions = {}): RequestHandler {
  const now = options.now ?? Date.now;

  /** GET /_alibaba/files/<name>?Expires&Signature; anything else under /_alibaba answers in OSS's XML words. */
  async function serveDownload(req: Request, res: Response): Promise<void> {
    const requestId = newRequestId();
    const host = req.headers.host ?? '';
    const send = (error: OssError) => void res.status(error.status).type('application/xml').send(ossErrorXml(error, requestId, host));
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(new OssError(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.'));
    let name = '';
    try {
      name = req.path.startsWith(`${DOWNLOAD_PREFIX}/`) ? decodeURIComponent(req.path.slice(DOWNLOAD_PREFIX.length + 1)) : '';
    } catch {
      // malformed percent-encoding: no file of ours has such a name
    }
    const expires = typeof req.query.Expires === 'string' ? req.query.Expires : undefined;
    const signature = typeof req.query.Signature === 'string' ? req.query.Signature : undefined;
    if (!/^[A-Za-z0-9-]+\.(meta|errors)$/.test(name) || !deps.oss.checkDownload(name, expires, signature)) {
      return send(new OssError(403, 'AccessDenied', 'Request has expired or the signature does not match.'));
    }
    const bytes = await readFile(path.join(deps.dirs.outputDir, name)).catch(() => undefined);
    if (!bytes) {
      res.status(404).type('application/xml').send(ossErrorXml(new OssError(404, 'NoSuchKey', 'The specified key does not exist.'), requestId, host));
      return;
    }
    res.status(200).type('application/octet-stream').send(bytes);
  }

  async function postObject(req: Request, res: Response, requestId: string): Promise<void> {
    const host = req.headers.host ?? '';
    try {
      await readBody(req, res);
      const { fields, file } = parseMultipart(req.rawBody!, req.headers['content-type'] ?? '');
      const key = await deps.oss.accept(fields, file);
      const status = fields.success_action_status === '201' ? 201 : fields.success_action_status === '200' ? 200 : 204;
      res.status(status).type('application/xml').send(status === 204 ? '' : postResponseXml(host.split('.')[0], `https://${host}/${key}`, key, file!));
    } catch (e) {
      const error = e instanceof OssError ? e : new OssError(400, 'InvalidArgument', 'The upload could not be read.');
      res.status(error.status).type('application/xml').send(ossErrorXml(error, requestId, host));
    }
  }

  function uploadTicket(tenant: string): Record<string, unknown> {
    const address = options.ossAddress?.();
    if (!address) throw new AlibabaError('InvalidAction.NotFound', 'AuthorizeFileUpload needs the gateway OSS listener (alibaba.oss in the config).');
    return { ...deps.oss.ticket(tenant, deps.region, address) };
  }

  async function rpc(req: Request, res: Response, requestId: string, query: ParamPairs): Promise<void> {
    let action: string | undefined;
    observe(res, NAME);
    try {
      await readBody(req, res);
      const body = req.rawBody ?? Buffer.alloc(0);
      const form = FORM.test(req.headers['content-type'] ?? '') ? parseForm(body.toString('utf8')) : [];
      const param = (name: string) => query.find(([k]) => k === name)?.[1] ?? form.find(([k]) => k === name)?.[1];
      const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined);
      // V1 names the action in the signed parameters; V3 in the signed x-acs-action header.
      const v1 = query.some(([k]) => k === 'Signature') || param('Action') !== undefined;
      action = v1 ? param('Action') : header('x-acs-action');
      const version = v1 ? param('Version') : header('x-acs-version');
      if (v1 && header('x-acs-action') !== undefined && header('x-acs-action') !== action) {
        throw AlibabaError.badRequest('The x-acs-action header does not match the Action parameter.');
      }
      if (action === undefined) throw new AlibabaError('MissingParameter', 'The input parameter "Action" that is mandatory for processing this request is not supplied.');
      if (isAction(action)) observe(res, NAME, action);
      const parts: RequestParts = { method: req.method, query, form, rawHeaders: req.rawHeaders, body };

      const verify = async () => {
        const caller = identify(auth, parts, { now: now() });
        await claimNonce(caller.principal, deps.engine);
        return caller;
      };
      if (action === 'AuthorizeFileUpload' && version === OPEN_PLATFORM_VERSION) {
        const caller = await verify();
        res.status(200).json({ RequestId: requestId, ...uploadTicket(caller.tenant) });
        return;
      }
      if (!isAction(action) || (req.method === 'GET' && !GET_ACTIONS.has(action))) throw new AlibabaError('InvalidAction.NotFound');
      if (version !== API_VERSION) throw new AlibabaError('InvalidVersion');
      const caller = await verify();
      const params = mergeParams(query, form);
      observe(res, NAME, action, caller.tenant);
      await injectFault(res);
      if (params.InstanceName !== undefined && !deps.throttle.admit(caller.tenant, params.InstanceName)) throw new AlibabaError('DeniedRequest');
      const baseUrl = `${req.protocol}://${req.headers.host ?? 'localhost'}`;
      const answer = await OPERATIONS[action]({ deps, tenant: caller.tenant, params, baseUrl });
      res.status(200).json({ RequestId: requestId, ...answer });
    } catch (e) {
      const error = toAlibabaError(e, action !== undefined && CONSOLE_ACTIONS.has(action) ? 'console' : 'data');
      if (error.status >= 500 && error.code !== 'UnsupportedInstanceType') log.error({ err: e, reqId: req.id, action }, 'alibaba request failed');
      else if (error.detail) log.info({ reqId: req.id, action, code: error.code, detail: error.detail }, 'alibaba request refused');
      sendError(res, error, requestId, req.headers.host);
    }
  }

  return (req: Request, res: Response, next: NextFunction) => {
    const kind = requestKind(req);
    if (kind === undefined) return next();
    if (kind === 'download') return void serveDownload(req, res).catch(next);
    if (kind === 'bad-method') {
      observe(res, NAME);
      return sendError(res, new AlibabaError('InvalidAction.NotFound'), newRequestId(), req.headers.host);
    }
    const requestId = newRequestId();
    res.setHeader('x-acs-request-id', requestId);
    if (kind === 'upload') return void postObject(req, res, requestId);
    return void rpc(req, res, requestId, parseForm(rawQuery(req)));
  };
}

/** The adapter's parts as the composition root builds them (bin/gateway.ts). */
export function createAlibabaDeps(
  base: Pick<AlibabaDeps, 'engine' | 'tasks' | 'fetchImage' | 'dirs'>,
  config: AlibabaConfig | undefined,
): AlibabaDeps {
  return {
    ...base,
    oss: new OssEmulator({ spoolDir: path.join(base.dirs.outputDir, 'uploads'), tenantQuotaBytes: config?.uploadQuotaBytes }),
    throttle: new InstanceThrottle(config?.instances ?? []),
    region: config?.region ?? DEFAULT_REGION,
  };
}

/**
 * The contract every vendor adapter fulfils: what the rest of the gateway (app, control plane, OpenAPI
 * documents, metrics, fault injection, migration, `isg import`, `isg parity`) may know of a vendor. A vendor
 * is one folder, adapters/<vendor>/, whose adapter.ts exports one `VendorAdapter`; adapters/vendors.ts lists
 * them in mount order. Nothing outside a vendor's folder names it (tests/unit/vendor-layout.test.ts).
 */
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { Engine } from '../core/engine';
import type { ImageLimits } from '../core/image';
import type { UrlFetcher } from '../core/net/fetch';
import type { TaskRunner } from '../core/tasks';
import type { GatewayConfig } from './config';
import type { UrlSealer } from './http/sealed-url';
import type { ImportSource } from './migration/import-source';
import type { VendorParity } from './parity/types';

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';

/** search: answers are compared in shadow mode; write: replayed locally in order; other: replayed, not compared. */
export type CallKind = 'search' | 'write' | 'other';

/** One route of a vendor API: the single table its router, OpenAPI document, metrics, faults and migration read. */
export interface VendorRoute {
  method: HttpMethod;
  /** Below `docs.server`, OpenAPI style: `{name}` is a path parameter. */
  path: string;
  /** The operation's name in the request log, metrics, fault rules and the OpenAPI operationId. */
  operation: string;
  /** `<schemaDir>/<schema>.json`, when the request has a body (or form parameters). */
  schema?: string;
  summary: string;
  /** Where the body goes: JSON (default) or a form. */
  body?: 'json' | 'form';
  /** Whether a body is required (default: unless the method is DELETE). */
  bodyRequired?: boolean;
  /** How migration treats the call (default other). */
  kind?: CallKind;
  /** false: the route never consults fault injection (so rules cannot name it). */
  faults?: false;
}

/** The vendor's OpenAPI document header (adapters/control/openapi.ts builds the rest from the routes). */
export interface VendorDocs {
  title: string;
  description: string;
  /** Where the route paths are mounted: '/' or a prefix such as /v1/image. */
  server: string;
  /** A schema file shared by the others (`_common.json`) and the `$id` their `$ref`s name it by. */
  common?: { schema: string; id: string };
}

/** What fault injection may make the vendor answer: codes of its own error table and its throttling code. */
export interface ErrorCatalogue {
  codes: readonly string[];
  throttle: string;
}

/** The caller of a request, as every adapter's auth.ts reports it. */
export interface Identity<Principal = unknown> {
  tenant: string;
  /** Who the credentials name, in the vendor's terms (an access key id, an IAM principal, ...). */
  principal: Principal;
}

/** The instance / group / library names a request addresses, and what migration does with it. */
export interface Call {
  /** Empty: none (e.g. a list of groups). */
  libraries: string[];
  kind: CallKind;
}

/** One result of a search answer: a key unique within the answer, and its score. */
export interface Hit {
  key: string;
  score: number;
}

/** Why the gateway answers instead of the vendor's own endpoint. */
export type UpstreamFailure = 'timeout' | 'unreachable' | 'too_large';

/** What the migration layer (adapters/migration) must know of the vendor's wire protocol, and nothing more. */
export interface MigrationHooks {
  /** The largest body the adapter accepts for this request. */
  bodyLimit(req: Request): number;
  /** Whether the library names are (possibly) in the body. */
  needsBody(req: Request): boolean;
  classify(req: Request, body: Buffer | undefined): Call;
  /** The hits of a successful search answer; undefined when the answer is not one. */
  hits(status: number, body: Buffer): Hit[] | undefined;
  /** Whether an answer is the vendor's success. */
  succeeded(status: number, body: Buffer): boolean;
  /** Answers in the vendor's own error shape (its "unavailable", or its body-too-large). */
  sendFailure(req: Request, res: Response, failure: UpstreamFailure): void;
}

/** A vendor's import format for `isg import --vendor <name>`. */
export interface ImportReader {
  /** For --help: what the files look like. */
  describe: string;
  read(source: string): ImportSource;
}

/** Everything the composition root hands an adapter when it mounts it. */
export interface VendorContext {
  engine: Engine;
  tasks: TaskRunner;
  config: GatewayConfig;
  log: Logger;
  urls: UrlSealer;
  /** The gateway's data folder: a vendor keeps files of its own under `<dataDir>/<vendor name>`. */
  dataDir: string;
  /** An SSRF-guarded downloader with the config's allow-list and timeout, of at most maxBytes. */
  fetcher(maxBytes: number): UrlFetcher;
}

/** An HTTPS listener of the same app a vendor asks for (e.g. an upload endpoint its SDK needs). */
export interface ExtraListener {
  /** The config section, for errors. */
  section: string;
  host?: string;
  port: number;
  certFile: string;
  keyFile: string;
  /** Told where it listens once it does. */
  listening(address: { host: string; port: number }): void;
}

/** An adapter mounted for one app. */
export interface MountedVendor {
  /** Mounted at the app root in list order: answers what is the vendor's, passes the rest on (next()). */
  router: RequestHandler;
  /** The caller of a request: its tenant and principal; throws the vendor's own refusal. */
  authenticate(req: Request): Identity;
  /** HTTPS listeners beside the main one (started by bin/gateway.ts, closed with it). */
  listeners?: ExtraListener[];
}

export interface VendorAdapter {
  /** Lower-case; the name in metrics, the request log, fault rules, /docs/<name>.json, config sections. */
  name: string;
  docs: VendorDocs;
  routes: readonly VendorRoute[];
  /** The folder of the request schemas the routes name (default schemas/<name>). */
  schemaDir?: string;
  errors: ErrorCatalogue;
  /** The vendor's image rules, and the JSON body members that carry pictures (decoded ahead, raw-body.ts). */
  images: { limits: ImageLimits; pictureFields?: ReadonlySet<string> };
  /**
   * The request is this vendor's, decided on method, path and headers (the body is not read yet). Asked in
   * list order, so it need not exclude what an earlier vendor owns.
   */
  owns(req: Request): boolean;
  migration: MigrationHooks;
  importReader?: ImportReader;
  /** `isg parity`: the vendor's recorded scenario. */
  parity?: VendorParity;
  mount(ctx: VendorContext): MountedVendor;
}

/** The operations fault rules may name: every route's, unless it opts out. */
export function faultOperations(routes: readonly VendorRoute[]): string[] {
  return [...new Set(routes.filter((r) => r.faults !== false).map((r) => r.operation))];
}

/** A route path in express's words: `{name}` → `:name`. */
export function expressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

const compiled = new WeakMap<VendorRoute, RegExp>();

function matcher(route: VendorRoute): RegExp {
  let re = compiled.get(route);
  if (!re) {
    const source = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '([^/]+)');
    compiled.set(route, (re = new RegExp(`^${source}$`)));
  }
  return re;
}

/**
 * The route a request (method, path below the server prefix) is, with its path parameters in order;
 * method undefined: the first route of that path, whatever its method.
 */
export function matchRoute(routes: readonly VendorRoute[], method: string | undefined, path: string): { route: VendorRoute; params: string[] } | undefined {
  const m = method?.toLowerCase();
  for (const route of routes) {
    if (m !== undefined && route.method !== m) continue;
    const hit = matcher(route).exec(path);
    if (hit) return { route, params: hit.slice(1) };
  }
  return undefined;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** The caller's tenant, set by the adapter that authenticated the request. */
    tenant?: string;
  }
}

/** An `owns` for a vendor whose API lives under one path prefix: the prefix itself and everything below it. */
export function underPrefix(prefix: string): (req: Request) => boolean {
  return (req) => req.path === prefix || req.path.startsWith(`${prefix}/`);
}

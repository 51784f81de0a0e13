/**
 * The composition root: the one place that wires core (store, models, engine, tasks) to the adapters
 * and an HTTP server. `startGateway` is what `isg serve` runs and what end-to-end tests start.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { createApp } from '../adapters/app';
import { GatewayMetrics } from '../adapters/control/metrics';
import { UrlSealer } from '../adapters/http/sealed-url';
import type { ExtraListener, VendorAdapter } from '../adapters/vendor';
import { Engine } from '../core/engine';
import { ModelRegistry } from '../core/embed/registry';
import { AlreadyExistsError } from '../core/errors';
import { decodeBudget } from '../core/image/decode-budget';
import { createUrlFetcher } from '../core/net/fetch';
import type { LibraryMode } from '../core/records';
import { openStore } from '../core/store/open-store';
import { TaskRunner } from '../core/tasks';
import { ConfigError, isLoopbackHost, type Settings } from './config';
import { applyIdleTimeout, serverOptions, type ServerTimeouts } from './server-timeouts';

export interface Gateway {
  url: string;
  /** The HTTPS listener's URL, when server.tls is set (the same app on a second port). */
  tlsUrl?: string;
  engine: Engine;
  tasks: TaskRunner;
  log: Logger;
  close(): Promise<void>;
}

export interface GatewayOptions {
  /** The vendor adapters to serve, in mount order (default adapters/vendors.ts). */
  vendors?: readonly VendorAdapter[];
}

export async function startGateway(settings: Settings, log: Logger = pino({ level: settings.logLevel }), options: GatewayOptions = {}): Promise<Gateway> {
  const { gateway: config } = settings;
  if (config.auth.mode === 'open' && !isLoopbackHost(settings.host) && !config.auth.allowOpenRemote) {
    throw new ConfigError(
      `open auth mode accepts any credentials, so it listens on loopback only; ` +
        `set auth.mode "verify", or auth.allowOpenRemote true, to listen on ${settings.host}`,
    );
  }
  mkdirSync(settings.dataDir, { recursive: true });
  mkdirSync(config.imports.dir, { recursive: true });
  decodeBudget.limitBytes = settings.decodeBudgetBytes; // process-wide: every decode of every API shares it

  const store = await openStore(settings.store ?? { kind: 'embedded', dir: path.join(settings.dataDir, 'store'), annThreshold: settings.annThreshold });
  const metrics = new GatewayMetrics();
  const models = new ModelRegistry(settings.modelsDir, settings.defaultModel, { ...config.embedding, onBatch: metrics.observeBatch });
  await models.get(settings.defaultModel); // fail at start, not at the first request
  const engine = new Engine(store, models, { views: settings.views });
  await createConfiguredLibraries(engine, settings);

  const urls = UrlSealer.open(settings.dataDir);
  const tasks = new TaskRunner(store, { onError: (task, err) => log.warn({ taskId: task.id, err }, 'task failed') });
  const fetchOptions = { allowHosts: config.fetch.allowHosts, timeoutMs: config.fetch.timeoutMs };
  const fetcher = (maxBytes: number) => createUrlFetcher({ ...fetchOptions, maxBytes });

  let ready = false;
  // Reset: empty the store, then bring back the configured libraries of the tenants reset.
  const resetState = async (tenant?: string) => {
    await store.reset(tenant);
    await createConfiguredLibraries(engine, settings, tenant);
  };
  const { app, vendors } = createApp({ engine, tasks, config, log, ready: () => ready, metrics, resetState, urls, dataDir: settings.dataDir, fetcher, vendors: options.vendors });
  const server = http.createServer(serverOptions(settings.timeouts), app);
  applyIdleTimeout(server, settings.timeouts);
  const draining = drainOnClose(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolve());
  });
  const tls = settings.tls ? await listenHttps(app, settings.tls, settings.host, settings.timeouts, 'server.tls') : undefined;
  const tlsDraining = tls && drainOnClose(tls.server);
  // HTTPS listeners vendors ask for beside the main one (e.g. an upload endpoint their SDK needs).
  const extra: Array<{ close(): Promise<void> }> = [];
  const closeExtra = () => Promise.all(extra.map((l) => l.close()));
  try {
    for (const listener of vendors.flatMap((v) => v.mounted.listeners ?? [])) extra.push(await listenExtra(app, listener, settings.host, settings.timeouts));
  } catch (e) {
    await closeExtra();
    throw e;
  }
  const resumed = await tasks.resumeAll();
  ready = true;
  const { port } = server.address() as AddressInfo;
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  const url = `http://${host}:${port}`;
  const tlsUrl = tls && `https://${host}:${tls.address.port}`;
  log.info({ url, ...(tlsUrl ? { tlsUrl } : {}), dataDir: settings.dataDir, auth: config.auth.mode, resumedTasks: resumed }, 'gateway listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      ready = false;
      // Stop accepting connections, let in-flight requests finish, then release the store.
      tlsDraining?.start();
      await Promise.all([
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          draining.start();
        }),
        tls?.close(),
      ]);
      await closeExtra();
      await tasks.stop();
      await store.close();
      await models.close();
    })());
  return { url, tlsUrl, engine, tasks, log, close };
}

/**
 * Graceful shutdown of keep-alive connections: server.close() only closes the connections idle at that
 * moment, so a request in flight would keep its connection (and close()) open after it is answered.
 * Once draining, answers not yet sent say Connection: close, and each finished answer closes what is idle.
 */
function drainOnClose(server: http.Server) {
  const open = new Set<http.ServerResponse>();
  let draining = false;
  server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    open.add(res);
    if (draining) res.shouldKeepAlive = false;
    res.on('close', () => {
      open.delete(res);
      if (draining) setImmediate(() => server.closeIdleConnections());
    });
  });
  return {
    start() {
      draining = true;
      for (const res of open) if (!res.headersSent) res.shouldKeepAlive = false;
    },
  };
}

async function createConfiguredLibraries(engine: Engine, settings: Settings, onlyTenant?: string): Promise<void> {
  for (const lib of settings.gateway.libraries) {
    if (onlyTenant !== undefined && lib.tenant !== onlyTenant) continue;
    try {
      await engine.createLibrary(lib.tenant, { name: lib.name, mode: lib.mode as LibraryMode, model: lib.model, description: lib.description, views: lib.views });
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw new ConfigError(`libraries: cannot create '${lib.name}': ${(e as Error).message}`);
    }
  }
}

/** A vendor's HTTPS listener of the app; it is told its address once listening. */
async function listenExtra(app: http.RequestListener, listener: ExtraListener, defaultHost: string, timeouts: ServerTimeouts) {
  const https = await listenHttps(app, listener, listener.host ?? defaultHost, timeouts, listener.section);
  listener.listening(https.address);
  return https;
}

/** An HTTPS listener of the app (server.tls, a vendor's listener), with the timeouts of every listener. */
async function listenHttps(app: http.RequestListener, files: { certFile: string; keyFile: string; port: number }, host: string, timeouts: ServerTimeouts, section: string) {
  let tls: { cert: Buffer; key: Buffer };
  try {
    tls = { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
  } catch (e) {
    throw new ConfigError(`${section}: cannot read the certificate or key: ${(e as Error).message}`);
  }
  let server: https.Server;
  try {
    server = https.createServer({ ...tls, ...serverOptions(timeouts) }, app);
  } catch (e) {
    throw new ConfigError(`${section}: the certificate or key is not usable: ${(e as Error).message}`);
  }
  applyIdleTimeout(server, timeouts);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(files.port, host, () => resolve());
  });
  const address = { host, port: (server.address() as AddressInfo).port };
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  return { server, address, close };
}

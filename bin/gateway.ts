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
import { importTaskHandler, IMPORT_TASK_KIND } from '../adapters/operator/import-task';
import { IMPORT_FILE_MAX_BYTES } from '../adapters/operator/limits';
import { IMAGE_LIMITS as QINIU_IMAGE_LIMITS } from '../adapters/qiniu/limits';
import { IMAGE_LIMITS as HUAWEI_IMAGE_LIMITS } from '../adapters/huawei/limits';
import { createAlibabaDeps, dumpTaskHandler, incrementTaskHandler, DUMP_TASK_KIND, INCREMENT_TASK_KIND, type OssAddress } from '../adapters/alibaba';
import { IMAGE_LIMITS as ALIBABA_IMAGE_LIMITS } from '../adapters/alibaba/limits';
import type { AlibabaConfig } from '../adapters/config';
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

export async function startGateway(settings: Settings, log: Logger = pino({ level: settings.logLevel })): Promise<Gateway> {
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
  tasks.register(
    IMPORT_TASK_KIND,
    importTaskHandler(engine, {
      importDir: config.imports.dir,
      fetchImage: createUrlFetcher({ ...fetchOptions, maxBytes: config.fetch.maxBytes }),
      fetchFile: createUrlFetcher({ ...fetchOptions, maxBytes: IMPORT_FILE_MAX_BYTES }),
      urls,
    }),
  );

  const alibabaDirs = { outputDir: path.join(settings.dataDir, 'alibaba'), importDir: config.imports.dir };
  tasks.register(DUMP_TASK_KIND, dumpTaskHandler(engine, alibabaDirs));
  tasks.register(INCREMENT_TASK_KIND, incrementTaskHandler(engine, alibabaDirs));
  const alibabaFetchImage = createUrlFetcher({ ...fetchOptions, maxBytes: Math.min(config.fetch.maxBytes, ALIBABA_IMAGE_LIMITS.maxBytes!) });
  const alibaba = createAlibabaDeps({ engine, tasks, dirs: alibabaDirs, fetchImage: alibabaFetchImage }, config.alibaba);
  let alibabaOss: { address: OssAddress; close(): Promise<void> } | undefined;

  let ready = false;
  const qiniuFetchImage = createUrlFetcher({ ...fetchOptions, maxBytes: Math.min(config.fetch.maxBytes, QINIU_IMAGE_LIMITS.maxBytes!) });
  const huaweiFetchImage = createUrlFetcher({ ...fetchOptions, maxBytes: Math.min(config.fetch.maxBytes, HUAWEI_IMAGE_LIMITS.maxBytes!) });
  // Reset: empty the store, then bring back the configured libraries of the tenants reset.
  const resetState = async (tenant?: string) => {
    await store.reset(tenant);
    await createConfiguredLibraries(engine, settings, tenant);
  };
  const app = createApp({ engine, tasks, config, log, ready: () => ready, qiniuFetchImage, huaweiFetchImage, alibaba, alibabaOssAddress: () => alibabaOss?.address, metrics, resetState, urls });
  const server = http.createServer(serverOptions(settings.timeouts), app);
  applyIdleTimeout(server, settings.timeouts);
  const draining = drainOnClose(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolve());
  });
  const tls = settings.tls ? await listenHttps(app, settings.tls, settings.host, settings.timeouts, 'server.tls') : undefined;
  const tlsDraining = tls && drainOnClose(tls.server);
  if (config.alibaba?.oss) alibabaOss = await listenAlibabaOss(app, config.alibaba.oss, settings.host, settings.timeouts);
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
      await alibabaOss?.close();
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

/** The TLS listener the Alibaba SDK's *Advance methods upload to (OSS PostObject on the same app). */
function listenAlibabaOss(app: http.RequestListener, oss: NonNullable<AlibabaConfig['oss']>, defaultHost: string, timeouts: ServerTimeouts) {
  return listenHttps(app, oss, oss.host ?? defaultHost, timeouts, 'alibaba.oss');
}

/** An HTTPS listener of the app (server.tls, alibaba.oss), with the timeouts of every listener. */
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
  const address: OssAddress = { host, port: (server.address() as AddressInfo).port };
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  return { server, address, close };
}

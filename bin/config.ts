/**
 * Settings from, in order of precedence: command-line flags, ISG_* environment variables, the JSON config
 * file (schemas/config.json), defaults.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import type { GatewayConfig } from '../adapters/config';
import configSchema from '../schemas/config.json';
import { DEFAULT_DECODE_BUDGET_BYTES } from '../core/image/decode-budget';
import type { EngineOptions } from '../core/engine';
import type { StoreConfig } from '../core/store/open-store';
import { DEFAULT_SERVER_TIMEOUTS, type ServerTimeouts } from './server-timeouts';
import { storeConfigFrom, StoreSettingsError } from './store-settings';

export interface Settings {
  host: string;
  port: number;
  dataDir: string;
  modelsDir: string;
  defaultModel: string;
  /** The views new libraries index images by (EngineOptions.views; models.views in the config file). */
  views: EngineOptions['views'];
  annThreshold?: number;
  /** Which store to open (absent: the embedded store in dataDir/store). */
  store?: StoreConfig;
  logLevel: string;
  /** Memory all image decodes in flight may take (images.decodeBudgetBytes; core/image/decode-budget.ts). */
  decodeBudgetBytes: number;
  /** Header, request, idle and keep-alive timeouts of every listener (server.timeouts). */
  timeouts: ServerTimeouts;
  /** A second listener speaking HTTPS, beside the HTTP one (server.tls; isg serve --tls-cert/--tls-key). */
  tls?: TlsSettings;
  gateway: GatewayConfig;
}

export interface Overrides {
  host?: string;
  port?: number;
  dataDir?: string;
  configFile?: string;
  tls?: Partial<TlsSettings>;
}

/** The HTTPS listener: certificate chain and key (PEM files), and its port (default 8443). */
export interface TlsSettings {
  certFile: string;
  keyFile: string;
  port: number;
}

export const DEFAULT_TLS_PORT = 8443;

/** The package root: models/ ships beside bin/ (dist/bin when compiled). */
export const PACKAGE_ROOT = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');

const DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  dataDir: './data',
  fetch: { allowHosts: [] as string[], maxBytes: 20 * 1024 * 1024, timeoutMs: 10_000 },
};

export class ConfigError extends Error {}

export function loadSettings(overrides: Overrides = {}, env: NodeJS.ProcessEnv = process.env): Settings {
  const configFile = overrides.configFile ?? env.ISG_CONFIG;
  const file = configFile ? readConfigFile(configFile) : {};
  const port = overrides.port ?? numberFromEnv(env.ISG_PORT, 'ISG_PORT') ?? file.server?.port ?? DEFAULTS.port;
  const host = overrides.host ?? env.ISG_HOST ?? file.server?.host ?? DEFAULTS.host;
  const dataDir = path.resolve(overrides.dataDir ?? env.ISG_DATA_DIR ?? file.dataDir ?? DEFAULTS.dataDir);
  const gateway: GatewayConfig = {
    auth: {
      mode: file.auth?.mode ?? 'open',
      tokenSecret: file.auth?.tokenSecret,
      tenants: file.auth?.tenants ?? [],
      allowOpenRemote: file.auth?.allowOpenRemote,
    },
    libraries: file.libraries ?? [],
    fetch: { ...DEFAULTS.fetch, ...file.fetch },
    imports: { dir: path.resolve(file.imports?.dir ?? path.join(dataDir, 'imports')) },
    huawei: file.huawei,
    qiniu: file.qiniu,
    alibaba: file.alibaba,
    control: file.control,
    embedding: file.embedding,
    migration: migrationSettings(file.migration),
  };
  return {
    host,
    port,
    dataDir,
    modelsDir: path.resolve(file.models?.dir ?? path.join(PACKAGE_ROOT, 'models')),
    defaultModel: file.models?.default ?? 'default',
    views: file.models?.views ?? 'model',
    annThreshold: file.store?.annThreshold,
    store: storeSettings(file.store, env, dataDir),
    logLevel: env.ISG_LOG_LEVEL ?? file.log?.level ?? 'info',
    decodeBudgetBytes: file.images?.decodeBudgetBytes ?? DEFAULT_DECODE_BUDGET_BYTES,
    timeouts: { ...DEFAULT_SERVER_TIMEOUTS, ...file.server?.timeouts },
    tls: tlsSettings(overrides.tls, env, file.server?.tls),
    gateway,
  };
}

/** server.tls, ISG_TLS_CERT/KEY/PORT, then the flags: a certificate and a key, or no HTTPS at all. */
function tlsSettings(flags: Partial<TlsSettings> = {}, env: NodeJS.ProcessEnv, section: Partial<TlsSettings> = {}): TlsSettings | undefined {
  const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as Partial<T>;
  const fromEnv = { certFile: env.ISG_TLS_CERT, keyFile: env.ISG_TLS_KEY, port: numberFromEnv(env.ISG_TLS_PORT, 'ISG_TLS_PORT') };
  const given = { ...defined(section), ...defined(fromEnv), ...defined(flags) };
  if (given.certFile === undefined && given.keyFile === undefined) return undefined;
  if (given.certFile === undefined || given.keyFile === undefined) throw new ConfigError('HTTPS needs both a certificate and its key: server.tls.certFile and keyFile (isg serve --tls-cert and --tls-key)');
  return { certFile: path.resolve(given.certFile), keyFile: path.resolve(given.keyFile), port: given.port ?? DEFAULT_TLS_PORT };
}

/** The migration section as given; a vendor that sends anything upstream must name its upstream. */
function migrationSettings(section: GatewayConfig['migration']): GatewayConfig['migration'] {
  for (const [vendor, v] of Object.entries(section ?? {})) {
    if (!v) continue;
    const modes = [v.mode ?? 'local', ...Object.values(v.libraries ?? {})];
    if (modes.some((m) => m !== 'local') && !v.upstream) throw new ConfigError(`migration.${vendor}: upstream or shadow mode needs migration.${vendor}.upstream`);
  }
  return section;
}

function storeSettings(section: any, env: NodeJS.ProcessEnv, dataDir: string): StoreConfig {
  try {
    return storeConfigFrom(section, env, dataDir);
  } catch (e) {
    if (e instanceof StoreSettingsError) throw new ConfigError(e.message);
    throw e;
  }
}

function readConfigFile(file: string): any {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`);
  }
  const validate = new Ajv({ allErrors: true, useDefaults: true, strict: false }).compile(configSchema);
  if (!validate(parsed)) {
    const problems = validate.errors!.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new ConfigError(`config file ${file} is invalid: ${problems}`);
  }
  return parsed;
}

function numberFromEnv(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`${name} must be a port number`);
  return n;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}

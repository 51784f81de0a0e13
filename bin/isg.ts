#!/usr/bin/env -S node --initial-old-space-size=128
/**
 * isg — the image-search-gateway command line: serve, cert, models, store, import, export, parity (isg --help).
 * In a checkout it runs as `npx isg …` (package.json's bin, built by `npm ci`'s prepare step).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EngineError } from '../core/errors';
import { ConfigError, loadSettings } from './config';
import { startGateway } from './gateway';
import { missingNodeFlags } from './node-flags';

const SERVE_USAGE = `  serve    serve the gateway
           --port N       port (ISG_PORT, default 8080)
           --host H       address to bind (ISG_HOST, default 127.0.0.1)
           --data DIR     data directory (ISG_DATA_DIR, default ./data)
           --config FILE  JSON config file (ISG_CONFIG)
           --tls-cert FILE --tls-key FILE
                          also serve HTTPS with this certificate and key (server.tls; ISG_TLS_CERT, ISG_TLS_KEY)
           --tls-port N   the HTTPS port (ISG_TLS_PORT, default 8443)
           --tls-self-signed
                          also serve HTTPS with <data>/tls/cert.pem, made by isg cert's rules when missing;
                          prints how to trust its CA
`;

const USAGE = `usage: isg <command> [options]      (in a checkout: npx isg <command>)

commands:
${SERVE_USAGE}  cert     write a local CA and a server certificate for HTTPS, and how to trust them (isg cert --help)
  models   list, add or pull embedding models (isg models --help)
  store    copy the data between the embedded store and Qdrant, or compact the embedded store (isg store --help)
  import   bulk-import a library from a manifest, a folder or a vendor dump (isg import --help)
  export   write a library as a folder isg import reads back (isg export --help)
  parity   record a vendor account's answers to a fixed scenario, check the gateway against them (isg parity --help)
`;

const HELP = new Set(['--help', '-h', 'help']);

/** Whether a command's arguments ask for its help rather than for work. */
const asksHelp = (argv: string[]) => argv.some((a) => HELP.has(a));

function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      config: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-port': { type: 'string' },
      'tls-self-signed': { type: 'boolean' },
    },
    strict: true,
  });
  const port = portOption(values.port, '--port');
  const tls = { certFile: values['tls-cert'], keyFile: values['tls-key'], port: portOption(values['tls-port'], '--tls-port') };
  if (values['tls-self-signed'] && (tls.certFile || tls.keyFile)) throw new ConfigError('give either --tls-self-signed or --tls-cert/--tls-key, not both');
  const overrides = { port, host: values.host, dataDir: values.data, configFile: values.config };
  let settings = loadSettings({ ...overrides, tls });
  if (values['tls-self-signed']) {
    const { ensureSelfSigned, trustHelp } = await import('./commands/cert');
    const { files } = ensureSelfSigned(path.join(settings.dataDir, 'tls'), isWildcard(settings.host) ? [] : [settings.host]);
    settings = loadSettings({ ...overrides, tls: { ...tls, certFile: files.cert, keyFile: files.key } });
    process.stderr.write(`isg serve --tls-self-signed: ${files.ca} is the CA to trust\n${trustHelp(files, settings.tls!.port)}`);
  }
  const gateway = await startGateway(settings);
  const missing = missingNodeFlags();
  if (missing.length > 0) gateway.log.info({ missing }, 'node started without the gateway\'s V8 flags: ingest spends more CPU on garbage collection (bin/node-flags.ts)');
  const stop = (signal: string) => {
    gateway.log.info({ signal }, 'shutting down');
    gateway.close().then(
      () => process.exit(0),
      (err) => {
        gateway.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

function portOption(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`${flag} must be a port number`);
  return port;
}

/** 0.0.0.0 and :: are every address, not a name a certificate can carry. */
const isWildcard = (host: string) => host === '0.0.0.0' || host === '::' || host === '[::]';

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'serve':
      if (asksHelp(rest)) return print(`usage: isg serve [options]\n${SERVE_USAGE}`);
      return serve(rest);
    case 'cert': {
      const { CERT_USAGE, certCommand } = await import('./commands/cert');
      if (asksHelp(rest)) return print(CERT_USAGE);
      process.exitCode = await certCommand(rest);
      return;
    }
    case 'models': {
      const { MODELS_USAGE, modelsCommand } = await import('./commands/models');
      if (rest.length === 0 || HELP.has(rest[0])) return print(MODELS_USAGE);
      return modelsCommand(rest, process);
    }
    case 'store': {
      const { STORE_HELP, storeCommand } = await import('./commands/store');
      if (rest.length === 0 || asksHelp(rest)) return print(STORE_HELP);
      process.exitCode = await storeCommand(rest);
      return;
    }
    case 'import': process.exitCode = await (await import('./commands/import')).importCommand(rest); return;
    case 'export': process.exitCode = await (await import('./commands/export')).exportCommand(rest); return;
    case 'parity': process.exitCode = await (await import('./commands/parity')).parityCommand(rest); return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      return print(USAGE);
    default:
      process.stderr.write(`isg: unknown command '${command}'\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

main().catch((err) => {
  // Configuration and usage mistakes, what the engine refuses in words meant for users (a data directory in
  // use by a running gateway, a library that does not exist) and a port that cannot be listened on ("listen
  // EADDRINUSE: address already in use 127.0.0.1:8080") are one line; anything else keeps its stack for a
  // bug report.
  const refused = (err instanceof EngineError && err.kind !== 'internal') || (err as { syscall?: string }).syscall === 'listen';
  const known = err instanceof ConfigError || refused || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  process.stderr.write(`isg: ${known ? err.message : err.stack ?? err}\n`);
  process.exit(known && !refused ? 2 : 1);
});

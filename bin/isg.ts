#!/usr/bin/env node
/**
 * isg — the image-search-gateway command line: serve, models, store, import, export, parity (isg --help).
 * In a checkout it runs as `npx isg …` (package.json's bin, built by `npm ci`'s prepare step).
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadSettings } from './config';
import { startGateway } from './gateway';

const SERVE_USAGE = `  serve    serve the gateway
           --port N       port (ISG_PORT, default 8080)
           --host H       address to bind (ISG_HOST, default 127.0.0.1)
           --data DIR     data directory (ISG_DATA_DIR, default ./data)
           --config FILE  JSON config file (ISG_CONFIG)
`;

const USAGE = `usage: isg <command> [options]      (in a checkout: npx isg <command>)

commands:
${SERVE_USAGE}  models   list, add or pull embedding models (isg models --help)
  store    copy the data between the embedded store and Qdrant (isg store --help)
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
    },
    strict: true,
  });
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError('--port must be a port number');
  }
  const settings = loadSettings({ port, host: values.host, dataDir: values.data, configFile: values.config });
  const gateway = await startGateway(settings);
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

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'serve':
      if (asksHelp(rest)) return print(`usage: isg serve [options]\n${SERVE_USAGE}`);
      return serve(rest);
    case 'models': {
      const { MODELS_USAGE, modelsCommand } = await import('./commands/models');
      if (rest.length === 0 || HELP.has(rest[0])) return print(MODELS_USAGE);
      return modelsCommand(rest, process);
    }
    case 'store': {
      const { STORE_USAGE, storeCommand } = await import('./commands/store');
      if (rest.length === 0 || asksHelp(rest)) return print(`usage: isg store migrate --from <kind> --to <kind>\n${STORE_USAGE}`);
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
  // Configuration and usage mistakes are one line; anything else keeps its stack for a bug report.
  const known = err instanceof ConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  process.stderr.write(`isg: ${known ? err.message : err.stack ?? err}\n`);
  process.exit(known ? 2 : 1);
});

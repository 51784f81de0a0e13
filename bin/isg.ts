#!/usr/bin/env node
/**
 * isg — the image-search-gateway command line.
 *   isg serve [--port N] [--host H] [--data DIR] [--config FILE]
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadSettings } from './config';
import { startGateway } from './gateway';

const USAGE = `usage: isg <command> [options]

commands:
  serve    serve the gateway
           --port N       port (ISG_PORT, default 8080)
           --host H       address to bind (ISG_HOST, default 127.0.0.1)
           --data DIR     data directory (ISG_DATA_DIR, default ./data)
           --config FILE  JSON config file (ISG_CONFIG)
  import   bulk-import a library from a manifest, a folder or a vendor dump (isg import --help)
  export   write a library as a folder isg import reads back (isg export --help)
`;

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
      return serve(rest);
    case 'models': return (await import('./commands/models')).modelsCommand(rest, process);
    case 'store': process.exitCode = await (await import('./commands/store')).storeCommand(rest); return;
    case 'import': process.exitCode = await (await import('./commands/import')).importCommand(rest); return;
    case 'export': process.exitCode = await (await import('./commands/export')).exportCommand(rest); return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
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

/**
 * isg export --library L --out DIR [--tenant T]
 *
 * Writes the library as a library folder (adapters/migration/manifest.ts): library.json, manifest.jsonl
 * (records, item ids, uris, tags, vendor extras) and images/ with the original bytes of records that kept
 * them. `isg import --library L DIR` reads it back, into this gateway or another. Same store rules as import.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { OPEN_MODE_DEFAULT_TENANT } from '../../adapters/config';
import { runExport } from '../../adapters/migration/exporter';
import { isEngineError } from '../../core/errors';
import { ConfigError, loadSettings } from '../config';
import { openEngine, positiveInt, type CommandIO } from './import';

export const EXPORT_USAGE = `  export --library L --out DIR
           write the library (records, tags, stored images) as a folder isg import reads back
           --tenant T     tenant owning the library (default ${OPEN_MODE_DEFAULT_TENANT})
           --page-size N  records per page (default 500)
           --config FILE  --data DIR
`;

export async function exportCommand(argv: string[], io: CommandIO = process): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`usage: isg export --library L --out DIR\n${EXPORT_USAGE}`);
    return 0;
  }
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      library: { type: 'string' },
      tenant: { type: 'string' },
      out: { type: 'string' },
      'page-size': { type: 'string' },
      config: { type: 'string' },
      data: { type: 'string' },
    },
  });
  if (!values.library || !values.out) throw new ConfigError(`usage: isg export --library L --out DIR\n${EXPORT_USAGE}`);
  const ref = { tenant: values.tenant ?? OPEN_MODE_DEFAULT_TENANT, name: values.library };
  const settings = loadSettings({ dataDir: values.data, configFile: values.config });
  const { engine, close } = await openEngine(settings);
  try {
    const outDir = path.resolve(values.out);
    const report = await runExport({
      engine,
      ref,
      outDir,
      pageSize: positiveInt(values['page-size'], '--page-size', 500),
      onProgress: (done, total) => io.stderr.write(`${ref.name}: ${done}/${total} records\n`),
    });
    io.stdout.write(`exported ${report.records} records (${report.images} with their image) of ${ref.tenant}/${ref.name} to ${outDir}\n`);
    return 0;
  } catch (e) {
    if (isEngineError(e)) throw new ConfigError(e.message);
    throw e;
  } finally {
    await close();
  }
}

/**
 * isg store migrate --from embedded --to qdrant   (or --from qdrant --to embedded)
 * isg store compact
 *
 * Copies every library, image (vector, record, kept bytes) and unfinished task between the two stores the
 * config describes (store.qdrant / ISG_QDRANT_URL for Qdrant, the data directory for the embedded store),
 * printing progress; stop it any time and run it again to resume; it ends by comparing counts. Run it with
 * the gateway stopped (the embedded store admits one process at a time).
 *
 * `compact` moves what older builds kept outside the embedded store's packs (vectors and originals inside
 * SQLite, originals in a file each) into them and shrinks SQLite's file (core/store/embedded/legacy-data.ts);
 * also with the gateway stopped.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openEmbeddedStore } from '../../core/store/embedded';
import { migrateStore, type MigrationEvent } from '../../core/store/migrate';
import { openStore, STORE_KINDS, type StoreKind } from '../../core/store/open-store';
import { ConfigError, loadSettings } from '../config';

const STORE_USAGE = `  store migrate --from embedded|qdrant --to qdrant|embedded
           copy every library, image and unfinished task to the other store; resumable, verified by counts
           --config FILE  JSON config file (ISG_CONFIG): store.qdrant and dataDir
           --data DIR     data directory of the embedded store (ISG_DATA_DIR)
           --progress F   progress file (default <data>/migrate-<from>-to-<to>.json)
           --page-size N  images per page (default 500)
  store compact [--config FILE] [--data DIR]
           move the vectors and originals older builds kept outside the embedded store's packs (inside
           SQLite, or a file each) into them, then shrink SQLite's file; resumable, gateway stopped
`;

export const STORE_HELP = `usage: isg store migrate --from <kind> --to <kind> | isg store compact\n${STORE_USAGE}`;

export async function storeCommand(argv: string[], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'compact') return compactCommand(rest, out);
  if (sub !== 'migrate') throw new ConfigError(STORE_HELP);
  const { values } = parseArgs({
    args: rest,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      config: { type: 'string' },
      data: { type: 'string' },
      progress: { type: 'string' },
      'page-size': { type: 'string' },
    },
    strict: true,
  });
  const from = kindOf(values.from, '--from');
  const to = kindOf(values.to, '--to');
  if (from === to) throw new ConfigError('--from and --to must name different stores');
  const pageSize = values['page-size'] === undefined ? 500 : Number(values['page-size']);
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new ConfigError('--page-size must be a positive integer');

  // The same settings the gateway would use, once for each kind.
  const settingsFor = (kind: StoreKind) => loadSettings({ dataDir: values.data, configFile: values.config }, { ...process.env, ISG_STORE: kind });
  const source = await openStore(settingsFor(from).store!);
  const target = await openStore(settingsFor(to).store!);
  const progressFile = values.progress ?? path.join(settingsFor(from).dataDir, `migrate-${from}-to-${to}.json`);

  const stop = new AbortController();
  const onSignal = () => {
    out('stopping after the current page; run the same command again to resume');
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    out(`migrating ${from} → ${to} (progress in ${progressFile})`);
    const result = await migrateStore({ from: source, to: target, progressFile, pageSize, signal: stop.signal, onProgress: (e) => out(describe(e)) });
    if (!result.finished) {
      out('stopped; run the same command again to resume');
      return 130;
    }
    out(`copied ${result.libraries} libraries, ${result.images} images, ${result.tasks} unfinished tasks`);
    if (result.mismatches.length > 0) {
      for (const m of result.mismatches) out(`count mismatch: ${m.tenant}/${m.library}: ${from} ${m.source}, ${to} ${m.target}`);
      return 1;
    }
    out('verified: every library holds as many images in both stores');
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await source.close();
    await target.close();
  }
}

async function compactCommand(args: string[], out: (line: string) => void): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, data: { type: 'string' } }, strict: true });
  const settings = loadSettings({ dataDir: values.data, configFile: values.config }, { ...process.env, ISG_STORE: 'embedded' });
  const config = settings.store!;
  if (config.kind !== 'embedded') throw new ConfigError('store compact is for the embedded store');
  // Durable packs: each batch's commit lets the old copy go (legacy-data.ts).
  const store = await openEmbeddedStore({ dir: config.dir, synchronous: 'full' });
  try {
    out(`moving what older builds kept outside the packs of ${config.dir} into them`);
    let shown = 0;
    const result = await store.moveLegacyData((moved) => {
      if (Date.now() - shown < 1000) return;
      shown = Date.now();
      out(`  ${moved.vectors} images' vectors, ${moved.originals} originals so far`);
    });
    out(`moved ${result.vectors} images' vectors and ${result.originals} originals`);
    out(`SQLite: ${mib(result.sqliteBytes.before)} MiB before, ${mib(result.sqliteBytes.after)} MiB after`);
    return 0;
  } finally {
    await store.close();
  }
}

const mib = (bytes: number) => (bytes / (1 << 20)).toFixed(1);

function kindOf(value: string | undefined, flag: string): StoreKind {
  if (!STORE_KINDS.includes(value as StoreKind)) throw new ConfigError(`${flag} must be one of ${STORE_KINDS.join(', ')}`);
  return value as StoreKind;
}

function describe(e: MigrationEvent): string {
  const name = `${e.kind === 'tasks' ? '' : `${e.library.tenant}/${e.library.name}`}`;
  switch (e.kind) {
    case 'library':
      return `${name}: ${e.resumed ? `resuming at ${e.copied}` : 'starting'} of ${e.total} images`;
    case 'page':
      return `${name}: ${e.copied}/${e.total} images`;
    case 'tasks':
      return `unfinished tasks: ${e.copied} copied`;
  }
}

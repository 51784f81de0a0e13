/**
 * isg import --library L [--vendor V] FILE|DIR
 *
 * Imports a manifest (JSON lines or CSV), a library folder written by `isg export`, a folder of images, or
 * a vendor's own export format (--vendor V: the vendor adapter's import reader) into one library, with a progress bar, N batches at a time, and a journal: stop it any time (Ctrl-C, a crash)
 * and run the same command again to go on where it stopped, with no entry done twice and none lost. It
 * ends with a report of the entries that failed (also written next to the journal).
 *
 * It opens the store the config describes: with the embedded store the gateway must be stopped (one
 * process at a time); with Qdrant it may run beside a serving gateway.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runImport, type ImportProgress } from '../../adapters/migration/importer';
import { ManifestError } from '../../adapters/migration/manifest';
import { importVendors, readSource } from '../../adapters/migration/readers';
import { DEFAULT_IMPORT_VENDOR, VENDORS } from '../../adapters/vendors';
import { ModelRegistry } from '../../core/embed/registry';
import { Engine } from '../../core/engine';
import { AlreadyExistsError, isEngineError } from '../../core/errors';
import { createUrlFetcher } from '../../core/net/fetch';
import { LIBRARY_MODES, type LibraryMode } from '../../core/records';
import { openStore } from '../../core/store/open-store';
import { ConfigError, loadSettings, type Settings } from '../config';
import { OPEN_MODE_DEFAULT_TENANT } from '../../adapters/config';

export const IMPORT_USAGE = `  import --library L [--vendor V] FILE|DIR
           import a manifest (.jsonl/.csv), a library folder (isg export), a folder of images, or a
           vendor's own format (--vendor); resumable: run the same command again after a stop
           --tenant T         tenant owning the library (default ${OPEN_MODE_DEFAULT_TENANT})
           --vendor V         ${VENDORS.map((v) => v.name).join(', ')}: the source format and that vendor's image rules
                              (formats: ${importVendors().map((v) => `${v.name} ${v.importReader!.describe}`).join(', ')})
           --create MODE      create the library when missing (a library folder's library.json also does)
           --concurrency N    batches in flight (default 4)
           --batch N          images per batch (default 16)
           --keep-images      store the original bytes (so a later export carries them)
           --retry-failed     try again the entries an earlier run recorded as failed
           --journal FILE     the resumption journal (default <data>/import-journals/<tenant>-<library>-<source>.jsonl)
           --config FILE  --data DIR
`;


export interface CommandIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

/** The engine over the store the config describes (the same one the gateway would open). */
export async function openEngine(settings: Settings) {
  const store = await openStore(settings.store ?? { kind: 'embedded', dir: path.join(settings.dataDir, 'store') });
  const models = new ModelRegistry(settings.modelsDir, settings.defaultModel);
  const engine = new Engine(store, models, { views: settings.views });
  return {
    engine,
    close: async () => {
      await store.close();
      await models.close();
    },
  };
}

export function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${flag} must be a positive integer`);
  return n;
}

export async function importCommand(argv: string[], io: CommandIO = process, signal?: AbortSignal): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`usage: isg import --library L [--vendor V] FILE|DIR\n${IMPORT_USAGE}`);
    return 0;
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      library: { type: 'string' },
      tenant: { type: 'string' },
      vendor: { type: 'string' },
      create: { type: 'string' },
      concurrency: { type: 'string' },
      batch: { type: 'string' },
      'keep-images': { type: 'boolean' },
      'retry-failed': { type: 'boolean' },
      journal: { type: 'string' },
      config: { type: 'string' },
      data: { type: 'string' },
    },
  });
  if (!values.library || positionals.length !== 1) throw new ConfigError(`usage: isg import --library L [--vendor V] FILE|DIR\n${IMPORT_USAGE}`);
  const vendor = values.vendor;
  // Image rules: an import accepts what that vendor's API would (without --vendor, the gateway's own API's).
  const rules = vendor === undefined ? DEFAULT_IMPORT_VENDOR : VENDORS.find((v) => v.name === vendor);
  if (!rules) throw new ConfigError(`--vendor must be one of ${VENDORS.map((v) => v.name).join(', ')}`);
  if (values.create !== undefined && !LIBRARY_MODES.includes(values.create as LibraryMode)) throw new ConfigError(`--create must be one of ${LIBRARY_MODES.join(', ')}`);
  const concurrency = positiveInt(values.concurrency, '--concurrency', 4);
  const batchSize = positiveInt(values.batch, '--batch', 16);
  const ref = { tenant: values.tenant ?? OPEN_MODE_DEFAULT_TENANT, name: values.library };
  const source = path.resolve(positionals[0]);

  let read;
  try {
    read = readSource(source, vendor);
  } catch (e) {
    if (e instanceof ManifestError || e instanceof SyntaxError) throw new ConfigError((e as Error).message);
    throw e;
  }
  const settings = loadSettings({ dataDir: values.data, configFile: values.config });
  const sourceId = `${vendor ?? 'gateway'}:${source}`;
  const journalFile =
    values.journal ??
    path.join(settings.dataDir, 'import-journals', `${safe(ref.tenant)}-${safe(ref.name)}-${createHash('sha256').update(sourceId).digest('hex').slice(0, 12)}.jsonl`);
  mkdirSync(path.dirname(journalFile), { recursive: true });

  const { engine, close } = await openEngine(settings);
  const stop = new AbortController();
  const onSignal = () => {
    io.stderr.write('\nstopping after the batches in flight; run the same command again to resume\n');
    stop.abort();
  };
  signal?.addEventListener('abort', onSignal);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await ensureLibrary(engine, ref, values.create ?? read.library?.mode, read.library);
    io.stdout.write(`importing ${read.entries.length} entries (${read.kind}) into ${ref.tenant}/${ref.name}; journal ${journalFile}\n`);
    const bar = new CountBar(io.stderr);
    const report = await runImport({
      engine,
      ref,
      entries: read.entries,
      baseDir: read.baseDir,
      limits: rules.images.limits,
      fetchImage: createUrlFetcher({ allowHosts: settings.gateway.fetch.allowHosts, timeoutMs: settings.gateway.fetch.timeoutMs, maxBytes: settings.gateway.fetch.maxBytes }),
      journalFile,
      sourceId,
      concurrency,
      batchSize,
      keepImages: values['keep-images'] === true,
      retryFailed: values['retry-failed'] === true,
      signal: stop.signal,
      onProgress: (p) => bar.update(p),
    });
    bar.finish();
    if (report.failures.length > 0) {
      const failedFile = journalFile.replace(/\.jsonl$/, '') + '.failed.jsonl';
      writeFileSync(failedFile, report.failures.map((f) => JSON.stringify(f)).join('\n') + '\n');
      io.stdout.write(`${report.failures.length} entries failed (listed in ${failedFile}):\n`);
      for (const f of report.failures.slice(0, 20)) io.stdout.write(`  #${f.entry} ${f.id}: ${f.error}\n`);
      if (report.failures.length > 20) io.stdout.write(`  ... and ${report.failures.length - 20} more\n`);
    }
    const summary = `${report.added} added, ${report.deleted} deleted, ${report.failures.length} failed, ${report.resumed} done by an earlier run, of ${report.total}`;
    if (!report.finished) {
      io.stdout.write(`stopped: ${summary}; run the same command again to resume\n`);
      return 130;
    }
    io.stdout.write(`imported: ${summary}; the library holds ${await engine.countImages(ref)} images\n`);
    return report.failures.length > 0 ? 1 : 0;
  } catch (e) {
    if (isEngineError(e) || e instanceof ManifestError) throw new ConfigError(e.message);
    throw e;
  } finally {
    signal?.removeEventListener('abort', onSignal);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await close();
  }
}

async function ensureLibrary(engine: Engine, ref: { tenant: string; name: string }, mode: string | undefined, definition?: { model?: string; description?: string; tagKeys?: string[]; capacity?: number; extra?: Record<string, unknown> }) {
  const exists = await engine.getLibrary(ref).then(
    () => true,
    () => false,
  );
  if (exists) return;
  if (!mode) throw new ConfigError(`library '${ref.name}' of tenant '${ref.tenant}' does not exist; create it, or pass --create MODE`);
  try {
    await engine.createLibrary(ref.tenant, { name: ref.name, mode: mode as LibraryMode, model: definition?.model, description: definition?.description, tagKeys: definition?.tagKeys, capacity: definition?.capacity, extra: definition?.extra });
  } catch (e) {
    if (!(e instanceof AlreadyExistsError)) throw e;
  }
}

function safe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
}

/** A counting progress bar: redrawn in place on a terminal, a line per 10% elsewhere. */
export class CountBar {
  private lastDraw = 0;
  private lastDecile = -1;
  constructor(private readonly out: { write(s: string): unknown; isTTY?: boolean }) {}

  update(p: ImportProgress): void {
    const line = renderCount(p);
    if (this.out.isTTY) {
      if (Date.now() - this.lastDraw > 100 || p.done === p.total) {
        this.lastDraw = Date.now();
        this.out.write(`\r${line}\u001b[K`);
      }
      return;
    }
    const decile = p.total === 0 ? 10 : Math.floor((p.done / p.total) * 10);
    if (decile !== this.lastDecile) {
      this.lastDecile = decile;
      this.out.write(`${line}\n`);
    }
  }

  finish(): void {
    if (this.out.isTTY) this.out.write('\n');
  }
}

export function renderCount(p: ImportProgress, width = 30): string {
  const fraction = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${p.done}/${p.total}${p.failed > 0 ? `, ${p.failed} failed` : ''}`;
}

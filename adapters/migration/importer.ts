/**
 * Bulk import of manifest entries into one library, resumable without duplicate work or loss.
 *
 * The journal (JSON lines, fsync'd) records, per batch, a `start` line with the entry numbers and the time
 * before the batch is written, and a `done` line with each entry's outcome after the store has committed
 * it (the engine writes a batch in one transaction). On resume, entries with an outcome are skipped; the
 * entries of a batch that started without a `done` line are looked up in the store: an image written at or
 * after that batch's start is done (the crash came between commit and journal), anything else is redone.
 * Deletes are idempotent and simply redone. Entries that failed stay failed (listed in the report) unless
 * `retryFailed`.
 *
 * Order: runs of adds and deletes are applied one run after the other (an increment file that adds and
 * then deletes an item ends without it); inside a run, batches go `concurrency` at a time.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Engine, NewImage } from '../../core/engine';
import { isEngineError, NotFoundError } from '../../core/errors';
import { decodeBase64Strict } from '../../core/image';
import type { UrlFetcher } from '../../core/net/fetch';
import type { ImageLimits } from '../../core/image/types';
import type { LibraryRef } from '../../core/records';
import { ManifestError, type ManifestEntry } from './manifest';

export interface ImportProgress {
  total: number;
  /** Entries with an outcome (this run and earlier ones). */
  done: number;
  failed: number;
}

export interface ImportFailure {
  /** 1-based entry number in the source. */
  entry: number;
  id: string;
  error: string;
}

export interface ImportReport {
  total: number;
  /** Entries already done by an earlier run (skipped). */
  resumed: number;
  added: number;
  deleted: number;
  failures: ImportFailure[];
  /** False when stopped by the signal before the end. */
  finished: boolean;
}

export interface ImportOptions {
  engine: Engine;
  ref: LibraryRef;
  entries: ManifestEntry[];
  /** Relative image paths resolve here. */
  baseDir: string;
  limits: ImageLimits;
  fetchImage: UrlFetcher;
  journalFile: string;
  /** What is imported (the journal refuses to resume another source). */
  sourceId: string;
  concurrency?: number;
  batchSize?: number;
  keepImages?: boolean;
  retryFailed?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: ImportProgress) => void;
}

type Outcome = [entry: number, status: 'ok' | 'failed', error?: string];

interface JournalHeader {
  journal: 1;
  source: string;
  tenant: string;
  library: string;
  total: number;
}

export async function runImport(o: ImportOptions): Promise<ImportReport> {
  const concurrency = Math.max(1, o.concurrency ?? 4);
  const batchSize = Math.max(1, o.batchSize ?? 16);
  const header: JournalHeader = { journal: 1, source: o.sourceId, tenant: o.ref.tenant, library: o.ref.name, total: o.entries.length };
  const outcomes = await resumeJournal(o, header);
  const journal = new Journal(o.journalFile, outcomes.size === 0 && !existsSync(o.journalFile) ? header : undefined);
  try {
    const report: ImportReport = { total: o.entries.length, resumed: 0, added: 0, deleted: 0, failures: [], finished: false };
    const todo: number[] = [];
    for (let i = 0; i < o.entries.length; i++) {
      const previous = outcomes.get(i);
      if (previous && (previous[1] === 'ok' || !o.retryFailed)) {
        report.resumed++;
        if (previous[1] === 'failed') report.failures.push({ entry: i + 1, id: o.entries[i].id, error: previous[2] ?? 'failed' });
      } else todo.push(i);
    }
    let done = report.resumed;
    const progress = () => o.onProgress?.({ total: o.entries.length, done, failed: report.failures.length });
    progress();

    for (const run of runsOf(todo, o.entries)) {
      const batches: number[][] = [];
      for (let i = 0; i < run.length; i += batchSize) batches.push(run.slice(i, i + batchSize));
      let next = 0;
      const worker = async () => {
        while (next < batches.length && !o.signal?.aborted) {
          const batch = batches[next++];
          const results = await applyBatch(o, batch, journal);
          for (const [entry, status, error] of results) {
            if (status === 'ok') {
              if (o.entries[entry].op === 'delete') report.deleted++;
              else report.added++;
            } else report.failures.push({ entry: entry + 1, id: o.entries[entry].id, error: error ?? 'failed' });
          }
          done += batch.length;
          progress();
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
      if (o.signal?.aborted) return report;
    }
    report.failures.sort((a, b) => a.entry - b.entry);
    report.finished = true;
    return report;
  } finally {
    journal.close();
  }
}

/** Consecutive entries of the same operation, in source order. */
function runsOf(todo: number[], entries: ManifestEntry[]): number[][] {
  const runs: number[][] = [];
  for (const i of todo) {
    const op = entries[i].op ?? 'add';
    const last = runs[runs.length - 1];
    if (last && (entries[last[0]].op ?? 'add') === op) last.push(i);
    else runs.push([i]);
  }
  return runs;
}

async function applyBatch(o: ImportOptions, batch: number[], journal: Journal): Promise<Outcome[]> {
  const op = o.entries[batch[0]].op ?? 'add';
  const at = Date.now();
  journal.write({ start: batch, at });
  let results: Outcome[];
  if (op === 'delete') {
    const ids = batch.map((i) => o.entries[i]).filter((e) => e.id !== '').map((e) => e.id);
    const itemIds = batch.map((i) => o.entries[i]).filter((e) => e.id === '' && e.itemId).map((e) => e.itemId!);
    if (ids.length > 0) await o.engine.deleteImages(o.ref, { ids });
    if (itemIds.length > 0) await o.engine.deleteImages(o.ref, { itemIds });
    results = batch.map((i) => [i, 'ok']);
  } else {
    results = await addBatch(o, batch);
  }
  journal.write({ done: results });
  return results;
}

async function addBatch(o: ImportOptions, batch: number[]): Promise<Outcome[]> {
  const loaded = await Promise.all(
    batch.map(async (i): Promise<{ i: number; image?: NewImage; error?: string }> => {
      const e = o.entries[i];
      try {
        const bytes = await bytesOf(o, e);
        return {
          i,
          image: { id: e.id, itemId: e.itemId, uri: e.uri, tags: e.tags, extra: e.extra, image: { bytes, limits: o.limits }, keepImage: o.keepImages || e.keepImage === true },
        };
      } catch (err) {
        return { i, error: (err as Error).message };
      }
    }),
  );
  const ready = loaded.filter((l) => l.image);
  const outcomes = new Map<number, Outcome>(loaded.filter((l) => l.error !== undefined).map((l) => [l.i, [l.i, 'failed', l.error]]));
  if (ready.length > 0) {
    try {
      const results = await o.engine.addImages(o.ref, ready.map((l) => l.image!));
      results.forEach((r, k) => outcomes.set(ready[k].i, r.ok ? [ready[k].i, 'ok'] : [ready[k].i, 'failed', r.error.message]));
    } catch (err) {
      // The library itself is gone: nothing more can be imported.
      if (err instanceof NotFoundError && err.resource === 'library') throw err;
      if (!isEngineError(err)) throw err;
      for (const l of ready) outcomes.set(l.i, [l.i, 'failed', err.message]);
    }
  }
  return batch.map((i) => outcomes.get(i)!);
}

async function bytesOf(o: ImportOptions, e: ManifestEntry): Promise<Buffer> {
  if (e.imageBase64 !== undefined) return decodeBase64Strict(e.imageBase64);
  const source = e.image ?? (e.uri && /^https?:\/\//i.test(e.uri) ? e.uri : undefined);
  if (source === undefined) throw new Error('no image: the entry has neither an image file nor an http(s) uri');
  if (/^https?:\/\//i.test(source)) return o.fetchImage(source);
  const base = path.resolve(o.baseDir);
  const file = path.resolve(base, source);
  if (file !== base && !file.startsWith(base + path.sep)) throw new Error(`${source} is outside the manifest's folder`);
  return readFile(file).catch(() => {
    throw new Error(`cannot read ${source}`);
  });
}

/** Outcomes recorded by earlier runs, in-flight batches settled against the store. */
async function resumeJournal(o: ImportOptions, header: JournalHeader): Promise<Map<number, Outcome>> {
  const outcomes = new Map<number, Outcome>();
  if (!existsSync(o.journalFile)) return outcomes;
  const lines = readFileSync(o.journalFile, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const records = lines.flatMap((l) => {
    try {
      return [JSON.parse(l)];
    } catch {
      return []; // a line torn by a crash: its batch counts as started-not-done
    }
  });
  const first = records[0] as JournalHeader | undefined;
  if (!first || first.journal !== 1 || first.source !== header.source || first.tenant !== header.tenant || first.library !== header.library || first.total !== header.total) {
    throw new ManifestError(`${o.journalFile} belongs to another import (source, library or entry count differ); remove it to start over`);
  }
  const started: Array<{ start: number[]; at: number }> = [];
  for (const r of records.slice(1)) {
    if (Array.isArray(r.start)) started.push(r);
    else if (Array.isArray(r.done)) for (const outcome of r.done as Outcome[]) outcomes.set(outcome[0], outcome);
  }
  for (const batch of started) {
    const open = batch.start.filter((i) => !outcomes.has(i) && (o.entries[i]?.op ?? 'add') === 'add');
    if (open.length === 0) continue;
    const found = new Map((await o.engine.getImages(o.ref, open.map((i) => o.entries[i].id))).map((r) => [r.id, r]));
    for (const i of open) {
      const record = found.get(o.entries[i].id);
      if (record && record.updatedAt >= batch.at) outcomes.set(i, [i, 'ok']);
    }
  }
  return outcomes;
}

/** Append-only, each line fsync'd before the caller goes on. */
class Journal {
  private readonly fd: number;
  constructor(file: string, header?: JournalHeader) {
    this.fd = openSync(file, 'a');
    if (header) this.write(header);
  }
  write(record: unknown): void {
    writeSync(this.fd, JSON.stringify(record) + '\n');
    fsyncSync(this.fd);
  }
  close(): void {
    closeSync(this.fd);
  }
}

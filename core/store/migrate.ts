/**
 * Copies everything from one VectorStore to another (embedded → qdrant and back): libraries, images with
 * vectors and kept bytes, unfinished tasks. Resumable: progress (per library, the source cursor of the last
 * page written) is saved after every page to a JSON file, and pages are upserts by id, so running again
 * after a stop or a crash continues where it was and never duplicates. Verified by counts at the end.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { AlreadyExistsError } from '../errors';
import { vectorsPerImage, type Library } from '../records';
import type { ImageWrite, VectorStore } from './vector-store';

export interface MigrationProgress {
  /** `${tenant}\u0000${name}` → where the copy of that library stands. */
  libraries: Record<string, { cursor?: string; copied: number; done: boolean }>;
  tasksDone: boolean;
}

export type MigrationEvent =
  | { kind: 'library'; library: Library; total: number; copied: number; resumed: boolean }
  | { kind: 'page'; library: Library; copied: number; total: number }
  | { kind: 'tasks'; copied: number };

export interface CountCheck {
  tenant: string;
  library: string;
  source: number;
  target: number;
}

export interface MigrationResult {
  libraries: number;
  images: number;
  tasks: number;
  /** Libraries whose image counts differ between source and target (empty = verified). */
  mismatches: CountCheck[];
  /** False when stopped by the signal before the end (run again to resume). */
  finished: boolean;
}

export interface MigrationOptions {
  from: VectorStore;
  to: VectorStore;
  /** Where progress is kept between runs. */
  progressFile: string;
  pageSize?: number;
  onProgress?: (event: MigrationEvent) => void;
  /** Stops after the page being written (progress saved). */
  signal?: AbortSignal;
}

const key = (l: { tenant: string; name: string }) => `${l.tenant}\u0000${l.name}`;

function loadProgress(file: string): MigrationProgress {
  if (!existsSync(file)) return { libraries: {}, tasksDone: false };
  return JSON.parse(readFileSync(file, 'utf8')) as MigrationProgress;
}

function saveProgress(file: string, progress: MigrationProgress): void {
  // Write then rename: a crash leaves the old progress or the new one, never half of one.
  writeFileSync(`${file}.tmp`, JSON.stringify(progress));
  renameSync(`${file}.tmp`, file);
}

export async function migrateStore(options: MigrationOptions): Promise<MigrationResult> {
  const { from, to, progressFile, onProgress, signal } = options;
  const pageSize = options.pageSize ?? 500;
  const progress = loadProgress(progressFile);
  const result: MigrationResult = { libraries: 0, images: 0, tasks: 0, mismatches: [], finished: false };

  const libraries: Library[] = [];
  for (const tenant of await from.listTenants()) libraries.push(...(await from.listLibraries(tenant)));

  for (const library of libraries) {
    const state = (progress.libraries[key(library)] ??= { copied: 0, done: false });
    const total = await from.countImages(library);
    result.libraries++;
    if (!state.done) {
      onProgress?.({ kind: 'library', library, total, copied: state.copied, resumed: state.copied > 0 });
      try {
        await to.createLibrary(library);
      } catch (e) {
        if (!(e instanceof AlreadyExistsError)) throw e; // created by an earlier run
      }
      for (;;) {
        if (signal?.aborted) return result;
        const page = await from.listImages(library, { limit: pageSize, cursor: state.cursor });
        const writes: ImageWrite[] = [];
        for (const record of page.images) {
          const vector = await from.getVector(library, record.id);
          if (!vector) continue; // deleted since the page was read
          const views = vectorsPerImage(library) > 1 ? await from.getViews(library, record.id) : undefined;
          const image = record.hasImage ? await from.getImageBytes(library, record.id) : undefined;
          writes.push({ record, vector, image, ...(views ? { views } : {}) });
        }
        if (writes.length > 0) await to.upsertImages(library, writes);
        state.copied += writes.length;
        state.cursor = page.nextCursor;
        state.done = page.nextCursor === undefined;
        saveProgress(progressFile, progress);
        onProgress?.({ kind: 'page', library, copied: state.copied, total });
        if (state.done) break;
      }
    }
    result.images += state.copied;
    const target = await to.countImages(library);
    if (target !== total) result.mismatches.push({ tenant: library.tenant, library: library.name, source: total, target });
  }

  if (!progress.tasksDone) {
    const tasks = await from.listUnfinishedTasks();
    for (const task of tasks) await to.putTask(task);
    progress.tasksDone = true;
    saveProgress(progressFile, progress);
    result.tasks = tasks.length;
    onProgress?.({ kind: 'tasks', copied: tasks.length });
  }
  result.finished = true;
  return result;
}

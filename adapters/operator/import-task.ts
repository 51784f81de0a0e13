/**
 * Batch import (image/tasks/create): a JSON-lines file, one image per line, read from the import
 * directory or an allowed URL, imported in the background as a persisted task that resumes after a
 * restart from its last saved line (re-importing a line overwrites, so nothing is doubled or lost).
 *
 * Line: {"image_id", "image_uri", "image_base64"?, "tags"?, "save_image"?}. Without image_base64 the image
 * is read from image_uri: an http(s) URL through the SSRF-guarded fetcher, or a path in the tenant's import
 * area (<imports.dir>/<tenant>/, adapters/http/import-area.ts), as file_path is.
 */
import { readFile } from 'node:fs/promises';
import type { Engine, NewImage } from '../../core/engine';
import { InvalidArgumentError, isEngineError } from '../../core/errors';
import type { Tags } from '../../core/records';
import type { TaskHandler, TaskRecord } from '../../core/tasks';
import { ImportPathError, resolveImportPath } from '../http/import-area';
import type { UrlSealer } from '../http/sealed-url';
import { validator } from '../http/validate';
import importLineSchema from '../../schemas/operator/import-line.json';
import { toOperatorError, STATUS } from './errors';
import { imageKey } from './keys';
import { IMAGE_LIMITS, IMPORT_BATCH_LINES, IMPORT_SAVE_EVERY_LINES, IMPORT_SAVE_EVERY_MS } from './limits';
import { decodeOperatorImage } from './image-input';

export const IMPORT_TASK_KIND = 'operator.image-import';

/** One line's outcome: [line number (1-based), image_id, image_uri, status, message]. Compact on purpose. */
export type LineResult = [number, string | null, string | null, string, string | null];

export interface ImportTaskState {
  library_name: string;
  file_path?: string;
  /** file_url without credentials (adapters/http/sealed-url.ts): what is stored in the clear and shown. */
  file_url?: string;
  /** The original file_url, sealed under the gateway's secret key, when it carried credentials. */
  file_url_sealed?: string;
  /** Index (0-based) of the first line not yet imported. */
  next_line: number;
  /** Non-blank lines in the file, once read. */
  total: number | null;
  results: LineResult[];
  error?: string;
}

export interface ImportSources {
  /** imports.dir: file_path and relative image paths are read from its <tenant>/ folder only. */
  importDir: string;
  fetchFile: (url: string) => Promise<Buffer>;
  fetchImage: (url: string) => Promise<Buffer>;
  /** Unseals a stored file_url for the fetch. */
  urls: UrlSealer;
}

const validateLine = validator<{ image_id: string; image_uri: string; image_base64?: string; tags: Tags; save_image: boolean }>(importLineSchema);

export function importTaskHandler(engine: Engine, sources: ImportSources): TaskHandler<ImportTaskState> {
  return async ({ task, save, signal }) => {
    const state: ImportTaskState = { ...task.state, results: [...task.state.results] };
    const ref = { tenant: task.tenant, name: state.library_name };
    const lines = (await readSource(state, ref.tenant, sources)).toString('utf8').split('\n');
    state.total = lines.filter((l) => l.trim() !== '').length;
    let savedAt = Date.now();
    let unsaved = 0;
    while (state.next_line < lines.length) {
      if (signal.aborted) break;
      const start = state.next_line;
      const end = Math.min(lines.length, start + IMPORT_BATCH_LINES);
      state.results.push(...(await importLines(engine, ref, lines, start, end, sources)));
      state.next_line = end;
      unsaved += end - start;
      if (unsaved >= IMPORT_SAVE_EVERY_LINES || Date.now() - savedAt >= IMPORT_SAVE_EVERY_MS) {
        await save(state);
        savedAt = Date.now();
        unsaved = 0;
      }
    }
    if (signal.aborted) await save(state);
    return state;
  };
}

async function importLines(
  engine: Engine,
  ref: { tenant: string; name: string },
  lines: string[],
  start: number,
  end: number,
  sources: ImportSources,
): Promise<LineResult[]> {
  const results = new Map<number, LineResult>();
  const images: Array<{ line: number; image: NewImage }> = [];
  await Promise.all(
    lines.slice(start, end).map(async (text, k) => {
      const line = start + k + 1;
      if (text.trim() === '') return;
      let keys: [string | null, string | null] = [null, null];
      try {
        const item = validateLine(JSON.parse(text));
        keys = [item.image_id, item.image_uri];
        const bytes = item.image_base64 !== undefined ? decodeOperatorImage(item.image_base64) : await readImage(item.image_uri, ref.tenant, sources);
        images.push({
          line,
          image: {
            id: imageKey(item.image_id, item.image_uri),
            itemId: item.image_id,
            uri: item.image_uri,
            tags: item.tags,
            image: { bytes, limits: IMAGE_LIMITS },
            keepImage: item.save_image,
          },
        });
      } catch (e) {
        results.set(line, failure(line, keys, e instanceof SyntaxError ? new InvalidArgumentError('line', 'the line is not valid JSON') : e));
      }
    }),
  );
  images.sort((a, b) => a.line - b.line);
  try {
    const added = await engine.addImages(ref, images.map((i) => i.image));
    added.forEach((r, k) => {
      const { line, image } = images[k];
      results.set(line, r.ok ? [line, image.itemId!, image.uri!, STATUS.success, null] : failure(line, [image.itemId!, image.uri!], r.error));
    });
  } catch (e) {
    // The whole batch failed (library deleted meanwhile, store down): every line of it reports why.
    for (const { line, image } of images) results.set(line, failure(line, [image.itemId!, image.uri!], e));
  }
  return [...results.values()].sort((a, b) => a[0] - b[0]);
}

function failure(line: number, [id, uri]: [string | null, string | null], e: unknown): LineResult {
  if (!isEngineError(e)) throw e;
  const error = toOperatorError(e);
  return [line, id, uri, error.status, error.message];
}

async function readSource(state: ImportTaskState, tenant: string, sources: ImportSources): Promise<Buffer> {
  if (state.file_url !== undefined) return sources.fetchFile(unsealFileUrl(state, sources.urls));
  return readImportFile(state.file_path!, tenant, sources.importDir, 'file_path');
}

function unsealFileUrl(state: ImportTaskState, urls: UrlSealer): string {
  try {
    return urls.unseal({ shown: state.file_url!, sealed: state.file_url_sealed });
  } catch {
    // Sealed by a gateway with another secret key (ISG_SECRET_KEY must be alike across a cluster).
    throw new InvalidArgumentError('file_url', `file_url ${state.file_url} cannot be read: its credentials were sealed under another secret key`);
  }
}

async function readImage(uri: string, tenant: string, sources: ImportSources): Promise<Buffer> {
  if (/^https?:\/\//i.test(uri)) return sources.fetchImage(uri);
  return readImportFile(uri, tenant, sources.importDir, 'image_uri');
}

/** A file of the tenant's import area (adapters/http/import-area.ts); one neutral error for any unreadable path. */
async function readImportFile(given: string, tenant: string, importDir: string, field: string): Promise<Buffer> {
  try {
    return await readFile(await resolveImportPath(importDir, tenant, given, 'file'));
  } catch (e) {
    const message = e instanceof ImportPathError ? e.message : new ImportPathError(given).message;
    throw new InvalidArgumentError(field, `${field} ${message}`);
  }
}

/** The task as GET image/tasks/results/{task_id} shows it, with one page of per-line results. */
export function taskView(task: TaskRecord, offset: number, limit: number) {
  const state = task.state as ImportTaskState;
  const succeeded = state.results.filter((r) => r[3] === STATUS.success).length;
  return {
    task_id: task.id,
    library_name: state.library_name,
    status: task.status.toUpperCase(),
    total: state.total,
    processed: state.results.length,
    succeeded,
    failed: state.results.length - succeeded,
    error_message: state.error ?? null,
    results: state.results.slice(offset, offset + limit).map(([line, image_id, image_uri, status, message]) => ({
      line,
      image_id,
      image_uri,
      status,
      message,
    })),
    created_at: new Date(task.createdAt).toISOString(),
    updated_at: new Date(task.updatedAt).toISOString(),
  };
}

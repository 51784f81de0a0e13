/**
 * DumpMeta and IncreaseInstance as persisted tasks (core/tasks.ts), and the per-instance list the *List
 * actions page through. The vendor numbers tasks per instance (Id 1, 2, ...): each instance's tasks are
 * filed in one series of the task runner (core/tasks.ts), whose numbers come from the store atomically.
 *
 * Meta files are JSON lines, one image each, in the increment.meta format (so a dump can be imported
 * again): {"operator":"ADD","item_id","pic_list":[PicName],"cat_id","cust_content","int_attr".."str_attr4"}.
 * IncreaseInstance reads <imports.dir>/<tenant>/<BucketName><Path>/increment.meta (adapters/http/import-area.ts)
 * and the images beside it:
 * "ADD" lines add every picture of pic_list, "DELETE" lines delete the pictures (or the whole item when
 * pic_list is absent).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Engine, NewImage } from '../../core/engine';
import { AlreadyExistsError, NotFoundError } from '../../core/errors';
import type { LibraryRef } from '../../core/records';
import type { TaskHandler, TaskRecord, TaskRunner } from '../../core/tasks';
import { ImportPathError, resolveImportPath } from '../http/import-area';
import { chooseCategory } from './category';
import { AlibabaError, toAlibabaError, type ErrorCode } from './errors';
import { alibabaExtra, alibabaKeys, ATTRIBUTES, imageId } from './keys';
import { IMAGE_LIMITS, INCREMENT_BATCH_LINES, INCREMENT_META_FILE, INCREMENT_META_MAX_BYTES } from './limits';
import { preparePicture, resolveRegion } from './image';

export const DUMP_TASK_KIND = 'alibaba.dump-meta';
export const INCREMENT_TASK_KIND = 'alibaba.increase-instance';
type TaskKind = typeof DUMP_TASK_KIND | typeof INCREMENT_TASK_KIND;

export interface DumpState {
  instance: string;
  /** File name of the meta file inside the dump directory, once written. */
  file?: string;
  error?: string;
}

export interface IncrementState {
  instance: string;
  bucketName: string;
  path: string;
  callbackAddress?: string;
  next_line: number;
  /** [line, code, message] of each line that failed. */
  errors: Array<[number, string, string]>;
  /** File name of the error report, when some lines failed. */
  errorFile?: string;
  error?: string;
}

export interface TaskDirs {
  /** Where meta dumps and error reports are written. */
  outputDir: string;
  /** Where BucketName/Path folders of increment files live (the gateway's imports.dir). */
  importDir: string;
}

// ---- the per-instance numbering --------------------------------------------------------------------

/** Each instance's tasks form one series (dumps and increments together), numbered by the task store. */
function seriesOf(instance: string): string {
  return `alibaba-instance\u001f${instance}`;
}

/**
 * Data written by builds before series kept each instance's numbering in an index record filed as a task:
 * read (its tasks are still listed, new Ids go on after its last), never written.
 */
interface LegacyIndex {
  nextId: number;
  entries: Array<{ Id: number; taskId: string; kind: string }>;
}

async function legacyIndex(tasks: TaskRunner, ref: LibraryRef): Promise<LegacyIndex | undefined> {
  const record = await tasks.get(ref.tenant, `alibaba-task-index\u001f${ref.name}`).catch((e: unknown) => {
    if (e instanceof NotFoundError) return undefined;
    throw e;
  });
  return record?.state as LegacyIndex | undefined;
}

/** Creates a task under the instance's next Id; `exclusive`: refused (Console.TaskAlreadyExist) while one of its kind runs. */
export async function startTask<S>(tasks: TaskRunner, ref: LibraryRef, kind: TaskKind, state: S, exclusive = false): Promise<{ Id: number; task: TaskRecord }> {
  try {
    const legacy = await legacyIndex(tasks, ref);
    const task = await tasks.create(ref.tenant, kind, state, { scope: seriesOf(ref.name), exclusive, from: legacy?.nextId });
    return { Id: task.seq!, task };
  } catch (e) {
    if (e instanceof AlreadyExistsError && e.resource === 'task') throw new AlibabaError('Console.TaskAlreadyExist');
    throw e;
  }
}

/** The instance's tasks of one kind, newest first, with their numeric Ids. */
export async function listTasks(tasks: TaskRunner, ref: LibraryRef, kind: TaskKind): Promise<Array<{ Id: number; task: TaskRecord }>> {
  const filed = (await tasks.list(ref.tenant, seriesOf(ref.name))).filter((t) => t.kind === kind && t.seq !== undefined).map((task) => ({ Id: task.seq!, task }));
  const legacy = (await legacyIndex(tasks, ref))?.entries.filter((e) => e.kind === kind) ?? [];
  const older = await Promise.all(
    legacy.map(async (e) => ({ Id: e.Id, task: await tasks.get(ref.tenant, e.taskId).catch(() => undefined) })),
  );
  const found = older.filter((x): x is { Id: number; task: TaskRecord } => x.task !== undefined);
  return [...filed, ...found].sort((a, b) => b.Id - a.Id);
}

/** PROCESSING | SUCCESS | FAIL, the vendor's words for a task's status. */
export function vendorStatus(task: TaskRecord): 'PROCESSING' | 'SUCCESS' | 'FAIL' {
  if (task.status === 'succeeded') return 'SUCCESS';
  if (task.status === 'failed') return 'FAIL';
  return 'PROCESSING';
}

// ---- DumpMeta --------------------------------------------------------------------------------------

export function dumpTaskHandler(engine: Engine, dirs: TaskDirs): TaskHandler<DumpState> {
  return async ({ task }) => {
    const state = task.state;
    const ref = { tenant: task.tenant, name: state.instance };
    await mkdir(dirs.outputDir, { recursive: true });
    const file = `${task.id}.meta`;
    const out = createWriteStream(path.join(dirs.outputDir, file));
    const done = new Promise<void>((resolve, reject) => {
      out.on('finish', resolve);
      out.on('error', reject);
    });
    let cursor: string | undefined;
    do {
      const page = await engine.listImages(ref, { cursor, limit: 500 });
      for (const record of page.images) {
        const { ProductId, PicName } = alibabaKeys(record);
        const extra = alibabaExtra(record);
        const line: Record<string, unknown> = { operator: 'ADD', item_id: ProductId, pic_list: [PicName] };
        if (extra.CategoryId !== undefined) line.cat_id = extra.CategoryId;
        if (extra.CustomContent !== undefined) line.cust_content = extra.CustomContent;
        for (const tag of Object.values(ATTRIBUTES)) if (record.tags[tag] !== undefined) line[tag] = record.tags[tag];
        if (!out.write(JSON.stringify(line) + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
      }
      cursor = page.nextCursor;
    } while (cursor);
    out.end();
    await done;
    return { ...state, file };
  };
}

// ---- IncreaseInstance ------------------------------------------------------------------------------

interface MetaLine {
  operator?: unknown;
  item_id?: unknown;
  pic_list?: unknown;
  cat_id?: unknown;
  cust_content?: unknown;
  region?: unknown;
  crop?: unknown;
  [attr: string]: unknown;
}

class LineError extends Error {
  constructor(readonly code: ErrorCode | string) {
    super(code);
  }
}

export function incrementTaskHandler(engine: Engine, dirs: TaskDirs): TaskHandler<IncrementState> {
  return async ({ task, save, signal }) => {
    const state: IncrementState = { ...task.state, errors: [...task.state.errors] };
    const ref = { tenant: task.tenant, name: state.instance };
    // The increment's folder inside the tenant's import area; pictures are named relative to it.
    const folder = path.join(state.bucketName, state.path);
    const inFolder = (name: string) => resolveImportPath(dirs.importDir, task.tenant, path.join(folder, name), 'file');
    const metaPath = await inFolder(INCREMENT_META_FILE).catch(() => {
      throw new ImportPathError(`${state.bucketName}${state.path}/${INCREMENT_META_FILE}`);
    });
    const { size } = await stat(metaPath);
    if (size > INCREMENT_META_MAX_BYTES) throw new Error(`${INCREMENT_META_FILE} is larger than ${INCREMENT_META_MAX_BYTES} bytes`);
    const lines = (await readFile(metaPath, 'utf8')).split('\n');
    while (state.next_line < lines.length && !signal.aborted) {
      const end = Math.min(lines.length, state.next_line + INCREMENT_BATCH_LINES);
      for (let i = state.next_line; i < end; i++) {
        if (lines[i].trim() === '') continue;
        try {
          await applyLine(engine, ref, inFolder, lines[i]);
        } catch (e) {
          const code = e instanceof LineError ? e.code : toAlibabaError(e).code;
          const message = e instanceof LineError ? lineMessage(e.code) : toAlibabaError(e).message;
          state.errors.push([i + 1, code, message]);
        }
      }
      state.next_line = end;
      await save(state);
    }
    if (signal.aborted) return state;
    if (state.errors.length > 0) {
      await mkdir(dirs.outputDir, { recursive: true });
      state.errorFile = `${task.id}.errors`;
      const text = state.errors.map(([line, code, message]) => JSON.stringify({ line, code, message })).join('\n') + '\n';
      await writeFile(path.join(dirs.outputDir, state.errorFile), text);
    }
    return state;
  };
}

function lineMessage(code: string): string {
  return code === 'InvalidMetaItem' ? 'The meta field is invalid.' : code === 'NoPicList' ? 'The body content is missing the pic_list parameter.' : 'The specified pic_list parameter is invalid.';
}

async function applyLine(engine: Engine, ref: LibraryRef, inFolder: (name: string) => Promise<string>, text: string): Promise<void> {
  let line: MetaLine;
  try {
    line = JSON.parse(text);
  } catch {
    throw new LineError('InvalidMetaItem');
  }
  if (typeof line !== 'object' || line === null || typeof line.item_id !== 'string' || line.item_id === '') throw new LineError('InvalidMetaItem');
  const productId = line.item_id;
  const operator = typeof line.operator === 'string' ? line.operator.toUpperCase() : 'ADD';
  const pics = line.pic_list;
  if (pics !== undefined && (!Array.isArray(pics) || pics.some((p) => typeof p !== 'string' || p === '' || p.includes('\u001f')))) {
    throw new LineError('InvalidPicList');
  }
  if (operator === 'DELETE') {
    if (pics === undefined) await engine.deleteImages(ref, { itemIds: [productId] });
    else await engine.deleteImages(ref, { ids: (pics as string[]).map((p) => imageId(productId, p)) });
    return;
  }
  if (operator !== 'ADD') throw new LineError('InvalidMetaItem');
  if (pics === undefined || (pics as string[]).length === 0) throw new LineError('NoPicList');
  const library = await engine.getLibrary(ref);
  const tags: Record<string, string | number> = {};
  for (const tag of Object.values(ATTRIBUTES)) {
    const v = line[tag];
    if (v === undefined) continue;
    if (tag.startsWith('int') ? !Number.isInteger(v) : typeof v !== 'string') throw new LineError('InvalidMetaItem');
    tags[tag] = v as string | number;
  }
  const images: NewImage[] = [];
  for (const pic of pics as string[]) {
    const file = await inFolder(pic).catch(() => {
      throw new LineError('InvalidPicList');
    });
    // Increment pictures keep IMAGE_LIMITS only (a rotation flag is not refused here).
    const image = await preparePicture(engine, await readFile(file), IMAGE_LIMITS);
    const { region } = await resolveRegion(engine, image, line.crop !== false, typeof line.region === 'string' ? line.region : undefined);
    const given = Number.isInteger(line.cat_id) ? (line.cat_id as number) : typeof line.cat_id === 'string' && /^\d+$/.test(line.cat_id) ? Number(line.cat_id) : undefined;
    const CategoryId = await chooseCategory({ library, given, image, engine });
    images.push({
      id: imageId(productId, pic),
      itemId: productId,
      tags,
      extra: { alibaba: { CategoryId, ...(typeof line.cust_content === 'string' ? { CustomContent: line.cust_content } : {}) } },
      image: { ...image, region },
    });
  }
  const results = await engine.addImages(library, images);
  const failed = results.find((r) => !r.ok);
  if (failed && !failed.ok) throw failed.error;
}



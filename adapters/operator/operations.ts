/**
 * One function per operator operation: validate the body against its schema, call the engine, shape
 * `data`. Errors are thrown as engine errors and turned into the envelope by index.ts.
 */
import type { Engine, SearchResult } from '../../core/engine';
import { InvalidArgumentError } from '../../core/errors';
import type { Filter } from '../../core/filter';
import type { ImageRecord, Library, LibraryMode, Tags } from '../../core/records';
import type { TaskRunner } from '../../core/tasks';
import type { UrlSealer } from '../http/sealed-url';
import { validator } from '../http/validate';
import imageAddSchema from '../../schemas/operator/image-add.json';
import imageDeleteSchema from '../../schemas/operator/image-delete.json';
import imageListSchema from '../../schemas/operator/image-list.json';
import tasksCreateSchema from '../../schemas/operator/image-tasks-create.json';
import libraryCreateSchema from '../../schemas/operator/library-create.json';
import libraryDeleteSchema from '../../schemas/operator/library-delete.json';
import libraryDescribeSchema from '../../schemas/operator/library-describe.json';
import libraryListSchema from '../../schemas/operator/library-list.json';
import searchByImageSchema from '../../schemas/operator/search-by-image.json';
import searchByTextSchema from '../../schemas/operator/search-by-text.json';
import { IMPORT_TASK_KIND, taskView, type ImportTaskState } from './import-task';
import { decodeOperatorImage } from './image-input';
import { imageKey, operatorKeys } from './keys';
import { IMAGE_LIMITS, TASK_RESULTS_PAGE_DEFAULT, TASK_RESULTS_PAGE_MAX } from './limits';
import { parseTagFilter } from './tag-filter';

export interface OperatorDeps {
  engine: Engine;
  tasks: TaskRunner;
  /** Seals credentials in a task's file_url before it is stored. */
  urls: UrlSealer;
}

export interface Call {
  deps: OperatorDeps;
  tenant: string;
  body: unknown;
  params: Record<string, string>;
  query: Record<string, unknown>;
}

const validate = {
  searchByImage: validator<{ library_name: string; image_base64: string; top_k: number; tag_filter?: unknown; return_frame: boolean }>(searchByImageSchema),
  searchByText: validator<{ library_name: string; query_text: string; top_k: number; tag_filter?: unknown; return_frame: boolean }>(searchByTextSchema),
  imageAdd: validator<{ library_name: string; image_id: string; image_uri: string; image_base64: string; tags: Tags; save_image: boolean }>(imageAddSchema),
  imageDelete: validator<{ library_name: string; image_id: string; image_uri?: string }>(imageDeleteSchema),
  imageList: validator<{ library_name: string; cursor?: string; limit: number; image_id?: string; tag_filter?: unknown }>(imageListSchema),
  tasksCreate: validator<{ library_name: string; file_path?: string; file_url?: string }>(tasksCreateSchema),
  libraryCreate: validator<{ library_name: string; mode: LibraryMode; description?: string; model?: string; views?: string[] }>(libraryCreateSchema),
  libraryDescribe: validator<{ library_name: string }>(libraryDescribeSchema),
  libraryDelete: validator<{ library_name: string }>(libraryDeleteSchema),
  libraryList: validator<Record<string, never>>(libraryListSchema),
};

function optionalFilter(tagFilter: unknown): Filter | undefined {
  return tagFilter === undefined ? undefined : parseTagFilter(tagFilter);
}

// ---- search ------------------------------------------------------------------------------------

export async function searchByImage({ deps, tenant, body }: Call) {
  const req = validate.searchByImage(body);
  const filter = optionalFilter(req.tag_filter);
  const bytes = decodeOperatorImage(req.image_base64);
  const ref = { tenant, name: req.library_name };
  const result = await deps.engine.searchByImage([ref], { bytes, limits: IMAGE_LIMITS }, { limit: req.top_k, filter });
  return { results: await shapeResults(deps.engine, tenant, result, req.return_frame) };
}

export async function searchByText({ deps, tenant, body }: Call) {
  const req = validate.searchByText(body);
  const filter = optionalFilter(req.tag_filter);
  const ref = { tenant, name: req.library_name };
  const result = await deps.engine.searchByText([ref], req.query_text, { limit: req.top_k, filter });
  return { results: await shapeResults(deps.engine, tenant, result, req.return_frame) };
}

async function shapeResults(engine: Engine, tenant: string, result: SearchResult, returnFrame: boolean) {
  return Promise.all(
    result.hits.map(async ({ library, record, score }) => {
      const bytes = returnFrame && record.hasImage ? await engine.getImageBytes({ tenant, name: library }, record.id) : undefined;
      return {
        ...operatorKeys(record),
        image_base64: bytes ? bytes.toString('base64') : null,
        score: Math.round(score * 1e6) / 1e6,
        tags: record.tags,
      };
    }),
  );
}

// ---- images ------------------------------------------------------------------------------------

export async function imageAdd({ deps, tenant, body }: Call) {
  const req = validate.imageAdd(body);
  const bytes = decodeOperatorImage(req.image_base64);
  const record = await deps.engine.addImage(
    { tenant, name: req.library_name },
    {
      id: imageKey(req.image_id, req.image_uri),
      itemId: req.image_id,
      uri: req.image_uri,
      tags: req.tags,
      image: { bytes, limits: IMAGE_LIMITS },
      keepImage: req.save_image,
    },
  );
  return { library_name: req.library_name, ...imageView(record) };
}

export async function imageDelete({ deps, tenant, body }: Call) {
  const req = validate.imageDelete(body);
  const ref = { tenant, name: req.library_name };
  const deleted =
    req.image_uri === undefined
      ? await deps.engine.deleteImages(ref, { itemIds: [req.image_id] })
      : await deps.engine.deleteImages(ref, { ids: [imageKey(req.image_id, req.image_uri)] });
  return { library_name: req.library_name, deleted_count: deleted.length };
}

export async function imageList({ deps, tenant, body }: Call) {
  const req = validate.imageList(body);
  const filter = optionalFilter(req.tag_filter);
  const page = await deps.engine.listImages(
    { tenant, name: req.library_name },
    { cursor: req.cursor, limit: req.limit, itemId: req.image_id, filter },
  );
  return { images: page.images.map(imageView), next_cursor: page.nextCursor ?? null };
}

function imageView(record: ImageRecord) {
  return {
    ...operatorKeys(record),
    tags: record.tags,
    saved_image: record.hasImage,
    created_at: new Date(record.createdAt).toISOString(),
    updated_at: new Date(record.updatedAt).toISOString(),
  };
}

// ---- batch import tasks ------------------------------------------------------------------------

export async function tasksCreate({ deps, tenant, body }: Call) {
  const req = validate.tasksCreate(body);
  if ((req.file_path === undefined) === (req.file_url === undefined)) {
    throw new InvalidArgumentError('file_path', 'exactly one of file_path and file_url is required');
  }
  await deps.engine.getLibrary({ tenant, name: req.library_name });
  const url = req.file_url === undefined ? undefined : deps.urls.seal(req.file_url);
  const state: ImportTaskState = {
    library_name: req.library_name,
    file_path: req.file_path,
    file_url: url?.shown,
    file_url_sealed: url?.sealed,
    next_line: 0,
    total: null,
    results: [],
  };
  const task = await deps.tasks.create(tenant, IMPORT_TASK_KIND, state);
  return { task_id: task.id, status: 'PENDING' };
}

export async function tasksResults({ deps, tenant, params, query }: Call) {
  const offset = pageNumber(query.offset, 'offset', 0, Number.MAX_SAFE_INTEGER, 0);
  const limit = pageNumber(query.limit, 'limit', 1, TASK_RESULTS_PAGE_MAX, TASK_RESULTS_PAGE_DEFAULT);
  const task = await deps.tasks.get(tenant, params.task_id);
  if (task.kind !== IMPORT_TASK_KIND) throw new InvalidArgumentError('task_id', 'not an image import task');
  return taskView(task, offset, limit);
}

function pageNumber(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(name, `${name} must be an integer from ${min} to ${max}`);
  return n;
}

// ---- libraries ---------------------------------------------------------------------------------

export async function libraryCreate({ deps, tenant, body }: Call) {
  const req = validate.libraryCreate(body);
  const library = await deps.engine.createLibrary(tenant, {
    name: req.library_name,
    mode: req.mode,
    model: req.model,
    description: req.description,
    views: req.views,
  });
  return libraryView(library, 0);
}

export async function libraryList({ deps, tenant, body }: Call) {
  validate.libraryList(body);
  const libraries = await deps.engine.listLibraries(tenant);
  return { libraries: libraries.map((l) => libraryView(l, l.imageCount)) };
}

export async function libraryDescribe({ deps, tenant, body }: Call) {
  const req = validate.libraryDescribe(body);
  const ref = { tenant, name: req.library_name };
  const library = await deps.engine.getLibrary(ref);
  return libraryView(library, await deps.engine.countImages(ref));
}

export async function libraryDelete({ deps, tenant, body }: Call) {
  const req = validate.libraryDelete(body);
  await deps.engine.deleteLibrary({ tenant, name: req.library_name });
  return { library_name: req.library_name };
}

function libraryView(library: Library, imageCount: number) {
  return {
    library_name: library.name,
    mode: library.mode,
    description: library.description ?? null,
    model: library.model,
    image_count: imageCount,
    created_at: new Date(library.createdAt).toISOString(),
  };
}

/**
 * One function per Huawei ImageSearch v1 operation: validate the body against its schema, call the
 * engine, shape the vendor's answer. Instances are libraries of the tenant (general_search, the default
 * model); the vendor-only fields (model name, level) live in Library.extra.huawei. An image's `path` is
 * its id in the library (and its uri).
 */
import type { Engine, SearchQuery, SearchResult } from '../../core/engine';
import { InvalidArgumentError } from '../../core/errors';
import { decodeImageData } from '../../core/image';
import type { UrlFetcher } from '../../core/net/fetch';
import type { ImageRecord, Library, LibraryRef, Region } from '../../core/records';
import { validator } from '../http/validate';
import instanceCreateSchema from '../../schemas/huawei/instance-create.json';
import pictureAddSchema from '../../schemas/huawei/picture-add.json';
import pictureCheckSchema from '../../schemas/huawei/picture-check.json';
import pictureDeleteSchema from '../../schemas/huawei/picture-delete.json';
import pictureModifySchema from '../../schemas/huawei/picture-modify.json';
import pictureSearchSchema from '../../schemas/huawei/picture-search.json';
import { HuaweiServiceError, IS } from './errors';
import {
  EXPIRED_DATE_NEVER,
  IMAGE_LIMITS,
  INSTANCE_DELETED,
  MODEL_DOMAIN,
  PICTURE_OK,
  SIM_DECIMALS,
  STATUS_NORMAL,
  TAGS_ONLY_SIM,
} from './limits';
import { tagsFilter, type HuaweiTags } from './tag-filter';

export interface HuaweiDeps {
  engine: Engine;
  /** Downloads `path` when no `file` is given (core's SSRF-guarded fetcher, allow-list from config). */
  fetchImage: UrlFetcher;
}

export interface Call {
  deps: HuaweiDeps;
  tenant: string;
  body: unknown;
  /** The {instance_name} path segment (absent for create instance). */
  instance?: string;
}

/** Vendor-only instance fields kept in Library.extra. */
interface HuaweiInstanceExtra {
  model: string;
  level: number;
}

const DEFAULT_LEVEL: number = instanceCreateSchema.properties.level.default;
const TAGS_ONLY_PAGE = 500;

const validate = {
  create: validator<{ name: string; model: string; description?: string; level: number; tags?: string[] }>(instanceCreateSchema),
  add: validator<{ path: string; file?: string; tags?: HuaweiTags }>(pictureAddSchema),
  modify: validator<{ path: string; tags: HuaweiTags }>(pictureModifySchema),
  delete: validator<{ path: string }>(pictureDeleteSchema),
  check: validator<{ path: string }>(pictureCheckSchema),
  search: validator<{
    file?: string;
    path?: string;
    limit: number;
    offset: number;
    tags?: HuaweiTags;
    is_crop: boolean;
    box?: { x?: number; y?: number; width?: number; height?: number };
  }>(pictureSearchSchema),
};

function libraryOf(call: Call): LibraryRef {
  return { tenant: call.tenant, name: call.instance! };
}

// ---- instances ---------------------------------------------------------------------------------

export async function createInstance({ deps, tenant, body }: Call) {
  let req: ReturnType<typeof validate.create>;
  try {
    req = validate.create(body);
  } catch (e) {
    // The instance's tag keys have codes of their own (image tags use IS.1003/IS.1004).
    if (e instanceof InvalidArgumentError && e.field.startsWith('tags') && !/ must be an? /.test(e.message)) {
      throw new HuaweiServiceError(/at most/.test(e.message) ? IS.tooManyInstanceTags : IS.badInstanceTag);
    }
    throw e;
  }
  const extra: HuaweiInstanceExtra = { model: req.model, level: req.level };
  const library = await deps.engine.createLibrary(tenant, {
    name: req.name,
    mode: 'general_search',
    description: req.description,
    tagKeys: req.tags ?? [],
    capacity: req.level,
    extra: { huawei: extra },
  });
  return instanceView(library);
}

export async function queryInstance(call: Call) {
  return instanceView(await call.deps.engine.getLibrary(libraryOf(call)));
}

export async function deleteInstance(call: Call) {
  await call.deps.engine.deleteLibrary(libraryOf(call));
  return INSTANCE_DELETED;
}

/** The instance object of create and query, in the vendor's key order. Libraries of other APIs get defaults. */
function instanceView(library: Library) {
  const extra = library.extra?.huawei as HuaweiInstanceExtra | undefined;
  return {
    instanceName: library.name,
    level: extra?.level ?? DEFAULT_LEVEL,
    expiredDate: EXPIRED_DATE_NEVER,
    domain: MODEL_DOMAIN,
    desc: library.description ?? '',
    registerDate: library.createdAt,
    tags: library.tagKeys ?? [],
    status: STATUS_NORMAL,
  };
}

// ---- pictures ----------------------------------------------------------------------------------

/** Image tag keys must be declared on the instance (libraries of other APIs declare none: any key). */
function checkTagKeys(library: Library, tags: HuaweiTags | undefined): void {
  if (!tags || library.tagKeys === undefined) return;
  if (Object.keys(tags).some((k) => !library.tagKeys!.includes(k))) throw new HuaweiServiceError(IS.tagMismatch);
}

function decodeFile(file: string): Buffer {
  return decodeImageData(file, { allowDataUri: false });
}

/** `path` as a download address: only absolute http(s) URLs (the vendor reads OBS URLs of its region). */
async function download(deps: HuaweiDeps, path: string): Promise<Buffer> {
  let url: URL;
  try {
    url = new URL(path);
  } catch {
    throw new HuaweiServiceError(IS.invalidPath);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HuaweiServiceError(IS.invalidPath);
  return deps.fetchImage(url.href);
}

export async function addPicture(call: Call) {
  const req = validate.add(call.body);
  const ref = libraryOf(call);
  const library = await call.deps.engine.getLibrary(ref);
  checkTagKeys(library, req.tags);
  // file wins; without it (absent or empty) the image is downloaded from path, which stays the id.
  const bytes = req.file ? decodeFile(req.file) : await download(call.deps, req.path);
  await call.deps.engine.addImage(ref, { id: req.path, uri: req.path, tags: req.tags ?? {}, image: { bytes, limits: IMAGE_LIMITS } });
  return PICTURE_OK;
}

export async function modifyPicture(call: Call) {
  const req = validate.modify(call.body);
  const ref = libraryOf(call);
  checkTagKeys(await call.deps.engine.getLibrary(ref), req.tags);
  await call.deps.engine.updateImage(ref, req.path, { tags: req.tags });
  return PICTURE_OK;
}

export async function deletePicture(call: Call) {
  const req = validate.delete(call.body);
  const deleted = await call.deps.engine.deleteImages(libraryOf(call), { ids: [req.path] });
  if (deleted.length === 0) throw new HuaweiServiceError(IS.notIndexed);
  return PICTURE_OK;
}

export async function checkPicture(call: Call) {
  const req = validate.check(call.body);
  const found = await call.deps.engine.getImages(libraryOf(call), [req.path]);
  return { exist: found.length > 0 ? 'true' : 'false' };
}

// ---- search ------------------------------------------------------------------------------------

export async function searchPicture(call: Call) {
  const req = validate.search(call.body);
  const { engine } = call.deps;
  const ref = libraryOf(call);
  const filter = tagsFilter(req.tags);
  const query: SearchQuery = { limit: req.limit, offset: req.offset, filter };
  let result: Array<{ path: string; sim: number; tags: ImageRecord['tags'] }>;
  if (req.file) {
    // file wins over path; the box is used only with is_crop (vendor), on the file's pixels.
    const region = req.is_crop && req.box ? boxRegion(req.box) : undefined;
    const bytes = decodeFile(req.file);
    result = hitsView(await engine.searchByImage([ref], { bytes, limits: IMAGE_LIMITS, region, detectSubject: false }, query));
  } else if (req.path) {
    result = hitsView(await engine.searchByStoredImage(ref, req.path, query));
  } else if (req.tags && Object.keys(req.tags).length > 0) {
    result = (await tagsOnly(engine, ref, query)).map((r) => ({ path: r.id, sim: TAGS_ONLY_SIM, tags: r.tags }));
  } else {
    // The search page's documented failure example is this answer.
    throw new HuaweiServiceError(IS.pathMissing);
  }
  // count is the total number of results (vendor), i.e. every image the tags let through.
  return { count: await engine.countImages(ref, filter), result };
}

function hitsView(result: SearchResult) {
  const scale = 10 ** SIM_DECIMALS;
  return result.hits.map(({ record, score }) => ({ path: record.id, sim: Math.round(score * scale) / scale, tags: record.tags }));
}

/** A box's missing sides reach to the image's edge (the engine clamps the region to the image). */
function boxRegion(box: { x?: number; y?: number; width?: number; height?: number }): Region {
  return { left: box.x ?? 0, top: box.y ?? 0, width: box.width ?? Number.MAX_SAFE_INTEGER, height: box.height ?? Number.MAX_SAFE_INTEGER };
}

/** The page of a tags-only search: images in list order, offset then limit. */
async function tagsOnly(engine: Engine, ref: LibraryRef, query: SearchQuery): Promise<ImageRecord[]> {
  const out: ImageRecord[] = [];
  let toSkip = query.offset ?? 0;
  let cursor: string | undefined;
  do {
    const page = await engine.listImages(ref, { cursor, limit: TAGS_ONLY_PAGE, filter: query.filter });
    for (const record of page.images) {
      if (toSkip > 0) toSkip--;
      else if (out.length < query.limit) out.push(record);
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined && out.length < query.limit);
  return out;
}

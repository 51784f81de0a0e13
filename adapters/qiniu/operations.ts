/**
 * One function per Qiniu operation: validate (schemas/qiniu/ for types, then the vendor's own rules with
 * its messages), call the engine, shape the answer. Errors are thrown (engine errors or QiniuRequestError)
 * and answered by index.ts through errors.ts; per-image failures of new/add are answered inline.
 */
import type { Engine, NewImage, SearchResult } from '../../core/engine';
import { InvalidArgumentError, isEngineError, NotFoundError } from '../../core/errors';
import type { UrlFetcher } from '../../core/net/fetch';
import type { Library, LibraryRef } from '../../core/records';
import { validator } from '../http/validate';
import groupSearchSchema from '../../schemas/qiniu/group-search.json';
import groupsSearchSchema from '../../schemas/qiniu/groups-search.json';
import imageInfoSchema from '../../schemas/qiniu/image-info.json';
import imagesAddSchema from '../../schemas/qiniu/images-add.json';
import imagesDeleteSchema from '../../schemas/qiniu/images-delete.json';
import { ERRORS, fail, itemError, QiniuRequestError, type QiniuError } from './errors';
import { isBlankUri, readQiniuUri } from './image-input';
import { generatedImageId, imageView, qiniuExtra } from './keys';
import {
  ADD_BATCH,
  ADD_MAX_ITEMS,
  DESC_MAX_BYTES,
  GROUP_CAPACITY,
  IMAGE_LIMITS,
  LIST_LIMIT_DEFAULT,
  LIST_LIMIT_MAX,
  SEARCH_LIMIT_DEFAULT,
  SEARCH_LIMIT_MAX,
  SEARCH_MAX_GROUPS,
} from './limits';

export interface QiniuDeps {
  engine: Engine;
  fetchImage: UrlFetcher;
  /** The "system setting" threshold: a search never returns scores below it. */
  searchThreshold: number;
}

export interface Call {
  deps: QiniuDeps;
  tenant: string;
  /** The <group_id> of the path (routes that have one). */
  group: string;
  body: unknown;
  query: Record<string, unknown>;
}

interface AddItem {
  uri?: string;
  attribute?: { id?: string; label?: string; desc?: unknown };
}

const validate = {
  imagesAdd: validator<{ data?: AddItem[] }>(imagesAddSchema),
  imagesDelete: validator<{ images?: string[] }>(imagesDeleteSchema),
  imageInfo: validator<{ id?: string }>(imageInfoSchema),
  groupsSearch: validator<{ data?: { uri?: string }; params?: { groups?: string[]; limit?: number; threshold?: number } }>(groupsSearchSchema),
  groupSearch: validator<{ data?: { uri?: string }; params?: { limit?: number } }>(groupSearchSchema),
};

// ---- groups ------------------------------------------------------------------------------------

export async function groupNew({ deps, tenant, group, body }: Call) {
  const items = addItems(body);
  const library = await deps.engine.createLibrary(tenant, { name: group, mode: 'general_search', capacity: GROUP_CAPACITY });
  return addImages(deps, library, items);
}

/** Always `{}`: the vendor's server answers 200 {} whether or not the group existed. */
export async function groupRemove({ deps, tenant, group }: Call) {
  try {
    await deps.engine.deleteLibrary({ tenant, name: group });
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e;
  }
  return {};
}

export async function groupList({ deps, tenant }: Call) {
  const libraries = await deps.engine.listLibraries(tenant);
  return { code: 0, message: '', result: libraries.map((l) => l.name) };
}

export async function groupInfo({ deps, tenant, group }: Call) {
  return { count: await deps.engine.countImages({ tenant, name: group }) };
}

// ---- images ------------------------------------------------------------------------------------

export async function imagesAdd({ deps, tenant, group, body }: Call) {
  const items = addItems(body);
  return addImages(deps, await deps.engine.getLibrary({ tenant, name: group }), items);
}

export async function imagesDelete({ deps, tenant, group, body }: Call) {
  const req = validate.imagesDelete(body);
  if (req.images === undefined) fail(ERRORS.noEnoughArguments);
  const ref = { tenant, name: group };
  if (req.images.length === 0) await deps.engine.getLibrary(ref);
  else await deps.engine.deleteImages(ref, { ids: [...new Set(req.images)] });
  return {};
}

export async function imagesList({ deps, tenant, group, query }: Call) {
  const marker = queryText(query.marker);
  const limitText = queryText(query.limit);
  let limit = LIST_LIMIT_DEFAULT;
  if (limitText !== undefined && limitText !== '') {
    limit = /^\d{1,9}$/.test(limitText) ? Number(limitText) : NaN;
    if (!(limit >= 1 && limit <= LIST_LIMIT_MAX)) fail(ERRORS.invalidListLimit);
  }
  try {
    const page = await deps.engine.listImages({ tenant, name: group }, { cursor: marker || undefined, limit });
    return {
      code: 0,
      marker: page.nextCursor ?? '',
      message: '',
      result: page.images.map((record) => ({ id: record.id, value: imageView(record) })),
    };
  } catch (e) {
    if (e instanceof InvalidArgumentError && e.field === 'cursor') fail(ERRORS.invalidMarker);
    throw e;
  }
}

export async function imageInfo({ deps, tenant, group, body }: Call) {
  const req = validate.imageInfo(body);
  if (req.id === undefined || req.id === '') fail(ERRORS.noEnoughArguments);
  return imageView(await deps.engine.getImage({ tenant, name: group }, req.id));
}

// ---- search ------------------------------------------------------------------------------------

export async function groupsSearch({ deps, tenant, body }: Call) {
  const req = validate.groupsSearch(body);
  if (isBlankUri(req.data?.uri)) fail(ERRORS.noEnoughArguments);
  const groups = [...new Set(req.params?.groups ?? [])];
  if (groups.length === 0) fail(ERRORS.groupsEmpty);
  if (groups.length > SEARCH_MAX_GROUPS) fail(ERRORS.tooManyGroups);
  const limit = searchLimit(req.params?.limit);
  const threshold = searchThreshold(req.params?.threshold, deps.searchThreshold);
  const result = await search(deps, tenant, groups, req.data!.uri!, limit, threshold);
  return {
    code: 0,
    message: '',
    // The page's fields in the page's order (desc, group, id, label, score), nothing else.
    result: result.hits.map(({ library, record, score }) => {
      const { desc, label } = imageView(record);
      return { desc, group: library, id: record.id, label, score: float32(score) };
    }),
  };
}

/** The legacy single-group search: no threshold parameter, no `group` in the results. */
export async function groupSearch({ deps, tenant, group, body }: Call) {
  const req = validate.groupSearch(body);
  if (isBlankUri(req.data?.uri)) fail(ERRORS.noEnoughArguments);
  const limit = searchLimit(req.params?.limit);
  const result = await search(deps, tenant, [group], req.data!.uri!, limit, deps.searchThreshold);
  return {
    code: 0,
    message: '',
    result: result.hits.map(({ record, score }) => {
      const { desc, label } = imageView(record);
      return { desc, id: record.id, label, score: float32(score) };
    }),
  };
}

async function search(deps: QiniuDeps, tenant: string, groups: string[], uri: string, limit: number, threshold: number): Promise<SearchResult> {
  const refs: LibraryRef[] = groups.map((name) => ({ tenant, name }));
  // Missing groups are reported before the query image is downloaded.
  for (const ref of refs) await deps.engine.getLibrary(ref);
  const image = await readQiniuUri(uri, deps.fetchImage);
  return deps.engine.searchByImage(refs, { bytes: image.bytes, limits: IMAGE_LIMITS }, { limit, minScore: threshold });
}

/** limit: default 1; 0 is 1; a negative value (the documented -1) means all, capped; above the cap is 406. */
function searchLimit(limit: number | undefined): number {
  if (limit === undefined || limit === 0) return SEARCH_LIMIT_DEFAULT;
  if (limit > SEARCH_LIMIT_MAX) fail(ERRORS.invalidLimit);
  return limit < 0 ? SEARCH_LIMIT_MAX : limit;
}

/** The effective threshold: the requested one, raised to the system setting (documented). */
function searchThreshold(threshold: number | undefined, system: number): number {
  if (threshold === undefined) return system;
  if (!(threshold >= 0 && threshold <= 1)) fail(ERRORS.invalidThreshold);
  return Math.max(threshold, system);
}

/** Scores are float32 on the vendor's wire: the shortest decimal that reads back as the same float32. */
export function float32(x: number): number {
  const f = Math.fround(x);
  for (let digits = 1; digits < 9; digits++) {
    const shorter = Number(f.toPrecision(digits));
    if (Math.fround(shorter) === f) return shorter;
  }
  return Number(f.toPrecision(9));
}

// ---- new/add: per-image results ------------------------------------------------------------------

function addItems(body: unknown): AddItem[] {
  const req = validate.imagesAdd(body);
  if (req.data === undefined || req.data.length === 0) fail(ERRORS.noEnoughArguments);
  if (req.data.length > ADD_MAX_ITEMS) fail(ERRORS.tooManyImages);
  return req.data;
}

type ItemOutcome = { id: string } | { error: { code: number; message: string } };

/** Ids being added right now, per group: a second request with the same id fails as if it were stored. */
const inFlight = new Map<string, Set<string>>();

/**
 * Adds the images of one new/add call, each with its own outcome: its id or its error (HTTP 200 for
 * the request); ids already in the group or earlier in the request fail with "id already exists"; images
 * past the group's capacity fail with "group ... is full"; at most ADD_BATCH images are in memory at once.
 */
async function addImages(deps: QiniuDeps, library: Library, items: AddItem[]) {
  const ref: LibraryRef = { tenant: library.tenant, name: library.name };
  const outcomes: ItemOutcome[] = new Array(items.length);
  const fails = (i: number, error: QiniuError) => (outcomes[i] = { error: { code: error.http, message: error.message } });
  const ids = items.map((item) => (item.attribute?.id ? item.attribute.id : generatedImageId()));

  // Ids are reserved before the store is asked (no await in between), and released only once written:
  // a concurrent request either sees the reservation or, after it, the stored image.
  const flightKey = `${ref.tenant}\u0000${ref.name}`;
  const flying = inFlight.get(flightKey) ?? new Set<string>();
  inFlight.set(flightKey, flying);
  const reserved: number[] = [];
  items.forEach((item, i) => {
    const desc = item.attribute?.desc;
    if (isBlankUri(item.uri)) return fails(i, ERRORS.noEnoughArguments);
    if (desc !== undefined && Buffer.byteLength(JSON.stringify(desc)) > DESC_MAX_BYTES) return fails(i, ERRORS.descTooLong);
    if (flying.has(ids[i])) return fails(i, ERRORS.idAlreadyExists);
    flying.add(ids[i]);
    reserved.push(i);
  });

  try {
    const stored = new Set((await deps.engine.getImages(ref, reserved.map((i) => ids[i]))).map((r) => r.id));
    let room = library.capacity === undefined ? Infinity : library.capacity - (await deps.engine.countImages(ref));
    const pending: number[] = [];
    for (const i of reserved) {
      if (stored.has(ids[i])) fails(i, ERRORS.idAlreadyExists);
      else if (room <= 0) fails(i, ERRORS.groupFull(library.name, library.capacity!));
      else {
        room--;
        pending.push(i);
      }
    }

    for (let at = 0; at < pending.length; at += ADD_BATCH) {
      const batch = pending.slice(at, at + ADD_BATCH);
      const images = await Promise.all(
        batch.map(async (i): Promise<NewImage | undefined> => {
          const item = items[i];
          try {
            const source = await readQiniuUri(item.uri!, deps.fetchImage);
            return {
              id: ids[i],
              uri: source.uri,
              image: { bytes: source.bytes, limits: IMAGE_LIMITS },
              extra: qiniuExtra({ label: item.attribute?.label, desc: item.attribute?.desc, etag: source.etag }),
            };
          } catch (e) {
            if (!(e instanceof QiniuRequestError) && !isEngineError(e)) throw e;
            outcomes[i] = { error: itemError(e) };
            return undefined;
          }
        }),
      );
      const ready = batch.filter((_, k) => images[k] !== undefined);
      const results = await deps.engine.addImages(ref, images.filter((img): img is NewImage => img !== undefined));
      results.forEach((result, k) => {
        outcomes[ready[k]] = result.ok ? { id: result.record.id } : { error: itemError(result.error) };
      });
    }
  } finally {
    for (const i of reserved) flying.delete(ids[i]);
    if (flying.size === 0 && inFlight.get(flightKey) === flying) inFlight.delete(flightKey);
  }
  return {
    errors: outcomes.map((o) => ('error' in o ? o.error : null)),
    images: outcomes.map((o) => ('id' in o ? o.id : '')),
  };
}

function queryText(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  // A repeated parameter: the first one counts (Go's url.Values.Get).
  return Array.isArray(value) && typeof value[0] === 'string' ? value[0] : String(value);
}

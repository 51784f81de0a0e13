/**
 * One function per Alibaba Image Search action: validate the merged parameters against
 * schemas/alibaba/<Action>.json, call the engine, shape the vendor's body (PascalCase; RequestId is added by
 * index.ts). Casing and typing quirks are the vendor's (shared/specs/alibaba.md §4.13): search, check and
 * compare answer `Msg`, add/delete/update `Message`; `Code` is the number 0 except inside the task lists,
 * where it is the string "0"; CheckImageExists gives `Auctions` as one object.
 */
import type { Engine, PreparedImage, SearchQuery, SearchResult } from '../../core/engine';
import { ImageInvalidError } from '../../core/errors';
import type { UrlFetcher } from '../../core/net/fetch';
import type { ImageRecord, Library, LibraryRef, Region } from '../../core/records';
import type { TaskRecord, TaskRunner } from '../../core/tasks';
import { ALL_CATEGORIES, chooseCategory, isProductInstance, OTHER_CATEGORY } from './category';
import { AlibabaError } from './errors';
import { parseFilter } from './filter';
import { formatRegion, pictureBytes, preparePicture, resolveRegion, type ImageSources } from './image';
import { alibabaExtra, alibabaKeys, attributeTags, auctionOf, imageId, type AlibabaExtra, type AttributeParams } from './keys';
import {
  CAPACITY_UNIT,
  DEFAULT_CAPACITY_UNITS,
  PICTURE_LIMITS,
  MAX_RESULT_WINDOW,
  META_URL_TTL_MS,
  NEVER_EXPIRES_MS,
  SORT_EXPR_MAX_APPAREL,
  SORT_EXPR_MAX_OTHER,
} from './limits';
import type { OssEmulator } from './oss';
import { validateParams } from './params';
import { DUMP_TASK_KIND, INCREMENT_TASK_KIND, listTasks, startTask, vendorStatus, type DumpState, type IncrementState, type TaskDirs } from './tasks';
import type { InstanceThrottle } from './throttle';

export interface AlibabaDeps {
  engine: Engine;
  tasks: TaskRunner;
  oss: OssEmulator;
  throttle: InstanceThrottle;
  fetchImage: UrlFetcher;
  dirs: TaskDirs;
  /** Region reported by Detail and named in upload object keys. */
  region: string;
}

export interface Call {
  deps: AlibabaDeps;
  tenant: string;
  params: Record<string, string>;
  /** scheme://host the client called, for the links the gateway hands out. */
  baseUrl: string;
}

type Body = Record<string, unknown>;

interface Paging {
  Num: number;
  Start: number;
}
interface SearchParams extends Paging {
  InstanceName: string;
  Filter?: string;
  ScoreThreshold?: string;
  DistinctProductId: boolean;
  CategoryId?: number;
}

function sources(deps: AlibabaDeps): ImageSources {
  return { uploaded: (url, tenant) => deps.oss.uploaded(url, tenant), fetch: deps.fetchImage };
}

function instance(deps: AlibabaDeps, tenant: string, name: string): Promise<Library> {
  return deps.engine.getLibrary({ tenant, name });
}

function searchQuery(p: SearchParams): SearchQuery {
  if (p.Start + p.Num > MAX_RESULT_WINDOW) throw new AlibabaError('OverflowMaxResultNum');
  const minScore = p.ScoreThreshold === undefined ? 0 : Number(p.ScoreThreshold);
  return {
    limit: p.Num,
    offset: p.Start,
    filter: p.Filter === undefined ? undefined : parseFilter(p.Filter),
    // Score is similarity clamped to 0..1: a threshold of 0 keeps everything, negative similarities included.
    minScore: minScore > 0 ? minScore : undefined,
    distinctItem: p.DistinctProductId,
  };
}

function score(s: number): number {
  return Math.round(s * 1e6) / 1e6;
}

/** From the Score the answer shows (so Score 1 gives the page's 7.33136443711219e+24;0 exactly). */
function sortExprValues(shownScore: number, categoryId: number): string {
  return `${shownScore * (categoryId >= 0 && categoryId <= 2 ? SORT_EXPR_MAX_APPAREL : SORT_EXPR_MAX_OTHER)};0`;
}

async function searchAnswer(
  deps: AlibabaDeps,
  ref: LibraryRef,
  query: SearchQuery,
  started: number,
  result: SearchResult,
  picInfo: Body,
  withSortExpr: boolean,
): Promise<Body> {
  const docsReturn = await deps.engine.countImages(ref, query.filter);
  return {
    Code: 0,
    Msg: 'success',
    Success: true,
    Head: { DocsFound: result.hits.length, DocsReturn: docsReturn, SearchTime: Date.now() - started },
    Auctions: result.hits.map(({ record, score: s }) => {
      const auction = auctionOf(record);
      const shown = score(s);
      return withSortExpr ? { ...auction, Score: shown, SortExprValues: sortExprValues(shown, auction.CategoryId as number) } : { ...auction, Score: shown };
    }),
    PicInfo: picInfo,
  };
}

function picInfo(categoryId: number, region: Region | string | undefined, multi: Array<Region | string> | undefined): Body {
  const text = (r: Region | string) => (typeof r === 'string' ? r : formatRegion(r));
  const out: Body = { CategoryId: categoryId };
  if (region !== undefined) out.Region = text(region);
  if (multi !== undefined) out.MultiRegion = multi.map((r) => ({ Region: text(r) }));
  out.AllCategories = ALL_CATEGORIES;
  return out;
}

// ---- images ----------------------------------------------------------------------------------------

export async function AddImage({ deps, tenant, params }: Call): Promise<Body> {
  const p = validateParams<
    { InstanceName: string; ProductId: string; PicName: string; PicContent: string; CategoryId?: number; Crop: boolean; Region?: string; CustomContent?: string } & AttributeParams
  >('AddImage', params);
  const library = await instance(deps, tenant, p.InstanceName);
  const image = await preparePicture(deps.engine, await pictureBytes(p.PicContent, 'PicContent', tenant, sources(deps)));
  const { region, multi } = await resolveRegion(deps.engine, image, p.Crop, p.Region);
  const CategoryId = await chooseCategory({ library, given: p.CategoryId, image, engine: deps.engine });
  const extra: AlibabaExtra & { Region: string } = { CategoryId, Region: formatRegion(region) };
  if (p.CustomContent !== undefined) extra.CustomContent = p.CustomContent;
  await deps.engine.addImage(library, {
    id: imageId(p.ProductId, p.PicName),
    itemId: p.ProductId,
    tags: attributeTags(p),
    extra: { alibaba: extra },
    image: { ...image, region },
  });
  return { Code: 0, Message: 'success', Success: true, PicInfo: picInfo(CategoryId, region, multi) };
}

export async function DeleteImage({ deps, tenant, params }: Call): Promise<Body> {
  const p = validateParams<{ InstanceName: string; ProductId?: string; PicName?: string; IsDeleteByFilter: boolean; Filter?: string }>('DeleteImage', params);
  const ref = { tenant, name: p.InstanceName };
  let deleted: string[];
  if (p.IsDeleteByFilter) {
    if (p.Filter === undefined) throw new AlibabaError('InvalidFilterClause');
    deleted = await deps.engine.deleteImages(ref, { filter: parseFilter(p.Filter) });
  } else {
    if (p.ProductId === undefined) throw new AlibabaError('NoSpecifiedProductId');
    deleted = await deps.engine.deleteImages(ref, p.PicName === undefined ? { itemIds: [p.ProductId] } : { ids: [imageId(p.ProductId, p.PicName)] });
  }
  const PicNames = deleted.map((id) => alibabaKeys({ id, tags: {}, hasImage: false, createdAt: 0, updatedAt: 0 }).PicName);
  return { Code: 0, Message: 'success', Success: true, Data: { PicNames } };
}

export async function UpdateImage({ deps, tenant, params }: Call): Promise<Body> {
  const p = validateParams<{ InstanceName: string; ProductId: string; PicName: string; CustomContent?: string } & AttributeParams>('UpdateImage', params);
  const ref = { tenant, name: p.InstanceName };
  const id = imageId(p.ProductId, p.PicName);
  const [existing] = await deps.engine.getImages(ref, [id]);
  if (!existing) throw new AlibabaError('PicNotExist');
  const extra = { ...alibabaExtra(existing) };
  if (p.CustomContent !== undefined) extra.CustomContent = p.CustomContent;
  await deps.engine.updateImage(ref, id, { tags: { ...existing.tags, ...attributeTags(p) }, extra: { ...existing.extra, alibaba: extra } });
  return { Code: 0, Message: 'success', Success: true };
}

export async function CheckImageExists({ deps, tenant, params }: Call): Promise<Body> {
  const p = validateParams<{ InstanceName: string; ProductId: string; PicName: string }>('CheckImageExists', params);
  const [record] = await deps.engine.getImages({ tenant, name: p.InstanceName }, [imageId(p.ProductId, p.PicName)]);
  const body: Body = { Code: 0, Msg: 'success', Success: true, Exists: record !== undefined };
  if (record) body.Auctions = auctionOf(record);
  return body;
}

// ---- search ----------------------------------------------------------------------------------------

export async function SearchImageByPic({ deps, tenant, params }: Call): Promise<Body> {
  const p = validateParams<SearchParams & { PicContent: string; Crop: boolean; Region?: string }>('SearchImageByPic', params);
  const query = searchQuery(p);
  const library = await instance(deps, tenant, p.InstanceName);
  const started = Date.now();
  // One check of the picture and one read of the instance serve every step below.
  const image = await preparePicture(deps.engine, await pictureBytes(p.PicContent, 'PicContent', tenant, sources(deps)));
  const { region, multi } = await resolveRegion(deps.engine, image, p.Crop, p.Region);
  const categoryId = await chooseCategory({ library, given: p.CategoryId, image, engine: deps.engine });
  const result = await deps.engine.searchByImage([library], { ...image, region, detectSubject: false }, query);
  return searchAnswer(deps, library, query, started, result, picInfo(categoryId, region, multi), true);
}

export async function SearchImageByName({ deps, tenant, params }: Call): Promise<Body> {
  const p = validateParams<SearchParams & { ProductId: string; PicName: string }>('SearchImageByName', params);
  const ref = { tenant, name: p.InstanceName };
  const query = searchQuery(p);
  const library = await instance(deps, tenant, p.InstanceName);
  const started = Date.now();
  const id = imageId(p.ProductId, p.PicName);
  const [stored] = await deps.engine.getImages(ref, [id]);
  if (!stored) throw new AlibabaError('PicNotExist');
  const extra = alibabaExtra(stored) as AlibabaExtra & { Region?: string };
  const categoryId = isProductInstance(library) ? (p.CategoryId ?? extra.CategoryId ?? OTHER_CATEGORY) : OTHER_CATEGORY;
  const result = await deps.engine.searchByStoredImage(ref, id, query);
  const region = extra.Region;
  return searchAnswer(deps, ref, query, started, result, picInfo(categoryId, region, region === undefined ? undefined : [region]), true);
}

export async function SearchImageByText({ deps, tenant, params }: Call): Promise<Body> {
  const p = validateParams<SearchParams & { Text: string }>('SearchImageByText', params);
  const ref = { tenant, name: p.InstanceName };
  const query = searchQuery(p);
  const started = Date.now();
  const result = await deps.engine.searchByText([ref], p.Text, query);
  return searchAnswer(deps, ref, query, started, result, { AllCategories: ALL_CATEGORIES }, false);
}

export async function SearchImageByFilter({ deps, tenant, params }: Call): Promise<Body> {
  const p = validateParams<{ InstanceName: string; Filter?: string; Num: number; Start: number }>('SearchImageByFilter', params);
  if (p.Start + p.Num > MAX_RESULT_WINDOW) throw new AlibabaError('OverflowMaxResultNum');
  const filter = p.Filter === undefined ? undefined : parseFilter(p.Filter);
  const ref = { tenant, name: p.InstanceName };
  const found: ImageRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.engine.listImages(ref, { cursor, limit: p.Start + p.Num - found.length, filter });
    found.push(...page.images);
    cursor = page.nextCursor;
  } while (cursor && found.length < p.Start + p.Num);
  return { Code: 0, Msg: 'success', Success: true, Auctions: found.slice(p.Start, p.Start + p.Num).map(auctionOf) };
}

export async function CompareSimilarByImage({ deps, tenant, params }: Call): Promise<Body> {
  const p = validateParams<{ InstanceName: string; PrimaryPicContent: string; SecondaryPicContent: string }>('CompareSimilarByImage', params);
  const library = await instance(deps, tenant, p.InstanceName);
  // Each picture in turn, as the vendor reads them: its bytes, then its rotation flag; then any other refusal,
  // which names the picture refused.
  const fields = ['PrimaryPicContent', 'SecondaryPicContent'] as const;
  const fetched = await Promise.allSettled(fields.map((field) => pictureBytes(p[field], field, tenant, sources(deps))));
  const checks = await Promise.allSettled(
    fetched.map((f) => (f.status === 'fulfilled' ? deps.engine.prepareImage({ bytes: f.value, limits: PICTURE_LIMITS }) : Promise.reject(f.reason))),
  );
  fetched.forEach((f, i) => {
    if (f.status === 'rejected') throw f.reason;
    const check = checks[i];
    if (check.status === 'rejected' && check.reason instanceof ImageInvalidError && check.reason.reason === 'rotated') throw new AlibabaError('IncorrectOrientation');
  });
  checks.forEach((check, i) => {
    if (check.status === 'fulfilled') return;
    if (!(check.reason instanceof ImageInvalidError)) throw check.reason;
    throw new AlibabaError(i === 0 ? 'InvalidPrimaryPicContent' : 'InvalidSecondaryPicContent');
  });
  const [first, second] = checks.map((c) => (c as PromiseFulfilledResult<PreparedImage>).value);
  const similarity = await deps.engine.compareImages(first, second, library.model);
  return { Code: 0, Msg: 'success', Success: true, Score: score(similarity) };
}

// ---- instance and tasks ----------------------------------------------------------------------------

export async function Detail({ deps, tenant, params }: Call): Promise<Body> {
  const p = validateParams<{ InstanceName: string }>('Detail', params);
  const ref = { tenant, name: p.InstanceName };
  const library = await instance(deps, tenant, p.InstanceName);
  return {
    Success: true,
    Instance: {
      Name: library.name,
      Region: deps.region,
      ServiceType: isProductInstance(library) ? 0 : 1,
      Capacity: library.capacity === undefined ? DEFAULT_CAPACITY_UNITS : Math.ceil(library.capacity / CAPACITY_UNIT),
      Qps: deps.throttle.qpsOf(tenant, library.name) ?? 10,
      TotalCount: await deps.engine.countImages(ref),
      UtcCreate: String(library.createdAt),
      UtcExpireTime: String(NEVER_EXPIRES_MS),
    },
  };
}

export async function DumpMeta({ deps, tenant, params }: Call): Promise<Body> {
  const p = validateParams<{ InstanceName: string }>('DumpMeta', params);
  const ref = { tenant, name: p.InstanceName };
  await instance(deps, tenant, p.InstanceName);
  const { Id } = await startTask<DumpState>(deps.tasks, ref, DUMP_TASK_KIND, { instance: p.InstanceName }, true);
  return { Success: true, Data: { DumpMetaStatus: 'PROCESSING', Id: String(Id) } };
}

function page<T>(items: T[], pageNumber: number, pageSize: number): T[] {
  return items.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
}

function taskMsg(task: TaskRecord): string {
  const status = vendorStatus(task);
  if (status === 'FAIL') return (task.state as { error?: string }).error ?? 'failed';
  return status === 'SUCCESS' ? 'success' : 'processing';
}

export async function DumpMetaList({ deps, tenant, params, baseUrl }: Call): Promise<Body> {
  const p = validateParams<{ InstanceName: string; Id?: number; PageNumber: number; PageSize: number }>('DumpMetaList', params);
  const ref = { tenant, name: p.InstanceName };
  await instance(deps, tenant, p.InstanceName);
  const all = (await listTasks(deps.tasks, ref, DUMP_TASK_KIND)).filter((t) => p.Id === undefined || t.Id === p.Id);
  const DumpMetaList = page(all, p.PageNumber, p.PageSize).map(({ Id, task }) => {
    const state = task.state as DumpState;
    const item: Body = { Id, Status: vendorStatus(task), Msg: taskMsg(task), Code: '0', UtcCreate: String(task.createdAt), UtcModified: task.updatedAt };
    if (state.file && task.status === 'succeeded') item.MetaUrl = deps.oss.downloadLink(baseUrl, state.file, META_URL_TTL_MS);
    return item;
  });
  return { Data: { DumpMetaList, PageNumber: p.PageNumber, PageSize: p.PageSize, TotalCount: all.length } };
}

export async function IncreaseInstance({ deps, tenant, params }: Call): Promise<Body> {
  const p = validateParams<{ InstanceName: string; BucketName: string; Path: string; CallbackAddress?: string }>('IncreaseInstance', params);
  const ref = { tenant, name: p.InstanceName };
  await instance(deps, tenant, p.InstanceName);
  const state: IncrementState = { instance: p.InstanceName, bucketName: p.BucketName, path: p.Path, callbackAddress: p.CallbackAddress, next_line: 0, errors: [] };
  const { Id } = await startTask(deps.tasks, ref, INCREMENT_TASK_KIND, state);
  return { Success: true, Data: { IncrementStatus: 'PROCESSING', Id: String(Id) } };
}

export async function IncreaseList({ deps, tenant, params, baseUrl }: Call): Promise<Body> {
  const p = validateParams<{ InstanceName: string; Id?: number; BucketName?: string; Path?: string; PageNumber: number; PageSize: number }>('IncreaseList', params);
  const ref = { tenant, name: p.InstanceName };
  await instance(deps, tenant, p.InstanceName);
  const all = (await listTasks(deps.tasks, ref, INCREMENT_TASK_KIND)).filter(({ Id, task }) => {
    const s = task.state as IncrementState;
    return (p.Id === undefined || Id === p.Id) && (p.BucketName === undefined || s.bucketName === p.BucketName) && (p.Path === undefined || s.path === p.Path);
  });
  const Instance = page(all, p.PageNumber, p.PageSize).map(({ Id, task }) => {
    const s = task.state as IncrementState;
    const item: Body = {
      Id,
      Status: vendorStatus(task),
      Msg: taskMsg(task),
      Code: '0',
      UtcCreate: String(task.createdAt),
      UtcModified: task.updatedAt,
      BucketName: s.bucketName,
      Path: s.path,
    };
    if (s.callbackAddress !== undefined) item.CallbackAddress = s.callbackAddress;
    if (s.errorFile) item.ErrorUrl = deps.oss.downloadLink(baseUrl, s.errorFile, META_URL_TTL_MS);
    return item;
  });
  return { Data: { Increments: { Instance }, PageNumber: p.PageNumber, PageSize: p.PageSize, TotalCount: all.length } };
}

/** Every action, by the name clients send. */
export const OPERATIONS = {
  AddImage,
  DeleteImage,
  UpdateImage,
  SearchImageByPic,
  SearchImageByName,
  SearchImageByText,
  SearchImageByFilter,
  CheckImageExists,
  CompareSimilarByImage,
  Detail,
  DumpMeta,
  DumpMetaList,
  IncreaseInstance,
  IncreaseList,
} as const;

/** Actions whose vendor pages speak of a missing instance as Console.InstanceNotFound. */
export const CONSOLE_ACTIONS = new Set(['Detail', 'DumpMeta', 'DumpMetaList', 'IncreaseInstance', 'IncreaseList', 'CompareSimilarByImage']);

/** Actions the vendor also accepts by GET. */
export const GET_ACTIONS = new Set(['DumpMeta', 'DumpMetaList', 'IncreaseInstance', 'IncreaseList']);

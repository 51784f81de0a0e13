/**
 * How the Qdrant store lays data out: collection names, point ids, and the payload of each point.
 *
 * - `<prefix>_meta`: library records, task records and one-time tokens (a 1-dimensional placeholder
 *   vector: Qdrant points carry a vector). Payload `kind` says which.
 * - `<prefix>_blobs`: original image bytes kept by operator save_image, apart from the search payload.
 * - `<prefix>_img_<model>_<dimension>`: the images of every library of one model, many libraries per
 *   collection, told apart by the `lib` payload (a keyword index marked `is_tenant`).
 *
 * A library gets a fresh random `lib` key when it is created, so a library deleted and created again never
 * sees points its predecessor left behind (deletion removes the record first, then the points).
 */
import { createHash } from 'node:crypto';
import type { ImageRecord, Library, TagValue, Tags } from '../../records';
import type { TaskRecord } from '../vector-store';

export const META_SUFFIX = '_meta';
export const BLOBS_SUFFIX = '_blobs';
const IMAGES_INFIX = '_img_';

export function metaCollection(prefix: string): string {
  return `${prefix}${META_SUFFIX}`;
}

export function blobsCollection(prefix: string): string {
  return `${prefix}${BLOBS_SUFFIX}`;
}

/**
 * The image collection of one model at one dimension: `<prefix>_img_<model>_<dimension>`; with `_mv` at
 * the end for libraries with views, whose points hold a multivector (one row per view, scored by its best
 * row: Qdrant's max_sim with a one-row query).
 */
export function imagesCollection(prefix: string, model: string, dimension: number, multivector = false): string {
  const safe = model.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 64);
  // A short hash keeps two models that sanitise alike (a.b / a-b) apart.
  const tag = safe === model ? '' : `-${sha256(model).slice(0, 8)}`;
  return `${prefix}${IMAGES_INFIX}${safe}${tag}_${dimension}${multivector ? MULTIVECTOR_SUFFIX : ''}`;
}

const MULTIVECTOR_SUFFIX = '_mv';

export function isMultivectorCollection(name: string): boolean {
  return name.endsWith(MULTIVECTOR_SUFFIX);
}

export function isImagesCollection(prefix: string, name: string): boolean {
  return name.startsWith(`${prefix}${IMAGES_INFIX}`);
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A deterministic UUID for a key made of parts (Qdrant ids are integers or UUIDs; ours are hashes). */
export function pointId(...parts: string[]): string {
  const h = sha256(parts.join('\u0000'));
  // Version 8 ("custom") and the RFC 4122 variant, so the string is a well-formed UUID.
  const version = `8${h.slice(13, 16)}`;
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16) + h.slice(17, 20);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${version}-${variant}-${h.slice(20, 32)}`;
}

export const libraryPointId = (tenant: string, name: string) => pointId('library', tenant, name);
export const taskPointId = (tenant: string, id: string) => pointId('task', tenant, id);
export const tokenPointId = (scope: string, token: string) => pointId('once', scope, token);
export const imagePointId = (libKey: string, id: string) => pointId('image', libKey, id);

/** The placeholder vector of meta and blob points. */
export const UNIT_VECTOR = [1];

// -------------------------------------------------------------------------------------------------
// Tags: kept as given under `tags` (to return them), and once more by type under `f`, which filters read.

/**
 * Tag keys become one path segment: letters and digits stay, every other UTF-16 unit becomes `_` and four
 * hex digits, behind a `k` (so the empty key and keys with dots or brackets are safe and distinct).
 */
export function encodeTagKey(key: string): string {
  let out = 'k';
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    const isAlnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    out += isAlnum ? key[i] : `_${c.toString(16).padStart(4, '0')}`;
  }
  return out;
}

/** Which typed view of a tag a condition reads (core/filter.ts semantics need all of them). */
export const TAG_VIEWS = {
  /** String tags, as they are. */
  string: 's',
  /** Number tags. */
  number: 'n',
  /** Number tags and numeric-string tags, as numbers: what a number value compares with. */
  numeric: 'v',
  boolean: 'b',
  /** Every tag as text (String(value)): what `contains` reads. */
  text: 't',
} as const;
export type TagView = keyof typeof TAG_VIEWS;

export function tagPath(view: TagView, key: string): string {
  return `f.${TAG_VIEWS[view]}.${encodeTagKey(key)}`;
}

/** A numeric string as core/filter.ts reads it, or undefined. */
export function numericValue(v: string): number | undefined {
  if (v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

export type TagFields = Record<(typeof TAG_VIEWS)[TagView], Record<string, TagValue>>;

export function tagFields(tags: Tags): TagFields {
  const f: TagFields = { s: {}, n: {}, v: {}, b: {}, t: {} };
  for (const [key, value] of Object.entries(tags)) {
    const k = encodeTagKey(key);
    f.t[k] = String(value);
    if (typeof value === 'boolean') f.b[k] = value;
    else if (typeof value === 'number') {
      f.n[k] = value;
      f.v[k] = value;
    } else {
      f.s[k] = value;
      const n = numericValue(value);
      if (n !== undefined) f.v[k] = n;
    }
  }
  return f;
}

// -------------------------------------------------------------------------------------------------
// Payloads

export interface LibraryPayload {
  kind: 'library';
  tenant: string;
  name: string;
  lib: string;
  /** Set by the first write; null while the library is empty and has never held an image. */
  dimension: number | null;
  collection: string | null;
  library: string; // JSON of the Library record
}

export function libraryPayload(library: Library, lib: string): LibraryPayload {
  return { kind: 'library', tenant: library.tenant, name: library.name, lib, dimension: null, collection: null, library: JSON.stringify(library) };
}

export function libraryFromPayload(p: LibraryPayload): Library {
  return JSON.parse(p.library) as Library;
}

export interface ImagePayload {
  lib: string;
  tenant: string;
  id: string;
  item?: string;
  /** The library key with the itemId, or with the image's own id for an image without one: what distinctItem groups by. */
  group: string;
  uri?: string;
  tags: Tags;
  f: TagFields;
  extra?: string; // JSON
  has_image: boolean;
  /** Ties the kept bytes in `_blobs` to this write; absent when no bytes are kept. */
  blob?: string;
  created_at: number;
  updated_at: number;
}

export function imagePayload(lib: string, tenant: string, record: ImageRecord, blob: string | undefined): ImagePayload {
  const p: ImagePayload = {
    lib,
    tenant,
    id: record.id,
    group: record.itemId !== undefined ? `${lib}/i:${record.itemId}` : `${lib}/#:${record.id}`,
    tags: record.tags ?? {},
    f: tagFields(record.tags ?? {}),
    has_image: blob !== undefined,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
  if (record.itemId !== undefined) p.item = record.itemId;
  if (record.uri !== undefined) p.uri = record.uri;
  if (record.extra !== undefined) p.extra = JSON.stringify(record.extra);
  if (blob !== undefined) p.blob = blob;
  return p;
}

export function recordFromPayload(p: ImagePayload): ImageRecord {
  const r: ImageRecord = { id: p.id, tags: { ...p.tags }, hasImage: p.has_image, createdAt: p.created_at, updatedAt: p.updated_at };
  if (p.item !== undefined) r.itemId = p.item;
  if (p.uri !== undefined) r.uri = p.uri;
  if (p.extra !== undefined) r.extra = JSON.parse(p.extra) as Record<string, unknown>;
  return r;
}

export interface BlobPayload {
  lib: string;
  tenant: string;
  id: string;
  blob: string;
  data: string; // base64
}

export interface TaskPayload {
  kind: 'task';
  tenant: string;
  id: string;
  task_kind: string;
  status: TaskRecord['status'];
  created_at: number;
  updated_at: number;
  state: string; // JSON
}

export function taskPayload(t: TaskRecord): TaskPayload {
  return {
    kind: 'task',
    tenant: t.tenant,
    id: t.id,
    task_kind: t.kind,
    status: t.status,
    created_at: t.createdAt,
    updated_at: t.updatedAt,
    state: JSON.stringify(t.state ?? null),
  };
}

export function taskFromPayload(p: TaskPayload): TaskRecord {
  return {
    tenant: p.tenant,
    id: p.id,
    kind: p.task_kind,
    status: p.status,
    createdAt: p.created_at,
    updatedAt: p.updated_at,
    state: JSON.parse(p.state) as unknown,
  };
}

export interface TokenPayload {
  kind: 'once';
  scope: string;
  token: string;
  /** Random per claim: whoever reads its own owner back made the claim. */
  owner: string;
  expires_at: number;
}

/** Payload fields with a keyword index in the image collections (`lib` is the tenant key). */
export const IMAGE_KEYWORD_INDEXES = ['lib', 'tenant', 'id', 'item', 'group'] as const;

/** Conversions between SQLite rows and the engine's records. */
import type { ImageRecord, Library, LibraryMode, Tags } from '../../records';

export interface LibraryRow {
  lib_id: number;
  tenant: string;
  name: string;
  mode: string;
  model: string;
  description: string | null;
  tag_keys: string | null;
  capacity: number | null;
  extra: string | null;
  created_at: number;
  dimension: number | null;
  ann_version: number | null;
  ann_checksum: string | null;
  views: string | null;
}

/** The columns of `images` that make an ImageRecord (no vector, no bytes). */
export const IMAGE_RECORD_COLUMNS =
  'image_key, id, item_id, uri, tags, extra, has_image, created_at, updated_at';

export interface ImageRecordRow {
  image_key: number;
  id: string;
  item_id: string | null;
  uri: string | null;
  tags: string;
  extra: string | null;
  has_image: number;
  created_at: number;
  updated_at: number;
}

export function libraryFromRow(row: LibraryRow): Library {
  const library: Library = {
    tenant: row.tenant,
    name: row.name,
    mode: row.mode as LibraryMode,
    model: row.model,
    createdAt: row.created_at,
  };
  if (row.description !== null) library.description = row.description;
  if (row.tag_keys !== null) library.tagKeys = JSON.parse(row.tag_keys) as string[];
  if (row.capacity !== null) library.capacity = row.capacity;
  if (row.extra !== null) library.extra = JSON.parse(row.extra) as Record<string, unknown>;
  const views = viewsOfRow(row);
  if (views) library.views = views;
  return library;
}

/** A library row's views (Library.views) without decoding the rest of the row: search reads them often. */
export function viewsOfRow(row: LibraryRow): string[] | undefined {
  return row.views === null ? undefined : (JSON.parse(row.views) as string[]);
}

export function imageFromRow(row: ImageRecordRow): ImageRecord {
  const record: ImageRecord = {
    id: row.id,
    tags: JSON.parse(row.tags) as Tags,
    hasImage: row.has_image !== 0,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.item_id !== null) record.itemId = row.item_id;
  if (row.uri !== null) record.uri = row.uri;
  if (row.extra !== null) record.extra = JSON.parse(row.extra) as Record<string, unknown>;
  return record;
}

/**
 * The record of a write as the store keeps it in memory: a copy with the defined fields only, built in
 * imageFromRow's order so written and loaded records share one shape. Records arrive with optional fields
 * set to undefined (the engine's); deleting those afterwards left each object in V8's dictionary mode,
 * 580 bytes instead of 190 (~0.4 GB more per million images added through the APIs).
 */
export function storedRecord(record: ImageRecord, hasImage: boolean): ImageRecord {
  const stored: ImageRecord = {
    id: record.id,
    tags: { ...record.tags }, // {} when a caller gave none
    hasImage,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
  if (record.itemId !== undefined) stored.itemId = record.itemId;
  if (record.uri !== undefined) stored.uri = record.uri;
  if (record.extra !== undefined) stored.extra = structuredClone(record.extra);
  return stored;
}

/** A copy the caller may mutate without touching a cached record. */
export function copyRecord(record: ImageRecord): ImageRecord {
  const copy: ImageRecord = { ...record, tags: { ...record.tags } };
  if (record.extra !== undefined) copy.extra = structuredClone(record.extra);
  return copy;
}

export function jsonOrNull(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

/** Float32 vector → BLOB (the platform's byte order, little-endian on every supported target). */
export function vectorToBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/** An image's vectors (whole, then its other views) → one BLOB, one after another. */
export function vectorsToBlob(vector: Float32Array, views: Float32Array[] | undefined): Buffer {
  if (!views || views.length === 0) return vectorToBlob(vector);
  return Buffer.concat([vector, ...views].map(vectorToBlob));
}

/** One BLOB of vectorsToBlob → its vectors of `dim`. */
export function blobToVectors(blob: Buffer, dim: number): Float32Array[] {
  const all = blobToVector(blob);
  return Array.from({ length: Math.floor(all.length / dim) }, (_, i) => all.slice(i * dim, (i + 1) * dim));
}

/** BLOB → a fresh, aligned Float32Array (SQLite buffers need not be 4-byte aligned). */
export function blobToVector(blob: Buffer): Float32Array {
  const out = new Float32Array(blob.length >>> 2);
  new Uint8Array(out.buffer).set(blob.subarray(0, out.length * 4));
  return out;
}

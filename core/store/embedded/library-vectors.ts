/**
 * The in-memory copy of one library that search runs on: records and vectors in dense slots
 * (slot i's vector is matrix[i*dim, (i+1)*dim)). Deleting moves the last slot into the hole, so
 * slots [0, size) are always live and the matrix can be scanned or handed to usearch as it is.
 * Loaded from SQLite on first need; kept in step with every committed write.
 */
import type { ImageRecord, Tags } from '../../records';
import { TagIndex } from './tag-index';

export class LibraryVectors {
  size = 0;
  matrix: Float32Array;
  /** Image key (SQLite image_key, the usearch key) per slot. */
  keys: number[] = [];
  records: ImageRecord[] = [];
  /** Images by tag value, for the fields filters have asked about (tag-index.ts). */
  readonly tagIndex = new TagIndex();
  private readonly slotByKey = new Map<number, number>();
  private readonly slotById = new Map<string, number>();

  constructor(
    readonly dim: number,
    initialCapacity = 1024,
  ) {
    this.matrix = new Float32Array(Math.max(16, initialCapacity) * dim);
  }

  slotOfKey(key: number): number | undefined {
    return this.slotByKey.get(key);
  }

  slotOfId(id: string): number | undefined {
    return this.slotById.get(id);
  }

  vector(slot: number): Float32Array {
    return this.matrix.subarray(slot * this.dim, (slot + 1) * this.dim);
  }

  /** Inserts or overwrites the image stored under `key` (an overwrite keeps its key). */
  put(key: number, record: ImageRecord, vector: Float32Array): void {
    const slot = this.place(key, record); // first: it may grow (replace) the matrix
    this.matrix.set(vector, slot * this.dim);
  }

  /** put() with the vector as stored (little-endian float32 bytes), copied into place with no array between. */
  putStored(key: number, record: ImageRecord, bytes: Uint8Array): void {
    const slot = this.place(key, record);
    new Uint8Array(this.matrix.buffer, slot * this.dim * 4, this.dim * 4).set(bytes.subarray(0, this.dim * 4));
  }

  /** The slot of `key` for `record`, a new one at the end for a new key. */
  private place(key: number, record: ImageRecord): number {
    let slot = this.slotByKey.get(key);
    let previous: ImageRecord | undefined;
    if (slot === undefined) {
      slot = this.size++;
      this.ensureCapacity(this.size);
      this.keys[slot] = key;
      this.slotByKey.set(key, slot);
    } else {
      previous = this.records[slot];
      if (previous.id !== record.id) this.slotById.delete(previous.id);
    }
    this.tagIndex.put(key, record.tags, previous?.tags);
    this.records[slot] = record;
    this.slotById.set(record.id, slot);
    return slot;
  }

  /** Replaces the record of an existing image (tags/extra update); the vector stays. */
  replaceRecord(key: number, record: ImageRecord): void {
    const slot = this.slotByKey.get(key);
    if (slot === undefined) return;
    this.tagIndex.put(key, record.tags, this.records[slot].tags);
    this.records[slot] = record;
  }

  /** Every image's key and tags (to index a tag field the first time a filter asks for it). */
  *tagsByKey(): Iterable<[number, Tags]> {
    for (let slot = 0; slot < this.size; slot++) yield [this.keys[slot], this.records[slot].tags];
  }

  remove(key: number): boolean {
    const slot = this.slotByKey.get(key);
    if (slot === undefined) return false;
    this.tagIndex.remove(key, this.records[slot].tags);
    const last = this.size - 1;
    this.slotByKey.delete(key);
    this.slotById.delete(this.records[slot].id);
    if (slot !== last) {
      const movedKey = this.keys[last];
      this.keys[slot] = movedKey;
      this.records[slot] = this.records[last];
      this.slotByKey.set(movedKey, slot);
      this.slotById.set(this.records[slot].id, slot);
      this.matrix.copyWithin(slot * this.dim, last * this.dim, (last + 1) * this.dim);
    }
    this.keys.length = last;
    this.records.length = last;
    this.size = last;
    return true;
  }

  private ensureCapacity(slots: number): void {
    if (slots * this.dim <= this.matrix.length) return;
    const grown = new Float32Array(Math.max(slots, Math.ceil((this.matrix.length / this.dim) * 1.5)) * this.dim);
    grown.set(this.matrix.subarray(0, (slots - 1) * this.dim));
    this.matrix = grown;
  }
}

/** Inner product, unrolled by four (V8 keeps the four sums in registers). */
export function dot(a: Float32Array, b: Float32Array, offset: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < dim; j += 4) {
    s0 += a[j] * b[offset + j];
    s1 += a[j + 1] * b[offset + j + 1];
    s2 += a[j + 2] * b[offset + j + 2];
    s3 += a[j + 3] * b[offset + j + 3];
  }
  for (; j < dim; j++) s0 += a[j] * b[offset + j];
  return s0 + s1 + s2 + s3;
}

/**
 * The in-memory copy of one library that search runs on: records and vectors in dense slots. Each image
 * has `perImage` vectors (its views, `whole` first: core/records.ts), stored as consecutive rows, so slot
 * i's rows are matrix[i*perImage*dim, (i+1)*perImage*dim) and row r belongs to slot floor(r/perImage).
 * Deleting moves the last slot into the hole, so slots [0, size) are always live and the matrix can be
 * scanned or handed to usearch as it is. Loaded from SQLite on first need; kept in step with every
 * committed write.
 *
 * Rows are what the ANN index holds, under row keys: the image key itself with one vector per image (so
 * snapshots of libraries without views are unchanged), image key * perImage + view otherwise.
 */
import type { ImageRecord, Tags } from '../../records';
import { dotFour } from '../inner-product';
import { SegmentedMatrix } from './segmented-matrix';
import { SlotTable } from './slot-table';
import { TagIndex } from './tag-index';

export class LibraryVectors {
  size = 0;
  /** The rows of each slot (segmented-matrix.ts). */
  readonly matrix: SegmentedMatrix;
  /** Image key (SQLite image_key, the usearch key) per slot. */
  keys: number[] = [];
  records: ImageRecord[] = [];
  /** Images by tag value, for the fields filters have asked about (tag-index.ts). */
  readonly tagIndex = new TagIndex();
  private readonly slotByKey = new SlotTable();
  /**
   * Told of every slot about to be written or moved out of, and of a slot another row was just moved into
   * (a background build reads rows meanwhile: library-runtime.ts).
   */
  private slotWatcher?: (slot: number) => void;

  /** Floats per slot: perImage rows of dim. */
  readonly stride: number;

  constructor(
    readonly dim: number,
    initialCapacity = 1024,
    readonly perImage = 1,
    /** Floats per segment of the matrix (segmented-matrix.ts); tests make them small. */
    segmentFloats?: number,
  ) {
    this.stride = dim * perImage;
    this.everyView = Array.from({ length: perImage }, (_, v) => v);
    this.matrix = new SegmentedMatrix(this.stride, initialCapacity, segmentFloats);
  }

  /** Rows in use (size * perImage). */
  get rows(): number {
    return this.size * this.perImage;
  }

  /** The ANN key of row `view` of the image stored under `key`. */
  rowKey(key: number, view: number): number {
    return this.perImage === 1 ? key : key * this.perImage + view;
  }

  /** The slot a row key belongs to, or undefined when that image is not live. */
  slotOfRowKey(rowKey: number): number | undefined {
    return this.slotByKey.get(this.perImage === 1 ? rowKey : Math.floor(rowKey / this.perImage));
  }

  /** The matrix row of a row key, or undefined when that image is not live. */
  rowOfRowKey(rowKey: number): number | undefined {
    const slot = this.slotOfRowKey(rowKey);
    return slot === undefined ? undefined : slot * this.perImage + (rowKey % this.perImage);
  }

  /** The row keys of every live row, in matrix order. */
  rowKeys(): number[] {
    if (this.perImage === 1) return this.keys.slice(0, this.size);
    const out = new Array<number>(this.rows);
    for (let slot = 0, r = 0; slot < this.size; slot++) for (let v = 0; v < this.perImage; v++) out[r++] = this.rowKey(this.keys[slot], v);
    return out;
  }

  /** The vector of one row. */
  row(row: number): Float32Array {
    const slot = Math.floor(row / this.perImage);
    const o = this.matrix.offset(slot) + (row % this.perImage) * this.dim;
    return this.matrix.segment(slot).subarray(o, o + this.dim);
  }

  /** The rows of slots [from, to), row-major, into `out` from its start. */
  copyRows(from: number, to: number, out: Float32Array): void {
    this.matrix.copySlots(from, to, out);
  }

  /** The `count` rows best by inner product with `query`, best first (usearch's brute force). */
  exactTopRows(query: Float32Array, count: number): number[] {
    return this.matrix.exactTop(query, this.dim, this.size, count);
  }

  /**
   * The similarity to `query` of each of `slots`, in order, into scores[0, slots.length): an image's
   * inner product with its best row (of `views` only, when given). Rows are scored four at a time
   * (dotFour), which is what makes scoring thousands of scattered images fast.
   */
  similarities(query: Float32Array, slots: ArrayLike<number>, views: readonly number[] | undefined, scores: Float64Array): void {
    const { dim, matrix } = this;
    const rows = views ?? this.everyView;
    const per = rows.length;
    const total = slots.length * per;
    const four = this.four;
    const slotOf = (i: number) => slots[Math.floor(i / per)];
    const offset = (slot: number, i: number) => matrix.offset(slot) + rows[i % per] * dim;
    scores.fill(-Infinity, 0, slots.length);
    for (let i = 0; i < total; i += 4) {
      // Past the end, the first row again (its score is not kept).
      const j1 = i + 1 < total ? i + 1 : i;
      const j2 = i + 2 < total ? i + 2 : i;
      const j3 = i + 3 < total ? i + 3 : i;
      const s0 = slotOf(i);
      const s1 = slotOf(j1);
      const s2 = slotOf(j2);
      const s3 = slotOf(j3);
      dotFour(query, matrix.segment(s0), offset(s0, i), matrix.segment(s1), offset(s1, j1), matrix.segment(s2), offset(s2, j2), matrix.segment(s3), offset(s3, j3), dim, four);
      for (let k = 0; k < 4 && i + k < total; k++) {
        const at = Math.floor((i + k) / per);
        if (four[k] > scores[at]) scores[at] = four[k];
      }
    }
  }

  /** [0, perImage): every row of an image. */
  private readonly everyView: readonly number[];
  /** dotFour's output. */
  private readonly four = new Float64Array(4);

  slotOfKey(key: number): number | undefined {
    return this.slotByKey.get(key);
  }

  /** The whole picture's vector of a slot. */
  vector(slot: number): Float32Array {
    return this.row(slot * this.perImage);
  }

  /** Inserts or overwrites the image stored under `key` (an overwrite keeps its key); `views` fill rows 1.. */
  put(key: number, record: ImageRecord, vector: Float32Array, views: Float32Array[] = []): void {
    const slot = this.place(key, record); // first: it may grow the matrix
    const segment = this.matrix.segment(slot);
    const o = this.matrix.offset(slot);
    segment.set(vector, o);
    views.forEach((v, i) => segment.set(v, o + (i + 1) * this.dim));
  }

  /** put() with the vectors as stored (little-endian float32 bytes), copied into place with no array between. */
  putStored(key: number, record: ImageRecord, bytes: Uint8Array): void {
    const slot = this.place(key, record);
    const segment = this.matrix.segment(slot);
    new Uint8Array(segment.buffer, segment.byteOffset + this.matrix.offset(slot) * 4, this.stride * 4).set(bytes.subarray(0, this.stride * 4));
  }

  /**
   * Calls `watcher` with each slot before its row is written or moved out of, and with a slot after another
   * row moved into it (keys[slot] is then the moved image), until unwatched (undefined).
   */
  watchSlots(watcher: ((slot: number) => void) | undefined): void {
    this.slotWatcher = watcher;
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
    }
    this.slotWatcher?.(slot);
    this.tagIndex.put(key, record.tags, previous?.tags);
    this.records[slot] = record;
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
    this.slotWatcher?.(slot);
    this.slotWatcher?.(last);
    this.slotByKey.delete(key);
    if (slot !== last) {
      const movedKey = this.keys[last];
      this.keys[slot] = movedKey;
      this.records[slot] = this.records[last];
      this.slotByKey.set(movedKey, slot);
      this.matrix.move(last, slot);
      this.slotWatcher?.(slot);
    }
    this.keys.length = last;
    this.records.length = last;
    this.size = last;
    return true;
  }

  private ensureCapacity(slots: number): void {
    this.matrix.ensure(slots);
  }
}

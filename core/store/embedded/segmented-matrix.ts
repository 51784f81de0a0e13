/**
 * A library's float32 rows, slot by slot, in segments of a fixed number of slots (about 64 MB each), so
 * that the matrix grows by adding a segment instead of being copied into a larger array: a copy holds
 * both arrays for a moment, 4 GB while a million 512-d images grow past 2 GB. Only the first segment grows
 * by copying, while the library fits in it. Every segment is a plain Float32Array of its own buffer
 * (offset 0): V8 compiles loops over plain arrays to ~2x faster code than over a resizable buffer's, and
 * usearch's brute force ignores a view's byteOffset.
 */
import { exactTopRows } from './ann-index';

/** About how many floats a segment holds (2^24: 64 MB), rounded down to a power-of-two number of slots. */
const SEGMENT_FLOATS = 1 << 24;

export class SegmentedMatrix {
  readonly segments: Float32Array[];
  /** Slots per segment: 1 << shift. */
  readonly shift: number;
  private readonly mask: number;

  constructor(
    /** Floats per slot. */
    readonly stride: number,
    capacity: number,
    /** About how many floats a segment holds (tests use small segments to cross them with little data). */
    segmentFloats = SEGMENT_FLOATS,
  ) {
    this.shift = Math.max(0, Math.floor(Math.log2(segmentFloats / stride)));
    this.mask = (1 << this.shift) - 1;
    this.segments = [new Float32Array(Math.min(Math.max(16, capacity), 1 << this.shift) * stride)];
    this.ensure(capacity);
  }

  /** The segment holding `slot` (its rows start at offset(slot)). */
  segment(slot: number): Float32Array {
    return this.segments[slot >>> this.shift];
  }

  /** Where `slot`'s rows start in its segment. */
  offset(slot: number): number {
    return (slot & this.mask) * this.stride;
  }

  /** Room for `slots` slots: the first segment grown (by half at least) while it is not full, then whole segments added. */
  ensure(slots: number): void {
    const perSegment = 1 << this.shift;
    const first = this.segments[0];
    if (this.segments.length === 1 && first.length < perSegment * this.stride && slots * this.stride > first.length) {
      const grown = new Float32Array(Math.min(perSegment, Math.max(slots, Math.ceil((first.length / this.stride) * 1.5))) * this.stride);
      grown.set(first);
      this.segments[0] = grown;
    }
    while (this.segments.length * perSegment < slots) this.segments.push(new Float32Array(perSegment * this.stride));
  }

  /** Copies slot `from`'s rows over slot `to`'s. */
  move(from: number, to: number): void {
    const o = this.offset(from);
    this.segment(to).set(this.segment(from).subarray(o, o + this.stride), this.offset(to));
  }

  /** Copies the rows of slots [from, to) into `out`, from its start. */
  copySlots(from: number, to: number, out: Float32Array): void {
    const perSegment = 1 << this.shift;
    for (let slot = from, at = 0; slot < to; ) {
      const end = Math.min(to, ((slot >>> this.shift) + 1) * perSegment);
      const o = this.offset(slot);
      out.set(this.segment(slot).subarray(o, o + (end - slot) * this.stride), at);
      at += (end - slot) * this.stride;
      slot = end;
    }
  }

  /**
   * The `count` rows (of `dim` floats; a slot holds stride / dim of them) best by inner product with
   * `query` among the first `slots` slots, best first: usearch's brute force over each segment, merged.
   */
  exactTop(query: Float32Array, dim: number, slots: number, count: number): number[] {
    const perSegment = 1 << this.shift;
    const rowsPerSlot = this.stride / dim;
    const found: Array<[row: number, distance: number]> = [];
    for (let s = 0; s * perSegment < slots; s++) {
      const used = Math.min(perSegment, slots - s * perSegment) * rowsPerSlot;
      const top = exactTopRows(this.segments[s], used, query, count);
      top.keys.forEach((row, i) => found.push([s * perSegment * rowsPerSlot + row, top.distances[i]]));
    }
    if (this.segments.length > 1) found.sort((a, b) => a[1] - b[1]);
    return found.slice(0, count).map(([row]) => row);
  }
}

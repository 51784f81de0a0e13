/**
 * Image key → slot, for one library's in-memory copy. Keys are SQLite AUTOINCREMENT rowids, shared by the
 * store's libraries but mostly dense within one, so they index a typed array over their span: a lookup
 * is one load, where a Map of a million entries hashed and missed the cache (the lookups of a search's
 * 40 candidates were ~3 % of it), and a key costs 4 bytes instead of ~30. When a library's keys spread
 * wider than SPREAD times their count (libraries filled in turns, many deletes) the table becomes a Map.
 */

/** A key span up to this many times the keys held (plus MIN_SPAN) stays a typed array. */
const SPREAD = 4;
const MIN_SPAN = 4096;

export class SlotTable {
  /** The key of table[0]. */
  private base = 0;
  /** slot + 1 per key - base; 0: no such key. */
  private table = new Int32Array(0);
  private count = 0;
  private map?: Map<number, number>;

  get size(): number {
    return this.map ? this.map.size : this.count;
  }

  get(key: number): number | undefined {
    if (this.map) return this.map.get(key);
    const i = key - this.base;
    if (i < 0 || i >= this.table.length) return undefined;
    const v = this.table[i];
    return v === 0 ? undefined : v - 1;
  }

  set(key: number, slot: number): void {
    if (this.map) {
      this.map.set(key, slot);
      return;
    }
    let i = key - this.base;
    if (i < 0 || i >= this.table.length) {
      if (!this.cover(key)) return this.set(key, slot);
      i = key - this.base;
    }
    if (this.table[i] === 0) this.count++;
    this.table[i] = slot + 1;
  }

  delete(key: number): void {
    if (this.map) {
      this.map.delete(key);
      return;
    }
    const i = key - this.base;
    if (i >= 0 && i < this.table.length && this.table[i] !== 0) {
      this.table[i] = 0;
      this.count--;
    }
  }

  /** Grows the table to cover `key`; false when that would spread it too thin (it is then a Map). */
  private cover(key: number): boolean {
    const empty = this.count === 0;
    const low = empty ? key : Math.min(this.base, key);
    const high = empty ? key : Math.max(this.base + this.table.length - 1, key);
    if (high - low + 1 > SPREAD * (this.count + 1) + MIN_SPAN) {
      this.map = new Map();
      this.table.forEach((v, i) => v !== 0 && this.map!.set(this.base + i, v - 1));
      this.table = new Int32Array(0);
      return false;
    }
    // Room ahead for keys to come (they grow); exactly what is needed below.
    const length = Math.max(high - low + 1, Math.ceil(this.table.length * 1.5), 1024);
    const grown = new Int32Array(length);
    if (!empty) grown.set(this.table, this.base - low);
    this.base = low;
    this.table = grown;
    return true;
  }
}

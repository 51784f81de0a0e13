/**
 * Pack files (pack-files.ts) whose ranges are named by the rows of one SQLite table
 * `(image_key INTEGER PRIMARY KEY, file TEXT NOT NULL)` indexed on `file`: the stored originals
 * (`image_files`, image-bytes.ts) and the vectors (`vector_files`, vector-files.ts) each have one.
 *
 * Dead space is reclaimed here, since only the table knows which ranges are live: once ranges of a pack
 * are dropped (and for every pack of earlier runs at open), a pack no row names is removed, and one whose
 * live ranges fill less than half of it is compacted, in the background, one pack at a time. Dropping a
 * range only asks for its pack to be checked: the check reads the live names from SQLite, so a range
 * dropped by a transaction that then rolled back is still found live and kept.
 */
import type Database from 'better-sqlite3';
import { PackFiles, packRefBounds, parsePackRef, type PackRange } from './pack-files';

/** A pack is compacted once its live ranges fill less than this share of it. */
const COMPACT_BELOW = 0.5;
/**
 * Ranges, and bytes, copied per turn of the event loop while a pack is compacted. The ranges are read
 * synchronously, so a turn is bounded by both: a vector pack holds ~32k ranges, and an asynchronous open,
 * read and close for each made reclaiming 100k 512-d vectors with 60 % deleted take 7.1 s (6.0 s of CPU)
 * instead of 0.5 s (0.6 s); with relinking split too (RELINK_CHUNK), its longest turn is 20 ms.
 */
const COMPACT_CHUNK = 256;
const COMPACT_TURN_BYTES = 1 << 20;
/** Rows relinked to their copies per transaction (and turn of the event loop). */
const RELINK_CHUNK = 2048;

type Statement = Database.Statement<unknown[], unknown>;

export class PackSpace {
  readonly packs: PackFiles;
  /** Packs that lost ranges and wait to be checked. */
  private readonly wanted = new Set<number>();
  /**
   * Of packs checked and kept: the bytes they may still lose before they can be worth compacting. A pack
   * losing its ranges one overwrite at a time is checked again only then, not after every loss.
   */
  private readonly slack = new Map<number, number>();
  private reclaiming?: Promise<void>;
  private stopped = false;
  private readonly sql: Record<string, Statement>;

  constructor(
    private readonly db: Database.Database,
    /** The table naming the ranges (a constant of the store's own, never user input). */
    readonly table: string,
    dir: string,
    durable: boolean,
    packBytes?: number,
  ) {
    this.packs = new PackFiles(dir, durable, packBytes);
    const p = (s: string) => db.prepare(s);
    this.sql = {
      fileOfKey: p(`SELECT file FROM ${table} WHERE image_key = ?`).pluck(),
      putFile: p(`INSERT INTO ${table} (image_key, file) VALUES (?, ?) ON CONFLICT (image_key) DO UPDATE SET file = excluded.file`),
      deleteFile: p(`DELETE FROM ${table} WHERE image_key = ?`),
      filesOfLibrary: p(`SELECT f.file FROM ${table} f JOIN images i ON i.image_key = f.image_key WHERE i.lib_id = ?`).pluck(),
      deleteFilesOfLibrary: p(`DELETE FROM ${table} WHERE image_key IN (SELECT image_key FROM images WHERE lib_id = ?)`),
      allFiles: p(`SELECT file FROM ${table}`).pluck(),
      deleteAll: p(`DELETE FROM ${table}`),
      isReferenced: p(`SELECT 1 FROM ${table} WHERE file = ?`).pluck(),
      namesInRange: p(`SELECT file FROM ${table} WHERE file >= ? AND file < ?`).pluck(),
      anyInRange: p(`SELECT 1 FROM ${table} WHERE file >= ? AND file < ? LIMIT 1`).pluck(),
      relink: p(`UPDATE ${table} SET file = ? WHERE file = ?`),
    };
  }

  /**
   * Appends `bytes` to the current pack; resolves their name once they are on disk (before any row names
   * them). Call `settle` with the name once the transaction meant to name it has ended, committed or not.
   */
  write(bytes: Buffer): Promise<string> {
    return this.packs.write(bytes);
  }

  /** The transactions of these written names have ended: their packs may be reclaimed again. */
  settle(names: Iterable<string | undefined>): void {
    this.packs.settle(names);
    this.reclaim();
  }

  /**
   * A name no row names any more, or will not once the transaction under way commits (see the top of this
   * file); false when it is not a pack range (a caller's legacy name).
   */
  drop(name: string): boolean {
    const range = parsePackRef(name);
    if (range) this.dropped(range);
    return range !== undefined;
  }

  /** Inside a write transaction: `file` (or none) becomes image `key`'s; resolves the name it replaced. */
  link(key: number, file: string | undefined): string | undefined {
    const previous = this.sql.fileOfKey.get(key) as string | undefined;
    if (file !== undefined) this.sql.putFile.run(key, file);
    else this.sql.deleteFile.run(key);
    return previous;
  }

  /**
   * Inside a write transaction, for an image row it has just created: the images table never hands a key
   * out twice (AUTOINCREMENT), so there is no previous name to look up or drop (one statement, not two).
   */
  linkNew(key: number, file: string): void {
    this.sql.putFile.run(key, file);
  }

  /** Inside a transaction, before the library's image rows go: collects their names into `out`. */
  unlinkLibrary(libId: number, out: string[]): void {
    for (const file of this.sql.filesOfLibrary.iterate(libId) as Iterable<string>) out.push(file); // no spread: a library may hold millions
    this.sql.deleteFilesOfLibrary.run(libId);
  }

  /** Inside a transaction: forgets every name; resolves them. */
  unlinkAll(): string[] {
    const files = this.sql.allFiles.all() as string[];
    this.sql.deleteAll.run();
    return files;
  }

  /** Whether a row names `file` (the legacy sweep of image-files.ts asks). */
  isReferenced(file: string): boolean {
    return this.sql.isReferenced.get(file) !== undefined;
  }

  /** At open, in the background: every pack of earlier runs is checked (dead space, a crash's tail). */
  checkEarlierPacks(): void {
    for (const n of this.packs.earlierPacks()) this.wanted.add(n);
    this.reclaim();
  }

  /** Resolves once no pack is being reclaimed (tests; close). */
  async whenReclaimed(): Promise<void> {
    while (this.reclaiming) await this.reclaiming;
  }

  /** Stops reclaiming (after the pack in hand) and closes the packs; before the database closes. */
  async close(): Promise<void> {
    this.stopped = true;
    await this.whenReclaimed();
    this.packs.close();
  }

  /** A range no row names any more: its pack is wanted once it may be worth reclaiming. */
  private dropped({ pack, length }: PackRange): void {
    const left = this.slack.get(pack);
    if (left !== undefined && left - length > 0) {
      this.slack.set(pack, left - length);
    } else {
      this.slack.delete(pack);
      this.wanted.add(pack);
    }
    this.reclaim();
  }

  /** Starts checking the wanted packs that may be reclaimed now, unless a check is under way. */
  private reclaim(): void {
    if (this.reclaiming || this.stopped) return;
    const next = [...this.wanted].find((n) => this.packs.reclaimable(n));
    if (next === undefined) return;
    this.wanted.delete(next);
    this.reclaiming = this.reclaimPack(next)
      .catch(() => undefined) // a failure leaves the pack as it was, to be checked again at the next open
      .finally(() => {
        this.reclaiming = undefined;
        this.reclaim();
      });
  }

  /** Removes pack `n` if no row names it, or compacts it if its live ranges fill less than COMPACT_BELOW of it. */
  private async reclaimPack(n: number): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve)); // a pack per turn of the event loop: thousands at open
    if (this.stopped) return;
    const [low, high] = packRefBounds(n);
    const names = this.sql.namesInRange.all(low, high) as string[];
    const live = names.reduce((sum, name) => sum + parsePackRef(name)!.length, 0);
    if (names.length > 0) {
      const keep = live - COMPACT_BELOW * this.packs.size(n);
      if (keep >= 0) {
        this.slack.set(n, keep);
        return;
      }
    }
    const moved: Array<[from: string, to: string]> = [];
    try {
      let turn = { names: 0, bytes: 0 };
      for (const name of names) {
        if (this.stopped) return;
        // Read on the spot: only this loop removes packs, so pack n is there until it ends.
        const bytes = this.packs.readSync(parsePackRef(name)!);
        moved.push([name, await this.packs.write(bytes)]);
        turn = { names: turn.names + 1, bytes: turn.bytes + bytes.length };
        if (turn.names === COMPACT_CHUNK || turn.bytes >= COMPACT_TURN_BYTES) {
          await new Promise((resolve) => setImmediate(resolve));
          turn = { names: 0, bytes: 0 };
        }
      }
      // A row overwritten or deleted meanwhile no longer names its old range: its copy is dead space,
      // for its own pack's turn. Rows are relinked a transaction per turn (a vector pack's 13k in one
      // held the loop 80 ms); until the last, a row names one copy or the other, both there. The last
      // relink and the check below happen in one turn, so a synchronous reader (look the name up, read the
      // range) never finds a pack gone.
      for (let i = 0; i < moved.length; i += RELINK_CHUNK) {
        if (this.stopped) return;
        if (i > 0) await new Promise((resolve) => setImmediate(resolve));
        this.db.transaction(() => {
          for (const [from, to] of moved.slice(i, i + RELINK_CHUNK)) if (this.sql.relink.run(to, from).changes === 0) this.dropped(parsePackRef(to)!);
        })();
      }
      if (this.stopped) return;
    } finally {
      this.packs.settle(moved.map(([, to]) => to));
    }
    if (this.sql.anyInRange.get(low, high) === undefined) this.packs.remove(n);
  }
}

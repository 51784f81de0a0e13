/**
 * The embedded store's image bytes (the ImageBytesStore part): the originals kept with images, appended
 * to pack files (image-packs.ts: written before the transaction that names them), named in the
 * `image_files` table. Older builds kept a file each (image-files.ts), or the bytes inside SQLite
 * (`image_bytes`): both are still read, and go when their image is overwritten or deleted.
 * The record part calls link / unlink inside its own transactions, so a row and its original change together.
 *
 * Packs are reclaimed here, since only SQLite knows which ranges are live: after a commit that dropped
 * ranges of a pack (and for every pack at open), a pack no row names is removed, and one whose live
 * ranges fill less than half of it is compacted, in the background, one pack at a time.
 */
import * as path from 'node:path';
import type Database from 'better-sqlite3';
import { ImageFiles } from './image-files';
import { ImagePacks, packRefBounds, parsePackRef, type PackRange } from './image-packs';

/** The folder of the packs under the images folder (legacy files sit in two-hex-digit folders beside it). */
const PACKS_FOLDER = 'packs';
/** A pack is compacted once its live originals fill less than this share of it. */
const COMPACT_BELOW = 0.5;
/** Originals copied per turn of the event loop while a pack is compacted. */
const COMPACT_CHUNK = 64;

type Statement = Database.Statement<unknown[], unknown>;

export class EmbeddedImageBytes {
  private readonly files: ImageFiles;
  private readonly packs: ImagePacks;
  /** Packs that lost ranges and wait to be checked (see the top of this file). */
  private readonly wanted = new Set<number>();
  /**
   * Of packs checked and kept: the bytes they may still lose before they can be worth compacting. A pack
   * losing its originals one overwrite at a time is checked again only then, not after every loss.
   */
  private readonly slack = new Map<number, number>();
  private reclaiming?: Promise<void>;
  private stopped = false;
  private readonly sql: Record<string, Statement>;
  /** Whether image_bytes held anything at open (nothing writes there any more). */
  private readonly legacyBytes: boolean;

  constructor(
    private readonly db: Database.Database,
    dir: string,
    durable: boolean,
    packBytes?: number,
  ) {
    this.files = new ImageFiles(dir);
    this.packs = new ImagePacks(path.join(dir, PACKS_FOLDER), durable, packBytes);
    const p = (s: string) => db.prepare(s);
    this.sql = {
      fileOfKey: p('SELECT file FROM image_files WHERE image_key = ?').pluck(),
      putFile: p('INSERT INTO image_files (image_key, file) VALUES (?, ?) ON CONFLICT (image_key) DO UPDATE SET file = excluded.file'),
      deleteFile: p('DELETE FROM image_files WHERE image_key = ?'),
      deleteBytes: p('DELETE FROM image_bytes WHERE image_key = ?'),
      bytesById: p(`SELECT f.file, b.bytes FROM images i LEFT JOIN image_files f ON f.image_key = i.image_key
        LEFT JOIN image_bytes b ON b.image_key = i.image_key WHERE i.lib_id = ? AND i.id = ?`),
      filesOfLibrary: p('SELECT f.file FROM image_files f JOIN images i ON i.image_key = f.image_key WHERE i.lib_id = ?').pluck(),
      deleteFilesOfLibrary: p('DELETE FROM image_files WHERE image_key IN (SELECT image_key FROM images WHERE lib_id = ?)'),
      deleteBytesOfLibrary: p('DELETE FROM image_bytes WHERE image_key IN (SELECT image_key FROM images WHERE lib_id = ?)'),
      isReferenced: p('SELECT 1 FROM image_files WHERE file = ?').pluck(),
      namesInRange: p('SELECT file FROM image_files WHERE file >= ? AND file < ?').pluck(),
      anyInRange: p('SELECT 1 FROM image_files WHERE file >= ? AND file < ? LIMIT 1').pluck(),
      relink: p('UPDATE image_files SET file = ? WHERE file = ?'),
    };
    this.legacyBytes = db.prepare('SELECT EXISTS (SELECT 1 FROM image_bytes)').pluck().get() === 1;
  }

  /**
   * Writes an original to the current pack; resolves its name once it is on disk (before any row names it).
   * Call `settle` with the name once the transaction meant to name it has ended, committed or not.
   */
  write(bytes: Buffer): Promise<string> {
    return this.packs.write(bytes);
  }

  /** The transactions of these written names have ended: their packs may be reclaimed again. */
  settle(names: Iterable<string | undefined>): void {
    this.packs.settle(names);
    this.reclaim();
  }

  /** Frees what no committed row names any more: a legacy file is removed, a pack range left to reclaim. */
  remove(names: Iterable<string>): Promise<void> {
    const files: string[] = [];
    for (const name of names) {
      const range = parsePackRef(name);
      if (range) this.dropped(range);
      else files.push(name);
    }
    this.reclaim();
    return this.files.remove(files);
  }

  /** Originals written for a transaction that failed: settled, and freed. */
  abandon(names: Array<string | undefined>): Promise<void> {
    this.settle(names);
    return this.remove(names.filter((name) => name !== undefined));
  }

  /** A packed original no row names any more: its pack is wanted once it may be worth reclaiming. */
  private dropped({ pack, length }: PackRange): void {
    const left = this.slack.get(pack);
    if (left !== undefined && left - length > 0) {
      this.slack.set(pack, left - length);
      return;
    }
    this.slack.delete(pack);
    this.wanted.add(pack);
  }

  /**
   * Inside a write transaction: `file` (or none) becomes the original of image `key`; resolves the file it
   * replaced, to remove after the commit. An original an older build kept in SQLite goes too.
   */
  link(key: number, file: string | undefined): string | undefined {
    const previous = this.sql.fileOfKey.get(key) as string | undefined;
    if (file !== undefined) this.sql.putFile.run(key, file);
    else this.sql.deleteFile.run(key);
    if (this.legacyBytes) this.sql.deleteBytes.run(key);
    return previous;
  }

  /**
   * Inside a write transaction, for an image row it has just created: the images table never hands a key
   * out twice (AUTOINCREMENT), so there is no original to look up or drop, and a bulk load runs one
   * statement per image instead of four.
   */
  linkNew(key: number, file: string | undefined): void {
    if (file !== undefined) this.sql.putFile.run(key, file);
  }

  /** Inside a delete transaction: image `key` keeps no original; resolves its file, to remove after the commit. */
  unlink(key: number): string | undefined {
    return this.link(key, undefined);
  }

  /** Inside a transaction, before the library's image rows go: resolves the files of its originals. */
  unlinkLibrary(libId: number, files: string[]): void {
    for (const file of this.sql.filesOfLibrary.iterate(libId) as Iterable<string>) files.push(file); // no spread: a library may hold millions
    this.sql.deleteFilesOfLibrary.run(libId);
    this.sql.deleteBytesOfLibrary.run(libId);
  }

  /** Inside a transaction: forgets every original; resolves their files. */
  unlinkAll(): string[] {
    const files = this.db.prepare('SELECT file FROM image_files').pluck().all() as string[];
    this.db.exec('DELETE FROM image_files');
    this.db.exec('DELETE FROM image_bytes');
    return files;
  }

  /** The original of image `id` of library `libId`, or undefined (none kept, or removed meanwhile). */
  async read(libId: number, id: string): Promise<Buffer | undefined> {
    for (let attempt = 0; ; attempt++) {
      const row = this.sql.bytesById.get(libId, id) as { file: string | null; bytes: Buffer | null } | undefined;
      if (!row?.file) return row?.bytes ?? undefined;
      const range = parsePackRef(row.file);
      if (!range) return this.files.read(row.file);
      const bytes = await this.packs.read(range);
      // A pack compacted between the lookup and the read: the row names the original's new place.
      if (bytes !== undefined || attempt === 1) return bytes;
    }
  }

  /**
   * In the background, at open: removes the legacy files a crash left unreferenced (resolves how many),
   * then checks every pack (dead space of earlier runs, and what a crash left at their ends).
   */
  async sweep(stop: () => boolean): Promise<number> {
    const removed = await this.files.sweep((name) => stop() || this.sql.isReferenced.get(name) !== undefined).catch(() => 0);
    if (!stop()) {
      for (const n of this.packs.earlierPacks()) this.wanted.add(n);
      this.reclaim();
    }
    return removed;
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
      for (let i = 0; i < names.length; i++) {
        if (this.stopped) return;
        const bytes = await this.packs.read(parsePackRef(names[i])!);
        if (bytes === undefined) return; // the pack went meanwhile: nothing to do
        moved.push([names[i], await this.packs.write(bytes)]);
        if (i % COMPACT_CHUNK === COMPACT_CHUNK - 1) await new Promise((resolve) => setImmediate(resolve));
      }
      if (this.stopped) return;
      // A row overwritten or deleted meanwhile no longer names its old range: its copy is dead space,
      // for its own pack's turn.
      this.db.transaction(() => {
        for (const [from, to] of moved) if (this.sql.relink.run(to, from).changes === 0) this.dropped(parsePackRef(to)!);
      })();
    } finally {
      this.packs.settle(moved.map(([, to]) => to));
    }
    if (this.sql.anyInRange.get(low, high) === undefined) this.packs.remove(n);
  }
}


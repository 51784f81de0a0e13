/**
 * The embedded store's image bytes (the ImageBytesStore part): the originals kept with images, appended
 * to pack files (pack-files.ts: written before the transaction that names them), named in the
 * `image_files` table, their dead space reclaimed in the background (pack-space.ts). Older builds kept a
 * file each (image-files.ts), or the bytes inside SQLite (`image_bytes`): both are still read, and go when
 * their image is overwritten or deleted.
 * The record part calls link / unlink inside its own transactions, so a row and its original change together.
 */
import * as path from 'node:path';
import type Database from 'better-sqlite3';
import { ImageFiles } from './image-files';
import { parsePackRef } from './pack-files';
import { PackSpace } from './pack-space';

/** The folder of the packs under the images folder (legacy files sit in two-hex-digit folders beside it). */
const PACKS_FOLDER = 'packs';

type Statement = Database.Statement<unknown[], unknown>;

export class EmbeddedImageBytes {
  private readonly files: ImageFiles;
  private readonly space: PackSpace;
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
    this.space = new PackSpace(db, 'image_files', path.join(dir, PACKS_FOLDER), durable, packBytes);
    const p = (s: string) => db.prepare(s);
    this.sql = {
      deleteBytes: p('DELETE FROM image_bytes WHERE image_key = ?'),
      bytesById: p(`SELECT f.file, b.bytes FROM images i LEFT JOIN image_files f ON f.image_key = i.image_key
        LEFT JOIN image_bytes b ON b.image_key = i.image_key WHERE i.lib_id = ? AND i.id = ?`),
      deleteBytesOfLibrary: p('DELETE FROM image_bytes WHERE image_key IN (SELECT image_key FROM images WHERE lib_id = ?)'),
    };
    this.legacyBytes = db.prepare('SELECT EXISTS (SELECT 1 FROM image_bytes)').pluck().get() === 1;
  }

  /**
   * Writes an original to the current pack; resolves its name once it is on disk (before any row names it).
   * Call `settle` with the name once the transaction meant to name it has ended, committed or not.
   */
  write(bytes: Buffer): Promise<string> {
    return this.space.write(bytes);
  }

  /** The transactions of these written names have ended: their packs may be reclaimed again. */
  settle(names: Iterable<string | undefined>): void {
    this.space.settle(names);
  }

  /** Frees what no committed row names any more: a legacy file is removed, a pack range left to reclaim. */
  remove(names: Iterable<string>): Promise<void> {
    const files: string[] = [];
    for (const name of names) if (!this.space.drop(name)) files.push(name);
    return this.files.remove(files);
  }

  /** Originals written for a transaction that failed: settled, and freed. */
  abandon(names: Array<string | undefined>): Promise<void> {
    this.settle(names);
    return this.remove(names.filter((name) => name !== undefined));
  }

  /**
   * Inside a write transaction: `file` (or none) becomes the original of image `key`; resolves the file it
   * replaced, to remove after the commit. An original an older build kept in SQLite goes too.
   */
  link(key: number, file: string | undefined): string | undefined {
    const previous = this.space.link(key, file);
    if (this.legacyBytes) this.sql.deleteBytes.run(key);
    return previous;
  }

  /** Inside a write transaction, for an image row it has just created (PackSpace.linkNew). */
  linkNew(key: number, file: string | undefined): void {
    if (file !== undefined) this.space.linkNew(key, file);
  }

  /** Inside a delete transaction: image `key` keeps no original; resolves its file, to remove after the commit. */
  unlink(key: number): string | undefined {
    return this.link(key, undefined);
  }

  /** Inside a transaction, before the library's image rows go: resolves the files of its originals. */
  unlinkLibrary(libId: number, files: string[]): void {
    this.space.unlinkLibrary(libId, files);
    this.sql.deleteBytesOfLibrary.run(libId);
  }

  /** Inside a transaction: forgets every original; resolves their files. */
  unlinkAll(): string[] {
    const files = this.space.unlinkAll();
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
      const bytes = await this.space.packs.read(range);
      // A pack compacted between the lookup and the read: the row names the original's new place.
      if (bytes !== undefined || attempt === 1) return bytes;
    }
  }

  /**
   * In the background, at open: removes the legacy files a crash left unreferenced (resolves how many),
   * then checks every pack (dead space of earlier runs, and what a crash left at their ends).
   */
  async sweep(stop: () => boolean): Promise<number> {
    const removed = await this.files.sweep((name) => stop() || this.space.isReferenced(name)).catch(() => 0);
    if (!stop()) this.space.checkEarlierPacks();
    return removed;
  }

  /** The bytes of a legacy file (undefined when it is gone), for legacy-data.ts. */
  readFile(name: string): Promise<Buffer | undefined> {
    return this.files.read(name);
  }

  /** Resolves once no pack is being reclaimed (tests; close). */
  whenReclaimed(): Promise<void> {
    return this.space.whenReclaimed();
  }

  /** Stops reclaiming (after the pack in hand) and closes the packs; before the database closes. */
  close(): Promise<void> {
    return this.space.close();
  }
}

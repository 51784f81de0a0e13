/**
 * The embedded store's image bytes (the ImageBytesStore part): the originals kept with images, one file
 * each (image-files.ts: written before the transaction that names them, removed after the one that drops
 * them), named in the `image_files` table; `image_bytes` holds what older builds kept inside SQLite.
 * The record part calls link / unlink inside its own transactions, so a row and its original change together.
 */
import type Database from 'better-sqlite3';
import { ImageFiles } from './image-files';

type Statement = Database.Statement<unknown[], unknown>;

export class EmbeddedImageBytes {
  private readonly files: ImageFiles;
  private readonly sql: Record<string, Statement>;
  /** Whether image_bytes held anything at open (nothing writes there any more). */
  private readonly legacyBytes: boolean;

  constructor(
    private readonly db: Database.Database,
    dir: string,
    durable: boolean,
  ) {
    this.files = new ImageFiles(dir, durable);
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
    };
    this.legacyBytes = db.prepare('SELECT EXISTS (SELECT 1 FROM image_bytes)').pluck().get() === 1;
  }

  /** Writes an original to a file of its own; resolves its name once it is on disk (before any row names it). */
  write(bytes: Buffer): Promise<string> {
    return this.files.write(bytes);
  }

  /** Removes files no committed row names any more. */
  remove(names: Iterable<string>): Promise<void> {
    return this.files.remove(names);
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
    const row = this.sql.bytesById.get(libId, id) as { file: string | null; bytes: Buffer | null } | undefined;
    if (row?.file) return this.files.read(row.file);
    return row?.bytes ?? undefined;
  }

  /** In the background: removes files a crash left unreferenced; resolves how many. */
  sweep(stop: () => boolean): Promise<number> {
    return this.files.sweep((name) => stop() || this.sql.isReferenced.get(name) !== undefined).catch(() => 0);
  }
}

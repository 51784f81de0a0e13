/**
 * The stored originals older builds kept outside SQLite, one file each, in 256 folders named by the first
 * two hex digits of the file's random name. New originals go to packs (pack-files.ts); these files are
 * still read, removed when their image is overwritten or deleted, and swept at open when no row names
 * them (what a crash left between a file's write and its transaction).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const folderOf = (name: string) => name.slice(0, 2);

export class ImageFiles {
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  /** The bytes of a file; undefined when it is gone (removed by a delete that committed meanwhile). */
  async read(name: string): Promise<Buffer | undefined> {
    try {
      return await fs.promises.readFile(path.join(this.dir, folderOf(name), name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** Removes files no committed row names any more; a failure leaves an orphan for the next sweep. */
  remove(names: Iterable<string>): Promise<void> {
    const all = [...names].map((name) => fs.promises.rm(path.join(this.dir, folderOf(name), name), { force: true }).catch(() => undefined));
    return Promise.all(all).then(() => undefined);
  }

  /**
   * Removes the files that `isReferenced` does not know: leftovers of writes whose transaction never
   * committed, or of removals a crash interrupted. Nothing writes these files any more, so none can be
   * waiting for its transaction. Asynchronous folder by folder, so it never holds the event loop long.
   */
  async sweep(isReferenced: (name: string) => boolean): Promise<number> {
    let removed = 0;
    for (const folder of await fs.promises.readdir(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(folder)) continue; // the packs' folder (pack-files.ts)
      const names = await fs.promises.readdir(path.join(this.dir, folder)).catch(() => [] as string[]);
      for (const name of names) {
        if (isReferenced(name)) continue;
        await fs.promises.rm(path.join(this.dir, folder, name), { force: true });
        removed++;
      }
    }
    return removed;
  }
}

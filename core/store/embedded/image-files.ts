/**
 * The stored originals of images (added with their bytes kept), one file each, outside
 * SQLite. Writing them through the SQLite transaction cost a fifth of the main thread's time at ingest (WAL
 * writes and checkpoints of ~150 KB per image, synchronous); files are written on libuv's threads instead.
 *
 * Protocol: a file gets a fresh random name and is written completely *before* the transaction that
 * records its name commits, so a committed row never names a missing file (with `durable`, the file and
 * its folder are fsync'ed first, matching synchronous=FULL). Files a transaction replaced or deleted are
 * removed after the commit. A crash between the two steps leaves an unreferenced file; `sweep` removes those
 * at the next open, in the background.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Files per folder stay small: 256 folders named by the first two hex digits of the file name. */
const folderOf = (name: string) => name.slice(0, 2);

export class ImageFiles {
  private readonly made = new Set<string>();
  /** While a sweep runs: the names this process writes, which the sweep must never take for leftovers. */
  private writtenDuringSweep?: Set<string>;

  constructor(
    readonly dir: string,
    private readonly durable: boolean,
  ) {
    fs.mkdirSync(dir, { recursive: true });
  }

  /** Writes the bytes under a new name and resolves the name once they are on disk. */
  async write(bytes: Buffer): Promise<string> {
    const name = randomBytes(12).toString('hex');
    this.writtenDuringSweep?.add(name);
    const folder = path.join(this.dir, folderOf(name));
    if (!this.made.has(folder)) {
      await fs.promises.mkdir(folder, { recursive: true });
      this.made.add(folder);
    }
    const file = path.join(folder, name);
    if (!this.durable) {
      // The callback form: a third of the event-loop time of fs.promises.writeFile at ingest rates.
      await new Promise<void>((resolve, reject) => fs.writeFile(file, bytes, { flag: 'wx' }, (e) => (e ? reject(e) : resolve())));
      return name;
    }
    const handle = await fs.promises.open(file, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    const dirHandle = await fs.promises.open(folder, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
    return name;
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
   * Removes the files that `isReferenced` does not know and that this process did not write: leftovers
   * of writes whose transaction never committed, or of removals a crash interrupted. (A file this process
   * writes is unreferenced until its transaction commits; file times are too coarse to tell those apart.)
   * Asynchronous folder by folder, so it never holds the event loop long.
   */
  async sweep(isReferenced: (name: string) => boolean): Promise<number> {
    const mine = (this.writtenDuringSweep = new Set());
    let removed = 0;
    try {
      for (const folder of await fs.promises.readdir(this.dir)) {
        const names = await fs.promises.readdir(path.join(this.dir, folder)).catch(() => [] as string[]);
        for (const name of names) {
          if (mine.has(name) || isReferenced(name)) continue;
          await fs.promises.rm(path.join(this.dir, folder, name), { force: true });
          removed++;
        }
      }
    } finally {
      this.writtenDuringSweep = undefined;
    }
    return removed;
  }
}

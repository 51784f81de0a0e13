/**
 * Byte ranges appended to pack files (<dir>/<n>.pack): the stored originals of images and the images'
 * vectors each have a folder of them. Creating a file per original cost ingest 5–8 % of its CPU (ext4's
 * inode and directory work, measured against positional writes into one open file), and a million
 * originals were a million files; a million vectors inside SQLite were written twice (WAL, then
 * checkpoint) in B-tree pages.
 *
 * Protocol (the same promise as one file per original): a write gets a range of the current pack,
 * reserved at once and written completely *before* the transaction that names it commits (with `durable`,
 * fdatasync'ed first, and the pack's folder entry fsync'ed when the pack is created). A pack is only ever
 * appended to by the process that created it: after a restart writes go to a new pack, so whatever a
 * crash left at the end of an old one (a range no transaction committed) is never overwritten while a
 * row might name it; it is dead space, like the ranges of overwritten and deleted images.
 *
 * Dead space is reclaimed by the caller (pack-space.ts), which knows from SQLite which ranges are live:
 * a pack with no live range is removed; one mostly dead is compacted (its live ranges copied to the
 * current pack, the rows relinked to the copies, then the pack removed). Neither ever touches the
 * current pack, nor a pack with writes whose transaction has not settled yet (`settle`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A pack is closed to new writes, and a new one started, once it holds this many bytes. */
export const PACK_BYTES = 64 * 2 ** 20;

/**
 * Writes up to this size go straight into the page cache on the event loop when nothing is fdatasync'ed:
 * an image's vectors (2 KB at 512 dimensions) cost a few microseconds so, where a round trip through
 * libuv's pool cost ingest ~0.15 ms of CPU per image (measured, interleaved with the pool's way). Larger
 * writes (originals, bulk loads' vectors) go through the pool.
 */
const SYNC_WRITE_BYTES = 16 * 1024;

/** Descriptors readSync keeps open at most (a 10M-image library of 512-d vectors is ~300 packs). */
const MAX_READERS = 64;

/** Where a range lives: pack `pack`, `length` bytes from `offset`. */
export interface PackRange {
  pack: number;
  offset: number;
  length: number;
}

/** The name a row holds for a packed range: "p<pack>/<offset>/<length>" (legacy file names are hex). */
export function packRef(r: PackRange): string {
  return `p${r.pack}/${r.offset}/${r.length}`;
}

/** The range a name stands for, or undefined for a legacy file name. */
export function parsePackRef(name: string): PackRange | undefined {
  const m = /^p(\d+)\/(\d+)\/(\d+)$/.exec(name);
  return m ? { pack: Number(m[1]), offset: Number(m[2]), length: Number(m[3]) } : undefined;
}

/** The bounds [low, high) of every name in pack `pack`, for a range query on the name's index. */
export function packRefBounds(pack: number): [string, string] {
  return [`p${pack}/`, `p${pack}0`]; // '0' follows '/' in every collation SQLite uses for TEXT
}

interface OpenPack {
  n: number;
  fd: number;
  /** Where the next reservation starts. */
  end: number;
}

export class PackFiles {
  private current?: OpenPack;
  /** The next pack while it is being created (writes that find the current one full share it). */
  private opening?: Promise<OpenPack>;
  /** Writes handed out whose transaction has not settled yet, by pack. */
  private readonly unsettled = new Map<number, number>();
  /** Writes under way, by pack. */
  private readonly writing = new Map<number, number>();
  /** Descriptors of packs closed to writes, waiting for their last write to finish. */
  private readonly closing = new Map<number, number>();
  /** Descriptors readSync keeps open, by pack (closed when the pack is removed). */
  private readonly readers = new Map<number, number>();
  /** The number of the next pack this process starts; those below `firstOwn` are of earlier runs. */
  private nextPack: number;
  private readonly firstOwn: number;
  private closed = false;

  constructor(
    readonly dir: string,
    private readonly durable: boolean,
    /** Bytes after which a pack takes no more writes (default PACK_BYTES; tests lower it). */
    private readonly packBytes = PACK_BYTES,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    this.firstOwn = this.nextPack = Math.max(0, ...this.packsOnDisk()) + 1;
  }

  /** The packs earlier runs left, by number: none of them is written to again. */
  earlierPacks(): number[] {
    return this.packsOnDisk().filter((n) => n < this.firstOwn);
  }

  private packsOnDisk(): number[] {
    return fs
      .readdirSync(this.dir)
      .map((f) => /^(\d+)\.pack$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  }

  /** The size of pack `n` on disk (0 when it is gone). */
  size(n: number): number {
    try {
      return fs.statSync(this.file(n)).size;
    } catch {
      return 0;
    }
  }

  /**
   * Appends `bytes` to the current pack and resolves its name once they are on disk. The write stays
   * unsettled (its pack is neither compacted nor removed) until `settle` is called with the name.
   */
  async write(bytes: Buffer): Promise<string> {
    if (this.closed) throw new Error('packs are closed');
    let pack = this.current && this.current.end < this.packBytes ? this.current : undefined;
    if (!pack) pack = await this.startPack();
    const range = { pack: pack.n, offset: pack.end, length: bytes.length };
    pack.end += bytes.length;
    const fd = pack.fd;
    this.unsettled.set(pack.n, (this.unsettled.get(pack.n) ?? 0) + 1);
    this.writing.set(pack.n, (this.writing.get(pack.n) ?? 0) + 1);
    try {
      if (!this.durable && bytes.length <= SYNC_WRITE_BYTES) {
        for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, bytes.length - done, range.offset + done);
      } else {
        for (let done = 0; done < bytes.length; ) {
          done += await new Promise<number>((resolve, reject) =>
            fs.write(fd, bytes, done, bytes.length - done, range.offset + done, (e, n) => (e ? reject(e) : resolve(n))),
          );
        }
      }
      if (this.durable) await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (e) => (e ? reject(e) : resolve())));
    } catch (e) {
      this.settle([packRef(range)]);
      throw e;
    } finally {
      this.wrote(pack.n);
    }
    return packRef(range);
  }

  /** The transactions that named (or failed to name) these refs have ended: their packs may be reclaimed. */
  settle(names: Iterable<string | undefined>): void {
    for (const name of names) {
      const r = name === undefined ? undefined : parsePackRef(name);
      if (!r) continue;
      const left = (this.unsettled.get(r.pack) ?? 1) - 1;
      if (left > 0) this.unsettled.set(r.pack, left);
      else this.unsettled.delete(r.pack);
    }
  }

  /** Whether pack `n` may be compacted or removed: closed to writes, and no write to it unsettled. */
  reclaimable(n: number): boolean {
    return (n < this.firstOwn || n < (this.current?.n ?? this.firstOwn)) && !this.unsettled.has(n);
  }

  /** The bytes of a range; undefined when its pack is gone (compacted or removed meanwhile). */
  async read(r: PackRange): Promise<Buffer | undefined> {
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(this.file(r.pack), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      const out = Buffer.allocUnsafe(r.length);
      let done = 0;
      while (done < r.length) {
        const { bytesRead } = await handle.read(out, done, r.length - done, r.offset + done);
        if (bytesRead === 0) return undefined; // shorter than the row says: never so for a committed row
        done += bytesRead;
      }
      return out;
    } finally {
      await handle.close();
    }
  }

  /**
   * The bytes of a range, read on the spot: for a caller that looks its name up and reads it in one turn
   * of the event loop, when no compaction can have moved it (pack-space.ts). Throws when the pack is
   * gone or shorter than the range, which a committed name never is.
   */
  readSync(r: PackRange): Buffer {
    let fd = this.readers.get(r.pack);
    if (fd === undefined) {
      if (this.readers.size >= MAX_READERS) this.closeReader(this.readers.keys().next().value!); // the oldest
      fd = fs.openSync(this.file(r.pack), 'r');
      this.readers.set(r.pack, fd);
    }
    const out = Buffer.allocUnsafe(r.length);
    for (let done = 0; done < r.length; ) {
      const n = fs.readSync(fd, out, done, r.length - done, r.offset + done);
      if (n === 0) throw new Error(`pack ${r.pack} ends before ${r.offset + r.length}`);
      done += n;
    }
    return out;
  }

  /** Removes pack `n` (the caller has made sure no row names it). */
  remove(n: number): void {
    this.closeReader(n);
    fs.rmSync(this.file(n), { force: true });
  }

  /** No more writes; closes the current pack once its writes have finished. */
  close(): void {
    this.closed = true;
    for (const n of [...this.readers.keys()]) this.closeReader(n);
    if (this.current) this.retire(this.current);
    this.current = undefined;
  }

  private closeReader(n: number): void {
    const fd = this.readers.get(n);
    this.readers.delete(n);
    if (fd !== undefined) fs.closeSync(fd);
  }

  private file(n: number): string {
    return path.join(this.dir, `${n}.pack`);
  }

  private startPack(): Promise<OpenPack> {
    this.opening ??= (async () => {
      const n = this.nextPack++;
      const fd = await new Promise<number>((resolve, reject) => fs.open(this.file(n), 'wx', (e, fd) => (e ? reject(e) : resolve(fd))));
      if (this.durable) await syncFolder(this.dir); // the new pack's name survives a power loss
      if (this.closed) {
        fs.close(fd, () => undefined);
        throw new Error('packs are closed');
      }
      const previous = this.current;
      this.current = { n, fd, end: 0 };
      if (previous) this.retire(previous);
      return this.current;
    })().finally(() => (this.opening = undefined));
    return this.opening;
  }

  /** `pack` takes no more writes: its descriptor closes when its last write has finished. */
  private retire(pack: OpenPack): void {
    if (this.writing.has(pack.n)) this.closing.set(pack.n, pack.fd);
    else fs.close(pack.fd, () => undefined);
  }

  private wrote(n: number): void {
    const left = (this.writing.get(n) ?? 1) - 1;
    if (left > 0) this.writing.set(n, left);
    else this.writing.delete(n);
    const fd = this.closing.get(n);
    if (fd !== undefined && left === 0) {
      this.closing.delete(n);
      fs.close(fd, () => undefined);
    }
  }
}

async function syncFolder(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * The images' vectors (each image's rows one after another, as codec.ts's vectorsToBlob lays them out),
 * appended to pack files (pack-files.ts) under <store>/vectors/ and named in the `vector_files` table, in
 * place of the `images.vector` column, which older builds filled and which is still read where no name is
 * given. SQLite wrote a vector twice (its WAL, then the checkpoint) in B-tree pages: a million 512-d
 * vectors took 24–30 s to insert (13–15 s of it in the kernel, copying pages), 15–16 s from packs.
 *
 * A write is one range for the vectors of one upsert, written before its transaction commits (the
 * protocol of pack-files.ts); each image's row names its part of it. Reads are synchronous: the store
 * looks a name up and reads its range in the same turn of the event loop, which a compaction never splits
 * (pack-space.ts), and a library's load reads the ranges of a chunk of rows, adjacent ones in one read.
 *
 * A name a transaction drops (an overwrite, a delete) is dropped at once: that only asks for its pack to
 * be checked, and the check finds the name still live if the transaction rolled back.
 */
import type Database from 'better-sqlite3';
import { packRef, parsePackRef, type PackRange } from './pack-files';
import { PackSpace } from './pack-space';

/** What one write of vectors produced: each blob's name, and the write's own, to settle once its transaction ended. */
export interface VectorWrite {
  names: string[];
  write: string;
}

export class EmbeddedVectorFiles {
  private readonly space: PackSpace;

  constructor(db: Database.Database, dir: string, durable: boolean, packBytes?: number) {
    this.space = new PackSpace(db, 'vector_files', dir, durable, packBytes);
  }

  /** Appends the blobs as one range; resolves once they are on disk, before any row names them. */
  async write(blobs: Buffer[]): Promise<VectorWrite> {
    const write = await this.space.write(blobs.length === 1 ? blobs[0] : Buffer.concat(blobs));
    const { pack, offset } = parsePackRef(write)!;
    let at = offset;
    const names = blobs.map((blob) => {
      const name = packRef({ pack, offset: at, length: blob.length });
      at += blob.length;
      return name;
    });
    return { names, write };
  }

  /** The transaction meant to name a write's vectors has committed. */
  settle(written: VectorWrite): void {
    this.space.settle([written.write]);
  }

  /** The transaction meant to name a write's vectors failed: settled, and its range freed. */
  abandon(written: VectorWrite): void {
    this.space.settle([written.write]);
    this.space.drop(written.write);
  }

  /** Inside a write transaction: `name` becomes the vectors of image `key` (whatever named them before is dropped). */
  link(key: number, name: string): void {
    this.dropName(this.space.link(key, name));
  }

  /** Inside a write transaction, for an image row it has just created (PackSpace.linkNew). */
  linkNew(key: number, name: string): void {
    this.space.linkNew(key, name);
  }

  /** Inside a delete transaction: image `key` goes with its vectors. */
  unlink(key: number): void {
    this.dropName(this.space.link(key, undefined));
  }

  /** Inside a transaction, before the library's image rows go. */
  unlinkLibrary(libId: number): void {
    const names: string[] = [];
    this.space.unlinkLibrary(libId, names);
    for (const name of names) this.space.drop(name);
  }

  /** Inside a transaction: forgets every image's vectors. */
  unlinkAll(): void {
    for (const name of this.space.unlinkAll()) this.space.drop(name);
  }

  /** The vectors a name holds (see the top of this file: look up and read in one turn). */
  read(name: string): Buffer {
    return this.space.packs.readSync(rangeOf(name));
  }

  /** The vectors of several names, in order; names of adjacent ranges (a bulk write's rows) are read at once. */
  readAll(names: string[]): Buffer[] {
    const out: Buffer[] = [];
    for (let i = 0; i < names.length; ) {
      const first = rangeOf(names[i]);
      const parts: PackRange[] = [first];
      let end = first.offset + first.length;
      for (let next = i + 1; next < names.length; next++) {
        const r = rangeOf(names[next]);
        if (r.pack !== first.pack || r.offset !== end) break;
        parts.push(r);
        end += r.length;
      }
      const bytes = this.space.packs.readSync({ pack: first.pack, offset: first.offset, length: end - first.offset });
      for (const r of parts) out.push(bytes.subarray(r.offset - first.offset, r.offset - first.offset + r.length));
      i += parts.length;
    }
    return out;
  }

  /** At open, in the background: every pack of earlier runs is checked (dead space, a crash's tail). */
  checkEarlierPacks(): void {
    this.space.checkEarlierPacks();
  }

  /** Resolves once no pack is being reclaimed (tests; close). */
  whenReclaimed(): Promise<void> {
    return this.space.whenReclaimed();
  }

  /** Stops reclaiming and closes the packs; before the database closes. */
  close(): Promise<void> {
    return this.space.close();
  }

  private dropName(name: string | undefined): void {
    if (name !== undefined) this.space.drop(name);
  }
}

function rangeOf(name: string): PackRange {
  const range = parsePackRef(name);
  if (!range) throw new Error(`not a vector range: ${name}`);
  return range;
}

/**
 * Moves what older builds kept outside the packs into them (`isg store compact`): vectors in
 * `images.vector` (vector-files.ts), originals in `image_bytes` and originals in a file each (image-bytes.ts,
 * image-files.ts). All are still read where they are and leave when their image is overwritten; a store
 * whose images are never overwritten keeps them, 2.6 GB of SQLite for a million 512-d images where the packs
 * would take 2 GB and SQLite 90 MB, or a million files.
 *
 * Batch by batch, each its own transaction, so a stop loses nothing and a second run resumes: a batch's
 * bytes are written to a pack first, then one transaction names them and clears the old copies, only of rows
 * that still hold them (a row overwritten or deleted meanwhile has its data elsewhere, or none; its copy in
 * the pack is dead space, found when the packs are next checked: at the latest, the store's next open).
 * The packs must be durable (synchronous "full"): the commit clears the only other copy, so the pack's
 * bytes must be on disk before it.
 */
import type Database from 'better-sqlite3';
import type { EmbeddedImageBytes } from './image-bytes';
import type { EmbeddedVectorFiles } from './vector-files';

/** Images per batch, and bytes of originals per batch (at least one original). */
const BATCH_ROWS = 1000;
const BATCH_BYTES = 64 << 20;

export interface LegacyMoved {
  vectors: number;
  /** Originals moved out of SQLite and out of files of their own. */
  originals: number;
}

/** Moves every image's vectors out of `images.vector`; calls `progress` with the running count after each batch. */
export async function moveLegacyVectors(db: Database.Database, vectors: EmbeddedVectorFiles, progress: (moved: number) => void): Promise<number> {
  const next = db.prepare('SELECT image_key AS key, vector FROM images WHERE image_key > ? AND length(vector) > 0 ORDER BY image_key LIMIT ?');
  const clear = db.prepare("UPDATE images SET vector = x'' WHERE image_key = ? AND length(vector) > 0");
  let moved = 0;
  for (let after = 0; ; ) {
    const rows = next.all(after, BATCH_ROWS) as Array<{ key: number; vector: Buffer }>;
    if (rows.length === 0) return moved;
    after = rows[rows.length - 1].key;
    const written = await vectors.write(rows.map((r) => r.vector));
    try {
      db.transaction(() => {
        rows.forEach((r, i) => {
          if (clear.run(r.key).changes === 0) return; // overwritten meanwhile: its vectors are in a pack already
          vectors.linkNew(r.key, written.names[i]);
          moved++;
        });
      })();
    } catch (e) {
      vectors.abandon(written);
      throw e;
    }
    vectors.settle(written);
    progress(moved);
  }
}

/** Moves every original out of `image_bytes`; calls `progress` with the running count after each batch. */
export async function moveLegacyOriginals(db: Database.Database, originals: EmbeddedImageBytes, progress: (moved: number) => void): Promise<number> {
  const next = db.prepare('SELECT image_key AS key, length(bytes) AS size FROM image_bytes WHERE image_key > ? ORDER BY image_key LIMIT ?');
  const bytesOf = db.prepare('SELECT bytes FROM image_bytes WHERE image_key = ?').pluck();
  // A row whose image names a file too is not what reads return (image-bytes.ts reads the file first).
  const named = db.prepare('SELECT 1 FROM image_files WHERE image_key = ?').pluck();
  const remove = db.prepare('DELETE FROM image_bytes WHERE image_key = ?');
  let moved = 0;
  for (let after = 0; ; ) {
    const sizes = next.all(after, BATCH_ROWS) as Array<{ key: number; size: number }>;
    if (sizes.length === 0) return moved;
    const batch: Array<{ key: number; bytes: Buffer }> = [];
    let bytes = 0;
    for (const { key, size } of sizes) {
      if (batch.length > 0 && bytes + size > BATCH_BYTES) break;
      batch.push({ key, bytes: bytesOf.get(key) as Buffer });
      bytes += size;
    }
    after = batch[batch.length - 1].key;
    const names = await Promise.all(batch.map((b) => originals.write(b.bytes)));
    try {
      db.transaction(() => {
        batch.forEach((b, i) => {
          const stale = named.get(b.key) !== undefined;
          if (remove.run(b.key).changes === 0 || stale) return; // gone meanwhile, or never read
          originals.linkNew(b.key, names[i]);
          moved++;
        });
      })();
    } catch (e) {
      await originals.abandon(names);
      throw e;
    }
    originals.settle(names);
    progress(moved);
  }
}

/**
 * Moves every original kept in a file of its own into the packs; the files go once their rows name the
 * packs. Calls `progress` with the running count after each batch.
 */
export async function moveLegacyFiles(db: Database.Database, originals: EmbeddedImageBytes, progress: (moved: number) => void): Promise<number> {
  // Pack names start with "p" (pack-files.ts), file names are hex.
  const next = db.prepare("SELECT image_key AS key, file FROM image_files WHERE image_key > ? AND file GLOB '[0-9a-f]*' ORDER BY image_key LIMIT ?");
  const repoint = db.prepare('UPDATE image_files SET file = ? WHERE image_key = ? AND file = ?');
  let moved = 0;
  for (let after = 0; ; ) {
    const rows = next.all(after, BATCH_ROWS) as Array<{ key: number; file: string }>;
    if (rows.length === 0) return moved;
    const batch: Array<{ key: number; file: string; bytes: Buffer }> = [];
    let bytes = 0;
    for (const { key, file } of rows) {
      if (batch.length > 0 && bytes > BATCH_BYTES) break;
      after = key;
      const read = await originals.readFile(file);
      if (read === undefined) continue; // removed with its image meanwhile
      batch.push({ key, file, bytes: read });
      bytes += read.length;
    }
    const names = await Promise.all(batch.map((b) => originals.write(b.bytes)));
    const replaced: string[] = [];
    try {
      db.transaction(() => {
        batch.forEach((b, i) => {
          if (repoint.run(names[i], b.key, b.file).changes === 0) return; // overwritten meanwhile
          replaced.push(b.file);
          moved++;
        });
      })();
    } catch (e) {
      await originals.abandon(names);
      throw e;
    }
    originals.settle(names);
    await originals.remove(replaced);
    progress(moved);
  }
}

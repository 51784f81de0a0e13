/**
 * `isg store compact`: what older builds kept outside the embedded store's packs (vectors in images.vector,
 * originals in image_bytes or in a file each) moves into them, nothing is lost, and SQLite's file shrinks.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clusteredVectors } from '../../bench/store-bench';
import { storeCommand } from '../../bin/commands/store';
import type { LibraryRef } from '../../core/records';
import { openEmbeddedStore, type EmbeddedStore } from '../../core/store/embedded';
import { EmbeddedImageBytes } from '../../core/store/embedded/image-bytes';
import { moveLegacyFiles, moveLegacyVectors } from '../../core/store/embedded/legacy-data';
import { configureConnection } from '../../core/store/embedded/schema';
import { EmbeddedVectorFiles } from '../../core/store/embedded/vector-files';
import { writesOf } from '../helpers/clustered-library';

const REF: LibraryRef = { tenant: 't', name: 'old' };
const N = 3000;
const data = clusteredVectors(N, 64, 5);
const ORIGINALS = ['v1', 'v2', 'v3'];

let dataDir: string;
let storeDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'isg-compact-'));
  storeDir = path.join(dataDir, 'store');
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

/**
 * A store as an older build left it: every vector in images.vector, no vector_files; v1 and v2's originals
 * in image_bytes; v3 with a pack original and a stale image_bytes row beside it (reads return the pack's);
 * v4's original in a file of its own.
 */
async function olderBuildsStore(): Promise<void> {
  const store = await openEmbeddedStore({ dir: storeDir });
  await store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0 });
  const writes = writesOf(data, 0, N);
  for (let a = 0; a < N; a += 1000) await store.upsertImages(REF, writes.slice(a, a + 1000));
  await store.upsertImages(REF, [{ record: { ...writes[3].record, hasImage: true }, vector: writes[3].vector, image: Buffer.from('in-a-pack') }]);
  await store.close();
  const db = new Database(path.join(storeDir, 'store.sqlite'));
  const setVector = db.prepare('UPDATE images SET vector = ? WHERE id = ?');
  db.transaction(() => {
    for (const w of writes) setVector.run(Buffer.from(w.vector.buffer, w.vector.byteOffset, w.vector.byteLength), w.record.id);
    db.exec('DELETE FROM vector_files');
    const keep = db.prepare("INSERT INTO image_bytes (image_key, bytes) SELECT image_key, ? FROM images WHERE id = ?");
    for (const id of ORIGINALS) keep.run(Buffer.from(`original of ${id}`), id);
    db.prepare('UPDATE images SET has_image = 1 WHERE id IN (?, ?, ?, ?)').run(...ORIGINALS, 'v4');
    mkdirSync(path.dirname(LEGACY_FILE()), { recursive: true });
    writeFileSync(LEGACY_FILE(), 'original of v4');
    db.prepare("INSERT INTO image_files (image_key, file) SELECT image_key, ? FROM images WHERE id = 'v4'").run(path.basename(LEGACY_FILE()));
  })();
  db.close();
}

const LEGACY_FILE = () => path.join(storeDir, 'images', 'ab', 'ab00000000000000000000000000000004');

function sql<T>(query: string): T[] {
  const db = new Database(path.join(storeDir, 'store.sqlite'), { readonly: true });
  try {
    return db.prepare(query).all() as T[];
  } finally {
    db.close();
  }
}

/** Every vector and original reads back as written. */
async function expectEverythingRead(store: EmbeddedStore) {
  const wrong: string[] = [];
  for (const w of writesOf(data, 0, N)) {
    const got = await store.getVector(REF, w.record.id);
    if (Array.from(got ?? []).join() !== Array.from(w.vector).join()) wrong.push(w.record.id);
  }
  expect(wrong).toEqual([]);
  expect((await store.getImageBytes(REF, 'v1'))?.toString()).toBe('original of v1');
  expect((await store.getImageBytes(REF, 'v2'))?.toString()).toBe('original of v2');
  expect((await store.getImageBytes(REF, 'v3'))?.toString()).toBe('in-a-pack');
  expect((await store.getImageBytes(REF, 'v4'))?.toString()).toBe('original of v4');
}

describe('isg store compact', () => {
  it('moves the vectors and originals older builds kept outside the packs into them, loses nothing, and shrinks SQLite', async () => {
    await olderBuildsStore();
    const lines: string[] = [];
    expect(await storeCommand(['compact', '--data', dataDir], (l) => lines.push(l))).toBe(0);
    expect(lines).toContain(`moved ${N} images' vectors and 3 originals`);
    expect(existsSync(LEGACY_FILE())).toBe(false);
    const [before, after] = /^SQLite: ([\d.]+) MiB before, ([\d.]+) MiB after$/.exec(lines[lines.length - 1])!.slice(1).map(Number);
    expect(after).toBeLessThan(before / 2); // 3000 x 256 bytes of vectors left the file

    expect(sql('SELECT id FROM images WHERE length(vector) > 0')).toEqual([]);
    expect(sql('SELECT image_key FROM image_bytes')).toEqual([]);
    expect(sql("SELECT file FROM image_files WHERE file NOT LIKE 'p%'")).toEqual([]);
    expect(sql<{ n: number }>('SELECT count(*) AS n FROM vector_files')[0].n).toBe(N);
    const store = await openEmbeddedStore({ dir: storeDir });
    await expectEverythingRead(store);
    const q = data.vectors.slice(7 * 64, 8 * 64);
    expect((await store.search([REF], q, { limit: 1 }))[0].record.id).toBe('v7');
    await store.close();

    // A second run finds nothing left to move.
    lines.length = 0;
    expect(await storeCommand(['compact', '--data', dataDir], (l) => lines.push(l))).toBe(0);
    expect(lines).toContain("moved 0 images' vectors and 0 originals");
  });

  it('keeps what is written and deleted while it moves: an overwrite wins, a deleted image stays gone', async () => {
    await olderBuildsStore();
    const store = await openEmbeddedStore({ dir: storeDir, synchronous: 'full' });
    const fresh = new Float32Array(64).fill(0.125);
    // Whichever way these interleave with the move's batches, the end state is the same.
    const [moved] = await Promise.all([
      store.moveLegacyData(),
      store.upsertImages(REF, [{ record: { id: 'v2500', tags: {}, hasImage: false, createdAt: 0, updatedAt: 0 }, vector: fresh }]),
      store.deleteImages(REF, { ids: ['v10', 'v2'] }),
    ]);
    expect(moved.vectors + moved.originals).toBeGreaterThan(0);
    await store.close();
    const reopened = await openEmbeddedStore({ dir: storeDir });
    const wrong: string[] = [];
    for (const w of writesOf(data, 0, N)) {
      const got = await reopened.getVector(REF, w.record.id);
      const want = w.record.id === 'v2500' ? fresh : w.record.id === 'v10' || w.record.id === 'v2' ? undefined : w.vector;
      if ((got === undefined) !== (want === undefined) || (want && Array.from(got!).join() !== Array.from(want).join())) wrong.push(w.record.id);
    }
    expect(wrong).toEqual([]);
    expect(await reopened.getImageBytes(REF, 'v2')).toBeUndefined();
    expect((await reopened.getImageBytes(REF, 'v1'))?.toString()).toBe('original of v1');
    expect(sql('SELECT id FROM images WHERE length(vector) > 0')).toEqual([]);
    expect(sql('SELECT image_key FROM image_bytes')).toEqual([]);
    await reopened.whenReclaimed();
    await reopened.close();
  });

  it('leaves alone a row overwritten between its read and the commit that would have moved it', async () => {
    await olderBuildsStore();
    const db = new Database(path.join(storeDir, 'store.sqlite'));
    configureConnection(db, 'full');
    const packs = new EmbeddedVectorFiles(db, path.join(storeDir, 'vectors'), true);
    const keyOf = (id: string) => db.prepare('SELECT image_key FROM images WHERE id = ?').pluck().get(id) as number;
    const overwritten = keyOf('v5');
    let overwrote = false;
    // The store's overwrite, committed while the move waits for its pack write: vectors cleared, a new name.
    const overwriteMeanwhile = Object.create(packs, {
      write: {
        value: async (blobs: Buffer[]) => {
          const written = await packs.write(blobs);
          if (!overwrote) {
            overwrote = true; // while the first batch, v5's, is being written
            db.prepare("UPDATE images SET vector = x'' WHERE image_key = ?").run(overwritten);
            db.prepare("INSERT INTO vector_files (image_key, file) VALUES (?, 'p9/0/256')").run(overwritten);
          }
          return written;
        },
      },
    }) as EmbeddedVectorFiles;
    const moved = await moveLegacyVectors(db, overwriteMeanwhile, () => undefined);
    expect(moved).toBe(N - 1);
    expect(db.prepare('SELECT file FROM vector_files WHERE image_key = ?').pluck().get(overwritten)).toBe('p9/0/256');
    expect(db.prepare('SELECT count(*) FROM vector_files').pluck().get()).toBe(N);
    await packs.close();
    db.close();
  });

  it('leaves alone an original in a file whose image got a new one while the move read it', async () => {
    await olderBuildsStore();
    const db = new Database(path.join(storeDir, 'store.sqlite'));
    configureConnection(db, 'full');
    const originals = new EmbeddedImageBytes(db, path.join(storeDir, 'images'), true);
    const key = db.prepare("SELECT image_key FROM images WHERE id = 'v4'").pluck().get() as number;
    // The store's overwrite of v4's original, committed while the move waits for its pack write.
    const overwriteMeanwhile = Object.create(originals, {
      write: {
        value: async (bytes: Buffer) => {
          const name = await originals.write(bytes);
          db.prepare("UPDATE image_files SET file = 'p9/0/5' WHERE image_key = ?").run(key);
          return name;
        },
      },
    }) as EmbeddedImageBytes;
    expect(await moveLegacyFiles(db, overwriteMeanwhile, () => undefined)).toBe(0);
    expect(db.prepare('SELECT file FROM image_files WHERE image_key = ?').pluck().get(key)).toBe('p9/0/5');
    expect(existsSync(LEGACY_FILE())).toBe(true); // not the move's to remove: the overwrite's
    await originals.close();
    db.close();
  });

  it('refuses to move anything unless the packs are written durably', async () => {
    await olderBuildsStore();
    const store = await openEmbeddedStore({ dir: storeDir });
    await expect(store.moveLegacyData()).rejects.toThrow('synchronous "full"');
    await expectEverythingRead(store);
    await store.close();
    expect(sql<{ n: number }>('SELECT count(*) AS n FROM images WHERE length(vector) > 0')[0].n).toBe(N);
  });
});

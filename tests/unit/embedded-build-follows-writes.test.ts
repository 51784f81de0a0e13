/**
 * The embedded store's background build follows the library while it is written: it starts on the write
 * that takes a library past the ANN threshold (no search needed), reads rows as they arrive even from a
 * writer that never yields, replays every image whose row changed after it was read, records a snapshot
 * watermark that never claims a write it missed, and starts again once the library has grown by half or
 * more writes wait than a search would add to the index on the event loop.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clusteredVectors, type ClusteredData } from '../../bench/store-bench';
import type { LibraryRef } from '../../core/records';
import { openEmbeddedStore, type EmbeddedStore } from '../../core/store/embedded';
import { snapshotRows } from '../../core/store/embedded/ann-index';
import type { ImageWrite } from '../../core/store/vector-store';
import { exact, writesOf } from '../helpers/clustered-library';

const DIM = 32;
const REF: LibraryRef = { tenant: 't', name: 'big' };
const THRESHOLD = 500;

/** Runs `body` with a fresh folder, removed afterwards whatever happens. */
async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'isg-follow-'));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function newLibrary(dir: string, persistIndexOnClose = true): Promise<EmbeddedStore> {
  const store = await openEmbeddedStore({ dir, annThreshold: THRESHOLD, persistIndexOnClose });
  await store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0 });
  return store;
}

/**
 * The share of the live images `checked` (all by default) that a search by their own vector does not rank
 * first (HNSW misses a few in a thousand; an image the index lost or holds under an old row is never
 * first); no hit is ever a deleted image. `shared` ids have a twin.
 */
async function missedOwn(store: EmbeddedStore, live: Map<string, ImageWrite>, { shared = [] as string[], checked = [...live.keys()] } = {}): Promise<number> {
  let missed = 0;
  const ids = checked.filter((id) => live.has(id) && !shared.includes(id));
  for (const id of ids) {
    const hits = await store.search([REF], live.get(id)!.vector, { limit: 3 });
    if (hits[0]?.record.id !== id) missed++;
    for (const h of hits) expect(live.has(h.record.id)).toBe(true);
  }
  return missed / ids.length;
}

function liveOf(writes: ImageWrite[]): Map<string, ImageWrite> {
  return new Map(writes.map((w) => [w.record.id, w]));
}

function rowOf(data: ClusteredData, i: number): Float32Array {
  return data.vectors.slice(i * DIM, (i + 1) * DIM);
}

describe('embedded store: the background build follows the writes', () => {
  it('starts on the write that crosses the threshold and follows a writer that never yields', async () => {
    const N = 6000;
    const data = clusteredVectors(N, DIM, 41);
    await inTempDir(async (dir) => {
      const store = await newLibrary(dir);
      const writes = writesOf(data, 0, N);
      // Awaiting the store's own promises only: no turn of the event loop until the loop ends.
      for (let a = 0; a < N; a += 250) await store.upsertImages(REF, writes.slice(a, a + 250));
      expect((await store.annStatus(REF)).state).toBe('building'); // no search has been made
      expect(await store.ensureAnnIndex(REF)).toMatchObject({ state: 'ready', source: 'build', indexed: N, images: N });
      expect(await missedOwn(store, liveOf(writes))).toBeLessThan(0.01);
      expect((await store.annStatus(REF)).lastSearchPath).toBe('ann');
      await store.close();
    });
  });

  it('replays images moved into rows it had read from rows it had not', async () => {
    const data = clusteredVectors(23_000, DIM, 43);
    await inTempDir(async (dir) => {
      const store = await newLibrary(dir);
      const first = writesOf(data, 0, 3000);
      await store.upsertImages(REF, first); // the build starts and reads these 3000 rows at once
      const more = writesOf(data, 3000, 23_000);
      // At most two chunks (8192 rows) more are handed over before the loop turns: the last rows are unread
      // when early images are deleted, and deleting moves them into the holes the build had read.
      await store.upsertImages(REF, more);
      const doomed = Array.from({ length: 1000 }, (_, i) => `v${i * 3}`);
      await store.deleteImages(REF, { ids: doomed });
      const live = liveOf([...first, ...more]);
      doomed.forEach((id) => live.delete(id));
      expect(await store.ensureAnnIndex(REF)).toMatchObject({ state: 'ready', indexed: live.size, images: live.size });
      // The deletions moved the last 1000 images written; half of these 2000 are missed when they are not replayed.
      const last = Array.from({ length: 2000 }, (_, i) => `v${21_000 + i}`);
      expect(await missedOwn(store, live, { checked: last })).toBeLessThan(0.01);
      await store.close();
    });
  });

  it('records a snapshot watermark before the first write to a row it had read, so a restart replays it', async () => {
    const N = 3000;
    const data = clusteredVectors(N + 300, DIM, 47);
    await inTempDir(async (dir) => {
      let store = await newLibrary(dir, false); // a crash: the index is never saved at close
      const writes = writesOf(data, 0, N);
      await store.upsertImages(REF, writes); // the build starts and reads these rows at once
      const live = liveOf(writes);
      const overwritten = { ...live.get('v1')!, vector: rowOf(data, N + 5) };
      await store.upsertImages(REF, [overwritten]); // a row the build has read, written again
      live.set('v1', overwritten);
      const added = writesOf(data, N, N + 300);
      await store.upsertImages(REF, added); // read by the build after that write
      added.forEach((w) => live.set(w.record.id, w));
      expect(await store.ensureAnnIndex(REF)).toMatchObject({ state: 'ready', source: 'build', indexed: N + 300 });
      await store.close();

      store = await openEmbeddedStore({ dir, annThreshold: THRESHOLD });
      expect(await store.ensureAnnIndex(REF)).toMatchObject({ state: 'ready', source: 'snapshot', indexed: N + 300 });
      // v1 is found under its new row only if the restart replayed its write over the snapshot.
      expect((await store.search([REF], overwritten.vector, { limit: 2 })).map((h) => h.record.id).sort()).toEqual(['v1', `v${N + 5}`].sort());
      expect(await missedOwn(store, live, { shared: ['v1', `v${N + 5}`] })).toBeLessThan(0.01);
      await store.close();
    });
  });

  it('builds again, in the background, once the library has grown by half since its index was built', async () => {
    const data = clusteredVectors(1600, DIM, 53);
    await inTempDir(async (dir) => {
      const store = await newLibrary(dir, false);
      await store.upsertImages(REF, writesOf(data, 0, 1000));
      await store.ensureAnnIndex(REF);
      const snapshot = path.join(dir, 'ann', 'lib-1.usearch');
      expect(snapshotRows(snapshot, DIM)).toBe(1000);
      await store.upsertImages(REF, writesOf(data, 1000, 1400)); // 1.4x: the additions stay beside the index
      await store.ensureAnnIndex(REF);
      expect(snapshotRows(snapshot, DIM)).toBe(1000);
      await store.upsertImages(REF, writesOf(data, 1400, 1600)); // 1.6x: a new build
      expect(await store.ensureAnnIndex(REF)).toMatchObject({ state: 'ready', source: 'build', indexed: 1600 });
      expect(snapshotRows(snapshot, DIM)).toBe(1600);
      expect(await missedOwn(store, liveOf(writesOf(data, 0, 1600)))).toBeLessThan(0.01);
      await store.close();
    });
  });

  it('answers exactly while a rebuild takes in more writes than a search would add on the event loop', async () => {
    const data = clusteredVectors(5500, DIM, 59);
    await inTempDir(async (dir) => {
      const store = await newLibrary(dir);
      const first = writesOf(data, 0, 4000);
      await store.upsertImages(REF, first);
      await store.ensureAnnIndex(REF);
      const q = rowOf(data, 17);
      await store.search([REF], q, { limit: 5 });
      expect((await store.annStatus(REF)).lastSearchPath).toBe('ann');
      // 1500 more images (1.375x: not yet the growth that rebuilds on its own), no search in between.
      const more = writesOf(data, 4000, 5500);
      for (let a = 0; a < more.length; a += 100) await store.upsertImages(REF, more.slice(a, a + 100));
      const live = liveOf([...first, ...more]);
      const hits = await store.search([REF], q, { limit: 10 });
      expect((await store.annStatus(REF)).lastSearchPath).toBe('exact');
      expect(hits.map((h) => h.record.id)).toEqual(exact(live, q, { limit: 10 }));
      expect(await store.ensureAnnIndex(REF)).toMatchObject({ state: 'ready', source: 'build', indexed: 5500 });
      expect(await missedOwn(store, live, { checked: more.map((w) => w.record.id) })).toBeLessThan(0.01);
      expect((await store.annStatus(REF)).lastSearchPath).toBe('ann');
      await store.close();
    });
  });
});

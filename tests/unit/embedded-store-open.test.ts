/**
 * The embedded store's memory-mapped snapshots: a restart answers as before; writes made over a mapped
 * snapshot (kept beside it) survive a save and a restart. A filter searched again after a tag change, a
 * delete and an insert sees each of them (whatever the store derived from the first search is kept in step).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clusteredVectors } from '../../bench/store-bench';
import type { LibraryRef } from '../../core/records';
import { openEmbeddedStore, type EmbeddedStoreOptions } from '../../core/store/embedded';
import type { ImageWrite } from '../../core/store/vector-store';
import { seededRandom } from './store-contract';

const DIM = 32;
const BIG: LibraryRef = { tenant: 't', name: 'big' };
const SMALL: LibraryRef = { tenant: 't', name: 'small' };
const N = 3000;
const data = clusteredVectors(N + 100, DIM, 5);

function writes(from: number, to: number): ImageWrite[] {
  const out: ImageWrite[] = [];
  for (let i = from; i < to; i++) {
    out.push({
      record: { id: `v${i}`, tags: { mod: i % 10 }, hasImage: false, createdAt: 0, updatedAt: 0 },
      vector: data.vectors.slice(i * DIM, (i + 1) * DIM),
    });
  }
  return out;
}

describe('embedded store: memory-mapped snapshots', () => {
  let dir: string;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'isg-open-'));
    const store = await openEmbeddedStore({ dir, annThreshold: 500 });
    await store.createLibrary({ ...BIG, mode: 'general_search', model: 'm', createdAt: 0 });
    await store.createLibrary({ ...SMALL, mode: 'general_search', model: 'm', createdAt: 0 });
    await store.upsertImages(BIG, writes(0, N));
    await store.upsertImages(SMALL, writes(0, 20));
    await store.ensureAnnIndex(BIG);
    await store.close(); // saves the snapshot
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const options = (): EmbeddedStoreOptions => ({ dir, annThreshold: 500 });

  it('answers the same after a restart from the saved snapshot', async () => {
    const rnd = seededRandom(3);
    const queries = Array.from({ length: 20 }, () => data.query(rnd));
    let store = await openEmbeddedStore(options());
    // Both sides from the index: searches made while the snapshot is still being verified are exact, and an
    // approximate answer may differ from the exact one.
    await store.ensureAnnIndex(BIG);
    const before = [];
    for (const q of queries) before.push((await store.search([BIG], q, { limit: 10 })).map((h) => [h.record.id, h.similarity]));
    await store.close();
    store = await openEmbeddedStore(options());
    expect(await store.ensureAnnIndex(BIG)).toMatchObject({ state: 'ready', source: 'snapshot', indexed: N });
    const after = [];
    for (const q of queries) after.push((await store.search([BIG], q, { limit: 10 })).map((h) => [h.record.id, h.similarity]));
    expect(after).toEqual(before);
    expect((await store.annStatus(BIG)).lastSearchPath).toBe('ann');
    await store.close();
  });

  it('keeps writes made over a memory-mapped snapshot through a save and a restart', async () => {
    let store = await openEmbeddedStore(options());
    expect(await store.ensureAnnIndex(BIG)).toMatchObject({ state: 'ready', source: 'snapshot', indexed: N });
    await store.upsertImages(BIG, writes(N, N + 50));
    const deleted = await store.deleteImages(BIG, { filter: { kind: 'cmp', field: 'mod', op: '=', value: 3 } });
    expect(deleted).toHaveLength((N + 50) / 10);
    await store.search([BIG], data.vectors.slice(0, DIM), { limit: 1 }); // applies the writes to the index
    expect(await store.annStatus(BIG)).toMatchObject({ indexed: N + 50 - deleted.length });
    await store.close(); // materialises the snapshot with the changes
    store = await openEmbeddedStore(options());
    const live = N + 50 - deleted.length;
    expect(await store.ensureAnnIndex(BIG)).toMatchObject({ state: 'ready', source: 'snapshot', indexed: live, images: live });
    for (const i of [N + 1, N + 2, N + 4]) {
      const hits = await store.search([BIG], data.vectors.slice(i * DIM, (i + 1) * DIM), { limit: 1 });
      expect(hits[0].record.id).toBe(`v${i}`);
    }
    const gone = new Set(deleted);
    for (const i of [3, 13, N + 3]) {
      const hits = await store.search([BIG], data.vectors.slice(i * DIM, (i + 1) * DIM), { limit: 10 });
      for (const h of hits) expect(gone.has(h.record.id)).toBe(false);
    }
    await store.close();
  });
  describe('before the rows are loaded (cold-search.ts)', () => {
    // 100 rows per loop turn: the load takes 30 turns, and searches made between them meet it unfinished.
    const cold = (): EmbeddedStoreOptions => ({ ...options(), loadChunkRows: 100 });
    const ids = (hits: Array<{ record: { id: string }; similarity: number }>) => hits.map((h) => [h.record.id, h.similarity]);

    it('answers from the mapped snapshot while the library loads, as the loaded library answers', async () => {
      const rnd = seededRandom(5);
      const queries = Array.from({ length: 20 }, () => data.query(rnd));
      const store = await openEmbeddedStore(cold());
      expect(await store.openColdSnapshot(BIG)).toBe(true);
      const early = [];
      for (const q of queries) early.push(ids(await store.search([BIG], q, { limit: 10 })));
      expect(await store.annStatus(BIG)).toMatchObject({ state: 'building', source: 'snapshot', lastSearchPath: 'ann-snapshot', images: N });
      // Loaded, the library takes the snapshot over (no second verification) and answers from it alike.
      expect(await store.ensureAnnIndex(BIG)).toMatchObject({ state: 'ready', source: 'snapshot', indexed: N });
      const late = [];
      for (const q of queries) late.push(ids(await store.search([BIG], q, { limit: 10 })));
      expect((await store.annStatus(BIG)).lastSearchPath).toBe('ann');
      expect(early).toEqual(late);
      expect(early.every((page) => page.length === 10)).toBe(true);
      await store.close();
    });

    it('sees writes made after the snapshot and while the library loads, never the index over them', async () => {
      let store = await openEmbeddedStore({ ...options(), persistIndexOnClose: false });
      await store.ensureAnnIndex(BIG);
      // After the snapshot's watermark, before the restart: v0 moves next to v1's vector; v2 is deleted.
      const v1 = data.vectors.slice(1 * DIM, 2 * DIM);
      await store.upsertImages(BIG, [{ record: { id: 'v0', tags: { mod: 0 }, hasImage: false, createdAt: 0, updatedAt: 0 }, vector: v1 }]);
      await store.close(); // the snapshot stays as it was
      store = await openEmbeddedStore(cold());
      expect(await store.openColdSnapshot(BIG)).toBe(true);
      const v2 = data.vectors.slice(2 * DIM, 3 * DIM);
      const v3 = data.vectors.slice(3 * DIM, 4 * DIM);
      expect((await store.search([BIG], v2, { limit: 1 }))[0].record.id).toBe('v2');
      // While the library loads: v2 goes, and a new image takes v3's vector.
      await store.deleteImages(BIG, { ids: ['v2'] });
      await store.upsertImages(BIG, [{ record: { id: 'new', tags: { mod: 0 }, hasImage: false, createdAt: 0, updatedAt: 0 }, vector: v3 }]);
      const check = async () => {
        const nearV1 = await store.search([BIG], v1, { limit: 2 });
        expect(nearV1.map((h) => h.record.id).sort()).toEqual(['v0', 'v1']);
        expect((await store.search([BIG], v2, { limit: 20 })).map((h) => h.record.id)).not.toContain('v2');
        expect((await store.search([BIG], v3, { limit: 2 })).map((h) => h.record.id).sort()).toEqual(['new', 'v3']);
        const filtered = await store.search([BIG], v3, { limit: 5, filter: { kind: 'cmp', field: 'mod', op: '=', value: 3 } });
        expect(filtered.length).toBe(5);
        for (const h of filtered) expect(h.record.tags.mod).toBe(3);
      };
      await check();
      expect((await store.annStatus(BIG)).lastSearchPath).toBe('ann-snapshot');
      await store.ensureAnnIndex(BIG);
      await check();
      await store.close();
    });
  });
});

describe('filtered search: the same filter again after writes', () => {
  it('sees a tag change, a delete and an insert between two searches with the same filter', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'isg-cand-'));
    const store = await openEmbeddedStore({ dir });
    try {
      await store.createLibrary({ ...SMALL, mode: 'general_search', model: 'm', createdAt: 0 });
      await store.upsertImages(SMALL, writes(0, 500));
      const only3 = { kind: 'cmp', field: 'mod', op: '=', value: 3 } as const;
      const q = data.vectors.slice(5 * DIM, 6 * DIM);
      const ids = async () => (await store.search([SMALL], q, { limit: 5, filter: only3 })).map((h) => h.record.id);
      expect(await ids()).not.toContain('v5');
      await store.updateImage(SMALL, 'v5', { tags: { mod: 3 } });
      expect((await ids())[0]).toBe('v5');
      await store.deleteImages(SMALL, { ids: ['v5'] });
      expect(await ids()).not.toContain('v5');
      await store.upsertImages(SMALL, [{ ...writes(5, 6)[0], record: { ...writes(5, 6)[0].record, id: 'again', tags: { mod: 3 } } }]);
      expect((await ids())[0]).toBe('again');
      for (const h of await store.search([SMALL], q, { limit: 50, filter: only3 })) expect(h.record.tags.mod).toBe(3);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The embedded store opening a large library: the read happens in slices, one event-loop turn each, so
 * other libraries and timers are served meanwhile (asserted by the order of events, never by timing);
 * writes made while it opens are neither lost nor missed; a restart answers as before; HNSW settings
 * follow the library's size.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clusteredVectors } from '../../bench/store-bench';
import type { LibraryRef } from '../../core/records';
import { openEmbeddedStore, type EmbeddedStoreOptions } from '../../core/store/embedded';
import { DEFAULT_HNSW, hnswForSize } from '../../core/store/embedded/ann-index';
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

describe('embedded store: opening a large library', () => {
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

  // 50 rows a slice: the big library takes 60 event-loop turns to read, the small one a single slice.
  const options = (): EmbeddedStoreOptions => ({ dir, annThreshold: 500, openSliceRows: 50 });

  it('keeps answering other libraries and timers while a big library opens', async () => {
    const store = await openEmbeddedStore(options());
    const events: string[] = [];
    const q = data.vectors.slice(7 * DIM, 8 * DIM);
    const big = store.search([BIG], q, { limit: 1 }).then((hits) => {
      events.push('big');
      return hits;
    });
    setImmediate(() => events.push('tick'));
    const small = store.search([SMALL], q, { limit: 1 }).then((hits) => {
      events.push('small');
      return hits;
    });
    const [bigHits, smallHits] = await Promise.all([big, small]);
    expect(events.indexOf('small')).toBeLessThan(events.indexOf('big'));
    expect(events.indexOf('tick')).toBeLessThan(events.indexOf('big'));
    // The first search of the big library waited for it and answered from its whole content.
    expect(bigHits[0].record.id).toBe('v7');
    expect(smallHits[0].record.id).toBe('v7');
    expect(await store.annStatus(BIG)).toMatchObject({ state: 'ready', source: 'snapshot', indexed: N });
    await store.close();
  });

  it('applies writes and deletes made while the library opens', async () => {
    const store = await openEmbeddedStore(options());
    const q = data.vectors.slice(N * DIM, (N + 1) * DIM);
    const opening = store.search([BIG], q, { limit: 1 });
    const added = store.upsertImages(BIG, writes(N, N + 1));
    const deleted = store.deleteImages(BIG, { ids: ['v5', `v${N - 1}`] });
    await Promise.all([opening, added, deleted]);
    expect(await deleted).toEqual(expect.arrayContaining(['v5', `v${N - 1}`]));
    expect((await store.search([BIG], q, { limit: 1 }))[0].record.id).toBe(`v${N}`);
    for (const gone of [5, N - 1]) {
      const hits = await store.search([BIG], data.vectors.slice(gone * DIM, (gone + 1) * DIM), { limit: 5 });
      expect(hits.map((h) => h.record.id)).not.toContain(`v${gone}`);
    }
    expect(await store.countImages(BIG)).toBe(N - 1);
    await store.close();
  });

  it('answers the same after a restart from the saved snapshot', async () => {
    const rnd = seededRandom(3);
    const queries = Array.from({ length: 20 }, () => data.query(rnd));
    let store = await openEmbeddedStore(options());
    const before = [];
    for (const q of queries) before.push((await store.search([BIG], q, { limit: 10 })).map((h) => [h.record.id, h.similarity]));
    await store.close();
    store = await openEmbeddedStore(options());
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
});

describe('HNSW settings by library size', () => {
  it('searches wider as the library grows, and an explicit setting wins', () => {
    const sizes = [1_000, 50_000, 100_000, 300_000, 1_000_000, 10_000_000];
    const efs = sizes.map((n) => hnswForSize(n).expansionSearch);
    for (let i = 1; i < efs.length; i++) expect(efs[i]).toBeGreaterThanOrEqual(efs[i - 1]);
    expect(efs[efs.length - 1]).toBeGreaterThan(efs[0]);
    expect(hnswForSize(1_000).expansionSearch).toBe(DEFAULT_HNSW.expansionSearch);
    expect(hnswForSize(1_000_000, { expansionSearch: 40 }).expansionSearch).toBe(40);
    expect(hnswForSize(1_000_000, { connectivity: 32 })).toMatchObject({ connectivity: 32, quantization: 'f32' });
  });
});

describe('filtered search: candidate sets reused across searches', () => {
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

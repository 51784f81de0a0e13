/** The embedded store: the shared contract, plus its ANN path, index snapshots and crash durability. */
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clusteredVectors } from '../../bench/store-bench';
import { EngineError } from '../../core/errors';
import { f, matches, type Filter } from '../../core/filter';
import type { LibraryRef } from '../../core/records';
import { openEmbeddedStore, type EmbeddedStore, type EmbeddedStoreOptions } from '../../core/store/embedded';
import type { ImageWrite } from '../../core/store/vector-store';
import { PAGE_SIZE } from '../../core/store/embedded/schema';
import { exact, recall, writesOf } from '../helpers/clustered-library';
import { embeddedHarness } from '../helpers/embedded-harness';
import { describeStoreContract, seededRandom } from './store-contract';

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'isg-embedded-'));
}

describeStoreContract('embedded', () => embeddedHarness());

// The same contract with every library above the ANN threshold: search must be just as correct.
describeStoreContract('embedded (ANN path forced)', () => embeddedHarness({ annThreshold: 1, indexBuild: 'inline' }));

// ---------------------------------------------------------------------------------------------------

const DIM = 48;
const REF: LibraryRef = { tenant: 't', name: 'big' };

describe('embedded store: ANN path', () => {
  const N = 4000;
  const data = clusteredVectors(N + 400, DIM, 3);
  const qrnd = seededRandom(17);
  const queries = Array.from({ length: 100 }, () => data.query(qrnd));
  let dir: string;
  let store: EmbeddedStore;
  let live: Map<string, ImageWrite>;

  beforeAll(async () => {
    dir = tempDir();
    store = await openEmbeddedStore({ dir, annThreshold: 500 });
    await store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0 });
    const writes = writesOf(data, 0, N);
    for (let a = 0; a < N; a += 1000) await store.upsertImages(REF, writes.slice(a, a + 1000));
    live = new Map(writes.map((w) => [w.record.id, w]));
    const status = await store.ensureAnnIndex(REF);
    expect(status).toMatchObject({ state: 'ready', source: 'build', indexed: N, images: N });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers from the index with recall@10 >= 0.97 against exact', async () => {
    expect(await recall(store, REF, live, queries, { limit: 10 })).toBeGreaterThanOrEqual(0.97);
    expect((await store.annStatus(REF)).lastSearchPath).toBe('ann');
  });

  it('reports exact similarities and a sorted order on the ANN path', async () => {
    const hits = await store.search([REF], queries[0], { limit: 20 });
    for (const h of hits) {
      const v = live.get(h.record.id)!.vector;
      let s = 0;
      for (let j = 0; j < DIM; j++) s += queries[0][j] * v[j];
      expect(h.similarity).toBeCloseTo(s, 5);
    }
    for (let i = 1; i < hits.length; i++) expect(hits[i - 1].similarity).toBeGreaterThanOrEqual(hits[i].similarity);
  });

  it('answers concurrent searches (batched into one index call) exactly as one at a time', async () => {
    const some = queries.slice(0, 12);
    const oneByOne: string[][] = [];
    for (const q of some) oneByOne.push((await store.search([REF], q, { limit: 15 })).map((h) => h.record.id));
    const together = await Promise.all(some.map((q, i) => store.search([REF], q, { limit: 5 + (i % 3) * 5 })));
    together.forEach((hits, i) => expect(hits.map((h) => h.record.id)).toEqual(oneByOne[i].slice(0, 5 + (i % 3) * 5)));
    expect((await store.annStatus(REF)).lastSearchPath).toBe('ann');
  });

  it('filters on the ANN path (broad filter: post-filtered ANN)', async () => {
    const filter: Filter = f.cmp('mod', '<', 5); // half the library
    const r = await recall(store, REF, live, queries, { limit: 10, filter });
    expect(r).toBeGreaterThanOrEqual(0.97);
    expect((await store.annStatus(REF)).lastSearchPath).toBe('ann');
    for (const h of await store.search([REF], queries[1], { limit: 10, filter })) expect(matches(filter, h.record.tags)).toBe(true);
  });

  it('filters exactly when the filter matches fewer images than the threshold', async () => {
    const filter: Filter = f.cmp('mod', '=', 3); // 400 images < 500
    for (const q of queries.slice(0, 20)) {
      const got = (await store.search([REF], q, { limit: 10, filter })).map((h) => h.record.id);
      expect(got).toEqual(exact(live, q, { limit: 10, filter }));
    }
    expect((await store.annStatus(REF)).lastSearchPath).toBe('exact-filtered');
  });

  it('oversamples for a selective filter above the threshold', async () => {
    const filter: Filter = f.in('mod', [1, 2]); // 800 of 4000
    expect(await recall(store, REF, live, queries, { limit: 10, filter })).toBeGreaterThanOrEqual(0.97);
  });

  it('keeps distinctItem, offset, minSimilarity and excludeIds correct on the ANN path', async () => {
    expect(await recall(store, REF, live, queries, { limit: 10, distinctItem: true })).toBeGreaterThanOrEqual(0.97);
    expect(await recall(store, REF, live, queries, { limit: 10, offset: 10 })).toBeGreaterThanOrEqual(0.95);
    for (const q of queries.slice(0, 20)) {
      const hits = await store.search([REF], q, { limit: 10, distinctItem: true });
      expect(new Set(hits.map((h) => h.record.itemId)).size).toBe(hits.length);
      const top = exact(live, q, { limit: 3 });
      const excluded = await store.search([REF], q, { limit: 10, excludeIds: top });
      expect(excluded.map((h) => h.record.id).some((id) => top.includes(id))).toBe(false);
      const threshold = (await store.search([REF], q, { limit: 5 }))[4].similarity;
      const above = await store.search([REF], q, { limit: 50, minSimilarity: threshold });
      expect(above.every((h) => h.similarity >= threshold)).toBe(true);
      expect(above.length).toBeGreaterThanOrEqual(4);
    }
  });

  it('sees writes and deletes made after the index was built', async () => {
    const extra = writesOf(data, N, N + 200);
    await store.upsertImages(REF, extra);
    extra.forEach((w) => live.set(w.record.id, w));
    const doomed = Array.from({ length: 200 }, (_, i) => `v${i * 7}`);
    expect((await store.deleteImages(REF, { ids: doomed })).length).toBe(200);
    doomed.forEach((id) => live.delete(id));
    for (const w of extra.slice(0, 20)) {
      expect((await store.search([REF], w.vector, { limit: 1 }))[0].record.id).toBe(w.record.id);
    }
    const doomedSet = new Set(doomed);
    for (const q of queries.slice(0, 20)) {
      for (const h of await store.search([REF], q, { limit: 30 })) expect(doomedSet.has(h.record.id)).toBe(false);
    }
    expect(await recall(store, REF, live, queries, { limit: 10 })).toBeGreaterThanOrEqual(0.97);
    // an overwrite moves an image: its new vector is what it is found by
    const moved = { ...live.get('v1')!, vector: extra[0].vector.slice() };
    await store.upsertImages(REF, [moved]);
    live.set('v1', moved);
    const ids = (await store.search([REF], moved.vector, { limit: 2 })).map((h) => h.record.id).sort();
    expect(ids).toEqual(['v1', extra[0].record.id].sort());
    expect((await store.annStatus(REF)).indexed).toBe(live.size);
  });

  it('merges an ANN library with a small exact one', async () => {
    const small: LibraryRef = { tenant: 't', name: 'small' };
    await store.createLibrary({ ...small, mode: 'general_search', model: 'm', createdAt: 0 });
    const q = queries[5];
    await store.upsertImages(small, [{ record: { id: 'near', tags: {}, hasImage: false, createdAt: 0, updatedAt: 0 }, vector: q.slice() }]);
    const hits = await store.search([REF, small], q, { limit: 5 });
    expect(hits[0]).toMatchObject({ library: 'small', record: { id: 'near' } });
    expect(hits.slice(1).map((h) => h.record.id)).toEqual((await store.search([REF], q, { limit: 4 })).map((h) => h.record.id));
  });
});

describe('embedded store: index snapshots across restarts', () => {
  const N = 3000;
  const data = clusteredVectors(N + 300, DIM, 5);
  const qrnd = seededRandom(23);
  const queries = Array.from({ length: 60 }, () => data.query(qrnd));

  it('loads the snapshot and replays rows added and deleted after it', async () => {
    const dir = tempDir();
    try {
      let store = await openEmbeddedStore({ dir, annThreshold: 500 });
      await store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0 });
      const writes = writesOf(data, 0, N);
      await store.upsertImages(REF, writes);
      const live = new Map(writes.map((w) => [w.record.id, w]));
      expect((await store.ensureAnnIndex(REF)).source).toBe('build');
      await store.close(); // saves the snapshot

      // Changes after the snapshot, then a "crash": the index is not saved again.
      store = await openEmbeddedStore({ dir, annThreshold: 500, persistIndexOnClose: false });
      const added = writesOf(data, N, N + 300);
      await store.upsertImages(REF, added);
      added.forEach((w) => live.set(w.record.id, w));
      const deleted = await store.deleteImages(REF, { filter: f.cmp('mod', '=', 4) });
      expect(deleted.length).toBeGreaterThan(250);
      deleted.forEach((id) => live.delete(id));
      const overwritten = { ...live.get('v0')!, vector: added[5].vector.slice() };
      await store.upsertImages(REF, [overwritten]);
      live.set('v0', overwritten);
      await store.close();

      store = await openEmbeddedStore({ dir, annThreshold: 500 });
      const status = await store.ensureAnnIndex(REF);
      expect(status).toMatchObject({ state: 'ready', source: 'snapshot', indexed: live.size, images: live.size });
      const gone = new Set(deleted);
      for (const q of queries) {
        for (const h of await store.search([REF], q, { limit: 20 })) expect(gone.has(h.record.id)).toBe(false);
      }
      for (const w of added.filter((x) => live.has(x.record.id)).slice(0, 20)) {
        expect((await store.search([REF], w.vector, { limit: 3 })).map((h) => h.record.id)).toContain(w.record.id);
      }
      expect((await store.search([REF], overwritten.vector, { limit: 2 })).map((h) => h.record.id)).toContain('v0');
      expect(await recall(store, REF, live, queries, { limit: 10 })).toBeGreaterThanOrEqual(0.97);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers exactly while a snapshot is verified after a restart, then from the snapshot', async () => {
    const dir = tempDir();
    try {
      let store = await openEmbeddedStore({ dir, annThreshold: 500 });
      await store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0 });
      const writes = writesOf(data, 0, 1000);
      await store.upsertImages(REF, writes);
      await store.ensureAnnIndex(REF);
      await store.close();
      const live = new Map(writes.map((w) => [w.record.id, w]));
      store = await openEmbeddedStore({ dir, annThreshold: 500 });
      const first = await store.search([REF], queries[1], { limit: 10 }); // starts reading the snapshot's checksum
      expect(first.map((h) => h.record.id)).toEqual(exact(live, queries[1], { limit: 10 }));
      expect((await store.annStatus(REF)).lastSearchPath).toBe('exact');
      expect(await store.ensureAnnIndex(REF)).toMatchObject({ state: 'ready', source: 'snapshot', indexed: 1000 });
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rebuilds when the snapshot file is damaged', async () => {
    const dir = tempDir();
    try {
      let store = await openEmbeddedStore({ dir, annThreshold: 500 });
      await store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0 });
      await store.upsertImages(REF, writesOf(data, 0, 1000));
      await store.ensureAnnIndex(REF);
      await store.close();
      writeFileSync(path.join(dir, 'ann', 'lib-1.usearch'), 'not an index');
      store = await openEmbeddedStore({ dir, annThreshold: 500 });
      expect(await store.ensureAnnIndex(REF)).toMatchObject({ state: 'ready', source: 'build', indexed: 1000 });
      const v = data.vectors.slice(7 * DIM, 8 * DIM);
      expect((await store.search([REF], v, { limit: 1 }))[0].record.id).toBe('v7');
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves exact results while the index is building in the background', async () => {
    const dir = tempDir();
    try {
      const store = await openEmbeddedStore({ dir, annThreshold: 500 });
      await store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0 });
      const writes = writesOf(data, 0, N);
      await store.upsertImages(REF, writes);
      const live = new Map(writes.map((w) => [w.record.id, w]));
      const first = await store.search([REF], queries[0], { limit: 10 }); // starts the build
      expect(first.map((h) => h.record.id)).toEqual(exact(live, queries[0], { limit: 10 }));
      expect((await store.annStatus(REF)).state).toBe('building');
      await store.close(); // cancels the build cleanly
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('embedded store: local rules', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a new database with PAGE_SIZE pages, and keeps an older one\'s 4 KB pages working', async () => {
    const store = await openEmbeddedStore({ dir });
    await store.close();
    const pageSize = (file: string) => {
      const db = new Database(file, { readonly: true });
      try {
        return db.pragma('page_size', { simple: true });
      } finally {
        db.close();
      }
    };
    expect(pageSize(path.join(dir, 'store.sqlite'))).toBe(PAGE_SIZE);

    const older = tempDir();
    try {
      const made = new Database(path.join(older, 'store.sqlite'));
      made.pragma('page_size = 4096');
      made.pragma('journal_mode = WAL');
      made.close();
      const reopened = await openEmbeddedStore({ dir: older });
      const ref = { tenant: 't', name: 'old' };
      await reopened.createLibrary({ ...ref, mode: 'general_search', model: 'm', createdAt: 0 });
      const vector = new Float32Array(512).fill(1 / Math.sqrt(512));
      await reopened.upsertImages(ref, [{ record: { id: 'a', tags: {}, hasImage: false, createdAt: 0, updatedAt: 0 }, vector }]);
      expect((await reopened.search([ref], vector, { limit: 1 }))[0].record.id).toBe('a');
      await reopened.close();
      expect(pageSize(path.join(older, 'store.sqlite'))).toBe(4096);
    } finally {
      rmSync(older, { recursive: true, force: true });
    }
  });

  it('refuses a second open of the same directory', async () => {
    const store = await openEmbeddedStore({ dir });
    await expect(openEmbeddedStore({ dir })).rejects.toMatchObject({ kind: 'unavailable' });
    await store.close();
    const again = await openEmbeddedStore({ dir });
    await again.close();
  });

  it('rejects vectors and queries of the wrong dimension with invalid_argument', async () => {
    const store = await openEmbeddedStore({ dir });
    await store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0 });
    const rec = { id: 'a', tags: {}, hasImage: false, createdAt: 0, updatedAt: 0 };
    await store.upsertImages(REF, [{ record: rec, vector: new Float32Array(8).fill(0.5) }]);
    await expect(store.upsertImages(REF, [{ record: { ...rec, id: 'b' }, vector: new Float32Array(4) }])).rejects.toMatchObject({
      kind: 'invalid_argument',
    });
    const e = await store.search([REF], new Float32Array(4), { limit: 1 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EngineError);
    expect((e as EngineError).kind).toBe('invalid_argument');
    await expect(store.listImages(REF, { limit: 5, cursor: 'garbage!' })).rejects.toMatchObject({ kind: 'invalid_argument' });
    await store.close();
  });

  it('an overwritten image keeps its key: its place in the list and its one entry in the index', async () => {
    const store = await openEmbeddedStore({ dir, annThreshold: 1, indexBuild: 'inline' });
    await store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0 });
    const rec = (id: string, colour: string) => ({ id, tags: { colour }, hasImage: false, createdAt: 0, updatedAt: 0 });
    const axis = (i: number) => Float32Array.from({ length: 8 }, (_, j) => (j === i ? 1 : 0));
    await store.upsertImages(REF, [{ record: rec('a', 'red'), vector: axis(0) }, { record: rec('b', 'red'), vector: axis(1) }]);
    await store.upsertImages(REF, [{ record: rec('c', 'red'), vector: axis(2) }]);
    // 'a' overwritten twice in one batch beside a new image 'd', then 'b' on its own.
    await store.upsertImages(REF, [{ record: rec('a', 'green'), vector: axis(3) }, { record: rec('d', 'red'), vector: axis(4) }, { record: rec('a', 'blue'), vector: axis(5) }]);
    await store.upsertImages(REF, [{ record: rec('b', 'blue'), vector: axis(6) }]);
    const listed = async (s: EmbeddedStore) => (await s.listImages(REF, { limit: 10 })).images.map((i) => `${i.id}:${i.tags.colour}`);
    const found = async (s: EmbeddedStore, v: Float32Array) => (await s.search([REF], v, { limit: 10 })).map((h) => `${h.record.id}:${h.similarity.toFixed(2)}`);
    expect(await listed(store)).toEqual(['a:blue', 'b:blue', 'c:red', 'd:red']);
    expect(await found(store, axis(5))).toEqual(['a:1.00', 'b:0.00', 'c:0.00', 'd:0.00']);
    expect(await found(store, axis(0))).toEqual(['a:0.00', 'b:0.00', 'c:0.00', 'd:0.00']);
    await store.close();
    const again = await openEmbeddedStore({ dir, annThreshold: 1, indexBuild: 'inline' });
    expect(await listed(again)).toEqual(['a:blue', 'b:blue', 'c:red', 'd:red']);
    expect(await found(again, axis(6))).toEqual(['b:1.00', 'a:0.00', 'c:0.00', 'd:0.00']);
    await again.close();
  });
});

/**
 * Closes a store and opens its folder again: packs of the earlier run are reclaimed at open. Reclaiming
 * under way is let finish first, since close stops it where it is and which run's pack then takes the
 * copies would depend on timing.
 */
async function reopenReclaimed(store: EmbeddedStore, options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  await store.whenReclaimed();
  await store.close();
  const again = await openEmbeddedStore(options);
  await again.whenReclaimed();
  return again;
}

describe('embedded store: stored originals live in packs beside SQLite', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const rec = (id: string) => ({ id, tags: {}, hasImage: true, createdAt: 0, updatedAt: 0 });
  const vec = () => new Float32Array(8).fill(0.5);
  const packsDir = () => path.join(dir, 'images', 'packs');
  const packFiles = () => (existsSync(packsDir()) ? readdirSync(packsDir()).sort() : []);
  /** Everything the packs hold, pack after pack. */
  const packed = () => packFiles().map((f) => readFileSync(path.join(packsDir(), f)).toString()).join('|');
  const sqliteHolds = (marker: string) =>
    readdirSync(dir).some((name) => name.startsWith('store.sqlite') && readFileSync(path.join(dir, name)).includes(marker));
  const reopen = (store: EmbeddedStore, options = {}) => reopenReclaimed(store, { dir, ...options });

  it('appends each original once to a pack, never into SQLite; what overwrite, delete and reset drop is reclaimed', async () => {
    let store = await openEmbeddedStore({ dir });
    const other = { tenant: 'other', name: 'lib' };
    for (const ref of [REF, other]) await store.createLibrary({ ...ref, mode: 'general_search', model: 'm', createdAt: 0 });
    await store.upsertImages(REF, [{ record: rec('a'), vector: vec(), image: Buffer.from('original-a-9d1e') }]);
    await store.upsertImages(other, [{ record: rec('o'), vector: vec(), image: Buffer.from('original-o-9d1e') }]);
    expect(packed()).toBe('original-a-9d1eoriginal-o-9d1e');
    expect(sqliteHolds('original-a-9d1e')).toBe(false);
    expect((await store.getImageBytes(REF, 'a'))?.toString()).toBe('original-a-9d1e');

    await store.upsertImages(REF, [{ record: rec('a'), vector: vec(), image: Buffer.from('second-a') }]);
    await store.upsertImages(REF, [{ record: { ...rec('b'), hasImage: false }, vector: vec() }]);
    expect((await store.getImageBytes(REF, 'a'))?.toString()).toBe('second-a');
    store = await reopen(store);
    // The first run's pack held 'second-a' and 'original-o-9d1e' live of 38 bytes: kept as it is.
    expect(packed()).toBe('original-a-9d1eoriginal-o-9d1esecond-a');

    await store.upsertImages(REF, [{ record: { ...rec('a'), hasImage: false }, vector: vec() }]); // kept no more
    expect(await store.getImageBytes(REF, 'a')).toBeUndefined();
    await store.upsertImages(REF, [{ record: rec('c'), vector: vec(), image: Buffer.from('c') }]);
    await store.deleteImages(REF, { ids: ['c'] });
    await store.reset(REF.tenant);
    expect((await store.getImageBytes(other, 'o'))?.toString()).toBe('original-o-9d1e');
    store = await reopen(store);
    // 15 live bytes of 38 in the first run's pack: compacted (into the second run's pack, where 'c' is dead).
    expect(packFiles()).toEqual(['2.pack']);
    expect(packed().split('original-o-9d1e')).toHaveLength(2);
    for (const dropped of ['original-a-9d1e', 'second-a']) expect(packed()).not.toContain(dropped);
    expect((await store.getImageBytes(other, 'o'))?.toString()).toBe('original-o-9d1e');
    await store.deleteLibrary(other);
    store = await reopen(store);
    expect(packFiles()).toEqual([]);
    await store.close();
  });

  it.each(['normal', 'full'] as const)('an original written before a restart is replaced or dropped by a write after it, its space reclaimed (synchronous %s)', async (synchronous) => {
    let store = await openEmbeddedStore({ dir, synchronous });
    await store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0 });
    await store.upsertImages(REF, [
      { record: rec('a'), vector: vec(), image: Buffer.from('before-a') },
      { record: rec('b'), vector: vec(), image: Buffer.from('before-b') },
    ]);
    store = await reopen(store, { synchronous });
    await store.upsertImages(REF, [
      { record: rec('a'), vector: vec(), image: Buffer.from('after-a') },
      { record: { ...rec('b'), hasImage: false }, vector: vec() },
      { record: rec('c'), vector: vec(), image: Buffer.from('new-c') },
    ]);
    // Written twice in one call: the second write replaces the first one's original.
    await store.upsertImages(REF, [
      { record: rec('d'), vector: vec(), image: Buffer.from('first-d') },
      { record: rec('d'), vector: vec(), image: Buffer.from('second-d') },
    ]);
    expect((await store.getImageBytes(REF, 'a'))?.toString()).toBe('after-a');
    expect(await store.getImageBytes(REF, 'b')).toBeUndefined();
    expect((await store.getImageBytes(REF, 'd'))?.toString()).toBe('second-d');
    store = await reopen(store, { synchronous });
    // The first pack had nothing live left: removed. The second keeps 20 live bytes of 27.
    expect(packed()).toBe('after-anew-cfirst-dsecond-d');
    for (const [id, bytes] of [['a', 'after-a'], ['c', 'new-c'], ['d', 'second-d']]) {
      expect((await store.getImageBytes(REF, id))?.toString()).toBe(bytes);
    }
    await store.close();
  });

  it('reclaims packs closed to writes while it runs, once their writes have committed', async () => {
    const store = await openEmbeddedStore({ dir, packBytes: 64 });
    await store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0 });
    const original = (id: string, round: number) => Buffer.from(`${id} round ${round}`.padEnd(20, '.'));
    const ids = Array.from({ length: 12 }, (_, i) => `img${i}`);
    for (const round of [1, 2, 3]) {
      await Promise.all(ids.map((id) => store.upsertImages(REF, [{ record: rec(id), vector: vec(), image: original(id, round) }])));
    }
    await store.whenReclaimed();
    for (const id of ids) expect((await store.getImageBytes(REF, id))?.toString()).toBe(original(id, 3).toString());
    await store.close();
    // Every pack closed to writes is gone or at least half live; only the last (still current) may be less.
    const db = new Database(path.join(dir, 'store.sqlite'), { readonly: true });
    const live = new Map<number, number>();
    for (const name of db.prepare('SELECT file FROM image_files').pluck().all() as string[]) {
      const [, pack, , length] = /^p(\d+)\/(\d+)\/(\d+)$/.exec(name)!.map(Number);
      live.set(pack, (live.get(pack) ?? 0) + length);
    }
    db.close();
    const closed = packFiles().map((f) => Number.parseInt(f, 10)).sort((a, b) => a - b).slice(0, -1);
    for (const n of closed) expect(2 * (live.get(n) ?? 0)).toBeGreaterThanOrEqual(readFileSync(path.join(packsDir(), `${n}.pack`)).length);
  });

  it('compacts packs at open while new writes go on, and loses none of either', async () => {
    let store = await openEmbeddedStore({ dir });
    await store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0 });
    for (const round of [1, 2, 3]) {
      for (let i = 0; i < 40; i++) await store.upsertImages(REF, [{ record: rec(`old${i}`), vector: vec(), image: Buffer.from(`old ${i} round ${round}`) }]);
    }
    await store.close();
    store = await openEmbeddedStore({ dir }); // reclaiming starts; writes and reads go on at once
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        await store.upsertImages(REF, [{ record: rec(`new${i}`), vector: vec(), image: Buffer.from(`new ${i}`) }]);
        expect((await store.getImageBytes(REF, `old${i}`))?.toString()).toBe(`old ${i} round 3`);
      }),
    );
    await store.whenReclaimed();
    expect(packFiles()).toEqual(['2.pack']); // the first run's pack compacted into this run's
    for (let i = 0; i < 40; i++) {
      expect((await store.getImageBytes(REF, `new${i}`))?.toString()).toBe(`new ${i}`);
      expect((await store.getImageBytes(REF, `old${i}`))?.toString()).toBe(`old ${i} round 3`);
    }
    await store.close();
  });

  it('reclaims at the next open what a crash left at the end of a pack, and keeps every original a row names', async () => {
    let store = await openEmbeddedStore({ dir });
    await store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0 });
    await store.upsertImages(REF, [{ record: rec('kept'), vector: vec(), image: Buffer.from('kept') }]);
    await store.close();
    // What a kill -9 leaves: an original appended for a transaction that never committed.
    writeFileSync(path.join(packsDir(), '1.pack'), 'kept' + 'never committed');
    store = await openEmbeddedStore({ dir });
    await store.whenReclaimed();
    expect(packed()).toBe('kept');
    expect(packFiles()).toEqual(['2.pack']);
    expect((await store.getImageBytes(REF, 'kept'))?.toString()).toBe('kept');
    await store.close();
  });

  it('still reads originals older builds kept in SQLite or in a file each; a new write moves them to a pack', async () => {
    let store = await openEmbeddedStore({ dir });
    await store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0 });
    await store.upsertImages(REF, [{ record: { ...rec('old'), hasImage: false }, vector: vec() }]);
    await store.upsertImages(REF, [{ record: { ...rec('file'), hasImage: false }, vector: vec() }]);
    await store.close();
    const legacyFile = path.join(dir, 'images', 'ab', 'ab0000000000000000000001');
    mkdirSync(path.dirname(legacyFile), { recursive: true });
    writeFileSync(legacyFile, 'in-a-file');
    const db = new Database(path.join(dir, 'store.sqlite'));
    db.prepare("UPDATE images SET has_image = 1 WHERE id IN ('old', 'file')").run();
    db.prepare("INSERT INTO image_bytes (image_key, bytes) SELECT image_key, ? FROM images WHERE id = 'old'").run(Buffer.from('in-sqlite'));
    db.prepare("INSERT INTO image_files (image_key, file) SELECT image_key, ? FROM images WHERE id = 'file'").run(path.basename(legacyFile));
    db.close();
    store = await openEmbeddedStore({ dir });
    expect(await store.whenSwept()).toBe(0);
    expect((await store.getImageBytes(REF, 'old'))?.toString()).toBe('in-sqlite');
    expect((await store.getImageBytes(REF, 'file'))?.toString()).toBe('in-a-file');
    await store.upsertImages(REF, [{ record: rec('old'), vector: vec(), image: Buffer.from('in-a-pack') }]);
    await store.upsertImages(REF, [{ record: rec('file'), vector: vec(), image: Buffer.from('packed-too') }]);
    expect((await store.getImageBytes(REF, 'old'))?.toString()).toBe('in-a-pack');
    expect((await store.getImageBytes(REF, 'file'))?.toString()).toBe('packed-too');
    expect(existsSync(legacyFile)).toBe(false);
    await store.close();
    const check = new Database(path.join(dir, 'store.sqlite'));
    expect(check.prepare('SELECT count(*) FROM image_bytes').pluck().get()).toBe(0);
    check.close();
  });

  it('removes at the next open the legacy files no row names, and leaves the packs alone', async () => {
    let store = await openEmbeddedStore({ dir });
    await store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0 });
    await store.upsertImages(REF, [{ record: rec('kept'), vector: vec(), image: Buffer.from('kept') }]);
    await store.close();
    // What a kill -9 left with an older build: a file written for a transaction that never committed.
    mkdirSync(path.join(dir, 'images', 'ff'), { recursive: true });
    const orphan = path.join(dir, 'images', 'ff', 'ff0000000000000000000000');
    writeFileSync(orphan, 'never committed');
    store = await openEmbeddedStore({ dir });
    expect(await store.whenSwept()).toBe(1);
    expect(existsSync(orphan)).toBe(false);
    await store.whenReclaimed();
    expect(packFiles()).toEqual(['1.pack']);
    expect((await store.getImageBytes(REF, 'kept'))?.toString()).toBe('kept');
    await store.close();
  });
});

describe('embedded store: vectors live in packs beside SQLite', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const rec = (id: string) => ({ id, tags: {}, hasImage: false, createdAt: 0, updatedAt: 0 });
  /** A unit vector of 8 dimensions pointing mostly along axis `axis`, a little along the next one (by `tilt`). */
  const unitVector = (axis: number, tilt = 0) => {
    const v = new Float32Array(8);
    v[axis % 8] = Math.cos(tilt);
    v[(axis + 1) % 8] = Math.sin(tilt);
    return v;
  };
  const bytesOf = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  const packsDir = () => path.join(dir, 'vectors');
  const packFiles = () => (existsSync(packsDir()) ? readdirSync(packsDir()).sort() : []);
  const packBytes = () => packFiles().reduce((sum, f) => sum + readFileSync(path.join(packsDir(), f)).length, 0);
  const query = (sql: string) => {
    const db = new Database(path.join(dir, 'store.sqlite'), { readonly: true });
    try {
      return db.prepare(sql).all();
    } finally {
      db.close();
    }
  };
  const reopen = (store: EmbeddedStore, options = {}) => reopenReclaimed(store, { dir, ...options });
  const nearest = async (store: EmbeddedStore, v: Float32Array) => (await store.search([REF], v, { limit: 1 }))[0]?.record.id;

  it("writes an upsert's vectors as one range of a pack, never into SQLite, and reads them back after a restart", async () => {
    let store = await openEmbeddedStore({ dir });
    await store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0 });
    const vectors = [0, 1, 2, 3].map((axis) => unitVector(axis, 0.1));
    await store.upsertImages(REF, ['a', 'b', 'c'].map((id, i) => ({ record: rec(id), vector: vectors[i] })));
    await store.upsertImages(REF, [{ record: rec('d'), vector: vectors[3] }]);
    expect(packFiles()).toEqual(['1.pack']);
    expect(readFileSync(path.join(packsDir(), '1.pack')).equals(Buffer.concat(vectors.map(bytesOf)))).toBe(true);
    expect(query('SELECT count(*) AS n FROM images WHERE length(vector) > 0')).toEqual([{ n: 0 }]);
    expect(query('SELECT i.id, f.file FROM images i JOIN vector_files f USING (image_key) ORDER BY i.id')).toEqual(
      ['a', 'b', 'c', 'd'].map((id, i) => ({ id, file: `p1/${32 * i}/32` })),
    );
    for (const round of ['written', 'reopened']) {
      for (const [i, id] of ['a', 'b', 'c', 'd'].entries()) {
        expect({ round, id, vector: Array.from((await store.getVector(REF, id))!) }).toEqual({ round, id, vector: Array.from(vectors[i]) });
        expect({ round, id, nearest: await nearest(store, vectors[i]) }).toEqual({ round, id, nearest: id });
      }
      if (round === 'written') store = await reopen(store); // the copy searched is loaded from the packs
    }
    await store.close();
  });

  it('keeps the views of a library that indexes several in the same range, and reads them back', async () => {
    let store = await openEmbeddedStore({ dir });
    await store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0, views: ['whole', 'center'] });
    await store.upsertImages(REF, [{ record: rec('a'), vector: unitVector(0), views: [unitVector(5)] }]);
    store = await reopen(store);
    expect(Array.from((await store.getVector(REF, 'a'))!)).toEqual(Array.from(unitVector(0)));
    expect((await store.getViews(REF, 'a'))!.map((v) => Array.from(v))).toEqual([Array.from(unitVector(5))]);
    expect(readFileSync(path.join(packsDir(), '1.pack')).equals(Buffer.concat([bytesOf(unitVector(0)), bytesOf(unitVector(5))]))).toBe(true);
    await store.close();
  });

  /** Whether every pack closed to writes is at least half live (the last one, current, may be less). */
  const closedPacksHalfLive = () => {
    const live = new Map<number, number>();
    for (const { file } of query('SELECT file FROM vector_files') as Array<{ file: string }>) {
      const [, pack, , length] = /^p(\d+)\/(\d+)\/(\d+)$/.exec(file)!.map(Number);
      live.set(pack, (live.get(pack) ?? 0) + length);
    }
    const closed = packFiles().map((f) => Number.parseInt(f, 10)).sort((a, b) => a - b).slice(0, -1);
    return closed.filter((n) => 2 * (live.get(n) ?? 0) < readFileSync(path.join(packsDir(), `${n}.pack`)).length);
  };

  it('reclaims, while it runs, the vectors an overwrite, a delete, a library delete and a reset drop', async () => {
    const store = await openEmbeddedStore({ dir, packBytes: 100 }); // four vectors of 32 bytes a pack
    const other = { tenant: 'other', name: 'lib' };
    for (const ref of [REF, other]) await store.createLibrary({ ...ref, mode: 'general_search', model: 'm', createdAt: 0 });
    const ids = Array.from({ length: 8 }, (_, i) => `img${i}`); // one axis each
    for (const round of [0, 1, 2]) {
      await Promise.all(ids.map((id, i) => store.upsertImages(REF, [{ record: rec(id), vector: unitVector(i, 0.1 * round) }])));
    }
    await store.deleteImages(REF, { ids: ['img0', 'img1'] });
    const more = (ref: LibraryRef, n: number) =>
      Promise.all(Array.from({ length: n }, (_, i) => store.upsertImages(ref, [{ record: rec(`more${i}`), vector: unitVector(i) }])));
    await more(other, 5); // past the pack the delete was written beside
    await store.whenReclaimed();
    expect(closedPacksHalfLive()).toEqual([]);
    for (const [i, id] of ids.entries()) {
      if (i < 2) expect(await store.getVector(REF, id)).toBeUndefined();
      else expect({ id, nearest: await nearest(store, unitVector(i, 0.2)) }).toEqual({ id, nearest: id });
    }
    await store.deleteLibrary(REF);
    await more(other, 5);
    await store.whenReclaimed();
    expect(closedPacksHalfLive()).toEqual([]);
    expect(Array.from((await store.getVector(other, 'more4'))!)).toEqual(Array.from(unitVector(4)));
    await store.reset();
    await store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0 });
    await more(REF, 5);
    await store.whenReclaimed();
    expect(closedPacksHalfLive()).toEqual([]);
    expect(packBytes()).toBeLessThanOrEqual(2 * 5 * 32 + 128);
    await store.close();
  });

  it('frees the vectors of a write whose transaction failed', async () => {
    const store = await openEmbeddedStore({ dir, packBytes: 16 }); // a pack per write
    await store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0 });
    const write = store.upsertImages(REF, [{ record: rec('a'), vector: unitVector(0) }]); // its vectors are being written
    await store.deleteLibrary(REF); // before its transaction runs
    await expect(write).rejects.toThrow(EngineError);
    await store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0 });
    await store.upsertImages(REF, [{ record: rec('b'), vector: unitVector(1) }]);
    await store.whenReclaimed();
    expect(packFiles()).toEqual(['2.pack']);
    await store.close();
  });

  it('compacts a pack of thousands of vectors over many turns while reads and writes go on, losing none', async () => {
    let store = await openEmbeddedStore({ dir });
    await store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0 });
    const n = 8000; // more than a turn copies and a transaction relinks (pack-space.ts)
    const tiny = (i: number) => new Float32Array([Math.cos(i), Math.sin(i)]);
    for (let a = 0; a < n; a += 1000) {
      await store.upsertImages(REF, Array.from({ length: 1000 }, (_, i) => ({ record: rec(`v${a + i}`), vector: tiny(a + i) })));
    }
    await store.deleteImages(REF, { ids: Array.from({ length: n }, (_, i) => `v${i}`).filter((_, i) => i % 8 < 5) });
    await store.close();
    store = await openEmbeddedStore({ dir }); // the first run's pack, 3/8 live, is compacted from now on
    const live = Array.from({ length: n }, (_, i) => i).filter((i) => i % 8 >= 5);
    const same = async (i: number) => Array.from((await store.getVector(REF, `v${i}`))!).join() === Array.from(tiny(i)).join();
    const during = await Promise.all(
      live.filter((i) => i % 40 === 5).map(async (i) => {
        await store.upsertImages(REF, [{ record: rec(`new${i}`), vector: tiny(-i) }]);
        return same(i);
      }),
    );
    await store.whenReclaimed();
    expect(during.every(Boolean)).toBe(true);
    expect(packFiles()).toEqual(['2.pack']);
    const wrong: number[] = [];
    for (const i of live) if (!(await same(i))) wrong.push(i);
    expect(wrong).toEqual([]);
    expect(Array.from((await store.getVector(REF, 'new45'))!)).toEqual(Array.from(tiny(-45)));
    await store.close();
  });

  it('still reads vectors older builds kept in SQLite; an overwrite moves them to a pack', async () => {
    let store = await openEmbeddedStore({ dir });
    await store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0 });
    await store.upsertImages(REF, [0, 1, 2].map((axis) => ({ record: rec(`old${axis}`), vector: unitVector(axis) })));
    await store.close();
    // What an older build wrote: the vectors in images.vector, no vector_files.
    const db = new Database(path.join(dir, 'store.sqlite'));
    for (const axis of [0, 1, 2]) db.prepare('UPDATE images SET vector = ? WHERE id = ?').run(bytesOf(unitVector(axis)), `old${axis}`);
    db.exec('DELETE FROM vector_files');
    db.close();
    store = await openEmbeddedStore({ dir });
    await store.whenReclaimed();
    expect(packFiles()).toEqual([]); // no row names the first run's pack any more
    for (const axis of [0, 1, 2]) {
      expect(Array.from((await store.getVector(REF, `old${axis}`))!)).toEqual(Array.from(unitVector(axis)));
      expect(await nearest(store, unitVector(axis))).toBe(`old${axis}`);
    }
    await store.upsertImages(REF, [{ record: rec('old1'), vector: unitVector(4) }]);
    expect(await nearest(store, unitVector(4))).toBe('old1');
    store = await reopen(store);
    expect(await nearest(store, unitVector(0))).toBe('old0');
    expect(await nearest(store, unitVector(4))).toBe('old1');
    expect(query("SELECT id, length(vector) AS n FROM images ORDER BY id")).toEqual([
      { id: 'old0', n: 32 },
      { id: 'old1', n: 0 },
      { id: 'old2', n: 32 },
    ]);
    await store.close();
  });
});

describe('embedded store: durability against kill -9', () => {
  it('keeps every acknowledged write when the process is killed mid-stream', async () => {
    const dir = tempDir();
    const child = path.join(dir, 'writer.ts');
    const storeModule = path.resolve(__dirname, '../../core/store/embedded');
    writeFileSync(
      child,
      `
import { openEmbeddedStore } from ${JSON.stringify(storeModule)};
(async () => {
  const store = await openEmbeddedStore({ dir: ${JSON.stringify(path.join(dir, 'data'))} });
  const ref = { tenant: 't', name: 'crash' };
  await store.createLibrary({ ...ref, mode: 'general_search', model: 'm', createdAt: 0 });
  process.stdout.write('ready\\n');
  for (let i = 0; ; i++) {
    const writes = [];
    for (let j = 0; j < 5; j++) {
      const v = new Float32Array(32).map((_, k) => Math.sin(i * 31 + j * 7 + k));
      writes.push({ record: { id: 'b' + i + '-' + j, tags: { i }, hasImage: true, createdAt: i, updatedAt: i }, vector: v, image: Buffer.alloc(2048, i % 256) });
    }
    await store.upsertImages(ref, writes);
    process.stdout.write('ack ' + i + '\\n');
  }
})();
`,
    );
    const proc = spawn(process.execPath, ['--import', 'tsx', child], {
      cwd: path.resolve(__dirname, '../..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked: number[] = [];
    let stderr = '';
    let buffer = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_code, signal) => resolve(signal)));
    proc.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        const m = /^ack (\d+)$/.exec(line);
        if (m) acked.push(Number(m[1]));
        if (acked.length === 200 && !proc.killed) proc.kill('SIGKILL');
      }
    });
    const signal = await exited;
    try {
      expect({ signal, stderr: signal === 'SIGKILL' ? '' : stderr }).toEqual({ signal: 'SIGKILL', stderr: '' });
      expect(acked.length).toBeGreaterThanOrEqual(200);
      const store = await openEmbeddedStore({ dir: path.join(dir, 'data') }); // takes over the dead owner's lock
      const ref = { tenant: 't', name: 'crash' };
      const ids = acked.flatMap((i) => Array.from({ length: 5 }, (_, j) => `b${i}-${j}`));
      const got = await store.getImages(ref, ids);
      expect(got.length).toBe(ids.length);
      const count = await store.countImages(ref);
      expect(count).toBeGreaterThanOrEqual(ids.length);
      expect(count % 5).toBe(0); // batches are atomic: never a partial one
      // Every acknowledged original is there in full (written to its pack before its row commits), also
      // once the packs the crashed run wrote have been reclaimed.
      await store.whenReclaimed();
      const originals = await Promise.all(ids.map(async (id) => [id, await store.getImageBytes(ref, id)] as const));
      const wrong = originals.filter(([id, bytes]) => !bytes?.equals(Buffer.alloc(2048, Number(/^b(\d+)-/.exec(id)![1]) % 256)));
      expect(wrong.map(([id]) => id)).toEqual([]);
      // And every acknowledged vector (written to packs of its own in the same way).
      const vectorOf = (id: string) => {
        const [, i, j] = /^b(\d+)-(\d+)$/.exec(id)!.map(Number);
        return new Float32Array(32).map((_, k) => Math.sin(i * 31 + j * 7 + k));
      };
      const vectors = await Promise.all(ids.map(async (id) => [id, await store.getVector(ref, id)] as const));
      expect(vectors.filter(([id, v]) => !v || !Buffer.from(v.buffer).equals(Buffer.from(vectorOf(id).buffer))).map(([id]) => id)).toEqual([]);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('embedded store: a large library opens without holding the event loop', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('loads in chunks with other work in between; writes made meanwhile are in the first answer', async () => {
    const dim = 16;
    const unit = (seed: number) => {
      const v = Float32Array.from({ length: dim }, (_, j) => Math.sin(seed * 7.1 + j * 1.3));
      const norm = Math.hypot(...v);
      return v.map((x) => x / norm);
    };
    let store = await openEmbeddedStore({ dir });
    await store.createLibrary({ ...REF, mode: 'general_search', model: 'm', createdAt: 0 });
    const n = 9000; // several chunks
    for (let a = 0; a < n; a += 1000) {
      await store.upsertImages(
        REF,
        Array.from({ length: 1000 }, (_, i) => ({ record: { id: `v${a + i}`, tags: {}, hasImage: false, createdAt: 0, updatedAt: 0 }, vector: unit(a + i) })),
      );
    }
    await store.close();

    store = await openEmbeddedStore({ dir });
    let turns = 0;
    let counting = true;
    const tick = () => {
      turns++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    const query = unit(123_456);
    const answer = store.search([REF], query, { limit: 3 });
    // While it loads: overwrite an image of the first chunk with the query itself, delete its neighbour.
    const nearest = nearestId(n, unit, query);
    await store.upsertImages(REF, [{ record: { id: 'v5', tags: {}, hasImage: false, createdAt: 0, updatedAt: 0 }, vector: query }]);
    await store.deleteImages(REF, { ids: [nearest] });
    const hits = await answer;
    counting = false;
    expect(turns).toBeGreaterThan(1);
    expect(hits[0].record.id).toBe('v5');
    expect(hits[0].similarity).toBeCloseTo(1, 5);
    expect(hits.map((h) => h.record.id)).not.toContain(nearest);
    await store.close();
  });
});

/** The id of the stored vector closest to `query` (v5 aside), by brute force over the generator. */
function nearestId(n: number, unit: (seed: number) => Float32Array, query: Float32Array): string {
  let best = -Infinity;
  let id = '';
  for (let i = 0; i < n; i++) {
    if (i === 5) continue;
    const v = unit(i);
    let dot = 0;
    for (let j = 0; j < v.length; j++) dot += v[j] * query[j];
    if (dot > best) [best, id] = [dot, `v${i}`];
  }
  return id;
}

/**
 * The VectorStore contract: one suite every implementation runs (embedded, and qdrant with QDRANT_URL).
 * It checks the semantics written in core/store/vector-store.ts (records and vectors, tenants, reset,
 * durability), with small deterministic vectors, and runs the suites of the other two parts:
 * image-bytes-contract.ts and task-store-contract.ts.
 *
 * Usage (in a *.test.ts file):
 *   describeStoreContract('embedded', async () => ({ store, reopen, cleanup }));
 */
import { AlreadyExistsError, EngineError, NotFoundError } from '../../core/errors';
import { prng } from '../helpers/prng';
import { f, matches, type Filter } from '../../core/filter';
import type { ImageRecord, Library, LibraryRef, Tags } from '../../core/records';
import type { ImageWrite, SearchHit, TaskRecord, VectorStore } from '../../core/store/vector-store';
import { describeImageBytesContract } from './image-bytes-contract';
import { describeTaskStoreContract } from './task-store-contract';

export interface StoreHarness {
  store: VectorStore;
  /** Closes the store and opens it again on the same data; the returned store replaces the old one. */
  reopen?: () => Promise<VectorStore>;
  /** Closes whichever store is current and removes its data. */
  cleanup: () => Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// Deterministic data

/** The shared seeded PRNG, under the name this suite's users know. */
export const seededRandom = prng;

export function normalise(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s) || 1;
  for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

export function randomUnitVector(dim: number, rnd: () => number): Float32Array {
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = rnd() * 2 - 1;
  return normalise(v);
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

const DIM = 16;
const T1 = 'tenant-one';
const T2 = 'tenant-two';
const NOW = 1_700_000_000_000;

function library(tenant: string, name: string, extra: Partial<Library> = {}): Library {
  return { tenant, name, mode: 'general_search', model: 'test-model', createdAt: NOW, ...extra };
}

function record(id: string, tags: Tags = {}, extra: Partial<ImageRecord> = {}): ImageRecord {
  return { id, tags, hasImage: false, createdAt: NOW, updatedAt: NOW, ...extra };
}

interface Fixture {
  writes: ImageWrite[];
  vectors: Map<string, Float32Array>;
}

/** n images: ids img-000.., itemId item-(i%7), tags colour / size / even. */
function fixture(n: number, seed: number, prefix = 'img'): Fixture {
  const rnd = seededRandom(seed);
  const colours = ['red', 'green', 'blue'];
  const writes: ImageWrite[] = [];
  const vectors = new Map<string, Float32Array>();
  for (let i = 0; i < n; i++) {
    const id = `${prefix}-${String(i).padStart(3, '0')}`;
    const vector = randomUnitVector(DIM, rnd);
    vectors.set(id, vector);
    writes.push({
      record: record(id, { colour: colours[i % 3], size: i, even: i % 2 === 0 }, { itemId: `item-${i % 7}` }),
      vector,
    });
  }
  return { writes, vectors };
}

/** The exact answer, computed here: (id, similarity) best first, ties by id. */
function bruteForce(
  fx: Fixture,
  query: Float32Array,
  opts: { filter?: Filter; minSimilarity?: number; distinctItem?: boolean; excludeIds?: string[] } = {},
): Array<{ id: string; similarity: number; itemId?: string }> {
  let rows = fx.writes
    .filter((w) => !opts.filter || matches(opts.filter, w.record.tags))
    .filter((w) => !(opts.excludeIds ?? []).includes(w.record.id))
    .map((w) => ({ id: w.record.id, itemId: w.record.itemId, similarity: bestOf(query, w) }))
    .filter((r) => opts.minSimilarity === undefined || r.similarity >= opts.minSimilarity)
    .sort((a, b) => b.similarity - a.similarity || (a.id < b.id ? -1 : 1));
  if (opts.distinctItem) {
    const seen = new Set<string>();
    rows = rows.filter((r) => {
      const key = r.itemId ?? `#${r.id}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }
  return rows;
}

/** An image's similarity: the inner product with its best vector (the whole picture's or a view's). */
function bestOf(query: Float32Array, w: ImageWrite): number {
  return Math.max(dot(query, w.vector), ...(w.views ?? []).map((v) => dot(query, v)));
}

/** fixture() in a library with views: each image also gets `views` more vectors. */
function fixtureWithViews(n: number, seed: number, views: number): Fixture {
  const fx = fixture(n, seed, 'vw');
  const rnd = seededRandom(seed + 1);
  for (const w of fx.writes) w.views = Array.from({ length: views }, () => randomUnitVector(DIM, rnd));
  return fx;
}

const ids = (hits: SearchHit[]) => hits.map((h) => h.record.id);

async function expectEngineError(promise: Promise<unknown>, kind: string): Promise<EngineError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EngineError);
  expect((error as EngineError).kind).toBe(kind);
  return error as EngineError;
}

function task(tenant: string, id: string, status: TaskRecord['status'], createdAt = NOW): TaskRecord {
  return { tenant, id, kind: 'import', status, createdAt, updatedAt: createdAt, state: { done: 3, files: ['a', 'b'] } };
}

// ---------------------------------------------------------------------------------------------------

export function describeStoreContract(name: string, open: () => Promise<StoreHarness>): void {
  describe(`VectorStore contract: ${name}`, () => {
    let harness: StoreHarness;
    let store: VectorStore;
    const L1: LibraryRef = { tenant: T1, name: 'lib-a' };
    const L2: LibraryRef = { tenant: T1, name: 'lib-b' };

    beforeEach(async () => {
      harness = await open();
      store = harness.store;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    describe('libraries', () => {
      it('creates, gets and lists libraries with every field', async () => {
        const full = library(T1, 'lib-a', {
          mode: 'item_search',
          description: 'shoes',
          tagKeys: ['colour', 'size'],
          capacity: 1000,
          extra: { level: 'high', n: 2 },
        });
        await store.createLibrary(full);
        await store.createLibrary(library(T1, 'lib-b'));
        expect(await store.getLibrary(L1)).toEqual(full);
        expect(await store.getLibrary(L2)).toEqual(library(T1, 'lib-b'));
        const listed = await store.listLibraries(T1);
        expect(listed.map((l) => l.name).sort()).toEqual(['lib-a', 'lib-b']);
        expect(await store.listLibraries(T2)).toEqual([]);
      });

      it('refuses to create a library twice with already_exists', async () => {
        await store.createLibrary(library(T1, 'lib-a'));
        const e = await expectEngineError(store.createLibrary(library(T1, 'lib-a', { model: 'other' })), 'already_exists');
        expect(e).toBeInstanceOf(AlreadyExistsError);
        expect((await store.getLibrary(L1))?.model).toBe('test-model');
      });

      it('answers undefined / false for a library that does not exist', async () => {
        expect(await store.getLibrary(L1)).toBeUndefined();
        expect(await store.deleteLibrary(L1)).toBe(false);
      });

      it('deletes a library with all its images; the name can be reused empty', async () => {
        await store.createLibrary(library(T1, 'lib-a'));
        await store.upsertImages(L1, fixture(5, 1).writes);
        expect(await store.deleteLibrary(L1)).toBe(true);
        expect(await store.getLibrary(L1)).toBeUndefined();
        expect(await store.listLibraries(T1)).toEqual([]);
        await store.createLibrary(library(T1, 'lib-a'));
        expect(await store.countImages(L1)).toBe(0);
        expect(await store.getImage(L1, 'img-000')).toBeUndefined();
        expect(await store.search([L1], fixture(1, 1).writes[0].vector, { limit: 5 })).toEqual([]);
      });

      it('rejects image operations on a missing library with not_found', async () => {
        const e = await expectEngineError(store.upsertImages(L1, fixture(1, 1).writes), 'not_found');
        expect(e).toBeInstanceOf(NotFoundError);
        await expectEngineError(store.search([L1], fixture(1, 1).writes[0].vector, { limit: 1 }), 'not_found');
      });
    });

    describe('images', () => {
      beforeEach(async () => {
        await store.createLibrary(library(T1, 'lib-a'));
      });

      it('stores and returns records, vectors and bytes', async () => {
        const vector = randomUnitVector(DIM, seededRandom(7));
        const rec = record('a', { colour: 'red', size: 3, ok: true }, {
          itemId: 'p1',
          uri: 'https://example.com/a.jpg',
          extra: { custom: 'x', nested: { n: 1 } },
          hasImage: true,
          createdAt: NOW + 1,
          updatedAt: NOW + 2,
        });
        const bytes = Buffer.from([0xff, 0xd8, 0xff, 1, 2, 3]);
        await store.upsertImages(L1, [{ record: rec, vector, image: bytes }]);
        expect(await store.getImage(L1, 'a')).toEqual(rec);
        expect(Array.from((await store.getVector(L1, 'a'))!)).toEqual(Array.from(vector));
        expect((await store.getImageBytes(L1, 'a'))?.equals(bytes)).toBe(true);
        expect(await store.getImage(L1, 'missing')).toBeUndefined();
        expect(await store.getVector(L1, 'missing')).toBeUndefined();
        expect(await store.getImageBytes(L1, 'missing')).toBeUndefined();
      });

      it('getImages returns the existing ones in the order asked', async () => {
        await store.upsertImages(L1, fixture(5, 3).writes);
        const got = await store.getImages(L1, ['img-003', 'nope', 'img-001']);
        expect(got.map((r) => r.id)).toEqual(['img-003', 'img-001']);
        expect(await store.getImages(L1, [])).toEqual([]);
      });

      it('upsert overwrites by id: record, tags (replaced), vector and bytes', async () => {
        const v1 = randomUnitVector(DIM, seededRandom(1));
        const v2 = randomUnitVector(DIM, seededRandom(2));
        await store.upsertImages(L1, [
          { record: record('a', { colour: 'red', size: 1 }, { itemId: 'p1', hasImage: true }), vector: v1, image: Buffer.from('x') },
        ]);
        const replaced = record('a', { shape: 'round' }, { uri: 'u', updatedAt: NOW + 5 });
        await store.upsertImages(L1, [{ record: replaced, vector: v2 }]);
        expect(await store.getImage(L1, 'a')).toEqual(replaced);
        expect(Array.from((await store.getVector(L1, 'a'))!)).toEqual(Array.from(v2));
        expect(await store.getImageBytes(L1, 'a')).toBeUndefined();
        expect(await store.countImages(L1)).toBe(1);
        const hits = await store.search([L1], v2, { limit: 1 });
        expect(hits[0].record.id).toBe('a');
        expect(hits[0].similarity).toBeCloseTo(1, 5);
        expect(await store.countImages(L1, f.cmp('colour', '=', 'red'))).toBe(0);
      });

      it('a batch is written as a whole: an invalid write rejects the batch', async () => {
        const good = fixture(3, 4).writes;
        const bad: ImageWrite = { record: record('bad'), vector: new Float32Array(DIM + 1) };
        await expect(store.upsertImages(L1, [...good, bad])).rejects.toBeInstanceOf(EngineError);
        expect(await store.countImages(L1)).toBe(0);
        expect(await store.getImage(L1, 'img-000')).toBeUndefined();
      });

      it('updateImage replaces (not merges) tags and extra; false when the image does not exist', async () => {
        const vector = randomUnitVector(DIM, seededRandom(9));
        await store.upsertImages(L1, [{ record: record('a', { colour: 'red', size: 1 }, { extra: { x: 1 }, itemId: 'p' }), vector }]);
        expect(await store.updateImage(L1, 'a', { tags: { shape: 'square' } })).toBe(true);
        let got = await store.getImage(L1, 'a');
        expect(got?.tags).toEqual({ shape: 'square' });
        expect(got?.extra).toEqual({ x: 1 });
        expect(got?.itemId).toBe('p');
        expect(await store.updateImage(L1, 'a', { extra: { y: 2 } })).toBe(true);
        got = await store.getImage(L1, 'a');
        expect(got?.tags).toEqual({ shape: 'square' });
        expect(got?.extra).toEqual({ y: 2 });
        expect(Array.from((await store.getVector(L1, 'a'))!)).toEqual(Array.from(vector));
        expect(await store.updateImage(L1, 'missing', { tags: {} })).toBe(false);
        // search and count see the new tags
        const hits = await store.search([L1], vector, { limit: 5, filter: f.cmp('shape', '=', 'square') });
        expect(ids(hits)).toEqual(['a']);
        expect(hits[0].record.tags).toEqual({ shape: 'square' });
        expect(await store.countImages(L1, f.cmp('colour', '=', 'red'))).toBe(0);
      });

      it('deletes by ids, by itemIds, by filter, and by their AND; an empty selector deletes nothing', async () => {
        const fx = fixture(21, 5);
        await store.upsertImages(L1, fx.writes);
        expect(await store.deleteImages(L1, {})).toEqual([]);
        expect(await store.deleteImages(L1, { ids: [] })).toEqual([]);
        expect(await store.countImages(L1)).toBe(21);

        expect((await store.deleteImages(L1, { ids: ['img-000', 'img-001', 'nope'] })).sort()).toEqual(['img-000', 'img-001']);
        // item-2: images 2, 9, 16
        expect((await store.deleteImages(L1, { itemIds: ['item-2'] })).sort()).toEqual(['img-002', 'img-009', 'img-016']);
        // AND: ids among 3..6 that are red (i % 3 == 0): 3 and 6
        expect(
          (await store.deleteImages(L1, { ids: ['img-003', 'img-004', 'img-005', 'img-006'], filter: f.cmp('colour', '=', 'red') })).sort(),
        ).toEqual(['img-003', 'img-006']);
        // filter: size >= 18 → 18, 19, 20
        expect((await store.deleteImages(L1, { filter: f.cmp('size', '>=', 18) })).sort()).toEqual(['img-018', 'img-019', 'img-020']);
        expect(await store.countImages(L1)).toBe(21 - 2 - 3 - 2 - 3);
        expect(await store.getImage(L1, 'img-009')).toBeUndefined();
        const hits = await store.search([L1], fx.vectors.get('img-009')!, { limit: 50 });
        expect(ids(hits)).not.toContain('img-009');
        expect(hits).toHaveLength(11);
      });

      it('lists with a cursor, visiting every image exactly once', async () => {
        await store.upsertImages(L1, fixture(50, 6).writes);
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.listImages(L1, { limit: 7, cursor });
          expect(page.images.length).toBeLessThanOrEqual(7);
          seen.push(...page.images.map((r) => r.id));
          cursor = page.nextCursor;
          pages++;
          expect(pages).toBeLessThan(20);
        } while (cursor !== undefined);
        expect(seen).toHaveLength(50);
        expect(new Set(seen).size).toBe(50);
        expect(pages).toBe(8);
        const full = await store.listImages(L1, { limit: 50 });
        expect(full.images).toHaveLength(50);
        expect(full.nextCursor).toBeUndefined();
        expect(full.images[0].tags).toHaveProperty('colour');
      });

      it('lists with a filter and by itemId', async () => {
        await store.upsertImages(L1, fixture(30, 7).writes);
        const blue: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listImages(L1, { limit: 4, cursor, filter: f.cmp('colour', '=', 'blue') });
          blue.push(...page.images.map((r) => r.id));
          expect(page.images.every((r) => r.tags.colour === 'blue')).toBe(true);
          cursor = page.nextCursor;
        } while (cursor);
        expect(blue.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `img-${String(i * 3 + 2).padStart(3, '0')}`));
        const item = await store.listImages(L1, { limit: 100, itemId: 'item-3' });
        expect(item.images.map((r) => r.id).sort()).toEqual(['img-003', 'img-010', 'img-017', 'img-024']);
        expect((await store.listImages(L1, { limit: 100, itemId: 'item-3', filter: f.cmp('even', '=', true) })).images.map((r) => r.id).sort()).toEqual(['img-010', 'img-024']);
      });

      it('lists an empty library as one empty last page', async () => {
        expect(await store.listImages(L1, { limit: 10 })).toEqual({ images: [] });
      });

      it('counts with and without a filter', async () => {
        await store.upsertImages(L1, fixture(30, 8).writes);
        expect(await store.countImages(L1)).toBe(30);
        expect(await store.countImages(L1, f.cmp('colour', '=', 'red'))).toBe(10);
        expect(await store.countImages(L1, f.and(f.cmp('colour', '!=', 'red'), f.cmp('size', '<', 10)))).toBe(6);
        expect(await store.countImages(L1, f.cmp('missing', '=', 'x'))).toBe(0);
      });
    });

    describe('search', () => {
      const fx = fixture(60, 11);
      const query = randomUnitVector(DIM, seededRandom(99));

      beforeEach(async () => {
        await store.createLibrary(library(T1, 'lib-a'));
        await store.upsertImages(L1, fx.writes);
      });

      it('returns the best matches first, with inner-product similarities', async () => {
        const hits = await store.search([L1], query, { limit: 10 });
        const expected = bruteForce(fx, query).slice(0, 10);
        expect(ids(hits)).toEqual(expected.map((r) => r.id));
        hits.forEach((h, i) => {
          expect(h.library).toBe('lib-a');
          expect(h.similarity).toBeCloseTo(expected[i].similarity, 5);
          expect(h.record).toEqual(fx.writes.find((w) => w.record.id === h.record.id)!.record);
        });
      });

      it('finds a stored vector first with similarity 1', async () => {
        const hits = await store.search([L1], fx.vectors.get('img-017')!, { limit: 3 });
        expect(hits[0].record.id).toBe('img-017');
        expect(hits[0].similarity).toBeCloseTo(1, 5);
      });

      it('honours limit and offset', async () => {
        const all = ids(await store.search([L1], query, { limit: 60 }));
        expect(all).toHaveLength(60);
        expect(ids(await store.search([L1], query, { limit: 5, offset: 10 }))).toEqual(all.slice(10, 15));
        expect(ids(await store.search([L1], query, { limit: 5, offset: 58 }))).toEqual(all.slice(58));
        expect(await store.search([L1], query, { limit: 5, offset: 60 })).toEqual([]);
        expect(await store.search([L1], query, { limit: 100 })).toHaveLength(60);
      });

      it('filters', async () => {
        const filter = f.and(f.cmp('colour', '=', 'green'), f.cmp('size', '>', 20));
        const hits = await store.search([L1], query, { limit: 5, filter });
        expect(ids(hits)).toEqual(bruteForce(fx, query, { filter }).slice(0, 5).map((r) => r.id));
        expect(hits.every((h) => matches(filter, h.record.tags))).toBe(true);
        expect(await store.search([L1], query, { limit: 5, filter: f.cmp('colour', '=', 'purple') })).toEqual([]);
      });

      it('drops results below minSimilarity', async () => {
        const minSimilarity = 0.2;
        const hits = await store.search([L1], query, { limit: 60, minSimilarity });
        const expected = bruteForce(fx, query, { minSimilarity });
        expect(ids(hits)).toEqual(expected.map((r) => r.id));
        expect(hits.every((h) => h.similarity >= minSimilarity)).toBe(true);
        expect(await store.search([L1], query, { limit: 10, minSimilarity: 1.01 })).toEqual([]);
      });

      it('keeps the best image per item with distinctItem', async () => {
        const hits = await store.search([L1], query, { limit: 10, distinctItem: true });
        const expected = bruteForce(fx, query, { distinctItem: true });
        expect(hits).toHaveLength(7); // 7 items
        expect(ids(hits)).toEqual(expected.map((r) => r.id));
        expect(new Set(hits.map((h) => h.record.itemId)).size).toBe(7);
        const paged = await store.search([L1], query, { limit: 3, offset: 2, distinctItem: true });
        expect(ids(paged)).toEqual(expected.slice(2, 5).map((r) => r.id));
      });

      it('treats images without an itemId as items of their own under distinctItem', async () => {
        const v = fx.vectors.get('img-000')!;
        await store.upsertImages(L1, [
          { record: record('solo-1'), vector: v },
          { record: record('solo-2'), vector: v },
        ]);
        const hits = await store.search([L1], v, { limit: 3, distinctItem: true });
        expect(ids(hits).sort()).toEqual(['img-000', 'solo-1', 'solo-2']);
      });

      it('excludes ids', async () => {
        const top = bruteForce(fx, query).slice(0, 3).map((r) => r.id);
        const hits = await store.search([L1], query, { limit: 5, excludeIds: top });
        expect(ids(hits)).toEqual(bruteForce(fx, query, { excludeIds: top }).slice(0, 5).map((r) => r.id));
      });

      it('combines filter, minSimilarity, distinctItem, excludeIds and offset', async () => {
        const opts = { filter: f.cmp('even', '=', true), minSimilarity: -0.5, distinctItem: true, excludeIds: ['img-010', 'img-020'] };
        const hits = await store.search([L1], query, { limit: 4, offset: 1, ...opts });
        expect(ids(hits)).toEqual(bruteForce(fx, query, opts).slice(1, 5).map((r) => r.id));
      });

      it('breaks ties deterministically', async () => {
        const v = fx.vectors.get('img-005')!;
        await store.upsertImages(L1, [
          { record: record('twin-b', { colour: 'red' }), vector: v },
          { record: record('twin-a', { colour: 'red' }), vector: v },
        ]);
        const first = ids(await store.search([L1], v, { limit: 3 }));
        expect(first.slice().sort()).toEqual(['img-005', 'twin-a', 'twin-b']);
        for (let i = 0; i < 3; i++) expect(ids(await store.search([L1], v, { limit: 3 }))).toEqual(first);
      });

      it('searches several libraries and merges by similarity', async () => {
        const fx2 = fixture(40, 12, 'other');
        await store.createLibrary(library(T1, 'lib-b'));
        await store.upsertImages(L2, fx2.writes);
        const hits = await store.search([L1, L2], query, { limit: 15 });
        const expected = [
          ...bruteForce(fx, query).map((r) => ({ ...r, library: 'lib-a' })),
          ...bruteForce(fx2, query).map((r) => ({ ...r, library: 'lib-b' })),
        ]
          .sort((a, b) => b.similarity - a.similarity)
          .slice(0, 15);
        expect(hits.map((h) => `${h.library}/${h.record.id}`)).toEqual(expected.map((r) => `${r.library}/${r.id}`));
        for (let i = 1; i < hits.length; i++) expect(hits[i - 1].similarity).toBeGreaterThanOrEqual(hits[i].similarity);
        expect(new Set(hits.map((h) => h.library))).toEqual(new Set(['lib-a', 'lib-b']));
        const paged = await store.search([L1, L2], query, { limit: 5, offset: 5 });
        expect(paged.map((h) => `${h.library}/${h.record.id}`)).toEqual(expected.slice(5, 10).map((r) => `${r.library}/${r.id}`));
      });

      it('searches an empty library to no results', async () => {
        await store.createLibrary(library(T1, 'lib-b'));
        expect(await store.search([L2], query, { limit: 5 })).toEqual([]);
        expect(ids(await store.search([L2, L1], query, { limit: 2 }))).toEqual(bruteForce(fx, query).slice(0, 2).map((r) => r.id));
      });

      it('sees writes and deletes immediately', async () => {
        const target = randomUnitVector(DIM, seededRandom(1234));
        await store.upsertImages(L1, [{ record: record('fresh'), vector: target }]);
        expect(ids(await store.search([L1], target, { limit: 1 }))).toEqual(['fresh']);
        await store.deleteImages(L1, { ids: ['fresh'] });
        expect(ids(await store.search([L1], target, { limit: 60 }))).not.toContain('fresh');
      });
    });

    describe('views: several vectors per image, one image per hit', () => {
      const VIEWS = ['whole', 'mirror', 'grey'];
      const LV: LibraryRef = { tenant: T1, name: 'lib-views' };
      // 20 images, 60 rows: at most 64 rows, an index is built on one thread, and ef covers every row, so the
      // ANN path (forced in one harness) is exact here and each run answers alike.
      const fx = fixtureWithViews(20, 61, VIEWS.length - 1);
      const query = randomUnitVector(DIM, seededRandom(62));

      beforeEach(async () => {
        await store.createLibrary(library(T1, 'lib-views', { views: VIEWS }));
        await store.upsertImages(LV, fx.writes);
      });

      it('keeps the library\'s views and each image\'s vectors', async () => {
        expect((await store.getLibrary(LV))?.views).toEqual(VIEWS);
        const w = fx.writes[5];
        expect(Array.from((await store.getVector(LV, w.record.id))!)).toEqual(Array.from(w.vector));
        expect((await store.getViews(LV, w.record.id))!.map((v) => Array.from(v))).toEqual(w.views!.map((v) => Array.from(v)));
        expect(await store.getViews(LV, 'missing')).toBeUndefined();
        expect(await store.countImages(LV)).toBe(20);
        const listed = await store.listImages(LV, { limit: 100 });
        expect(listed.images.map((r) => r.id).sort()).toEqual(fx.writes.map((x) => x.record.id).sort());
      });

      it('scores an image by its best vector and answers it once', async () => {
        const hits = await store.search([LV], query, { limit: 20 });
        const expected = bruteForce(fx, query);
        expect(ids(hits)).toEqual(expected.map((r) => r.id));
        hits.forEach((h, i) => expect(h.similarity).toBeCloseTo(expected[i].similarity, 5));
        expect(new Set(ids(hits)).size).toBe(hits.length);
      });

      it('finds an image by any of its views with similarity 1', async () => {
        const w = fx.writes[17];
        for (const v of w.views!) {
          const [hit] = await store.search([LV], v, { limit: 1 });
          expect(hit.record.id).toBe(w.record.id);
          expect(hit.similarity).toBeCloseTo(1, 5);
        }
      });

      it('pages, filters, thresholds and groups by item over images, not vectors', async () => {
        const all = ids(await store.search([LV], query, { limit: 20 }));
        expect(ids(await store.search([LV], query, { limit: 5, offset: 10 }))).toEqual(all.slice(10, 15));
        const filter = f.cmp('colour', '=', 'green');
        expect(ids(await store.search([LV], query, { limit: 5, filter }))).toEqual(bruteForce(fx, query, { filter }).slice(0, 5).map((r) => r.id));
        const minSimilarity = 0.3;
        expect(ids(await store.search([LV], query, { limit: 20, minSimilarity }))).toEqual(bruteForce(fx, query, { minSimilarity }).map((r) => r.id));
        const distinct = await store.search([LV], query, { limit: 10, distinctItem: true });
        expect(ids(distinct)).toEqual(bruteForce(fx, query, { distinctItem: true }).map((r) => r.id));
        const excludeIds = all.slice(0, 3);
        expect(ids(await store.search([LV], query, { limit: 3, excludeIds }))).toEqual(all.slice(3, 6));
      });

      it('compares the query with the named views only, when asked', async () => {
        const w = fx.writes[14];
        const mirror = w.views![0]; // the 'mirror' row
        const [byMirror] = await store.search([LV], mirror, { limit: 1, views: ['mirror'] });
        expect([byMirror.record.id, byMirror.similarity]).toEqual([w.record.id, expect.closeTo(1, 5)]);
        // Without the mirror row, each image scores by its whole and grey rows only.
        const others = await store.search([LV], mirror, { limit: 20, views: ['whole', 'grey'] });
        const expected = fx.writes
          .map((x) => ({ id: x.record.id, similarity: Math.max(dot(mirror, x.vector), dot(mirror, x.views![1])) }))
          .sort((a, b) => b.similarity - a.similarity || (a.id < b.id ? -1 : 1));
        expect(ids(others)).toEqual(expected.map((r) => r.id));
        others.forEach((h, i) => expect(h.similarity).toBeCloseTo(expected[i].similarity, 5));
        expect(await store.search([LV], mirror, { limit: 5, views: ['sideways'] })).toEqual([]);
      });

      it('deletes and overwrites every vector of an image together', async () => {
        const gone = fx.writes[3];
        await store.deleteImages(LV, { ids: [gone.record.id] });
        for (const v of [gone.vector, ...gone.views!]) expect(ids(await store.search([LV], v, { limit: 20 }))).not.toContain(gone.record.id);

        const moved = fx.writes[4];
        const fresh = fixtureWithViews(1, 63, VIEWS.length - 1).writes[0];
        await store.upsertImages(LV, [{ record: moved.record, vector: fresh.vector, views: fresh.views }]);
        const [byOldView] = await store.search([LV], moved.views![0], { limit: 20 }).then((h) => h.filter((x) => x.record.id === moved.record.id));
        expect(byOldView.similarity).toBeCloseTo(bestOf(moved.views![0], fresh), 5);
        const [byNewView] = await store.search([LV], fresh.views![1], { limit: 1 });
        expect([byNewView.record.id, byNewView.similarity]).toEqual([moved.record.id, expect.closeTo(1, 5)]);
      });

      it('refuses a write whose views do not match the library', async () => {
        const w = fx.writes[0];
        await expectEngineError(store.upsertImages(LV, [{ record: record('short'), vector: w.vector, views: w.views!.slice(1) }]), 'invalid_argument');
        await expectEngineError(store.upsertImages(LV, [{ record: record('none'), vector: w.vector }]), 'invalid_argument');
        await store.createLibrary(library(T1, 'lib-plain'));
        await expectEngineError(store.upsertImages({ tenant: T1, name: 'lib-plain' }, [w]), 'invalid_argument');
        expect(await store.getImage(LV, 'short')).toBeUndefined();
      });

      it('answers the same after a reopen', async () => {
        if (!harness.reopen) return;
        const before = await store.search([LV], query, { limit: 10, distinctItem: true });
        store = await harness.reopen();
        expect(await store.search([LV], query, { limit: 10, distinctItem: true })).toEqual(before);
        expect((await store.getViews(LV, fx.writes[9].record.id))!.map((v) => Array.from(v))).toEqual(fx.writes[9].views!.map((v) => Array.from(v)));
        // Writes after the reopen (beside a loaded index snapshot, where a store keeps one) count at once.
        const fresh = fixtureWithViews(1, 64, VIEWS.length - 1).writes[0];
        await store.upsertImages(LV, [{ record: fx.writes[11].record, vector: fresh.vector, views: fresh.views }]);
        await store.deleteImages(LV, { ids: [fx.writes[12].record.id] });
        const now: Fixture = { writes: fx.writes.flatMap((w, i) => (i === 12 ? [] : i === 11 ? [{ ...w, vector: fresh.vector, views: fresh.views }] : [w])), vectors: fx.vectors };
        for (const q of [query, fresh.views![0], fx.writes[12].views![1]]) {
          expect(ids(await store.search([LV], q, { limit: 10 }))).toEqual(bruteForce(now, q).slice(0, 10).map((r) => r.id));
        }
      });
    });

    describe('tenancy', () => {
      it('never shows one tenant the libraries or images of another', async () => {
        const A: LibraryRef = { tenant: T1, name: 'shared-name' };
        const B: LibraryRef = { tenant: T2, name: 'shared-name' };
        await store.createLibrary(library(T1, 'shared-name'));
        await store.createLibrary(library(T2, 'shared-name', { model: 'model-b' }));
        const fa = fixture(10, 21, 'a');
        const fb = fixture(10, 22, 'b');
        await store.upsertImages(A, fa.writes);
        await store.upsertImages(B, fb.writes);
        expect((await store.getLibrary(B))?.model).toBe('model-b');
        expect((await store.listLibraries(T1)).map((l) => l.tenant)).toEqual([T1]);
        expect(await store.getImage(A, 'b-000')).toBeUndefined();
        expect(await store.getImage(B, 'b-000')).toBeDefined();
        const hits = await store.search([A], fb.vectors.get('b-003')!, { limit: 20 });
        expect(hits.every((h) => h.record.id.startsWith('a-'))).toBe(true);
        expect((await store.listImages(A, { limit: 100 })).images.every((r) => r.id.startsWith('a-'))).toBe(true);
        expect(await store.deleteImages(A, { ids: ['b-000'] })).toEqual([]);
        expect(await store.deleteLibrary({ tenant: T2, name: 'shared-name' })).toBe(true);
        expect(await store.countImages(A)).toBe(10);
        expect(await store.getLibrary(A)).toBeDefined();
      });
    });

    describe('tenants', () => {
      it('lists every tenant with a library or a task, sorted, once', async () => {
        expect(await store.listTenants()).toEqual([]);
        await store.createLibrary(library(T2, 'lib-a'));
        await store.createLibrary(library(T2, 'lib-b'));
        await store.putTask(task('tenant-0', 'job', 'succeeded'));
        expect(await store.listTenants()).toEqual(['tenant-0', T2]);
        await store.reset('tenant-0');
        expect(await store.listTenants()).toEqual([T2]);
      });
    });

    describe('reset', () => {
      beforeEach(async () => {
        for (const tenant of [T1, T2]) {
          await store.createLibrary(library(tenant, 'lib-a'));
          await store.upsertImages({ tenant, name: 'lib-a' }, fixture(20, 31).writes);
          await store.putTask(task(tenant, 'job', 'running'));
        }
      });

      it('resets one tenant and leaves the others', async () => {
        await store.reset(T1);
        expect(await store.listLibraries(T1)).toEqual([]);
        expect(await store.getTask(T1, 'job')).toBeUndefined();
        expect(await store.listLibraries(T2)).toHaveLength(1);
        expect(await store.countImages({ tenant: T2, name: 'lib-a' })).toBe(20);
        expect(await store.getTask(T2, 'job')).toBeDefined();
        await store.createLibrary(library(T1, 'lib-a'));
        expect(await store.countImages(L1)).toBe(0);
        expect(await store.search([L1], fixture(1, 31).writes[0].vector, { limit: 5 })).toEqual([]);
      });

      it('resets every tenant, fast', async () => {
        const started = Date.now();
        await store.reset();
        expect(Date.now() - started).toBeLessThan(1000);
        expect(await store.listLibraries(T1)).toEqual([]);
        expect(await store.listLibraries(T2)).toEqual([]);
        expect(await store.listUnfinishedTasks()).toEqual([]);
        await store.createLibrary(library(T2, 'lib-a'));
        expect(await store.countImages({ tenant: T2, name: 'lib-a' })).toBe(0);
      });
    });

    describe('durability', () => {
      it('keeps every resolved write across a reopen', async () => {
        if (!harness.reopen) return;
        const fx = fixture(40, 41);
        await store.createLibrary(library(T1, 'lib-a', { tagKeys: ['colour'], description: 'd' }));
        await store.upsertImages(L1, fx.writes);
        await store.upsertImages(L1, [
          { record: record('with-bytes', { colour: 'red' }, { hasImage: true }), vector: fx.vectors.get('img-000')!, image: Buffer.from('png') },
        ]);
        await store.deleteImages(L1, { ids: ['img-001'] });
        await store.updateImage(L1, 'img-002', { tags: { colour: 'black' } });
        await store.putTask(task(T1, 'job', 'running'));
        const query = randomUnitVector(DIM, seededRandom(5));
        const before = await store.search([L1], query, { limit: 10 });

        store = await harness.reopen();
        expect(await store.getLibrary(L1)).toEqual(library(T1, 'lib-a', { tagKeys: ['colour'], description: 'd' }));
        expect(await store.countImages(L1)).toBe(40);
        expect(await store.getImage(L1, 'img-001')).toBeUndefined();
        expect((await store.getImage(L1, 'img-002'))?.tags).toEqual({ colour: 'black' });
        expect((await store.getImageBytes(L1, 'with-bytes'))?.toString()).toBe('png');
        expect(Array.from((await store.getVector(L1, 'img-003'))!)).toEqual(Array.from(fx.vectors.get('img-003')!));
        expect(await store.getTask(T1, 'job')).toEqual(task(T1, 'job', 'running'));
        expect(await store.search([L1], query, { limit: 10 })).toEqual(before);
        // and it keeps working after the reopen
        await store.upsertImages(L1, [{ record: record('after'), vector: query }]);
        expect(ids(await store.search([L1], query, { limit: 1 }))).toEqual(['after']);
      });
    });

    // Image bytes, and tasks with one-time claims: parts of their own, with suites of their own.
    describeImageBytesContract(name, open);
    describeTaskStoreContract(name, open);
  });
}

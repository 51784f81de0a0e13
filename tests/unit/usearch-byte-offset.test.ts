/**
 * The usearch exactSearch byteOffset trap: its binding reads a typed array from the start of the
 * underlying ArrayBuffer, ignoring byteOffset, so a `subarray` query silently searches another vector.
 * These tests pin the trap (so an upgrade that fixes or changes it is noticed) and check that the
 * embedded store answers a subarray query as it answers a fresh copy of the same values (its exact and
 * ANN paths hand usearch the query; the store gives them a fresh array).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exactSearch, MetricKind } from 'usearch';
import { clusteredVectors } from '../../bench/store-bench';
import { openEmbeddedStore } from '../../core/store/embedded';
import type { ImageWrite } from '../../core/store/vector-store';

// Large enough (rows x dim above 2^20) that exact search goes through usearch rather than the JS loop.
const DIM = 512;
const ROWS = 2200;
const data = clusteredVectors(ROWS, DIM, 5);
/** Row i of the data as a view into the shared matrix (byteOffset i * DIM * 4). */
const view = (i: number) => data.vectors.subarray(i * DIM, (i + 1) * DIM);

describe('usearch exactSearch and typed-array views', () => {
  it('finds a row itself first when the query is a fresh array', () => {
    const row = 37;
    const result = exactSearch(data.vectors, view(row).slice(), DIM, 1, MetricKind.IP, 1);
    expect(Number(result.keys[0])).toBe(row);
  });

  it('ignores byteOffset: a subarray query is read from the start of its buffer (the trap)', () => {
    const row = 37;
    const fromView = Number(exactSearch(data.vectors, view(row), DIM, 1, MetricKind.IP, 1).keys[0]);
    const fromRowZero = Number(exactSearch(data.vectors, view(0).slice(), DIM, 1, MetricKind.IP, 1).keys[0]);
    // If this starts failing, usearch honours byteOffset now: the copies callers make are then merely redundant.
    expect(fromView).not.toBe(row);
    expect(fromView).toBe(fromRowZero);
  });
});

describe('embedded store search with a subarray query', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'isg-byteoffset-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['exact path', Number.MAX_SAFE_INTEGER],
    ['ANN path', 1],
  ])('finds the same images as for a fresh copy (%s)', async (_path, annThreshold) => {
    const store = await openEmbeddedStore({ dir, annThreshold, indexBuild: 'inline' });
    try {
      const ref = { tenant: 't', name: 'views' };
      await store.createLibrary({ ...ref, mode: 'general_search', model: 'm', createdAt: 0 });
      const writes: ImageWrite[] = Array.from({ length: ROWS }, (_, i) => ({
        record: { id: `v${i}`, tags: {}, hasImage: false, createdAt: 0, updatedAt: 0 },
        vector: view(i).slice(),
      }));
      await store.upsertImages(ref, writes);
      for (const row of [5, 42, 2199]) {
        const viaView = await store.search([ref], view(row), { limit: 3 });
        const viaCopy = await store.search([ref], view(row).slice(), { limit: 3 });
        expect(viaView.map((h) => h.record.id)).toEqual(viaCopy.map((h) => h.record.id));
        expect(viaView[0].record.id).toBe(`v${row}`);
      }
    } finally {
      await store.close();
    }
  });
});

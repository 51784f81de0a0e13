/**
 * Store migration (core/store/migrate.ts, `isg store migrate`): everything copied, resumable after a stop,
 * verified by counts. The copy is written against the VectorStore interface, so it runs here between two
 * real embedded stores; against Qdrant it runs the same code (docs/operations.md).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { f } from '../../core/filter';
import { openEmbeddedStore, type EmbeddedStore } from '../../core/store/embedded';
import { migrateStore, type MigrationEvent } from '../../core/store/migrate';
import type { ImageWrite } from '../../core/store/vector-store';
import { randomUnitVector, seededRandom } from './store-contract';

const LIBS = [
  { tenant: 'acme', name: 'shoes', count: 23 },
  { tenant: 'acme', name: 'empty', count: 0 },
  { tenant: 'zeta', name: 'shoes', count: 11 },
];

async function seed(store: EmbeddedStore): Promise<void> {
  const rnd = seededRandom(5);
  for (const l of LIBS) {
    await store.createLibrary({ tenant: l.tenant, name: l.name, mode: 'item_search', model: 'm', tagKeys: ['c'], createdAt: 7 });
    const writes: ImageWrite[] = Array.from({ length: l.count }, (_, i) => ({
      record: { id: `${l.name}-${i}`, itemId: `p${i % 4}`, tags: { c: i % 2 === 0 ? 'red' : 'blue' }, extra: { n: i }, hasImage: i % 5 === 0, createdAt: i, updatedAt: i },
      vector: randomUnitVector(12, rnd),
      image: i % 5 === 0 ? Buffer.from(`bytes-${i}`) : undefined,
    }));
    if (writes.length > 0) await store.upsertImages(l, writes);
  }
  await store.putTask({ tenant: 'acme', id: 'job', kind: 'import', status: 'running', createdAt: 1, updatedAt: 2, state: { line: 4 } });
}

describe('store migration', () => {
  let dir: string;
  let from: EmbeddedStore;
  let to: EmbeddedStore;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'isg-migrate-'));
    from = await openEmbeddedStore({ dir: path.join(dir, 'from') });
    to = await openEmbeddedStore({ dir: path.join(dir, 'to') });
    await seed(from);
  });
  afterEach(async () => {
    await from.close();
    await to.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies libraries, records, vectors, bytes and unfinished tasks, and verifies counts', async () => {
    const events: MigrationEvent[] = [];
    const result = await migrateStore({ from, to, progressFile: path.join(dir, 'progress.json'), pageSize: 5, onProgress: (e) => events.push(e) });
    expect(result).toEqual({ libraries: 3, images: 34, tasks: 1, mismatches: [], finished: true });
    for (const l of LIBS) {
      expect(await to.getLibrary(l)).toEqual(await from.getLibrary(l));
      expect(await to.countImages(l)).toBe(l.count);
      expect(await to.countImages(l, f.cmp('c', '=', 'red'))).toBe(await from.countImages(l, f.cmp('c', '=', 'red')));
    }
    const ref = { tenant: 'acme', name: 'shoes' };
    expect(await to.getImage(ref, 'shoes-5')).toEqual(await from.getImage(ref, 'shoes-5'));
    expect((await to.getImageBytes(ref, 'shoes-5'))?.toString()).toBe('bytes-5');
    expect(Array.from((await to.getVector(ref, 'shoes-7'))!)).toEqual(Array.from((await from.getVector(ref, 'shoes-7'))!));
    const q = (await from.getVector(ref, 'shoes-3'))!;
    expect(await to.search([ref], q, { limit: 5, distinctItem: true })).toEqual(await from.search([ref], q, { limit: 5, distinctItem: true }));
    expect(await to.getTask('acme', 'job')).toEqual(await from.getTask('acme', 'job'));
    expect(events.filter((e) => e.kind === 'page').at(-1)).toMatchObject({ copied: 11, total: 11 });
  });

  it('copies a library with views with every view of every image', async () => {
    const ref = { tenant: 'acme', name: 'viewed' };
    const rnd = seededRandom(9);
    await from.createLibrary({ ...ref, mode: 'general_search', model: 'm', views: ['whole', 'mirror', 'strip-top'], createdAt: 7 });
    const writes: ImageWrite[] = Array.from({ length: 7 }, (_, i) => ({
      record: { id: `v${i}`, tags: {}, hasImage: false, createdAt: i, updatedAt: i },
      vector: randomUnitVector(12, rnd),
      views: [randomUnitVector(12, rnd), randomUnitVector(12, rnd)],
    }));
    await from.upsertImages(ref, writes);
    const result = await migrateStore({ from, to, progressFile: path.join(dir, 'progress.json'), pageSize: 3 });
    expect(result).toMatchObject({ images: 41, mismatches: [], finished: true });
    expect((await to.getLibrary(ref))?.views).toEqual(['whole', 'mirror', 'strip-top']);
    for (const w of writes) {
      expect((await to.getViews(ref, w.record.id))!.map((v) => Array.from(v))).toEqual(w.views!.map((v) => Array.from(v)));
    }
    const byView = writes[4].views![1];
    expect(await to.search([ref], byView, { limit: 3 })).toEqual(await from.search([ref], byView, { limit: 3 }));
  });

  it('resumes after a stop where it was, without copying twice', async () => {
    const progressFile = path.join(dir, 'progress.json');
    const stop = new AbortController();
    let pages = 0;
    const first = await migrateStore({
      from,
      to,
      progressFile,
      pageSize: 5,
      signal: stop.signal,
      onProgress: (e) => {
        if (e.kind === 'page' && ++pages === 3) stop.abort();
      },
    });
    expect(first.finished).toBe(false);
    // pages: acme/empty (0 images), acme/shoes 5, acme/shoes 10 — then stopped
    expect(await to.countImages({ tenant: 'acme', name: 'shoes' })).toBe(10);
    expect(await to.getLibrary({ tenant: 'zeta', name: 'shoes' })).toBeUndefined();

    const events: MigrationEvent[] = [];
    const second = await migrateStore({ from, to, progressFile, pageSize: 5, onProgress: (e) => events.push(e) });
    expect(second).toMatchObject({ finished: true, mismatches: [], images: 34 });
    expect(events[0]).toMatchObject({ kind: 'library', library: { name: 'shoes', tenant: 'acme' }, resumed: true, copied: 10 });
    for (const l of LIBS) expect(await to.countImages(l)).toBe(l.count);
  });

  it('reports libraries whose counts differ', async () => {
    const extra = { tenant: 'acme', name: 'shoes' };
    await to.createLibrary({ ...extra, mode: 'item_search', model: 'm', tagKeys: ['c'], createdAt: 7 });
    await to.upsertImages(extra, [{ record: { id: 'stray', tags: {}, hasImage: false, createdAt: 0, updatedAt: 0 }, vector: randomUnitVector(12, seededRandom(1)) }]);
    const result = await migrateStore({ from, to, progressFile: path.join(dir, 'progress.json') });
    expect(result.mismatches).toEqual([{ tenant: 'acme', library: 'shoes', source: 23, target: 24 }]);
  });
});

describe('isg store', () => {
  it('refuses a migration without two different store kinds, in one line', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bin/isg.ts', 'store', 'migrate', '--from', 'embedded', '--to', 'embedded'], {
      cwd: path.resolve(__dirname, '../..'),
      encoding: 'utf8',
      env: { ...process.env, ISG_LOG_LEVEL: 'silent' },
    });
    expect([run.status, run.stderr.trim()]).toEqual([2, 'isg: --from and --to must name different stores']);
  });
});

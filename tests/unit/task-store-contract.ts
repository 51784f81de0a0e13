/**
 * The TaskStore contract (core/store/task-store.ts): tasks, their numbered series and one-time claims, as
 * every store keeps them. Run by describeStoreContract for whole stores, and on its own for a store's part.
 *
 * Usage: describeTaskStoreContract('embedded', async () => ({ store, cleanup }));
 */
import type { TaskRecord, TaskStore } from '../../core/store/task-store';

export interface TaskStoreHarness {
  /** The part under test, and the store's reset (sequences and claims start again with it). */
  store: TaskStore & { reset(tenant?: string): Promise<void> };
  cleanup: () => Promise<void>;
}

const T1 = 'tenant-one';
const T2 = 'tenant-two';
const NOW = 1_700_000_000_000;

function task(tenant: string, id: string, status: TaskRecord['status'], createdAt = NOW): TaskRecord {
  return { tenant, id, kind: 'import', status, createdAt, updatedAt: createdAt, state: { done: 3, files: ['a', 'b'] } };
}

export function describeTaskStoreContract(name: string, open: () => Promise<TaskStoreHarness>): void {
  describe(`TaskStore contract: ${name}`, () => {
    let harness: TaskStoreHarness;
    let store: TaskStoreHarness['store'];

    beforeEach(async () => {
      harness = await open();
      store = harness.store;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

  describe('tasks', () => {
    it('puts, overwrites, gets and lists unfinished tasks of every tenant', async () => {
      await store.putTask(task(T1, 't1', 'pending', NOW + 1));
      await store.putTask(task(T1, 't2', 'running', NOW + 2));
      await store.putTask(task(T2, 't1', 'succeeded', NOW + 3));
      await store.putTask(task(T2, 't3', 'pending', NOW + 4));
      await store.putTask(task(T1, 't4', 'failed', NOW + 5));
      expect(await store.getTask(T1, 't1')).toEqual(task(T1, 't1', 'pending', NOW + 1));
      expect(await store.getTask(T2, 't1')).toEqual(task(T2, 't1', 'succeeded', NOW + 3));
      expect(await store.getTask(T1, 't3')).toBeUndefined();
      const unfinished = await store.listUnfinishedTasks();
      expect(unfinished.map((t) => `${t.tenant}/${t.id}`).sort()).toEqual([`${T1}/t1`, `${T1}/t2`, `${T2}/t3`]);
      const done = { ...task(T1, 't1', 'succeeded', NOW + 1), updatedAt: NOW + 10, state: { done: 9 } };
      await store.putTask(done);
      expect(await store.getTask(T1, 't1')).toEqual(done);
      expect((await store.listUnfinishedTasks()).map((t) => `${t.tenant}/${t.id}`).sort()).toEqual([`${T1}/t2`, `${T2}/t3`]);
    });

    it('files tasks under a scope with their number, lists a scope by number, deletes one', async () => {
      await store.putTask({ ...task(T1, 'b', 'running'), scope: 'lib-a', seq: 2 });
      await store.putTask({ ...task(T1, 'a', 'succeeded'), scope: 'lib-a', seq: 1 });
      await store.putTask({ ...task(T1, 'c', 'pending'), scope: 'lib-b', seq: 1 });
      await store.putTask({ ...task(T2, 'd', 'pending'), scope: 'lib-a', seq: 1 });
      await store.putTask(task(T1, 'e', 'pending'));
      expect(await store.getTask(T1, 'b')).toEqual({ ...task(T1, 'b', 'running'), scope: 'lib-a', seq: 2 });
      expect((await store.listTasks(T1, 'lib-a')).map((t) => [t.id, t.seq])).toEqual([['a', 1], ['b', 2]]);
      expect(await store.listTasks(T1, 'lib-c')).toEqual([]);
      expect(await store.deleteTask(T1, 'b')).toBe(true);
      expect(await store.deleteTask(T1, 'b')).toBe(false);
      expect((await store.listTasks(T1, 'lib-a')).map((t) => t.id)).toEqual(['a']);
      expect(await store.getTask(T1, 'e')).toEqual(task(T1, 'e', 'pending'));
    });

    it('hands out each number of a sequence once, even to concurrent callers, per tenant and scope', async () => {
      const numbers = await Promise.all(Array.from({ length: 12 }, () => store.nextSequence(T1, 'lib-a')));
      expect([...numbers].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      expect(await store.nextSequence(T1, 'lib-a')).toBe(13);
      expect(await store.nextSequence(T1, 'lib-b')).toBe(1);
      expect(await store.nextSequence(T2, 'lib-a')).toBe(1);
      await store.reset(T1);
      expect(await store.nextSequence(T1, 'lib-a')).toBe(1);
      expect(await store.nextSequence(T2, 'lib-a')).toBe(2);
      await store.reset();
      expect(await store.nextSequence(T2, 'lib-a')).toBe(1);
    });

    it('never hands out a number below `from`, and goes on from the highest', async () => {
      expect(await store.nextSequence(T1, 'lib-a', 5)).toBe(5);
      expect(await store.nextSequence(T1, 'lib-a')).toBe(6);
      expect(await store.nextSequence(T1, 'lib-a', 3)).toBe(7);
      expect(await store.nextSequence(T1, 'lib-a', 10)).toBe(10);
      expect(await store.nextSequence(T1, 'lib-b', 1)).toBe(1);
    });
  });

  describe('one-time claims', () => {
    it('grants a token once until it expires, to one of concurrent claimants, per scope', async () => {
      const until = Date.now() + 60_000;
      const claims = await Promise.all(Array.from({ length: 6 }, () => store.claimOnce('nonce', 'n-1', until)));
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await store.claimOnce('nonce', 'n-1', until)).toBe(false);
      expect(await store.claimOnce('nonce', 'n-2', until)).toBe(true);
      expect(await store.claimOnce('other', 'n-1', until)).toBe(true);
    });

    it('grants an expired token again; reset() forgets every claim', async () => {
      expect(await store.claimOnce('nonce', 'old', Date.now() - 1)).toBe(true);
      expect(await store.claimOnce('nonce', 'old', Date.now() + 60_000)).toBe(true);
      expect(await store.claimOnce('nonce', 'old', Date.now() + 60_000)).toBe(false);
      await store.reset();
      expect(await store.claimOnce('nonce', 'old', Date.now() + 60_000)).toBe(true);
    });
  });
  });
}

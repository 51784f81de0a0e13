/**
 * core/tasks.ts on a real embedded store: tasks filed in numbered series, numbers from the store's atomic
 * sequence (two runners on one store stand for two processes), exclusive kinds refused while one runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AlreadyExistsError } from '../../core/errors';
import { openEmbeddedStore, type EmbeddedStore } from '../../core/store/embedded';
import { TaskRunner } from '../../core/tasks';

let dir: string;
let store: EmbeddedStore;
/** Handlers wait on this until a test lets them finish. */
let release: () => void;
let released: Promise<void>;

function runner(): TaskRunner {
  const tasks = new TaskRunner(store);
  tasks.register<{ n: number }>('dump', async ({ task }) => {
    await released;
    return { n: task.state.n + 1 };
  });
  tasks.register<{ n: number }>('load', async ({ task }) => task.state);
  return tasks;
}

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'isg-tasks-'));
  store = await openEmbeddedStore({ dir });
  released = new Promise((resolve) => (release = resolve));
});

afterEach(async () => {
  release();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('tasks filed in one scope are numbered 1, 2, ... across kinds and runners, and listed by number', async () => {
  const a = runner();
  const b = runner();
  const created = await Promise.all([
    a.create('t', 'load', { n: 1 }, { scope: 'lib' }),
    b.create('t', 'load', { n: 2 }, { scope: 'lib' }),
    a.create('t', 'dump', { n: 3 }, { scope: 'lib' }),
    b.create('t', 'load', { n: 4 }, { scope: 'other' }),
  ]);
  expect(created.slice(0, 3).map((t) => t.seq).sort()).toEqual([1, 2, 3]);
  expect(created[3].seq).toBe(1);
  expect((await a.list('t', 'lib')).map((t) => t.seq)).toEqual([1, 2, 3]);
  expect((await b.list('t', 'lib')).map((t) => t.id)).toEqual([...created.slice(0, 3)].sort((x, y) => x.seq! - y.seq!).map((t) => t.id));
  const unfiled = await a.create('t', 'load', { n: 5 });
  expect(unfiled.seq).toBeUndefined();
  expect(await a.list('t', 'lib')).toHaveLength(3);
  release();
  await Promise.all([a.idle(), b.idle()]);
  expect((await a.get('t', created[2].id)).state).toEqual({ n: 4 });
});

test('an exclusive kind is refused while one of its kind is unfinished in the scope, and accepted after', async () => {
  const tasks = runner();
  const first = await tasks.create('t', 'dump', { n: 0 }, { scope: 'lib', exclusive: true });
  await expect(tasks.create('t', 'dump', { n: 0 }, { scope: 'lib', exclusive: true })).rejects.toBeInstanceOf(AlreadyExistsError);
  // Other kinds and other scopes are not affected.
  await tasks.create('t', 'load', { n: 0 }, { scope: 'lib', exclusive: true });
  await tasks.create('t', 'dump', { n: 0 }, { scope: 'lib-2', exclusive: true });
  release();
  await tasks.idle();
  expect((await tasks.get('t', first.id)).status).toBe('succeeded');
  const next = await tasks.create('t', 'dump', { n: 0 }, { scope: 'lib', exclusive: true });
  expect(next.seq).toBe(3);
});

test('of exclusive creators racing on two runners, at most one gets through and no refused task is left', async () => {
  const a = runner();
  const b = runner();
  const outcomes = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).create('t', 'dump', { n: 0 }, { scope: 'lib', exclusive: true })));
  const accepted = outcomes.filter((o) => o.status === 'fulfilled');
  expect(accepted.length).toBeLessThanOrEqual(1);
  for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(AlreadyExistsError);
  expect((await a.list('t', 'lib')).map((t) => t.id)).toEqual(accepted.map((o) => (o as PromiseFulfilledResult<{ id: string }>).value.id));
  release();
  await Promise.all([a.idle(), b.idle()]);
});

test('reset of a tenant starts its series again', async () => {
  const tasks = runner();
  await tasks.create('t', 'load', { n: 0 }, { scope: 'lib' });
  await tasks.create('u', 'load', { n: 0 }, { scope: 'lib' });
  await tasks.idle();
  await store.reset('t');
  expect(await tasks.list('t', 'lib')).toEqual([]);
  expect((await tasks.create('t', 'load', { n: 0 }, { scope: 'lib' })).seq).toBe(1);
  expect((await tasks.create('u', 'load', { n: 0 }, { scope: 'lib' })).seq).toBe(2);
  await tasks.idle();
});

/**
 * A data directory written before task series (each instance's numbering kept in an index record filed as
 * a task): after the upgrade its tasks are still listed with their Ids, and new tasks go on after them.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DUMP_TASK_KIND, INCREMENT_TASK_KIND } from '../../adapters/alibaba/tasks';
import { openEmbeddedStore } from '../../core/store/embedded';
import { rpc } from '../helpers/alibaba';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

let gw: TestGateway;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'isg-alibaba-upgrade-'));
  const store = await openEmbeddedStore({ dir: path.join(dir, 'store') });
  const at = 1_700_000_000_000;
  const task = (id: string, kind: string, status: 'succeeded' | 'failed', state: unknown) => ({ tenant: 'default', id, kind, status, createdAt: at, updatedAt: at, state });
  // What the earlier build wrote: the tasks, and the instance's index (numeric Id → task) as a task of its own.
  await store.putTask(task('old-increment', INCREMENT_TASK_KIND, 'failed', { instance: 'generic', bucketName: 'b', path: '/p', next_line: 0, errors: [], error: 'gone' }));
  await store.putTask(task('old-dump', DUMP_TASK_KIND, 'succeeded', { instance: 'generic', file: 'old-dump.meta' }));
  await store.putTask(
    task('alibaba-task-index\u001fgeneric', 'alibaba.task-index', 'succeeded', {
      nextId: 3,
      entries: [
        { Id: 1, taskId: 'old-increment', kind: INCREMENT_TASK_KIND },
        { Id: 2, taskId: 'old-dump', kind: DUMP_TASK_KIND },
      ],
    }),
  );
  await store.close();
  gw = await startTestGateway({ libraries: [{ tenant: 'default', name: 'generic', mode: 'general_search' }] }, dir);
});

afterAll(async () => {
  await gw.destroy();
});

test('earlier tasks keep their Ids; the next one is numbered after them', async () => {
  const before = await rpc(gw.url, 'DumpMetaList', { InstanceName: 'generic' });
  expect(before.body.Data.DumpMetaList.map((d: { Id: number; Status: string }) => [d.Id, d.Status])).toEqual([[2, 'SUCCESS']]);
  const increments = await rpc(gw.url, 'IncreaseList', { InstanceName: 'generic' });
  expect(increments.body.Data.Increments.Instance.map((d: { Id: number; Status: string }) => [d.Id, d.Status])).toEqual([[1, 'FAIL']]);

  const dump = await rpc(gw.url, 'DumpMeta', { InstanceName: 'generic' });
  expect(dump.body.Data).toEqual({ DumpMetaStatus: 'PROCESSING', Id: '3' });
  await gw.tasks.idle();
  const after = await rpc(gw.url, 'DumpMetaList', { InstanceName: 'generic' });
  expect(after.body.Data.DumpMetaList.map((d: { Id: number }) => d.Id)).toEqual([3, 2]);
});

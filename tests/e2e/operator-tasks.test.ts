/** Batch import tasks: JSON-lines from the import directory or an allowed URL, per-line results, resumption. */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PREFIX } from '../../adapters/operator/limits';
import { OPEN_MODE_DEFAULT_TENANT } from '../../adapters/config';
import { tenantFolder } from '../../adapters/http/import-area';
import { STATUS } from '../../adapters/operator/errors';
import { get, post, startTestGateway, type TestGateway } from '../helpers/gateway';
import { productImage } from '../helpers/product-images';
import { makeScene } from '../helpers/synthetic-images';

async function waitForTask(gw: TestGateway, taskId: string, query = '', headers: Record<string, string> = {}) {
  for (let i = 0; i < 600; i++) {
    const res = await get(`${gw.url}${PREFIX}/image/tasks/results/${taskId}${query}`, headers);
    if (res.body.data && ['SUCCEEDED', 'FAILED'].includes(res.body.data.status)) return res.body.data;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('task did not finish');
}

const SECRET_PASSWORD = 'pw-7f3a9c1e';
const SECRET_TOKEN = 'tok-52be0d44';

/** Every file under `dir` whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .filter((file) => readFileSync(file).includes(needle));
}

describe('image/tasks', () => {
  let gw: TestGateway;
  let server: http.Server;
  let serverUrl: string;
  const op = (p: string, body: unknown) => post(`${gw.url}${PREFIX}/${p}`, body);

  beforeAll(async () => {
    const jpeg = await productImage('orange', 'ring');
    server = http.createServer((req, res) => {
      if (req.url === '/images/ring.jpg') return res.end(jpeg);
      if (req.url === '/batch.jsonl') return res.end(`${JSON.stringify({ image_id: 'u1', image_uri: `${serverUrl}/images/ring.jpg` })}\n`);
      // A file behind credentials: basic auth from the URL's user info and a token in its query.
      const basic = `Basic ${Buffer.from(`reader:${SECRET_PASSWORD}`).toString('base64')}`;
      if (req.url === `/private.jsonl?token=${SECRET_TOKEN}&v=2` && req.headers.authorization === basic) {
        return res.end(`${JSON.stringify({ image_id: 'p1', image_uri: `${serverUrl}/images/ring.jpg` })}\n`);
      }
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    gw = await startTestGateway({ fetch: { allowHosts: ['127.0.0.1'], maxBytes: 10 * 1024 * 1024, timeoutMs: 5000 } });
    await op('library/create', { library_name: 'bulk', mode: 'general_search' });
  });
  afterAll(async () => {
    await gw.destroy();
    server.close();
  });

  test('a file in the import directory: every line reported, good ones imported', async () => {
    const dir = path.join(gw.dataDir, 'imports', tenantFolder(OPEN_MODE_DEFAULT_TENANT)); // the default tenant's import area
    mkdirSync(path.join(dir, 'pics'), { recursive: true });
    writeFileSync(path.join(dir, 'pics', 'a.jpg'), await productImage('purple', 'square'));
    const lines = [
      JSON.stringify({ image_id: 'b64', image_uri: 'x/b64.jpg', image_base64: (await makeScene(1, 320, 240)).toString('base64'), tags: { k: 1 } }),
      JSON.stringify({ image_id: 'file', image_uri: 'pics/a.jpg', save_image: false }),
      '',
      '{not json',
      JSON.stringify({ image_id: 'nofile', image_uri: 'pics/missing.jpg' }),
      JSON.stringify({ image_id: 'escape', image_uri: '../../../etc/passwd' }),
      JSON.stringify({ image_id: 'bad', image_uri: 'x', image_base64: Buffer.from('not an image').toString('base64') }),
      JSON.stringify({ image_uri: 'no-id' }),
    ];
    writeFileSync(path.join(dir, 'batch.jsonl'), lines.join('\n'));
    const created = await op('image/tasks/create', { library_name: 'bulk', file_path: 'batch.jsonl' });
    expect(created.body).toMatchObject({ status: 'SUCCESS', data: { status: 'PENDING' } });
    const task = await waitForTask(gw, created.body.data.task_id);
    expect(task).toMatchObject({ status: 'SUCCEEDED', total: 7, processed: 7, succeeded: 2, failed: 5 });
    expect(task.results.map((r: any) => [r.line, r.status])).toEqual([
      [1, STATUS.success],
      [2, STATUS.success],
      [4, STATUS.invalidParameter],
      [5, STATUS.invalidParameter],
      [6, STATUS.invalidParameter],
      [7, STATUS.invalidImage],
      [8, STATUS.invalidParameter],
    ]);
    const listed = await op('image/list', { library_name: 'bulk' });
    expect(listed.body.data.images.map((i: any) => [i.image_id, i.saved_image]).sort()).toEqual([['b64', true], ['file', false]]);
    const page = await get(`${gw.url}${PREFIX}/image/tasks/results/${created.body.data.task_id}?offset=2&limit=2`);
    expect(page.body.data.results.map((r: any) => r.line)).toEqual([4, 5]);
  });

  test('a file at an allowed URL whose lines name image URLs', async () => {
    const created = await op('image/tasks/create', { library_name: 'bulk', file_url: `${serverUrl}/batch.jsonl` });
    const task = await waitForTask(gw, created.body.data.task_id);
    expect(task).toMatchObject({ status: 'SUCCEEDED', succeeded: 1, failed: 0 });
  });

  test('credentials in file_url are used for the fetch, never kept in the clear nor shown', async () => {
    const port = new URL(serverUrl).port;
    const url = `http://reader:${SECRET_PASSWORD}@127.0.0.1:${port}/private.jsonl?token=${SECRET_TOKEN}&v=2`;
    const created = await op('image/tasks/create', { library_name: 'bulk', file_url: url });
    const task = await waitForTask(gw, created.body.data.task_id);
    expect(task).toMatchObject({ status: 'SUCCEEDED', succeeded: 1, failed: 0 });
    expect(JSON.stringify(task)).not.toContain(SECRET_TOKEN);
    await gw.close(); // flush the store to its files, then look at every byte at rest
    try {
      expect(filesContaining(gw.dataDir, SECRET_PASSWORD)).toEqual([]);
      expect(filesContaining(gw.dataDir, SECRET_TOKEN)).toEqual([]);
      expect(filesContaining(gw.dataDir, `/private.jsonl?token=REDACTED&v=REDACTED`)).not.toEqual([]);
    } finally {
      gw = await startTestGateway({ fetch: { allowHosts: ['127.0.0.1'], maxBytes: 10 * 1024 * 1024, timeoutMs: 5000 } }, gw.dataDir);
    }
  });

  test('refusals: both or neither source, a missing library, an unknown task, a path outside the import dir', async () => {
    expect((await op('image/tasks/create', { library_name: 'bulk' })).status).toBe(400);
    expect((await op('image/tasks/create', { library_name: 'bulk', file_path: 'a', file_url: 'http://x' })).status).toBe(400);
    expect((await op('image/tasks/create', { library_name: 'none', file_path: 'batch.jsonl' })).status).toBe(404);
    const unknown = await get(`${gw.url}${PREFIX}/image/tasks/results/00000000-0000-0000-0000-000000000000`);
    expect([unknown.status, unknown.body.status]).toEqual([404, STATUS.taskNotFound]);
    const outside = await op('image/tasks/create', { library_name: 'bulk', file_path: '../store/../../etc/passwd' });
    const task = await waitForTask(gw, outside.body.data.task_id);
    expect(task.status).toBe('FAILED');
    expect(task.error_message).toBe("file_path '../store/../../etc/passwd' cannot be read from the import folder");
  });

  test('every unreadable path gets one neutral message naming only what was sent: missing, outside, a folder, NUL, another tenant\'s', async () => {
    // acme (open mode: the Bearer key names the tenant) asks for the default tenant's batch.jsonl, which exists.
    const acme = { authorization: 'Bearer acme' };
    await post(`${gw.url}${PREFIX}/library/create`, { library_name: 'bulk', mode: 'general_search' }, acme);
    const messages: string[] = [];
    for (const given of ['batch.jsonl', 'nope.jsonl', '../default/batch.jsonl', '.', 'pics', 'a\u0000b', '../../../../etc/nonexistent', '../../../../etc/passwd']) {
      const created = await post(`${gw.url}${PREFIX}/image/tasks/create`, { library_name: 'bulk', file_path: given }, acme);
      const task = await waitForTask(gw, created.body.data.task_id, '', acme);
      expect(task.status).toBe('FAILED');
      messages.push(task.error_message.replace(given, '<sent>'));
      expect(task.error_message).not.toMatch(/ENOENT|EISDIR|imports|\/tmp\//);
    }
    expect(new Set(messages)).toEqual(new Set(["file_path '<sent>' cannot be read from the import folder"]));
    // The default tenant still reads its own file.
    const own = await op('image/tasks/create', { library_name: 'bulk', file_path: 'batch.jsonl' });
    expect((await waitForTask(gw, own.body.data.task_id)).status).toBe('SUCCEEDED');
  });
});

test('an import interrupted by a stop resumes after restart with exact counts', async () => {
  let gw = await startTestGateway();
  await post(`${gw.url}${PREFIX}/library/create`, { library_name: 'resume', mode: 'general_search' });
  const jpeg = (await productImage('teal', 'circle', { width: 200, height: 200 })).toString('base64');
  const total = 400;
  const lines = Array.from({ length: total }, (_, i) => JSON.stringify({ image_id: `r${i}`, image_uri: `r/${i}.jpg`, image_base64: jpeg, save_image: false }));
  const area = path.join(gw.dataDir, 'imports', tenantFolder(OPEN_MODE_DEFAULT_TENANT));
  mkdirSync(area, { recursive: true });
  writeFileSync(path.join(area, 'big.jsonl'), lines.join('\n'));
  const created = await post(`${gw.url}${PREFIX}/image/tasks/create`, { library_name: 'resume', file_path: 'big.jsonl' });
  const taskId = created.body.data.task_id;
  // Stop as soon as some lines are in, well before the end.
  let before = 0;
  for (let i = 0; i < 200 && before === 0; i++) {
    before = (await post(`${gw.url}${PREFIX}/library/describe`, { library_name: 'resume' })).body.data.image_count;
    if (before === 0) await new Promise((r) => setTimeout(r, 20));
  }
  expect(before).toBeGreaterThan(0);
  expect(before).toBeLessThan(total);
  gw = await gw.restart();
  try {
    const task = await waitForTask(gw, taskId);
    expect(task).toMatchObject({ status: 'SUCCEEDED', total, processed: total, succeeded: total, failed: 0 });
    expect(new Set(task.results.map((r: any) => r.line)).size).toBe(total);
    const count = (await post(`${gw.url}${PREFIX}/library/describe`, { library_name: 'resume' })).body.data.image_count;
    expect(count).toBe(total);
  } finally {
    await gw.destroy();
  }
});

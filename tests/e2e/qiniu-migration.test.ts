/**
 * docs/migration.md, Qiniu section: the import script printed there, run as written (node, the qiniu
 * package) against a gateway in verify mode, twice — the second run resumes/re-sends without doubling.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { get, startTestGateway, type TestGateway } from '../helpers/gateway';
import { productImage } from '../helpers/product-images';
import { startImageServer } from '../helpers/qiniu';

const run = promisify(execFile);
const REPO = path.resolve(__dirname, '../..');
const KEYS = { ak: 'MigrationAccessKey', sk: 'MigrationSecretKey' };
const script = /## Qiniu[\s\S]*?```js\n([\s\S]*?)```/.exec(readFileSync(path.join(REPO, 'docs/migration.md'), 'utf8'))![1];

let gw: TestGateway;
let server: { url: string; close(): Promise<void> };
let dir: string;

beforeAll(async () => {
  const served = new Map<string, Buffer>();
  for (const [i, shape] of (['circle', 'square', 'triangle', 'ring'] as const).entries()) served.set(`/p/${i}.jpg`, await productImage('#803040', shape));
  server = await startImageServer(served);
  gw = await startTestGateway({
    auth: { mode: 'verify', tenants: [{ id: 'shop', qiniu: { accessKeys: [KEYS] } }] },
    fetch: { allowHosts: ['127.0.0.1'], maxBytes: 20 * 1024 * 1024, timeoutMs: 10_000 },
  });
  dir = mkdtempSync(path.join(os.tmpdir(), 'isg-migration-'));
});
afterAll(async () => {
  await gw.destroy();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the documented script imports a manifest, records progress and failures, and can run again safely', async () => {
  const scriptFile = path.join(dir, 'import-group.js');
  const manifest = path.join(dir, 'group.jsonl');
  writeFileSync(scriptFile, script);
  const lines = [0, 1, 2, 3].map((i) => ({ id: `p${i}`, uri: `${server.url}/p/${i}.jpg`, label: `label ${i}`, desc: { i } }));
  lines.push({ id: 'gone', uri: `${server.url}/p/missing.jpg`, label: 'x', desc: { i: 9 } });
  writeFileSync(manifest, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const env = { ...process.env, NODE_PATH: path.join(REPO, 'node_modules'), QINIU_AK: KEYS.ak, QINIU_SK: KEYS.sk };

  const first = await run(process.execPath, [scriptFile, gw.url, 'catalog', manifest], { env });
  expect(first.stdout).toContain('catalog: 5/5');
  expect(readFileSync(`${manifest}.progress`, 'utf8')).toBe('5');
  const failed = readFileSync(`${manifest}.failed.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(failed.map((f) => f.id)).toEqual(['gone']);

  // Run again from the start (progress lost): stored images answer "id already exists" and are not doubled.
  rmSync(`${manifest}.progress`);
  await run(process.execPath, [scriptFile, gw.url, 'catalog', manifest], { env });
  // Reading back needs the tenant's signature too: the script's own signing, through a second tiny run.
  const check = `const q=require('qiniu');const m=new q.auth.digest.Mac('${KEYS.ak}','${KEYS.sk}');const u='${gw.url}/v1/image/group/catalog/info';
fetch(u,{headers:{Authorization:q.util.generateAccessTokenV2(m,u,'GET','application/json'),'Content-Type':'application/json'}}).then(r=>r.text()).then(t=>console.log(t));`;
  const info = await run(process.execPath, ['-e', check], { env });
  expect(JSON.parse(info.stdout)).toEqual({ count: 4 });
  expect((await get(`${gw.url}/v1/image/group/catalog/info`)).status).toBe(401);
});

/**
 * The command line as the README writes it: `npx isg <command>` in the checkout (package.json's bin, built
 * by npm ci's prepare step and by npm test). Every command `isg --help` lists answers its own --help; a
 * folder of pictures goes in with `npx isg import` and comes back out with `npx isg export`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { productImage } from '../helpers/product-images';

const ROOT = path.resolve(__dirname, '../..');
const dirs: string[] = [];

/** `npx isg …` in the checkout, as a reader of the README types it. */
function npxIsg(...args: string[]) {
  const run = spawnSync('npx', ['isg', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ISG_LOG_LEVEL: 'silent' } });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** The same, without blocking this process (a test that serves a port while the command runs). */
function npxIsgAsync(...args: string[]): Promise<{ status: number | null; stderr: string }> {
  const child = spawn('npx', ['isg', ...args], { cwd: ROOT, env: { ...process.env, ISG_LOG_LEVEL: 'silent' } });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdout.resume();
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stderr })));
}

/** What isg wrote to stderr, npx's own warnings aside. */
function ours(stderr: string): string[] {
  return stderr.split('\n').filter((line) => !line.startsWith('npm warn') && line.trim() !== '');
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('npx isg --help lists the commands, and each answers its own --help', () => {
  const help = npxIsg('--help');
  expect(help.status).toBe(0);
  const commands = [...help.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]);
  expect(commands).toEqual(expect.arrayContaining(['serve', 'models', 'store', 'import', 'export', 'parity']));
  for (const command of commands) {
    const own = npxIsg(command, '--help');
    expect({ command, status: own.status, stderr: own.stderr.replace(/^npm warn .*\n/gm, '') }).toEqual({ command, status: 0, stderr: '' });
    expect(own.stdout).toContain(`isg ${command}`);
  }
});

test('npx isg store compact on a data directory a running gateway holds says so in one line', () => {
  const data = tempDir('isg-cli-lock-');
  mkdirSync(path.join(data, 'store'));
  writeFileSync(path.join(data, 'store', 'LOCK'), String(process.pid)); // this test's process: alive
  const run = npxIsg('store', 'compact', '--data', data);
  expect(run.status).toBe(1);
  expect(ours(run.stderr)).toEqual([`isg: data directory ${path.join(data, 'store')} is in use by process ${process.pid}`]);
});

test('npx isg serve on a port another process listens on says so in one line', async () => {
  const busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const { port } = busy.address() as net.AddressInfo;
  try {
    const run = await npxIsgAsync('serve', '--port', String(port), '--data', tempDir('isg-cli-port-'));
    expect(run.status).toBe(1);
    expect(ours(run.stderr)).toEqual([`isg: listen EADDRINUSE: address already in use 127.0.0.1:${port}`]);
  } finally {
    busy.close();
  }
});

test('npx isg models list shows the bundled default model', () => {
  const list = npxIsg('models', 'list');
  expect(list.status).toBe(0);
  expect(list.stdout).toMatch(/^default \(default\)\s+228\s/m);
});

test('npx isg import loads a folder of pictures and npx isg export writes it back out', async () => {
  const data = tempDir('isg-cli-data-');
  const pictures = path.join(tempDir('isg-cli-pictures-'), 'shelf');
  mkdirSync(pictures);
  writeFileSync(path.join(pictures, 'red-circle.jpg'), await productImage('#d01010', 'circle'));
  writeFileSync(path.join(pictures, 'blue-square.jpg'), await productImage('#1f4fd0', 'square'));

  const imported = npxIsg('import', '--library', 'shelf', '--create', 'general_search', '--data', data, pictures);
  expect(imported.status).toBe(0);
  expect(imported.stderr).toContain('100% 2/2'); // the progress bar

  const out = path.join(tempDir('isg-cli-export-'), 'shelf');
  const exported = npxIsg('export', '--library', 'shelf', '--data', data, '--out', out);
  expect(exported.status).toBe(0);
  const manifest = readFileSync(path.join(out, 'manifest.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(manifest).toHaveLength(2);
  expect(readdirSync(out)).toEqual(expect.arrayContaining(['library.json', 'manifest.jsonl']));
});

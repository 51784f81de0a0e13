/**
 * isg models list / add / pull. pull runs against a local HTTP server (127.0.0.1) that answers like the
 * Hugging Face hub (repository listing with git blob ids and LFS sha256, /resolve/ downloads), serving
 * the generated tiny CLIP model: no network.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IMMICH_FILES } from '../../core/embed/immich-layout';
import { ModelRegistry } from '../../core/embed/registry';
import { sha256File } from '../../core/embed/runner';
import { buildTinyClip, writeTinyClip } from '../../models/build-tiny-clip';
import { modelsCommand, renderBar, type CommandIO } from '../../bin/commands/models';

const REPO = 'immich-app/tiny-clip';
const files = buildTinyClip();
/** Files the hub has that the gateway does not need. */
const EXTRA = new Map([
  ['visual/fp16/model.armnn', Buffer.from('not for us')],
  ['README.md', Buffer.from('# tiny-clip\n')],
]);

let server: http.Server;
let hub: string;
let corrupt = false;
let work: string;

function io(): CommandIO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s), isTTY: false },
    env: {},
    out: () => out,
    err: () => err,
  };
}

beforeAll(async () => {
  const all = new Map([...files, ...EXTRA]);
  server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === `/api/models/${REPO}/tree/main` && url.searchParams.get('recursive') === 'true') {
      const listing = [...all].map(([p, content]) => {
        const oid = createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
        const lfs = p.endsWith('.onnx') ? { oid: createHash('sha256').update(content).digest('hex'), size: content.length } : undefined;
        return { type: 'file', path: p, size: content.length, oid, ...(lfs ? { lfs } : {}) };
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([{ type: 'directory', path: 'visual', size: 0, oid: 'x' }, ...listing]));
      return;
    }
    const prefix = `/${REPO}/resolve/main/`;
    const content = url.pathname.startsWith(prefix) ? all.get(decodeURIComponent(url.pathname.slice(prefix.length))) : undefined;
    if (!content) {
      res.writeHead(404).end('not found');
      return;
    }
    const body = corrupt && url.pathname.endsWith('textual/model.onnx') ? Buffer.from(content).fill(7, 100, 110) : content;
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hub = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'isg-models-cmd-'));
  corrupt = false;
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

test('pull downloads the Immich files only, checks every checksum, pins and installs the model', async () => {
  const modelsDir = path.join(work, 'models');
  const cli = io();
  await modelsCommand(['pull', 'tiny-clip', '--hub', hub, '--models', modelsDir], cli);

  const installed = path.join(modelsDir, 'tiny-clip');
  for (const [p, content] of files) expect(readFileSync(path.join(installed, p))).toEqual(content);
  for (const p of EXTRA.keys()) expect(existsSync(path.join(installed, p))).toBe(false);
  expect(readdirSync(modelsDir)).toEqual(['tiny-clip']); // no download leftovers
  const manifest = JSON.parse(readFileSync(path.join(installed, 'manifest.json'), 'utf8'));
  expect(manifest.sha256[IMMICH_FILES.visual]).toBe(await sha256File(path.join(installed, IMMICH_FILES.visual)));
  expect(Object.keys(manifest.sha256).sort()).toEqual(
    [IMMICH_FILES.visual, IMMICH_FILES.textual, IMMICH_FILES.tokenizer, IMMICH_FILES.tokenizerConfig].sort(),
  );
  // Progress: one line per file, the last at 100 %.
  const lines = cli.err().trim().split('\n');
  expect(lines).toHaveLength(files.size);
  expect(lines[lines.length - 1]).toMatch(/100%/);
  expect(cli.out()).toMatch(/installed tiny-clip/);

  const registry = new ModelRegistry(modelsDir, 'tiny-clip');
  try {
    const model = await registry.get('tiny-clip');
    expect(model.embedText).toBeDefined();
  } finally {
    await registry.close();
  }

  const list = io();
  await modelsCommand(['list', '--models', modelsDir], list);
  expect(list.out()).toMatch(/^tiny-clip\s+7\s+224x224 shortest-side crop\s+yes \(77 tokens\)\s+fp32\s+immich\s+yes$/m);
});

test('a file whose checksum does not match is refused and nothing is installed', async () => {
  corrupt = true;
  const modelsDir = path.join(work, 'models');
  await expect(modelsCommand(['pull', 'tiny-clip', '--hub', hub, '--models', modelsDir], io())).rejects.toThrow(
    /textual\/model\.onnx: checksum mismatch .*nothing was installed/,
  );
  expect(readdirSync(modelsDir)).toEqual([]);
});

test('an unknown model name is a clear error', async () => {
  await expect(modelsCommand(['pull', 'no-such-model', '--hub', hub, '--models', work], io())).rejects.toThrow(/immich-app\/no-such-model .*not found/);
});

test('add validates, copies and pins a folder; the same name is never replaced', async () => {
  const source = path.join(work, 'my-clip');
  writeTinyClip(source);
  const modelsDir = path.join(work, 'models');
  await modelsCommand(['add', source, '--models', modelsDir], io());
  expect(existsSync(path.join(modelsDir, 'my-clip', 'manifest.json'))).toBe(true);
  expect(existsSync(path.join(source, 'manifest.json'))).toBe(false); // the source folder is left alone
  await expect(modelsCommand(['add', source, '--models', modelsDir], io())).rejects.toThrow(/already installed/);
});

test('add refuses a folder that is not a model, or whose preprocessing cannot be honoured', async () => {
  const modelsDir = path.join(work, 'models');
  await expect(modelsCommand(['add', work, '--models', modelsDir], io())).rejects.toThrow(/not a model folder/);
  const source = path.join(work, 'odd-clip');
  writeTinyClip(source);
  const cfg = JSON.parse(readFileSync(path.join(source, IMMICH_FILES.preprocess), 'utf8'));
  writeFileSync(path.join(source, IMMICH_FILES.preprocess), JSON.stringify({ ...cfg, interpolation: 'hamming' }));
  await expect(modelsCommand(['add', source, '--models', modelsDir], io())).rejects.toThrow(/interpolation 'hamming'/);
  expect(existsSync(path.join(modelsDir, 'odd-clip'))).toBe(false);
});

test('renderBar', () => {
  expect(renderBar(512, 2048, 8)).toBe('[##------]  25% 512 B/2.0 KB');
  expect(renderBar(0, 0, 4)).toBe('[####] 100% 0 B/0 B');
});

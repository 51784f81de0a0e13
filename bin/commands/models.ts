/**
 * isg models — the models directory from the command line.
 *
 *   isg models list                      the installed models: name, dimension, input, text tower
 *   isg models add DIR [--name N]        validate a model folder (manifest.json or Immich layout), copy it into
 *                  [--precision P]       the models directory and pin it: manifest.json with every file's sha256
 *   isg models pull NAME [--name N]      download a published Immich-layout model (huggingface.co/immich-app/NAME,
 *                  [--hub URL]           or OWNER/NAME) with a progress bar, check every file's checksum, then add it
 *
 * Common options: --config FILE (models.dir of the config file), --models DIR (overrides it).
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { cp, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { hasInt8Variants, IMMICH_FILES, isImmichLayout, manifestFromImmichLayout } from '../../core/embed/immich-layout';
import type { ModelManifest } from '../../core/embed/manifest';
import { isModelFolder, MANIFEST_FILE, readModelManifest } from '../../core/embed/model-folder';
import { MODEL_NAME_PATTERN, ModelRegistry } from '../../core/embed/registry';
import { loadModel, sha256File } from '../../core/embed/runner';
import { toTensor } from '../../core/image/tensor';
import { ConfigError, loadSettings } from '../config';

export const MODELS_USAGE = `usage: isg models <list|add|pull> [options]

  list                         list the installed models
  add DIR                      validate a model folder, copy it into the models directory and pin its checksums
      --name NAME              name to install it under (default: the folder's name)
      --precision fp32|int8    Immich layout: which ONNX files to use (default: int8 when model_int8.onnx files exist)
  pull NAME                    download a published Immich-layout model (immich-app/NAME or OWNER/NAME) and add it
      --name NAME              name to install it under (default: NAME without its owner)
      --hub URL                model hub (ISG_MODEL_HUB, default ${'https://huggingface.co'})
      --revision REV           hub revision (default main)

  --models DIR                 the models directory (default: models.dir of the config file, or the bundled one)
  --config FILE                JSON config file (ISG_CONFIG)
`;

export const DEFAULT_HUB = 'https://huggingface.co';
const DEFAULT_OWNER = 'immich-app';

/** Files of an Immich-layout repository that the gateway uses (the rest — ARM NN, RKNN, fp16 — are skipped). */
const PULLED_FILES: readonly string[] = Object.values(IMMICH_FILES);

export interface CommandIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export async function modelsCommand(argv: string[], io: CommandIO): Promise<void> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: {
      models: { type: 'string' },
      config: { type: 'string' },
      name: { type: 'string' },
      precision: { type: 'string' },
      hub: { type: 'string' },
      revision: { type: 'string' },
    },
  });
  const settings = loadSettings({ configFile: values.config }, io.env);
  const modelsDir = path.resolve(values.models ?? settings.modelsDir);
  switch (sub) {
    case 'list':
      return listModels(modelsDir, settings.defaultModel, io);
    case 'add': {
      if (positionals.length !== 1) throw new ConfigError('isg models add needs one folder: isg models add DIR');
      const precision = values.precision;
      if (precision !== undefined && precision !== 'fp32' && precision !== 'int8') throw new ConfigError('--precision must be fp32 or int8');
      await addModel(path.resolve(positionals[0]), { modelsDir, name: values.name, precision, io });
      return;
    }
    case 'pull': {
      if (positionals.length !== 1) throw new ConfigError('isg models pull needs one model name, e.g. isg models pull ViT-B-32__openai');
      const hub = values.hub ?? io.env.ISG_MODEL_HUB ?? DEFAULT_HUB;
      await pullModel(positionals[0], { modelsDir, hub, revision: values.revision ?? 'main', name: values.name, io });
      return;
    }
    default:
      throw new ConfigError(`isg models: unknown subcommand '${sub ?? ''}'\n\n${MODELS_USAGE}`);
  }
}

// ---- list ---------------------------------------------------------------------------------------

async function listModels(modelsDir: string, defaultModel: string, io: CommandIO): Promise<void> {
  const registry = new ModelRegistry(modelsDir, defaultModel);
  const rows = [['NAME', 'DIMENSION', 'INPUT', 'TEXT', 'PRECISION', 'LAYOUT', 'PINNED']];
  for (const name of registry.names()) {
    try {
      const m = await registry.describe(name);
      const p = m.visual.preprocess;
      rows.push([
        name + (name === defaultModel ? ' (default)' : ''),
        String(m.dimension),
        `${p.width}x${p.height} ${p.resize === 'fill' ? 'squash' : 'shortest-side crop'}`,
        m.textual ? `yes (${m.textual.contextLength} tokens)` : 'no',
        m.precision ?? 'fp32',
        m.layout ?? 'manifest',
        m.sha256 ? 'yes' : 'no',
      ]);
    } catch (err) {
      rows.push([name, '-', `unreadable: ${(err as Error).message}`, '', '', '', '']);
    }
  }
  io.stdout.write(`models in ${modelsDir}\n`);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) io.stdout.write(r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd() + '\n');
}

// ---- add ----------------------------------------------------------------------------------------

export interface AddOptions {
  modelsDir: string;
  name?: string;
  precision?: 'fp32' | 'int8';
  io: CommandIO;
  /** Move the folder instead of copying it (pull does, from its download folder). */
  move?: boolean;
}

/** Validate `source`, install it as modelsDir/NAME with a pinned manifest.json; returns that manifest. */
export async function addModel(source: string, options: AddOptions): Promise<ModelManifest> {
  const { modelsDir, io } = options;
  if (!existsSync(source) || !isModelFolder(source)) {
    throw new ConfigError(`${source} is not a model folder: it needs a ${MANIFEST_FILE} or the Immich layout (${IMMICH_FILES.config}, ${IMMICH_FILES.visual}, ${IMMICH_FILES.preprocess})`);
  }
  const name = options.name ?? path.basename(source);
  if (!MODEL_NAME_PATTERN.test(name)) throw new ConfigError(`model name '${name}' must match ${MODEL_NAME_PATTERN}`);
  const target = path.join(modelsDir, name);
  const inPlace = path.resolve(target) === path.resolve(source);

  // The manifest to pin: an existing manifest.json as it is, or the Immich layout's, with int8 when present.
  const immich = !existsSync(path.join(source, MANIFEST_FILE)) && isImmichLayout(source);
  const precision = options.precision ?? (immich && hasInt8Variants(source) ? 'int8' : 'fp32');
  const manifest = immich ? await manifestFromImmichLayout(source, { name, precision }) : await readModelManifest(source);
  if (!immich && options.precision) throw new ConfigError('--precision applies to Immich-layout folders only');
  if (inPlace && manifest.sha256) {
    io.stdout.write(`${name} is already installed and pinned\n`);
    return manifest;
  }
  if (!inPlace && existsSync(target)) {
    // A library's model never changes silently: an installed model is not replaced.
    throw new ConfigError(`a model named '${name}' is already installed in ${modelsDir}; choose another --name`);
  }

  await validateModel(source, manifest, io);
  manifest.sha256 = {};
  for (const file of filesOf(manifest)) manifest.sha256[file] = await sha256File(path.join(source, file));

  if (!inPlace) {
    mkdirSync(modelsDir, { recursive: true });
    if (options.move) await rename(source, target);
    else await cp(source, target, { recursive: true, errorOnExist: true, force: false });
  }
  await writeFile(path.join(target, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  const p = manifest.visual.preprocess;
  io.stdout.write(
    `installed ${name} in ${target}\n` +
      `  dimension ${manifest.dimension}, precision ${manifest.precision ?? 'fp32'}\n` +
      `  image input ${p.width}x${p.height}, ${p.resize === 'fill' ? 'squashed' : 'shortest side resized then centre-cropped'}, ` +
      `kernel ${p.kernel ?? 'linear'}, mean [${p.mean.join(', ')}], std [${p.std.join(', ')}]\n` +
      `  text tower: ${manifest.textual ? `yes, context length ${manifest.textual.contextLength}` : 'no (image search only)'}\n`,
  );
  return manifest;
}

/** The files a manifest uses (all are checksummed). */
function filesOf(m: ModelManifest): string[] {
  const files = [m.visual.file];
  if (m.textual) files.push(m.textual.file, m.textual.tokenizer, ...(m.textual.tokenizerConfig ? [m.textual.tokenizerConfig] : []));
  return files;
}

/** Load the model as the gateway would, and embed one image and one text to check the output dimension. */
async function validateModel(dir: string, manifest: ModelManifest, io: CommandIO): Promise<void> {
  // loadModel reads a folder's manifest: give it the one being pinned, in a temp folder of links, so the
  // source folder (perhaps read-only) is not touched.
  const staging = await mkdtemp(path.join(tmpdir(), 'isg-model-validate-'));
  const probeDir = await writeProbe(dir, manifest, staging);
  const model = await loadModel(probeDir, { maxBatch: 1, threads: 1 }).catch((err) => {
    throw new ConfigError(`the model does not load: ${(err as Error).message}`);
  });
  try {
    const grey = sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 128, g: 128, b: 128 } } });
    const image = await model.embedImage(await toTensor(grey.png(), manifest.visual.preprocess));
    if (image.length !== manifest.dimension) throw new ConfigError(`the image tower returns ${image.length} values, the model says ${manifest.dimension}`);
    if (model.embedText) {
      const text = await model.embedText('a photo');
      if (text.length !== manifest.dimension) throw new ConfigError(`the text tower returns ${text.length} values, the model says ${manifest.dimension}`);
    }
    io.stdout.write(`validated: image${model.embedText ? ' and text' : ''} embeddings of dimension ${manifest.dimension}\n`);
  } catch (err) {
    throw err instanceof ConfigError ? err : new ConfigError(`the model does not run: ${(err as Error).message}`);
  } finally {
    await model.close();
    await rm(staging, { recursive: true, force: true });
  }
}

/** A folder of symlinks to the model's files plus the manifest under test. */
async function writeProbe(dir: string, manifest: ModelManifest, staging: string): Promise<string> {
  for (const file of filesOf(manifest)) {
    mkdirSync(path.dirname(path.join(staging, file)), { recursive: true });
    await symlink(path.join(dir, file), path.join(staging, file));
  }
  await writeFile(path.join(staging, MANIFEST_FILE), JSON.stringify({ ...manifest, sha256: undefined }));
  return staging;
}

// ---- pull ---------------------------------------------------------------------------------------

export interface PullOptions {
  modelsDir: string;
  hub: string;
  revision: string;
  name?: string;
  io: CommandIO;
}

/** One file of a hub repository listing (Hugging Face /api/models/{repo}/tree/{revision}). */
interface HubFile {
  type: string;
  path: string;
  size: number;
  /** git blob id (sha1 of "blob <size>\0" + content). */
  oid: string;
  /** Large files: sha256 of the content. */
  lfs?: { oid: string; size: number };
}

export async function pullModel(spec: string, options: PullOptions): Promise<ModelManifest> {
  const { io, modelsDir } = options;
  const repo = spec.includes('/') ? spec : `${DEFAULT_OWNER}/${spec}`;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/.test(repo)) throw new ConfigError(`'${spec}' is not a model name`);
  const name = options.name ?? repo.split('/')[1];
  if (!MODEL_NAME_PATTERN.test(name)) throw new ConfigError(`model name '${name}' must match ${MODEL_NAME_PATTERN}`);
  if (existsSync(path.join(modelsDir, name))) throw new ConfigError(`a model named '${name}' is already installed in ${modelsDir}; choose another --name`);
  const hub = options.hub.replace(/\/+$/, '');

  const listing = await listRepository(hub, repo, options.revision);
  const wanted = listing.filter((f) => f.type === 'file' && PULLED_FILES.includes(f.path));
  for (const required of [IMMICH_FILES.config, IMMICH_FILES.preprocess]) {
    if (!wanted.some((f) => f.path === required)) throw new ConfigError(`${repo} is not in the Immich layout: it has no ${required}`);
  }
  if (!wanted.some((f) => f.path === IMMICH_FILES.visual || f.path === IMMICH_FILES.visualInt8)) {
    throw new ConfigError(`${repo} is not in the Immich layout: it has no ${IMMICH_FILES.visual}`);
  }

  mkdirSync(modelsDir, { recursive: true });
  const staging = path.join(modelsDir, `.pull-${name}-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  try {
    const total = wanted.reduce((s, f) => s + (f.lfs?.size ?? f.size), 0);
    const progress = new ProgressBar(io.stderr, total);
    for (const file of wanted) {
      const url = `${hub}/${repo}/resolve/${encodeURIComponent(options.revision)}/${file.path.split('/').map(encodeURIComponent).join('/')}`;
      await download(url, path.join(staging, file.path), file, progress);
    }
    progress.finish();
    return await addModel(staging, { modelsDir, name, io, move: true });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function listRepository(hub: string, repo: string, revision: string): Promise<HubFile[]> {
  const files: HubFile[] = [];
  let url: string | undefined = `${hub}/api/models/${repo}/tree/${encodeURIComponent(revision)}?recursive=true`;
  while (url) {
    const res = await fetch(url, { redirect: 'follow' });
    if (res.status === 404 || res.status === 401) throw new ConfigError(`${repo} (revision ${revision}) was not found on ${hub}`);
    if (!res.ok) throw new ConfigError(`${hub} answered ${res.status} listing ${repo}`);
    const page = (await res.json()) as HubFile[];
    if (!Array.isArray(page)) throw new ConfigError(`${hub} returned an unexpected listing for ${repo}`);
    files.push(...page);
    // Large repositories are paged: Link: <url>; rel="next"
    url = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
  }
  return files;
}

/** Download one file, hashing as it streams, and refuse it unless size and checksum match the listing. */
async function download(url: string, dest: string, file: HubFile, progress: ProgressBar): Promise<void> {
  const res = await fetch(url, { redirect: 'follow' });
  if (!res.ok || !res.body) throw new ConfigError(`download of ${file.path} failed: HTTP ${res.status}`);
  const size = file.lfs?.size ?? file.size;
  // LFS files are named by the sha256 of their content; small files by their git blob sha1.
  const hash = file.lfs ? createHash('sha256') : createHash('sha1').update(`blob ${size}\0`);
  let received = 0;
  mkdirSync(path.dirname(dest), { recursive: true });
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      received += chunk.length;
      hash.update(chunk);
      progress.advance(file.path, chunk.length);
      done(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), meter, createWriteStream(dest));
  const expected = (file.lfs?.oid ?? file.oid).toLowerCase();
  const actual = hash.digest('hex');
  if (received !== size) throw new ConfigError(`${file.path}: received ${received} bytes, the hub lists ${size}`);
  if (actual !== expected) {
    throw new ConfigError(`${file.path}: checksum mismatch (${file.lfs ? 'sha256' : 'git blob sha1'} ${actual}, expected ${expected}); nothing was installed`);
  }
}

/** A one-line progress bar on a terminal; on anything else, one line per finished file. */
export class ProgressBar {
  private done = 0;
  private current = '';
  private fileDone = 0;
  private lastDraw = 0;

  constructor(
    private readonly out: { write(s: string): unknown; isTTY?: boolean },
    private readonly total: number,
  ) {}

  advance(file: string, bytes: number): void {
    if (file !== this.current) this.endFile();
    this.current = file;
    this.fileDone += bytes;
    this.done += bytes;
    if (this.out.isTTY && (Date.now() - this.lastDraw > 100 || this.done === this.total)) {
      this.lastDraw = Date.now();
      this.out.write(`\r${renderBar(this.done, this.total)} ${file}\u001b[K`);
    }
  }

  finish(): void {
    this.endFile();
    if (this.out.isTTY) this.out.write(`\r${renderBar(this.done, this.total)}\u001b[K\n`);
  }

  private endFile(): void {
    if (this.current && !this.out.isTTY) this.out.write(`${renderBar(this.done, this.total)} ${this.current} (${formatBytes(this.fileDone)})\n`);
    this.current = '';
    this.fileDone = 0;
  }
}

export function renderBar(done: number, total: number, width = 30): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${formatBytes(done)}/${formatBytes(total)}`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

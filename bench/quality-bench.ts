/**
 * npm run bench:quality [-- --half report|tuning|all] [-- --views off]
 *
 * Near-duplicate quality of the default model through the engine, on real photographs: wallpapers from
 * Debian packages, fetched with `apt-get download` into a cache outside the repository
 * (ISG_QUALITY_CACHE, default ~/.cache/isg-quality), never committed. Each picture is downscaled once to
 * 1024 px on its long side (cached). Pictures are split deterministically (by a hash of the file name) into
 * a tuning half and a report half; tune on one, report on the other.
 *
 * The database holds every picture of the half plus its left and right 60 % (distractors: a hit on a crop
 * of the right picture is still a miss). Each picture is edited as below and searched; a hit is the original.
 * Printed per edit: R@1, R@10, mAP (one relevant image, so the mean reciprocal rank within the top 100);
 * mild and strong aggregates; the mean score of unrelated pairs; the cost (vectors per image, ingest
 * images/s, search p50/p99). Run once without views and once with, side by side.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { PACKAGE_ROOT } from '../bin/config';
import { ModelRegistry } from '../core/embed/registry';
import { Engine } from '../core/engine';
import { DEFAULT_VIEWS, QUERY_VIEWS, type ViewName } from '../core/image/views';
import { openStore } from '../core/store/open-store';
import { quantile } from './stats';

/** Debian packages with photographs. gnome-backgrounds, mate-backgrounds and plasma-workspace-wallpapers
 * are deliberately absent: they are reserved for a held-out check nobody tunes on. */
const PACKAGES = [
  'ukui-wallpapers',
  'lomiri-wallpapers',
  'lomiri-wallpapers-16.04',
  'lomiri-wallpapers-20.04',
  'sway-backgrounds',
  'desktop-base',
  'debian-edu-artwork-emerald',
  'debian-edu-artwork-homeworld',
  'debian-edu-artwork-spacefun',
  'debian-edu-artwork-softwaves',
  'debian-edu-artwork-buster',
  'mypaint-data-extras',
];
const FORBIDDEN = /gnome-backgrounds|mate-backgrounds|plasma-workspace-wallpapers/;

const log = (line: string) => process.stdout.write(`${line}\n`);

// ---- the pictures ------------------------------------------------------------------------------

function ensurePackages(cache: string): string {
  for (const pkg of PACKAGES) if (FORBIDDEN.test(pkg)) throw new Error(`${pkg} is reserved for the held-out check`);
  const debs = path.join(cache, 'debs');
  const extract = path.join(cache, 'extract');
  mkdirSync(debs, { recursive: true });
  const have = readdirSync(debs);
  const missing = PACKAGES.filter((p) => !have.some((f) => f.startsWith(`${p}_`)));
  for (const pkg of missing) {
    try {
      execFileSync('apt-get', ['download', pkg], { cwd: debs, stdio: 'ignore' });
    } catch {
      log(`  (apt-get download ${pkg} failed: run apt-get update once, or the package is not in this release)`);
    }
  }
  for (const f of readdirSync(debs)) {
    if (!f.endsWith('.deb') || FORBIDDEN.test(f)) continue;
    const stamp = path.join(extract, `.${f}.done`);
    if (existsSync(stamp)) continue;
    mkdirSync(extract, { recursive: true });
    execFileSync('dpkg-deb', ['-x', path.join(debs, f), extract]);
    writeFileSync(stamp, '');
  }
  return extract;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(p, out);
    else if (/\.(jpe?g|png)$/i.test(entry.name) && statSync(p).size > 60_000) out.push(p);
  }
  return out.sort();
}

/** Candidate photographs, each downscaled once to 1024 px long side (cached as JPEG q92). */
async function loadPictures(cache: string): Promise<Array<{ name: string; jpeg: Buffer }>> {
  const extract = ensurePackages(cache);
  const scaled = path.join(cache, 'scaled');
  mkdirSync(scaled, { recursive: true });
  const out: Array<{ name: string; jpeg: Buffer }> = [];
  for (const file of walk(extract)) {
    const name = path.relative(extract, file);
    const target = path.join(scaled, `${createHash('sha1').update(name).digest('hex').slice(0, 16)}.jpg`);
    if (!existsSync(target)) {
      try {
        const meta = await sharp(file).metadata();
        // Icons, logos and thin strips are not photographs.
        if (!meta.width || !meta.height || Math.min(meta.width, meta.height) < 400) {
          writeFileSync(target, '');
          continue;
        }
        writeFileSync(target, await sharp(file).rotate().resize(1024, 1024, { fit: 'inside' }).flatten({ background: '#ffffff' }).jpeg({ quality: 92 }).toBuffer());
      } catch {
        writeFileSync(target, '');
        continue;
      }
    }
    const jpeg = readFileSync(target);
    if (jpeg.length > 0) out.push({ name, jpeg });
  }
  return out;
}

/** Deterministic pseudo-random numbers per picture (edits that need a position). */
function rng(seed: string): () => number {
  let h = createHash('sha256').update(seed).digest().readUInt32LE(0) || 1;
  return () => {
    h ^= h << 13;
    h ^= h >>> 17;
    h ^= h << 5;
    return (h >>> 0) / 0x100000000;
  };
}

// ---- edits ---------------------------------------------------------------------------------------

type Edit = { name: string; strength: 'mild' | 'strong' | 'invented'; apply(jpeg: Buffer, seed: string): Promise<Buffer> };

async function size(jpeg: Buffer): Promise<{ width: number; height: number }> {
  const m = await sharp(jpeg).metadata();
  return { width: m.width!, height: m.height! };
}

function textSvg(width: number, height: number, lines: Array<{ x: number; y: number; size: number; text: string }>, band?: { y: number; h: number }): Buffer {
  const rect = band ? `<rect x="0" y="${band.y}" width="${width}" height="${band.h}" fill="#202020" fill-opacity="0.78"/>` : '';
  const texts = lines
    .map((l) => `<text x="${l.x}" y="${l.y}" font-family="sans-serif" font-weight="bold" font-size="${l.size}" fill="#ffffff" stroke="#000000" stroke-width="1">${l.text}</text>`)
    .join('');
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${rect}${texts}</svg>`);
}

async function offCentreCrop(jpeg: Buffer, seed: string, side: number): Promise<Buffer> {
  const { width, height } = await size(jpeg);
  const r = rng(seed);
  const w = Math.round(width * side);
  const h = Math.round(height * side);
  // Off centre: the crop hugs one side, at a random place along it.
  const left = Math.round((r() < 0.5 ? r() * 0.3 : 0.7 + r() * 0.3) * (width - w));
  const top = Math.round(r() * (height - h));
  return sharp(jpeg).extract({ left, top, width: w, height: h }).jpeg({ quality: 90 }).toBuffer();
}

const EDITS: Edit[] = [
  { name: 'JPEG q30', strength: 'mild', apply: (j) => sharp(j).jpeg({ quality: 30 }).toBuffer() },
  { name: 'resize 40 %', strength: 'mild', apply: async (j) => sharp(j).resize(Math.round((await size(j)).width * 0.4)).jpeg({ quality: 90 }).toBuffer() },
  { name: 'brightness +25 %', strength: 'mild', apply: (j) => sharp(j).modulate({ brightness: 1.25 }).jpeg({ quality: 90 }).toBuffer() },
  {
    name: 'centre crop 85 %',
    strength: 'mild',
    apply: async (j) => {
      const { width, height } = await size(j);
      const w = Math.round(width * 0.85);
      const h = Math.round(height * 0.85);
      return sharp(j).extract({ left: Math.floor((width - w) / 2), top: Math.floor((height - h) / 2), width: w, height: h }).jpeg({ quality: 90 }).toBuffer();
    },
  },
  { name: 'blur σ2', strength: 'mild', apply: (j) => sharp(j).blur(2).jpeg({ quality: 90 }).toBuffer() },
  {
    name: 'corner text',
    strength: 'mild',
    apply: async (j) => {
      const { width, height } = await size(j);
      const s = Math.round(height * 0.06);
      return sharp(j).composite([{ input: textSvg(width, height, [{ x: Math.round(width * 0.03), y: height - s, size: s, text: '© photo 2024' }]) }]).jpeg({ quality: 90 }).toBuffer();
    },
  },
  {
    name: 'squash 1.5×',
    strength: 'mild',
    apply: async (j) => {
      const { width, height } = await size(j);
      return sharp(j).resize(width, Math.round(height / 1.5), { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
    },
  },
  { name: '50 % off-centre crop', strength: 'strong', apply: (j, seed) => offCentreCrop(j, seed, Math.SQRT1_2) },
  {
    name: 'rotation 8°',
    strength: 'strong',
    apply: async (j) => {
      const { width, height } = await size(j);
      const rotated = await sharp(j).rotate(8, { background: '#000000' }).toBuffer({ resolveWithObject: true });
      // Cut back to the original size around the centre, as a rotated copy is usually framed.
      const left = Math.floor((rotated.info.width - width) / 2);
      const top = Math.floor((rotated.info.height - height) / 2);
      return sharp(rotated.data).extract({ left, top, width, height }).jpeg({ quality: 90 }).toBuffer();
    },
  },
  { name: 'horizontal mirror', strength: 'strong', apply: (j) => sharp(j).flop().jpeg({ quality: 90 }).toBuffer() },
  {
    name: '30 % text band',
    strength: 'strong',
    apply: async (j, seed) => {
      const { width, height } = await size(j);
      const r = rng(seed);
      const h = Math.round(height * 0.3);
      const y = Math.round(r() * (height - h));
      const s = Math.round(h * 0.3);
      const lines = [
        { x: Math.round(width * 0.05), y: y + Math.round(h * 0.42), size: s, text: 'SALE — 50 % OFF' },
        { x: Math.round(width * 0.05), y: y + Math.round(h * 0.85), size: s, text: 'only this week' },
      ];
      return sharp(j).composite([{ input: textSvg(width, height, lines, { y, h }) }]).jpeg({ quality: 90 }).toBuffer();
    },
  },
  { name: 'greyscale', strength: 'strong', apply: (j) => sharp(j).greyscale().jpeg({ quality: 90 }).toBuffer() },
  // Invented: a letterboxed repost and a mirrored thumbnail crop.
  {
    name: 'border 12 % (invented)',
    strength: 'invented',
    apply: async (j) => {
      const { width, height } = await size(j);
      const b = Math.round(Math.max(width, height) * 0.12);
      return sharp(j).extend({ top: b, bottom: b, left: b, right: b, background: '#ffffff' }).jpeg({ quality: 90 }).toBuffer();
    },
  },
  {
    name: 'mirror + crop 70 % (invented)',
    strength: 'invented',
    apply: async (j, seed) => sharp(await offCentreCrop(j, `${seed}/m`, Math.sqrt(0.7))).flop().jpeg({ quality: 85 }).toBuffer(),
  },
];

/** Crops of each picture put into the database as distractors (not relevant to any query): its left and right 60 %. */
async function distractors(jpeg: Buffer): Promise<Buffer[]> {
  const { width, height } = await size(jpeg);
  const w = Math.round(width * 0.6);
  return Promise.all([0, width - w].map((left) => sharp(jpeg).extract({ left, top: 0, width: w, height }).jpeg({ quality: 90 }).toBuffer()));
}

// ---- the run -------------------------------------------------------------------------------------

interface Figures {
  perEdit: Map<string, { r1: number; r10: number; map: number; n: number; strength: string }>;
  unrelated: number;
  vectorsPerImage: number;
  ingestPerSecond: number;
  p50: number;
  p99: number;
}


async function runOnce(
  engine: Engine,
  pictures: Array<{ name: string; jpeg: Buffer }>,
  db: Array<{ id: string; picture: string; jpeg: Buffer }>,
  queries: Array<{ edit: Edit; picture: string; jpeg: Buffer }>,
  views: readonly ViewName[] | undefined,
  tag: string,
): Promise<Figures> {
  const tenant = 'quality';
  const ref = { tenant, name: tag };
  await engine.createLibrary(tenant, { name: tag, mode: 'general_search', views: views ?? ['whole'] });
  const limits = {};
  const started = process.hrtime.bigint();
  for (let i = 0; i < db.length; i += 8) {
    const batch = db.slice(i, i + 8);
    const results = await engine.addImages(ref, batch.map((d) => ({ id: d.id, itemId: d.id, image: { bytes: d.jpeg, limits } })));
    for (const r of results) if (!r.ok) throw r.error;
  }
  const ingestSeconds = Number(process.hrtime.bigint() - started) / 1e9;

  const perEdit = new Map<string, { r1: number; r10: number; map: number; n: number; strength: string }>();
  const times: number[] = [];
  for (const q of queries) {
    const t0 = process.hrtime.bigint();
    const hits = await search(engine, ref, q.jpeg, 100);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const rank = hits.findIndex((h) => h.record.itemId === q.picture) + 1;
    const e = perEdit.get(q.edit.name) ?? { r1: 0, r10: 0, map: 0, n: 0, strength: q.edit.strength };
    e.n++;
    if (rank === 1) e.r1++;
    if (rank >= 1 && rank <= 10) e.r10++;
    if (rank >= 1) e.map += 1 / rank;
    perEdit.set(q.edit.name, e);
  }

  // Unrelated pairs: the score the engine gives a picture for another picture's unedited original.
  let sum = 0;
  let count = 0;
  for (const p of pictures) {
    const hits = await search(engine, ref, p.jpeg, 1000);
    for (const h of hits) {
      const picture = db.find((d) => d.id === h.record.itemId)!.picture;
      if (picture !== p.name) {
        sum += h.score;
        count++;
      }
    }
  }
  times.sort((a, b) => a - b);
  return {
    perEdit,
    unrelated: sum / count,
    vectorsPerImage: views ? views.length : 1,
    ingestPerSecond: db.length / ingestSeconds,
    p50: quantile(times, 0.5),
    p99: quantile(times, 0.99),
  };
}

/** One search through the engine (which adds the query's own views when the library has them). */
async function search(engine: Engine, ref: { tenant: string; name: string }, jpeg: Buffer, limit: number) {
  return (await engine.searchByImage([ref], { bytes: jpeg, limits: {} }, { limit, distinctItem: true })).hits;
}

function aggregate(f: Figures, strength: string): { r1: number; r10: number; map: number } {
  let n = 0;
  let r1 = 0;
  let r10 = 0;
  let map = 0;
  for (const e of f.perEdit.values()) {
    if (e.strength !== strength) continue;
    n += e.n;
    r1 += e.r1;
    r10 += e.r10;
    map += e.map;
  }
  return { r1: r1 / n, r10: r10 / n, map: map / n };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { half: { type: 'string', default: 'report' }, views: { type: 'string', default: 'on' }, 'db-views': { type: 'string' } },
  });
  const dbViews = (values['db-views']?.split(',') as ViewName[] | undefined) ?? DEFAULT_VIEWS;
  const cache = process.env.ISG_QUALITY_CACHE ?? path.join(os.homedir(), '.cache', 'isg-quality');
  const all = await loadPictures(cache);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'isg-quality-'));
  const store = await openStore({ kind: 'embedded', dir: path.join(dir, 'store') });
  const models = new ModelRegistry(path.join(PACKAGE_ROOT, 'models'), 'default', {});
  const engine = new Engine(store, models);
  try {
    // The same picture at several sizes (sway's wallpapers, desktop-base's themes) counts once: keep the
    // first of any group whose whole-picture vectors are nearly identical.
    const kept: Array<{ name: string; jpeg: Buffer; vector: Float32Array }> = [];
    for (const p of all) {
      const [vector] = await engine.embedViews({ bytes: p.jpeg, limits: {} }, ['whole']);
      if (kept.some((k) => dot(k.vector, vector) > 0.92)) continue;
      kept.push({ ...p, vector });
    }
    const half = (name: string) => (createHash('sha1').update(name).digest()[0] % 2 === 0 ? 'tuning' : 'report');
    const pictures = kept.filter((p) => values.half === 'all' || half(p.name) === values.half);
    const db: Array<{ id: string; picture: string; jpeg: Buffer }> = [];
    for (const [i, p] of pictures.entries()) {
      db.push({ id: `p${i}`, picture: p.name, jpeg: p.jpeg });
      for (const [k, d] of (await distractors(p.jpeg)).entries()) db.push({ id: `p${i}d${k}`, picture: `${p.name}#crop${k}`, jpeg: d });
    }
    const itemOf = new Map(db.map((d) => [d.picture, d.id]));
    const queries: Array<{ edit: Edit; picture: string; jpeg: Buffer }> = [];
    for (const p of pictures) for (const edit of EDITS) queries.push({ edit, picture: itemOf.get(p.name)!, jpeg: await edit.apply(p.jpeg, p.name) });

    log(`bench:quality — ${kept.length} distinct photographs from Debian packages (${all.length} files), ${values.half} half: ${pictures.length} pictures, ${db.length - pictures.length} crop distractors, ${queries.length} queries`);
    log(`model: default (${models.defaultModel}); database views: ${dbViews.join(', ')}; query views: ${['whole', ...QUERY_VIEWS.filter((v) => dbViews.includes(v))].join(', ')}`);

    const without = await runOnce(engine, pictures, db, queries.map((q) => q), undefined, 'plain');
    const withViews = values.views === 'off' ? undefined : await runOnce(engine, pictures, db, queries, dbViews, 'views');

    const cell = (x: number) => x.toFixed(3).padStart(6);
    log('');
    log(`${'edit'.padEnd(32)} ${'without views'.padEnd(21)}  ${withViews ? 'with views' : ''}`);
    log(`${''.padEnd(32)}   R@1   R@10    mAP      R@1   R@10    mAP`);
    for (const [name, e] of without.perEdit) {
      const v = withViews?.perEdit.get(name);
      log(
        `${name.padEnd(32)} ${cell(e.r1 / e.n)} ${cell(e.r10 / e.n)} ${cell(e.map / e.n)}   ${v ? `${cell(v.r1 / v.n)} ${cell(v.r10 / v.n)} ${cell(v.map / v.n)}` : ''}`,
      );
    }
    for (const strength of ['mild', 'strong', 'invented']) {
      const a = aggregate(without, strength);
      const b = withViews && aggregate(withViews, strength);
      log(`${`ALL ${strength}`.padEnd(32)} ${cell(a.r1)} ${cell(a.r10)} ${cell(a.map)}   ${b ? `${cell(b.r1)} ${cell(b.r10)} ${cell(b.map)}` : ''}`);
    }
    log('');
    log(`unrelated pairs, mean score      ${cell(without.unrelated)}                 ${withViews ? cell(withViews.unrelated) : ''}   (target ≤ 0.35)`);
    for (const f of [without, withViews]) {
      if (!f) continue;
      log(
        `cost ${f === without ? 'without views' : 'with views   '}: ${f.vectorsPerImage} vector(s)/image, ingest ${f.ingestPerSecond.toFixed(1)} images/s, search p50 ${f.p50.toFixed(1)} ms p99 ${f.p99.toFixed(1)} ms (${db.length} images)`,
      );
    }
  } finally {
    await models.close?.();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

main().catch((err) => {
  process.stderr.write(`bench:quality failed: ${err.stack ?? err}\n`);
  process.exit(1);
});

/**
 * npm run bench:quality — how well the default model finds copies of a picture after everyday edits.
 *
 * Real photographs and artwork from Debian's wallpaper packages, fetched once with `apt-get download` into a
 * cache outside the repository (ISG_QUALITY_CACHE, default ~/.cache/isg-quality) and never committed.
 * gnome-backgrounds, mate-backgrounds and plasma-workspace-wallpapers are never used: they are kept for a
 * held-out check. Near-identical pictures (one wallpaper at several sizes) count once.
 *
 * The pictures are split by a hash of their name into a tuning half and a report half: tune on the first,
 * quote the second. The library holds every picture plus two crop distractors of each (its left and right
 * 60 %); each edited copy of a report-half picture is a query whose one right answer is its original. Per
 * edit: R@1, R@10 and mAP@10 (one relevant image: the mean reciprocal rank); the mean cosine of unrelated
 * pairs of originals; and the cost: vectors per image, ingest images/s, search p50/p99.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp, { type Sharp } from 'sharp';
import { PACKAGE_ROOT } from '../bin/config';
import { ModelRegistry } from '../core/embed/registry';
import { Engine } from '../core/engine';
import { openStore } from '../core/store/open-store';

const PACKAGES = [
  'ukui-wallpapers',
  'lomiri-wallpapers',
  'lomiri-wallpapers-16.04',
  'lomiri-wallpapers-20.04',
  'sway-backgrounds',
  'debian-edu-artwork-emerald',
  'debian-edu-artwork-homeworld',
];
/** Reserved for the held-out check: never downloaded, never read. */
const RESERVED = ['gnome-backgrounds', 'mate-backgrounds', 'plasma-workspace-wallpapers'];
const LONG_SIDE = 1024;
/** Two originals closer than this are one picture (the same wallpaper at another size). */
const SAME_PICTURE = 0.97;

type Edit = (image: Sharp, width: number, height: number) => Promise<Buffer>;
const jpeg = (image: Sharp, quality = 90) => image.jpeg({ quality }).toBuffer();
const text = (width: number, height: number, x: number, y: number, size: number, band?: number) =>
  Buffer.from(
    `<svg width="${width}" height="${height}">${band ? `<rect x="0" y="${y - size}" width="${width}" height="${band}" fill="#202020" fill-opacity="0.85"/>` : ''}` +
      `<text x="${x}" y="${y}" font-size="${size}" font-family="sans-serif" font-weight="bold" fill="#ffffff" stroke="#000000" stroke-width="2">SALE -50% NOW</text></svg>`,
  );

/** The edits of the issue, mild and strong, plus two of our own (marked *). */
const EDITS: Array<{ name: string; strong: boolean; edit: Edit }> = [
  { name: 'jpeg q30', strong: false, edit: (i) => jpeg(i, 30) },
  { name: 'resize 40%', strong: false, edit: (i, w, h) => jpeg(i.resize(Math.round(w * 0.4), Math.round(h * 0.4))) },
  { name: 'brightness +25%', strong: false, edit: (i) => jpeg(i.modulate({ brightness: 1.25 })) },
  { name: 'centre crop 85%', strong: false, edit: (i, w, h) => jpeg(i.extract(centred(w, h, 0.85))) },
  { name: 'blur', strong: false, edit: (i) => jpeg(i.blur(2)) },
  { name: 'corner text', strong: false, edit: (i, w, h) => jpeg(i.composite([{ input: text(w, h, w * 0.05, h * 0.12, Math.round(h / 14)) }])) },
  { name: 'squash 1.5x', strong: false, edit: (i, w, h) => jpeg(i.resize(w, Math.round(h / 1.5), { fit: 'fill' })) },
  { name: '* jpeg q50 + resize 60%', strong: false, edit: (i, w, h) => jpeg(i.resize(Math.round(w * 0.6), Math.round(h * 0.6)), 50) },
  { name: '50% off-centre crop', strong: true, edit: (i, w, h) => jpeg(i.extract({ left: Math.round(w * 0.25), top: 0, width: Math.round(w * 0.707), height: Math.round(h * 0.707) })) },
  { name: 'rotation 8°', strong: true, edit: (i) => jpeg(i.rotate(8, { background: '#000000' })) },
  { name: 'horizontal mirror', strong: true, edit: (i) => jpeg(i.flop()) },
  { name: '30% band of text', strong: true, edit: (i, w, h) => jpeg(i.composite([{ input: text(w, h, w * 0.08, h * 0.5, Math.round(h / 8), Math.round(h * 0.3)) }])) },
  { name: 'greyscale', strong: true, edit: (i) => jpeg(i.greyscale()) },
  { name: '* mirror + crop 70%', strong: true, edit: (i, w, h) => jpeg(i.flop().extract(centred(w, h, 0.7))) },
];

function centred(width: number, height: number, side: number) {
  const w = Math.round(width * side);
  const h = Math.round(height * side);
  return { left: Math.round((width - w) / 2), top: Math.round((height - h) / 2), width: w, height: h };
}

/** The pictures of the packages, each scaled to 1024 px on its long side, cached as JPEG. */
function fetchPictures(cache: string, log: (line: string) => void): string[] {
  for (const name of PACKAGES) if (RESERVED.includes(name)) throw new Error(`${name} is reserved for the held-out check`);
  const debs = path.join(cache, 'debs');
  const extracted = path.join(cache, 'extracted');
  mkdirSync(debs, { recursive: true });
  const files: string[] = [];
  for (const name of PACKAGES) {
    if (!readdirSync(debs).some((f) => f.startsWith(`${name}_`))) {
      log(`  apt-get download ${name}`);
      execFileSync('apt-get', ['download', name], { cwd: debs, stdio: 'ignore' });
    }
    const deb = readdirSync(debs).find((f) => f.startsWith(`${name}_`))!;
    const into = path.join(extracted, name);
    if (!existsSync(into)) {
      // Into a temporary folder first: an interrupted extraction is never taken for a complete one.
      const partial = `${into}.partial`;
      rmSync(partial, { recursive: true, force: true });
      mkdirSync(partial, { recursive: true });
      execFileSync('dpkg-deb', ['-x', path.join(debs, deb), partial]);
      renameSync(partial, into);
    }
    for (const e of readdirSync(into, { recursive: true, withFileTypes: true })) {
      const file = path.join(e.parentPath, e.name);
      if (e.isFile() && /\.(jpe?g|png)$/i.test(e.name) && statSync(file).size > 100_000) files.push(file);
    }
  }
  return files.sort();
}

async function normalise(file: string, cache: string): Promise<{ id: string; bytes: Buffer } | undefined> {
  const id = createHash('sha256').update(path.relative(cache, file)).digest('hex').slice(0, 12);
  const out = path.join(cache, 'originals', `${id}.jpg`);
  if (!existsSync(out)) {
    const meta = await sharp(file).metadata();
    if ((meta.width ?? 0) < 600 || (meta.height ?? 0) < 600) return undefined;
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, await sharp(file).rotate().resize(LONG_SIDE, LONG_SIDE, { fit: 'inside' }).flatten({ background: '#ffffff' }).jpeg({ quality: 90 }).toBuffer());
  }
  return { id, bytes: readFileSync(out) };
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

export async function runQualityBench(log: (line: string) => void): Promise<void> {
  const cache = process.env.ISG_QUALITY_CACHE ?? path.join(os.homedir(), '.cache', 'isg-quality');
  log(`quality  pictures from ${PACKAGES.join(', ')} (cache ${cache})`);
  const candidates = (await Promise.all(fetchPictures(cache, log).map((f) => normalise(f, cache)))).filter((p) => p !== undefined);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'isg-quality-'));
  const store = await openStore({ kind: 'embedded', dir });
  const engine = new Engine(store, new ModelRegistry(path.join(PACKAGE_ROOT, 'models'), 'default', {}));
  const ref = { tenant: 'bench', name: 'quality' };
  try {
    await engine.createLibrary(ref.tenant, { name: ref.name, mode: 'general_search' });
    const limits = {};
    // Originals first, one at a time: a picture closer than SAME_PICTURE to one already in is the same one.
    const originals: Array<{ id: string; bytes: Buffer; half: 'tune' | 'report' }> = [];
    let ingestSeconds = 0;
    let ingested = 0;
    for (const p of candidates) {
      const found = originals.length > 0 ? (await engine.searchByImage([ref], { bytes: p.bytes, limits }, { limit: 1 })).hits : [];
      if (found[0] && found[0].score >= SAME_PICTURE) continue;
      const t = performance.now();
      await engine.addImages(ref, [{ id: p.id, image: { bytes: p.bytes, limits } }]);
      ingestSeconds += (performance.now() - t) / 1000;
      ingested++;
      const half = parseInt(createHash('sha256').update(`half:${p.id}`).digest('hex').slice(0, 8), 16) % 2 === 0 ? 'tune' : 'report';
      originals.push({ ...p, half });
    }
    // Crop distractors: the left and the right 60 % of every picture.
    const t = performance.now();
    for (const o of originals) {
      const { width = 0, height = 0 } = await sharp(o.bytes).metadata();
      const w = Math.round(width * 0.6);
      const crops = [0, width - w].map(async (left, k) => ({ id: `${o.id}#crop${k}`, image: { bytes: await jpeg(sharp(o.bytes).extract({ left, top: 0, width: w, height })), limits } }));
      await engine.addImages(ref, await Promise.all(crops));
      ingested += 2;
    }
    ingestSeconds += (performance.now() - t) / 1000;
    const report = originals.filter((o) => o.half === 'report');
    log(`  ${originals.length} distinct pictures (${report.length} in the report half), ${2 * originals.length} crop distractors; ${EDITS.length} edits`);

    const latencies: number[] = [];
    const rows: Array<{ name: string; strong: boolean; r1: number; r10: number; map: number }> = [];
    for (const { name, strong, edit } of EDITS) {
      let r1 = 0;
      let r10 = 0;
      let rr = 0;
      for (const o of report) {
        const { width = 0, height = 0 } = await sharp(o.bytes).metadata();
        const query = await edit(sharp(o.bytes), width, height);
        const s = performance.now();
        const { hits } = await engine.searchByImage([ref], { bytes: query, limits }, { limit: 10 });
        latencies.push(performance.now() - s);
        const rank = hits.findIndex((h) => h.record.id === o.id);
        if (rank === 0) r1++;
        if (rank >= 0) {
          r10++;
          rr += 1 / (rank + 1);
        }
      }
      rows.push({ name, strong, r1: r1 / report.length, r10: r10 / report.length, map: rr / report.length });
    }

    // Unrelated pairs: every pair of distinct originals.
    const vectors = await Promise.all(originals.map((o) => store.getVector(ref, o.id)));
    let sum = 0;
    let pairs = 0;
    for (let a = 0; a < vectors.length; a++) {
      for (let b = a + 1; b < vectors.length; b++) {
        let dot = 0;
        for (let j = 0; j < vectors[a]!.length; j++) dot += vectors[a]![j] * vectors[b]![j];
        sum += dot;
        pairs++;
      }
    }

    log(`  ${'edit'.padEnd(32)}${'R@1'.padStart(7)}${'R@10'.padStart(7)}${'mAP'.padStart(7)}`);
    for (const r of rows) log(`  ${`${r.strong ? 'strong' : 'mild  '} ${r.name}`.padEnd(32)}${r.r1.toFixed(3).padStart(7)}${r.r10.toFixed(3).padStart(7)}${r.map.toFixed(3).padStart(7)}`);
    for (const strong of [false, true]) {
      const group = rows.filter((r) => r.strong === strong);
      const mean = (f: (r: (typeof rows)[number]) => number) => (group.reduce((s, r) => s + f(r), 0) / group.length).toFixed(3).padStart(7);
      log(`  ${`all ${strong ? 'strong' : 'mild'} edits`.padEnd(32)}${mean((r) => r.r1)}${mean((r) => r.r10)}${mean((r) => r.map)}`);
    }
    log(`  mean cosine of unrelated pairs    ${(sum / pairs).toFixed(3)}   (${pairs} pairs; goal <= 0.35)`);
    log(`  cost: 1 vector per image; ingest ${(ingested / ingestSeconds).toFixed(1)} images/s (one at a time); search p50 ${quantile(latencies, 0.5).toFixed(1)} ms, p99 ${quantile(latencies, 0.99).toFixed(1)} ms`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runQualityBench((line) => process.stdout.write(`${line}\n`)).catch((e: unknown) => {
    process.stderr.write(`bench:quality failed: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}

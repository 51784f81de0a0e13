/**
 * Deterministic synthetic test images, generated in code (no downloads), and the near-duplicate
 * transforms the default model is measured against.
 *
 * A scene is an SVG composition drawn by sharp (librsvg) from a seeded PRNG, plus sensor-like grain,
 * encoded as JPEG. Several unrelated generator families exist so that "unrelated images" is an honest
 * test, not variations of one layout:
 *   landscape  sky gradient, sun, layered hills, grain
 *   shapes     random rectangles, circles, ellipses and polygons over a gradient, from a 5-colour palette
 *   texture    a repeated pattern (stripes, checks, rings, dots) at a random scale and angle
 *   blobs      soft out-of-focus colour blobs (bokeh-like)
 *   lineart    dark scribbles and strokes on a pale paper background
 *   interior   a room-like perspective: walls, floor, window, furniture boxes
 * The same (family, seed, size) always gives the same bytes for a given sharp/libvips build.
 */
import sharp from 'sharp';
import { prng } from './prng';

export { prng };

export const SCENE_FAMILIES = ['landscape', 'shapes', 'texture', 'blobs', 'lineart', 'interior'] as const;
export type SceneFamily = (typeof SCENE_FAMILIES)[number];


type Rand = () => number;

const between = (r: Rand, lo: number, hi: number): number => lo + (hi - lo) * r();
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const f1 = (x: number): string => x.toFixed(1);

function hsl(h: number, s: number, l: number): string {
  return `hsl(${f1(((h % 360) + 360) % 360)},${f1(s)}%,${f1(l)}%)`;
}

/** A 5-colour palette around a random base hue, with a random harmony rule. */
function palette(r: Rand): string[] {
  const base = r() * 360;
  const rule = pick(r, [[0, 30, 60, 180, 210], [0, 120, 240, 60, 300], [0, 15, 30, 45, 200], [0, 180, 90, 270, 30]]);
  const sat = between(r, 35, 95);
  return rule.map((dh) => hsl(base + dh + between(r, -10, 10), sat * between(r, 0.6, 1.1), between(r, 20, 80)));
}

function landscape(r: Rand, w: number, h: number): string {
  const skyHue = between(r, 0, 360);
  const horizon = between(r, 0.35, 0.65) * h;
  const sun = { x: between(r, 0.1, 0.9) * w, y: between(r, 0.1, 0.5) * horizon, rad: between(r, 0.03, 0.09) * w };
  let hills = '';
  const layers = 2 + Math.floor(r() * 3);
  const groundHue = between(r, 0, 360);
  for (let i = 0; i < layers; i++) {
    const base = horizon + (i / layers) * (h - horizon) * 0.7;
    let d = `M0 ${f1(h)} L0 ${f1(base)}`;
    const steps = 4 + Math.floor(r() * 5);
    for (let s = 1; s <= steps; s++) {
      const x = (s / steps) * w;
      const y = base - between(r, -0.08, 0.18) * h;
      d += ` Q${f1(x - w / steps / 2)} ${f1(y - between(r, 0, 0.1) * h)} ${f1(x)} ${f1(y)}`;
    }
    d += ` L${w} ${h} Z`;
    hills += `<path d="${d}" fill="${hsl(groundHue + i * between(r, 5, 25), between(r, 20, 70), 15 + (i * 45) / layers)}"/>`;
  }
  return `<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
    <stop offset="0" stop-color="${hsl(skyHue, between(r, 30, 90), between(r, 20, 60))}"/>
    <stop offset="1" stop-color="${hsl(skyHue + between(r, -60, 60), between(r, 30, 90), between(r, 55, 90))}"/>
  </linearGradient></defs>
  <rect width="${w}" height="${h}" fill="url(#sky)"/>
  <circle cx="${f1(sun.x)}" cy="${f1(sun.y)}" r="${f1(sun.rad)}" fill="${hsl(between(r, 20, 60), 90, between(r, 70, 95))}"/>
  ${hills}`;
}

function shapes(r: Rand, w: number, h: number): string {
  const pal = palette(r);
  let out = `<defs><linearGradient id="bg" x1="0" y1="0" x2="${f1(r())}" y2="1">
    <stop offset="0" stop-color="${pal[0]}"/><stop offset="1" stop-color="${pal[1]}"/></linearGradient></defs>
    <rect width="${w}" height="${h}" fill="url(#bg)"/>`;
  const n = 6 + Math.floor(r() * 20);
  for (let i = 0; i < n; i++) {
    const fill = pick(r, pal);
    const op = f1(between(r, 0.6, 1));
    const cx = r() * w;
    const cy = r() * h;
    const size = between(r, 0.04, 0.3) * w;
    const rot = f1(r() * 180);
    switch (Math.floor(r() * 4)) {
      case 0:
        out += `<rect x="${f1(cx - size / 2)}" y="${f1(cy - size / 3)}" width="${f1(size)}" height="${f1((size * 2) / 3)}" fill="${fill}" opacity="${op}" transform="rotate(${rot} ${f1(cx)} ${f1(cy)})"/>`;
        break;
      case 1:
        out += `<circle cx="${f1(cx)}" cy="${f1(cy)}" r="${f1(size / 2)}" fill="${fill}" opacity="${op}"/>`;
        break;
      case 2:
        out += `<ellipse cx="${f1(cx)}" cy="${f1(cy)}" rx="${f1(size / 2)}" ry="${f1(size / 5)}" fill="${fill}" opacity="${op}" transform="rotate(${rot} ${f1(cx)} ${f1(cy)})"/>`;
        break;
      default: {
        const k = 3 + Math.floor(r() * 4);
        const pts = Array.from({ length: k }, (_, j) => {
          const a = (j / k) * 2 * Math.PI + r() * 0.5;
          const rad = (size / 2) * between(r, 0.5, 1);
          return `${f1(cx + rad * Math.cos(a))},${f1(cy + rad * Math.sin(a))}`;
        }).join(' ');
        out += `<polygon points="${pts}" fill="${fill}" opacity="${op}"/>`;
      }
    }
  }
  return out;
}

function texture(r: Rand, w: number, h: number): string {
  const pal = palette(r);
  const period = between(r, 12, 90);
  const angle = f1(r() * 180);
  const kind = Math.floor(r() * 4);
  let tile: string;
  switch (kind) {
    case 0:
      tile = `<rect width="${f1(period)}" height="${f1(period)}" fill="${pal[0]}"/><rect width="${f1(period * between(r, 0.2, 0.6))}" height="${f1(period)}" fill="${pal[1]}"/>`;
      break;
    case 1:
      tile = `<rect width="${f1(period)}" height="${f1(period)}" fill="${pal[0]}"/><rect width="${f1(period / 2)}" height="${f1(period / 2)}" fill="${pal[2]}"/><rect x="${f1(period / 2)}" y="${f1(period / 2)}" width="${f1(period / 2)}" height="${f1(period / 2)}" fill="${pal[2]}"/>`;
      break;
    case 2:
      tile = `<rect width="${f1(period)}" height="${f1(period)}" fill="${pal[3]}"/><circle cx="${f1(period / 2)}" cy="${f1(period / 2)}" r="${f1(period * between(r, 0.15, 0.45))}" fill="${pal[1]}"/>`;
      break;
    default:
      tile = `<rect width="${f1(period)}" height="${f1(period)}" fill="${pal[0]}"/><path d="M0 ${f1(period / 2)} Q${f1(period / 4)} 0 ${f1(period / 2)} ${f1(period / 2)} T${f1(period)} ${f1(period / 2)}" stroke="${pal[4]}" stroke-width="${f1(period / 8)}" fill="none"/>`;
  }
  // A second, larger overlay pattern of a different kind breaks pure periodicity.
  const big = between(r, 150, 400);
  return `<defs><pattern id="p" width="${f1(period)}" height="${f1(period)}" patternUnits="userSpaceOnUse" patternTransform="rotate(${angle})">${tile}</pattern>
    <radialGradient id="v"><stop offset="0" stop-color="${pal[2]}" stop-opacity="0"/><stop offset="1" stop-color="${pal[4]}" stop-opacity="${f1(between(r, 0.2, 0.7))}"/></radialGradient></defs>
    <rect width="${w}" height="${h}" fill="url(#p)"/>
    <rect width="${w}" height="${h}" fill="url(#v)"/>
    <circle cx="${f1(r() * w)}" cy="${f1(r() * h)}" r="${f1(big)}" fill="${pal[1]}" opacity="${f1(between(r, 0.2, 0.6))}"/>`;
}

function blobs(r: Rand, w: number, h: number): string {
  const pal = palette(r);
  let defs = '';
  let body = `<rect width="${w}" height="${h}" fill="${hsl(r() * 360, between(r, 10, 60), between(r, 5, 35))}"/>`;
  const n = 5 + Math.floor(r() * 15);
  for (let i = 0; i < n; i++) {
    defs += `<radialGradient id="g${i}"><stop offset="0" stop-color="${pick(r, pal)}" stop-opacity="${f1(between(r, 0.5, 1))}"/><stop offset="${f1(between(r, 0.3, 0.9))}" stop-color="${pick(r, pal)}" stop-opacity="${f1(between(r, 0.2, 0.6))}"/><stop offset="1" stop-color="${pal[0]}" stop-opacity="0"/></radialGradient>`;
    body += `<circle cx="${f1(r() * w)}" cy="${f1(r() * h)}" r="${f1(between(r, 0.05, 0.35) * w)}" fill="url(#g${i})"/>`;
  }
  return `<defs>${defs}</defs>${body}`;
}

function lineart(r: Rand, w: number, h: number): string {
  const paper = hsl(between(r, 30, 60), between(r, 5, 40), between(r, 85, 97));
  const ink = hsl(r() * 360, between(r, 0, 60), between(r, 5, 35));
  let body = `<rect width="${w}" height="${h}" fill="${paper}"/>`;
  const n = 8 + Math.floor(r() * 30);
  for (let i = 0; i < n; i++) {
    let x = r() * w;
    let y = r() * h;
    let d = `M${f1(x)} ${f1(y)}`;
    const steps = 2 + Math.floor(r() * 6);
    for (let s = 0; s < steps; s++) {
      const nx = x + between(r, -0.25, 0.25) * w;
      const ny = y + between(r, -0.25, 0.25) * h;
      d += ` Q${f1(x + between(r, -0.1, 0.1) * w)} ${f1(y + between(r, -0.1, 0.1) * h)} ${f1(nx)} ${f1(ny)}`;
      x = nx;
      y = ny;
    }
    body += `<path d="${d}" stroke="${ink}" stroke-width="${f1(between(r, 1.5, 9))}" fill="none" stroke-linecap="round"/>`;
  }
  if (r() < 0.5) {
    const gx = between(r, 40, 120);
    for (let x = gx; x < w; x += gx) body += `<line x1="${f1(x)}" y1="0" x2="${f1(x)}" y2="${h}" stroke="${ink}" stroke-opacity="0.25" stroke-width="1.5"/>`;
  }
  return body;
}

function interior(r: Rand, w: number, h: number): string {
  const pal = palette(r);
  const vx = between(r, 0.3, 0.7) * w;
  const vy = between(r, 0.3, 0.6) * h;
  const bw = between(r, 0.25, 0.45) * w;
  const bh = between(r, 0.25, 0.45) * h;
  const [x0, y0, x1, y1] = [vx - bw / 2, vy - bh / 2, vx + bw / 2, vy + bh / 2];
  let body =
    `<rect width="${w}" height="${h}" fill="${pal[0]}"/>` +
    `<polygon points="0,0 ${f1(x0)},${f1(y0)} ${f1(x0)},${f1(y1)} 0,${h}" fill="${pal[1]}"/>` +
    `<polygon points="${w},0 ${f1(x1)},${f1(y0)} ${f1(x1)},${f1(y1)} ${w},${h}" fill="${pal[2]}"/>` +
    `<polygon points="0,${h} ${f1(x0)},${f1(y1)} ${f1(x1)},${f1(y1)} ${w},${h}" fill="${pal[3]}"/>` +
    `<polygon points="0,0 ${f1(x0)},${f1(y0)} ${f1(x1)},${f1(y0)} ${w},0" fill="${pal[4]}"/>` +
    `<rect x="${f1(x0 + bw * 0.2)}" y="${f1(y0 + bh * 0.15)}" width="${f1(bw * between(r, 0.3, 0.6))}" height="${f1(bh * 0.45)}" fill="${hsl(between(r, 180, 230), 60, between(r, 60, 90))}" stroke="${pal[3]}" stroke-width="6"/>`;
  const boxes = 1 + Math.floor(r() * 4);
  for (let i = 0; i < boxes; i++) {
    const bx = between(r, 0.05, 0.75) * w;
    const by = between(r, 0.55, 0.8) * h;
    const s = between(r, 0.1, 0.25) * w;
    body += `<rect x="${f1(bx)}" y="${f1(by)}" width="${f1(s)}" height="${f1(s * between(r, 0.4, 0.9))}" fill="${pick(r, pal)}" stroke="#222" stroke-width="2"/>`;
  }
  return body;
}

const FAMILIES: Record<SceneFamily, (r: Rand, w: number, h: number) => string> = {
  landscape,
  shapes,
  texture,
  blobs,
  lineart,
  interior,
};

/** The SVG document of a scene (before grain and JPEG encoding). */
export function sceneSvg(family: SceneFamily, seed: number, width: number, height: number): string {
  const r = prng(seed * 7919 + SCENE_FAMILIES.indexOf(family) * 104729 + 1);
  const body = FAMILIES[family](r, width, height);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${body}</svg>`;
}

/** Adds seeded, mild luminance grain to interleaved RGB bytes, in place. */
function addGrain(rgb: Buffer, seed: number, amplitude: number): void {
  const r = prng(seed ^ 0x9e3779b9);
  for (let i = 0; i < rgb.length; i += 3) {
    // Sum of two uniforms: a cheap triangular (roughly Gaussian) distribution.
    const n = (r() + r() - 1) * amplitude;
    for (let c = 0; c < 3; c++) {
      const v = rgb[i + c] + n;
      rgb[i + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
}

/** The family a seed maps to when no family is given: seeds cycle through all families. */
export function familyOf(seed: number): SceneFamily {
  return SCENE_FAMILIES[((seed % SCENE_FAMILIES.length) + SCENE_FAMILIES.length) % SCENE_FAMILIES.length];
}

/**
 * A photo-like synthetic scene as JPEG (quality 92). Deterministic in (seed, width, height, family).
 * Without `family`, seed n uses familyOf(n), so consecutive seeds cover every family.
 */
export async function makeScene(seed: number, width = 1024, height = 768, family: SceneFamily = familyOf(seed)): Promise<Buffer> {
  const svg = sceneSvg(family, seed, width, height);
  const { data, info } = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  addGrain(data, seed, 10);
  return sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
    .jpeg({ quality: 92 })
    .toBuffer();
}

// ---- near-duplicate transforms ------------------------------------------------------------------

export const NEAR_DUPLICATES = ['jpeg_q40', 'resize_25', 'resize_50', 'crop_10', 'brightness_20'] as const;
export type NearDuplicate = (typeof NEAR_DUPLICATES)[number];

/** Re-encode as JPEG quality 40. */
export function jpegQuality(jpeg: Buffer, quality = 40): Promise<Buffer> {
  return sharp(jpeg).jpeg({ quality }).toBuffer();
}

/** Downscale both sides by `factor` (0.25 = a quarter of the width and height). */
export async function downscale(jpeg: Buffer, factor: number): Promise<Buffer> {
  const meta = await sharp(jpeg).metadata();
  return sharp(jpeg)
    .resize(Math.round(meta.width! * factor), Math.round(meta.height! * factor))
    .jpeg({ quality: 90 })
    .toBuffer();
}

/**
 * Crop away `fraction` of each side's length: 0.1 keeps the central 90% x 90% (5% off every edge).
 * `anchor: 'corner'` keeps the top-left 90% x 90% instead (a 10% shift: the harder case).
 */
export async function crop(jpeg: Buffer, fraction = 0.1, anchor: 'centre' | 'corner' = 'centre'): Promise<Buffer> {
  const meta = await sharp(jpeg).metadata();
  const w = meta.width!;
  const h = meta.height!;
  const cw = Math.round(w * (1 - fraction));
  const ch = Math.round(h * (1 - fraction));
  const left = anchor === 'centre' ? Math.floor((w - cw) / 2) : 0;
  const top = anchor === 'centre' ? Math.floor((h - ch) / 2) : 0;
  return sharp(jpeg).extract({ left, top, width: cw, height: ch }).jpeg({ quality: 90 }).toBuffer();
}

/** Brightness +20% as sharp does it (`modulate`: lightness scaled, highlights clip). */
export function brighten(jpeg: Buffer, factor = 1.2): Promise<Buffer> {
  return sharp(jpeg).modulate({ brightness: factor }).jpeg({ quality: 90 }).toBuffer();
}

/** Apply one named near-duplicate transform. */
export function nearDuplicate(jpeg: Buffer, kind: NearDuplicate): Promise<Buffer> {
  switch (kind) {
    case 'jpeg_q40':
      return jpegQuality(jpeg, 40);
    case 'resize_25':
      return downscale(jpeg, 0.25);
    case 'resize_50':
      return downscale(jpeg, 0.5);
    case 'crop_10':
      return crop(jpeg, 0.1);
    case 'brightness_20':
      return brighten(jpeg, 1.2);
  }
}

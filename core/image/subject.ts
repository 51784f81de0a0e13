/**
 * Main-subject detection (for `item_search` libraries and "subject detection" requests): where in the
 * picture is the thing being searched for, as opposed to its background.
 *
 * The image is shrunk to about WORK_SIDE px and a saliency map computed: the colour distance (CIELAB ΔE)
 * of each pixel from the background, estimated from the colours that are common along the image border,
 * plus a little edge energy (so an object of the background's colour still shows by its outline). The
 * map is smoothed and thresholded at the larger of an absolute floor, the border's own noise level
 * (so texture or noise that covers the whole frame is not a subject) and half of Otsu's threshold.
 * Connected components of the mask (after closing small gaps) are the subjects, largest first; each is
 * returned as its bounding box plus a small margin, in pixels of the oriented original image.
 *
 * Deterministic: the same bytes always give the same regions. `undefined` / `[]` means there is no
 * distinct subject (uniform or near-uniform image, structureless noise, or salient area under
 * MIN_AREA_FRACTION of the image); callers then use the whole image.
 */
import type { Region } from '../records';
import { decodeImage } from './check';
import type { CheckedImage } from './types';

/** Longest side of the working copy. */
const WORK_SIDE = 128;
/** Smallest working copy worth analysing. */
const MIN_WORK_SIDE = 8;
/** A subject must cover at least this fraction of the image (in mask pixels). */
const MIN_AREA_FRACTION = 0.01;
/** Below this ΔE nothing is salient, however clean the background. */
const ABSOLUTE_THRESHOLD = 12;
/** Weight of edge energy (Sobel of L*, in ΔL units) against colour distance. */
const EDGE_WEIGHT = 0.5;
/** Border colours within this ΔE are "the same" when estimating the background. */
const BACKGROUND_TOLERANCE = 10;
/** A border colour is background when at least this fraction of the border shares it. */
const BACKGROUND_SHARE = 0.08;
/**
 * Working pixels the mask spreads beyond a sharp edge (edge energy and smoothing each reach one pixel
 * out); taken off each box side before mapping back.
 */
const HALO = 1;
/** Margin added around each box, as a fraction of its side. */
const MARGIN_FRACTION = 0.02;

interface WorkImage {
  width: number;
  height: number;
  /** CIELAB, three floats per pixel. */
  lab: Float32Array;
}

/** The main subject's bounding box, or undefined when the image has no distinct subject. */
export async function detectSubject(checked: CheckedImage): Promise<Region | undefined> {
  const [first] = await detectSubjects(checked, 1);
  return first;
}

/** Up to `max` subjects, largest first (regions that mostly lie inside a larger one are dropped). */
export async function detectSubjects(checked: CheckedImage, max = 5): Promise<Region[]> {
  if (max < 1) return [];
  const work = await loadWorkImage(checked);
  if (!work) return [];
  const { width: w, height: h } = work;
  const saliency = saliencyMap(work);
  const threshold = chooseThreshold(saliency, w, h);
  const mask = new Uint8Array(w * h);
  for (let i = 0; i < mask.length; i++) mask[i] = saliency[i] > threshold ? 1 : 0;

  const minArea = Math.max(4, Math.ceil(MIN_AREA_FRACTION * w * h));
  const boxes = components(mask, w, h).filter((c) => c.area >= minArea);
  const chosen: Box[] = [];
  for (const box of boxes) {
    if (chosen.length >= max) break;
    if (chosen.some((big) => containedFraction(box, big) > 0.6)) continue;
    chosen.push(box);
  }
  return chosen.map((box) => toRegion(box, w, h, checked.width, checked.height));
}

async function loadWorkImage(checked: CheckedImage): Promise<WorkImage | undefined> {
  const { data, info } = await decodeImage(checked, {}, (image) =>
    image
      .resize(WORK_SIDE, WORK_SIDE, { fit: 'inside', withoutEnlargement: true, kernel: 'cubic' })
      // Transparent backgrounds count as white, as they are displayed on a page.
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true }),
  );
  const { width, height, channels } = info;
  if (width < MIN_WORK_SIDE || height < MIN_WORK_SIDE) return undefined;
  const lab = new Float32Array(width * height * 3);
  const grey = channels < 3;
  for (let i = 0, p = 0; i < width * height; i++, p += channels) {
    const r = data[p];
    const g = grey ? r : data[p + 1];
    const b = grey ? r : data[p + 2];
    srgbToLab(r, g, b, lab, i * 3);
  }
  return { width, height, lab };
}

const LINEAR = new Float32Array(256).map((_, v) => {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
});

function labF(t: number): number {
  return t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 / 116) * t + 16 / 116;
}

function srgbToLab(r8: number, g8: number, b8: number, out: Float32Array, o: number): void {
  const r = LINEAR[r8];
  const g = LINEAR[g8];
  const b = LINEAR[b8];
  // D65 white.
  const x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
  const y = 0.2126729 * r + 0.7151522 * g + 0.072175 * b;
  const z = (0.0193339 * r + 0.119192 * g + 0.9503041 * b) / 1.08883;
  const fx = labF(x);
  const fy = labF(y);
  const fz = labF(z);
  out[o] = 116 * fy - 16;
  out[o + 1] = 500 * (fx - fy);
  out[o + 2] = 200 * (fy - fz);
}

function borderIndices(w: number, h: number): number[] {
  const ring = Math.max(1, Math.round(0.04 * Math.min(w, h)));
  const out: number[] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (x < ring || y < ring || x >= w - ring || y >= h - ring) out.push(y * w + x);
    }
  }
  return out;
}

function distance(lab: Float32Array, i: number, j: number): number {
  const dl = lab[i * 3] - lab[j * 3];
  const da = lab[i * 3 + 1] - lab[j * 3 + 1];
  const db = lab[i * 3 + 2] - lab[j * 3 + 2];
  return Math.sqrt(dl * dl + da * da + db * db);
}

/** Background colours: border colours shared by a good part of the border (an object touching it is not). */
function backgroundColours(work: WorkImage): Float32Array {
  const { lab, width: w, height: h } = work;
  const border = borderIndices(w, h);
  const step = Math.max(1, Math.floor(border.length / 256));
  const samples: number[] = [];
  for (let k = 0; k < border.length; k += step) samples.push(border[k]);

  const kept: number[] = [];
  for (const i of samples) {
    let share = 0;
    for (const j of samples) if (distance(lab, i, j) < BACKGROUND_TOLERANCE) share++;
    if (share < BACKGROUND_SHARE * samples.length) continue;
    if (kept.some((k) => distance(lab, i, k) < BACKGROUND_TOLERANCE / 3)) continue;
    kept.push(i);
  }
  if (kept.length > 0) {
    const out = new Float32Array(kept.length * 3);
    kept.forEach((i, n) => out.set(lab.subarray(i * 3, i * 3 + 3), n * 3));
    return out;
  }
  // No colour dominates the border (noise, busy scene): its per-channel median stands for it.
  const out = new Float32Array(3);
  for (let c = 0; c < 3; c++) out[c] = median(border.map((i) => lab[i * 3 + c]));
  return out;
}

function saliencyMap(work: WorkImage): Float32Array {
  const { lab, width: w, height: h } = work;
  const n = w * h;
  const background = backgroundColours(work);
  const raw = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const l = lab[i * 3];
    const a = lab[i * 3 + 1];
    const b = lab[i * 3 + 2];
    let best = Infinity;
    for (let k = 0; k < background.length; k += 3) {
      const dl = l - background[k];
      const da = a - background[k + 1];
      const db = b - background[k + 2];
      const d = dl * dl + da * da + db * db;
      if (d < best) best = d;
    }
    raw[i] = Math.sqrt(best);
  }
  // Sobel on L*, divided by 4 so a step of ΔL gives about ΔL.
  const L = (x: number, y: number): number =>
    lab[(Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))) * 3];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const gx = L(x + 1, y - 1) + 2 * L(x + 1, y) + L(x + 1, y + 1) - L(x - 1, y - 1) - 2 * L(x - 1, y) - L(x - 1, y + 1);
      const gy = L(x - 1, y + 1) + 2 * L(x, y + 1) + L(x + 1, y + 1) - L(x - 1, y - 1) - 2 * L(x, y - 1) - L(x + 1, y - 1);
      raw[y * w + x] += (EDGE_WEIGHT * Math.sqrt(gx * gx + gy * gy)) / 4;
    }
  }
  return boxBlur3(raw, w, h);
}

function boxBlur3(src: Float32Array, w: number, h: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let sum = 0;
      let count = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= w) continue;
          sum += src[yy * w + xx];
          count++;
        }
      }
      out[y * w + x] = sum / count;
    }
  }
  return out;
}

function median(values: number[]): number {
  const sorted = Float64Array.from(values).sort();
  return sorted.length === 0 ? 0 : sorted[sorted.length >> 1];
}

function chooseThreshold(saliency: Float32Array, w: number, h: number): number {
  const border = borderIndices(w, h).map((i) => saliency[i]);
  const m = median(border);
  const mad = median(border.map((v) => Math.abs(v - m)));
  const borderNoise = m + 3 * 1.4826 * mad + 2;
  return Math.max(ABSOLUTE_THRESHOLD, borderNoise, 0.5 * otsu(saliency));
}

function otsu(values: Float32Array): number {
  let max = 0;
  for (const v of values) if (v > max) max = v;
  if (max <= 0) return 0;
  const bins = 256;
  const hist = new Float64Array(bins);
  for (const v of values) hist[Math.min(bins - 1, Math.floor((v / max) * bins))]++;
  const total = values.length;
  let sumAll = 0;
  for (let i = 0; i < bins; i++) sumAll += i * hist[i];
  let weightB = 0;
  let sumB = 0;
  let best = -1;
  let bestBin = 0;
  for (let i = 0; i < bins; i++) {
    weightB += hist[i];
    if (weightB === 0) continue;
    const weightF = total - weightB;
    if (weightF === 0) break;
    sumB += i * hist[i];
    const meanB = sumB / weightB;
    const meanF = (sumAll - sumB) / weightF;
    const between = weightB * weightF * (meanB - meanF) * (meanB - meanF);
    if (between > best) {
      best = between;
      bestBin = i;
    }
  }
  return ((bestBin + 1) / bins) * max;
}

interface Box {
  x0: number;
  y0: number;
  x1: number; // inclusive
  y1: number; // inclusive
  area: number;
}

/**
 * Connected components of the mask after a 3x3 closing-like dilation (so a subject split by a thin line
 * stays one), largest first. Boxes and areas count only pixels of the original mask.
 */
function components(mask: Uint8Array, w: number, h: number): Box[] {
  const grown = new Uint8Array(mask.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!mask[y * w + x]) continue;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx >= 0 && xx < w) grown[yy * w + xx] = 1;
        }
      }
    }
  }
  const label = new Int32Array(mask.length);
  const stack = new Int32Array(mask.length);
  const boxes: Box[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (!grown[start] || label[start]) continue;
    const id = boxes.length + 1;
    const box: Box = { x0: w, y0: h, x1: -1, y1: -1, area: 0 };
    let top = 0;
    stack[top++] = start;
    label[start] = id;
    while (top > 0) {
      const p = stack[--top];
      const x = p % w;
      const y = (p - x) / w;
      if (mask[p]) {
        box.area++;
        if (x < box.x0) box.x0 = x;
        if (x > box.x1) box.x1 = x;
        if (y < box.y0) box.y0 = y;
        if (y > box.y1) box.y1 = y;
      }
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= w) continue;
          const q = yy * w + xx;
          if (grown[q] && !label[q]) {
            label[q] = id;
            stack[top++] = q;
          }
        }
      }
    }
    if (box.area > 0) boxes.push(box);
  }
  // Stable order: by area, then position.
  return boxes.sort((a, b) => b.area - a.area || a.y0 - b.y0 || a.x0 - b.x0);
}

/** Fraction of `small`'s box that lies inside `big`'s box. */
function containedFraction(small: Box, big: Box): number {
  const ix = Math.min(small.x1, big.x1) - Math.max(small.x0, big.x0) + 1;
  const iy = Math.min(small.y1, big.y1) - Math.max(small.y0, big.y0) + 1;
  if (ix <= 0 || iy <= 0) return 0;
  return (ix * iy) / ((small.x1 - small.x0 + 1) * (small.y1 - small.y0 + 1));
}

/** Box in working pixels → region in original oriented pixels, with a margin, clamped to the image. */
function toRegion(found: Box, w: number, h: number, width: number, height: number): Region {
  const box = { ...found };
  if (box.x1 - box.x0 > 2 * HALO + 2) {
    if (box.x0 > 0) box.x0 += HALO;
    if (box.x1 < w - 1) box.x1 -= HALO;
  }
  if (box.y1 - box.y0 > 2 * HALO + 2) {
    if (box.y0 > 0) box.y0 += HALO;
    if (box.y1 < h - 1) box.y1 -= HALO;
  }
  const sx = width / w;
  const sy = height / h;
  const bw = (box.x1 - box.x0 + 1) * sx;
  const bh = (box.y1 - box.y0 + 1) * sy;
  const left = Math.max(0, Math.floor(box.x0 * sx - MARGIN_FRACTION * bw));
  const top = Math.max(0, Math.floor(box.y0 * sy - MARGIN_FRACTION * bh));
  const right = Math.min(width, Math.ceil((box.x1 + 1) * sx + MARGIN_FRACTION * bw));
  const bottom = Math.min(height, Math.ceil((box.y1 + 1) * sy + MARGIN_FRACTION * bh));
  return { left, top, width: right - left, height: bottom - top };
}

/**
 * Builds the bundled default model, "isg-descriptor-v1": a hand-crafted global image descriptor written
 * as a plain ONNX graph (no training, no weights to download), tuned for near-duplicate and
 * "looks alike" search. See docs/models.md for what each block computes and the measured quality.
 *
 *   npx tsx models/build-default-model.ts [outDir]     (default: models/default)
 *
 * Writes model.onnx and manifest.json. The output is deterministic: the same script gives the same bytes.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ModelManifest } from '../core/embed/manifest';
import { DEFAULT_VIEWS } from '../core/image/views';
import type { TensorSpec } from '../core/image/types';
import { DataType, GraphBuilder, attr, encodeModel, type AttributeValue } from './onnx-writer';

export const MODEL_NAME = 'isg-descriptor-v1';
export const MODEL_VERSION = '1.0.0';
export const INPUT_NAME = 'image';
export const OUTPUT_NAME = 'embedding';

/** Input: RGB in [0, 1], the whole image squashed to 96 x 96. */
export const PREPROCESS: TensorSpec = {
  width: 96,
  height: 96,
  resize: 'fill',
  kernel: 'linear',
  mean: [0, 0, 0],
  std: [1, 1, 1],
};

/** Working resolution of every block: the input average-pooled 2x2. */
const WORK = PREPROCESS.width / 2;

/**
 * The descriptor's tunable constants. Exported so experiments can vary them; the committed model is
 * DEFAULTS. The values were tuned on the synthetic scenes of tests/helpers/synthetic-images.ts
 * (see docs/models.md for the measurements).
 */
export interface DescriptorOptions {
  /** Weight of each block in the final vector (each block has norm <= 1 before weighting). */
  weights: BlockValues;
  /**
   * Per block: the norm (after power normalisation) around which a block stops growing. A block is
   * scaled by 1 / sqrt(|x|^2 + eps^2): strong blocks come out near unit norm, weak ones (a nearly grey
   * image's colour, a nearly flat image's edges) stay proportionally small instead of having their
   * noise blown up. Set to about twice the block's median norm on the synthetic scenes.
   */
  blockEps: BlockValues;
  lumGrids: number[];
  colourGrids: number[];
  hueBins: number;
  hueGrids: number[];
  edgeOrientations: number;
  edgeGrids: number[];
  /** Exponent of the signed power normalisation sign(x)|x|^p applied to every block (1 = none). */
  power: number;
  /**
   * How much of its mean each edge-orientation level loses (0..1). 1 keeps only the deviations (most
   * distinctive); less keeps part of the absolute edge energy, which survives crops and exposure
   * changes far better but is shared by unrelated images.
   */
  centreEdges: number;
  /** Level weight g^-levelDecay for a g x g grid (1: every level has about the same energy). */
  levelDecay: number;
  /** Width of a grid cell's pooling window, in cells (> 1: neighbouring cells overlap, which absorbs crops). */
  poolOverlap: number;
  /** Floor of the luminance std used to normalise contrast (flat images are not blown up to noise). */
  lumStdFloor: number;
  /** Offset of the mean luminance that chroma is divided by (so chroma of dark images stays bounded). */
  chromaLumOffset: number;
  /** Experiments only: output the power-normalised blocks, without block or final normalisation. */
  raw?: boolean;
}

export type BlockName = 'lumLayout' | 'colourLayout' | 'hue' | 'edges';
export type BlockValues = Record<BlockName, number>;

export const DEFAULTS: DescriptorOptions = {
  weights: { lumLayout: 1.0, colourLayout: 1.0, hue: 0.8, edges: 1.0 },
  blockEps: { lumLayout: 1.9, colourLayout: 1.6, hue: 0.12, edges: 0.12 },
  lumGrids: [2, 4],
  colourGrids: [1, 2, 4],
  hueBins: 8,
  hueGrids: [1, 2],
  edgeOrientations: 6,
  edgeGrids: [1, 2, 4],
  power: 0.75,
  centreEdges: 0.5,
  levelDecay: 1,
  poolOverlap: 1.5,
  lumStdFloor: 0.02,
  chromaLumOffset: 0.1,
};

const SQRT2 = Math.SQRT2;
const SQRT6 = Math.sqrt(6);
/** RGB -> Y (Rec. 601 luma), O1 = (R - G)/sqrt2, O2 = (R + G - 2B)/sqrt6: grey pixels have O1 = O2 = 0. */
const LUMA = [0.299, 0.587, 0.114];
const OPPONENT = [1 / SQRT2, -1 / SQRT2, 0, 1 / SQRT6, 1 / SQRT6, -2 / SQRT6];

class DescriptorBuilder {
  readonly g = new GraphBuilder();

  constructor(readonly o: DescriptorOptions) {}

  scalar(v: number): string {
    return this.g.constFloat([v], [], 's');
  }

  conv(x: string, weights: number[], dims: number[], attributes: Array<[string, AttributeValue]> = []): string {
    return this.g.op('Conv', [x, this.g.constFloat(weights, dims, 'w')], attributes);
  }

  /** Mean over the given axes, kept as size-1 dims. */
  mean(x: string, axes: number[]): string {
    return this.g.op('ReduceMean', [x], [['axes', attr.ints(axes)], ['keepdims', attr.int(1)]]);
  }

  /**
   * A linear colour transform fused with the 2x2 average pool down to the working resolution: one
   * Conv with a 2x2 stride-2 kernel per output channel. `rows` holds one RGB weight triple per output.
   */
  colourDown(x: string, rows: number[]): string {
    const out = rows.length / 3;
    const w: number[] = [];
    for (let o = 0; o < out; o++) for (let c = 0; c < 3; c++) w.push(...Array<number>(4).fill(rows[o * 3 + c] / 4));
    return this.conv(x, w, [out, 3, 2, 2], [['strides', attr.ints([2, 2])]]);
  }

  /** Box average pool of an S x S map to a g x g grid of overlapping cells (each poolOverlap cells wide). */
  gridPool(x: string, size: number, grid: number): string {
    if (grid === 1) return this.g.op('GlobalAveragePool', [x]);
    let kernel = Math.min(size - (grid - 1), Math.round((this.o.poolOverlap * size) / grid));
    while ((size - kernel) % (grid - 1) !== 0) kernel--;
    const stride = (size - kernel) / (grid - 1);
    return this.g.op('AveragePool', [x], [
      ['kernel_shape', attr.ints([kernel, kernel])],
      ['strides', attr.ints([stride, stride])],
    ]);
  }

  /**
   * Pool at several grids and concatenate as [N, C * sum(g^2)]. Each level optionally loses `centred`
   * times its mean (over cells and channels) and is weighted by g^-levelDecay: a g x g level has g^2
   * values, so without the decay the finest, most crop-sensitive level would dominate the block.
   */
  pyramid(x: string, size: number, grids: number[], centred = 0): string {
    const parts = grids.map((gr) => {
      let level = this.g.op('Flatten', [this.gridPool(x, size, gr)], [['axis', attr.int(1)]]);
      if (centred > 0) {
        const m = this.mean(level, [1]);
        level = this.g.op('Sub', [level, centred === 1 ? m : this.g.op('Mul', [m, this.scalar(centred)])]);
      }
      const weight = Math.pow(gr, -this.o.levelDecay);
      return weight === 1 ? level : this.g.op('Mul', [level, this.scalar(weight)]);
    });
    return parts.length === 1 ? parts[0] : this.g.op('Concat', parts, [['axis', attr.int(1)]]);
  }

  /** sign(x) * |x|^p, written as x * (|x| + tiny)^(p - 1). */
  signedPower(x: string, p: number): string {
    if (p === 1) return x;
    const abs = this.g.op('Add', [this.g.op('Abs', [x]), this.scalar(1e-12)]);
    if (p === 0.5) return this.g.op('Div', [x, this.g.op('Sqrt', [abs])]);
    return this.g.op('Mul', [x, this.g.op('Pow', [abs, this.scalar(p - 1)])]);
  }

  /** x / sqrt(|x|^2 + eps^2) over axis 1 of [N, D]. */
  l2(x: string, eps: number): string {
    const ss = this.g.op('ReduceSumSquare', [x], [['axes', attr.ints([1])], ['keepdims', attr.int(1)]]);
    return this.g.op('Div', [x, this.g.op('Sqrt', [this.g.op('Add', [ss, this.scalar(eps * eps)])])]);
  }

  /** Power-normalise, softly unit-normalise and weight one block. */
  block(x: string, name: BlockName): string {
    const p = this.signedPower(x, this.o.power);
    if (this.o.raw) return p;
    return this.g.op('Mul', [this.l2(p, this.o.blockEps[name]), this.scalar(this.o.weights[name])]);
  }

  /**
   * Oriented edge energy of a luminance map [N,1,S,S] -> [N,K,S-2,S-2]. Valid 3x3 Sobel (no padding,
   * so the borders add no false edges), then a magnitude-weighted soft histogram of K orientations in
   * the double-angle plane, where a gradient and its opposite count as the same orientation:
   * bin k = relu(cos(2phi - 2theta_k) - cos(pi/K)) * |g|.
   */
  orientedEdges(y: string): string {
    const gx = this.conv(y, [-1, 0, 1, -2, 0, 2, -1, 0, 1].map((v) => v / 8), [1, 1, 3, 3]);
    const gy = this.conv(y, [-1, -2, -1, 0, 0, 0, 1, 2, 1].map((v) => v / 8), [1, 1, 3, 3]);
    const gx2 = this.g.op('Mul', [gx, gx]);
    const gy2 = this.g.op('Mul', [gy, gy]);
    const mag = this.g.op('Sqrt', [this.g.op('Add', [this.g.op('Add', [gx2, gy2]), this.scalar(1e-6)])]);
    // (u, v) = |g| (cos 2phi, sin 2phi) = (gx^2 - gy^2, 2 gx gy) / |g|
    const u = this.g.op('Div', [this.g.op('Sub', [gx2, gy2]), mag]);
    const v = this.g.op('Div', [this.g.op('Mul', [this.g.op('Mul', [gx, gy]), this.scalar(2)]), mag]);
    const uvm = this.g.op('Concat', [u, v, mag], [['axis', attr.int(1)]]);
    const k = this.o.edgeOrientations;
    const c = Math.cos(Math.PI / k);
    const w: number[] = [];
    for (let i = 0; i < k; i++) {
      const a = (2 * Math.PI * i) / k;
      w.push(Math.cos(a), Math.sin(a), -c);
    }
    return this.g.op('Relu', [this.conv(uvm, w, [k, 3, 1, 1])]);
  }
}

const cells = (grids: number[]): number => grids.reduce((a, gr) => a + gr * gr, 0);

/** The ONNX graph of the descriptor, and its output dimension. */
export function buildDefaultModel(o: DescriptorOptions = DEFAULTS): { model: Buffer; dimension: number } {
  const d = new DescriptorBuilder(o);
  const g = d.g;
  const w = o.weights;

  // 1. Down to the 48 x 48 working resolution (2x2 average, which also calms JPEG noise), fused with
  //    the change to an opponent colour space: luma Y and chroma (O1, O2).
  const y = d.colourDown(INPUT_NAME, LUMA);
  const chroma = d.colourDown(INPUT_NAME, OPPONENT);

  // 2. Luminance normalised per image (zero mean, unit std): brightness and contrast invariance.
  const yMean = d.mean(y, [2, 3]);
  const yc = g.op('Sub', [y, yMean]);
  const yStd = g.op('Max', [g.op('Sqrt', [d.mean(g.op('Mul', [yc, yc]), [2, 3])]), d.scalar(o.lumStdFloor)]);
  const yn = g.op('Div', [yc, yStd]);
  // Chroma relative to the mean luminance: scaling all of RGB leaves it unchanged.
  const cn = g.op('Div', [chroma, g.op('Add', [yMean, d.scalar(o.chromaLumOffset)])]);

  const blocks: string[] = [];
  let dimension = 0;

  // 3. Luminance layout: normalised luma over 2x2 and 4x4 overlapping grids (zero-mean already).
  if (w.lumLayout > 0) {
    blocks.push(d.block(d.pyramid(yn, WORK, o.lumGrids), 'lumLayout'));
    dimension += cells(o.lumGrids);
  }

  // 4. Colour layout: chroma (O1, O2) over 1x1, 2x2, 4x4 (grey is the origin, so no centring needed).
  if (w.colourLayout > 0) {
    blocks.push(d.block(d.pyramid(cn, WORK, o.colourGrids), 'colourLayout'));
    dimension += 2 * cells(o.colourGrids);
  }

  // 5. Hue histogram: chroma projected on hueBins hue directions with narrow lobes, weighted by chroma
  //    (grey pixels do not vote): relu(cos(hue - theta_k) - cos(pi/K)) * |chroma|; pooled, centred.
  if (w.hue > 0) {
    const k = o.hueBins;
    const dirs: number[] = [];
    for (let i = 0; i < k; i++) dirs.push(Math.cos((2 * Math.PI * i) / k), Math.sin((2 * Math.PI * i) / k));
    const proj = d.conv(cn, dirs, [k, 2, 1, 1]);
    const cmag = g.op('Sqrt', [
      g.op('Add', [g.op('ReduceSumSquare', [cn], [['axes', attr.ints([1])], ['keepdims', attr.int(1)]]), d.scalar(1e-6)]),
    ]);
    const hue = g.op('Relu', [g.op('Sub', [proj, g.op('Mul', [cmag, d.scalar(Math.cos(Math.PI / k))])])]);
    blocks.push(d.block(d.pyramid(hue, WORK, o.hueGrids, 1), 'hue'));
    dimension += k * cells(o.hueGrids);
  }

  // 6. Edge-orientation energy of the normalised luma over 1x1, 2x2, 4x4; half-centred (see centreEdges).
  if (w.edges > 0) {
    const e = d.orientedEdges(yn);
    blocks.push(d.block(d.pyramid(e, WORK - 2, o.edgeGrids, o.centreEdges), 'edges'));
    dimension += o.edgeOrientations * cells(o.edgeGrids);
  }

  // 7. Concatenate and L2-normalise the whole vector.
  const all = blocks.length === 1 ? blocks[0] : g.op('Concat', blocks, [['axis', attr.int(1)]]);
  g.op('Identity', [o.raw ? all : d.l2(all, 1e-6)], [], OUTPUT_NAME);

  const model = encodeModel({
    irVersion: 8,
    opsetImports: [{ domain: '', version: 17 }],
    producerName: 'image-search-gateway',
    producerVersion: MODEL_VERSION,
    docString: `${MODEL_NAME}: hand-crafted image descriptor (luminance and colour layout, hue histogram, oriented edge energy)`,
    graph: {
      name: MODEL_NAME,
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [{ name: INPUT_NAME, elemType: DataType.FLOAT, shape: ['N', 3, PREPROCESS.height, PREPROCESS.width] }],
      outputs: [{ name: OUTPUT_NAME, elemType: DataType.FLOAT, shape: ['N', dimension] }],
    },
  });
  return { model, dimension };
}

export function defaultManifest(model: Buffer, dimension: number): ModelManifest {
  return {
    name: MODEL_NAME,
    version: MODEL_VERSION,
    description:
      'Bundled hand-crafted descriptor: luminance and colour layout, hue histogram and oriented edge energy; ' +
      'good for near-duplicates and visually similar images, not semantic search. No text tower.',
    dimension,
    visual: {
      file: 'model.onnx',
      input: INPUT_NAME,
      output: OUTPUT_NAME,
      preprocess: PREPROCESS,
    },
    normalized: true,
    sha256: { 'model.onnx': createHash('sha256').update(model).digest('hex') },
    // Copy detection is what this descriptor is for: new libraries index mirrored, grey, cropped and
    // rotated views too (docs/models.md, "Views").
    views: [...DEFAULT_VIEWS],
  };
}

/** Write model.onnx and manifest.json into `outDir`; returns the manifest. */
export function writeDefaultModel(outDir: string): ModelManifest {
  const { model, dimension } = buildDefaultModel();
  const manifest = defaultManifest(model, dimension);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'model.onnx'), model);
  writeFileSync(path.join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

if (require.main === module) {
  const outDir = path.resolve(process.argv[2] ?? path.join(__dirname, 'default'));
  const manifest = writeDefaultModel(outDir);
  console.log(`wrote ${outDir}: ${manifest.name} dimension ${manifest.dimension}, sha256 ${manifest.sha256!['model.onnx']}`);
}

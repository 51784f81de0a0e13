/**
 * A CLIP model with the exact ViT-B/32 architecture (OpenAI CLIP / open_clip "ViT-B-32": 224 px input,
 * 32 px patches, 12 layers of width 768 with 12 heads; text: 12 layers of width 512 with 8 heads,
 * vocabulary 49408, context 77; embeddings of 512) and random weights, in the Immich layout. For timing
 * only (`npm run bench`): its vectors mean nothing. About 600 MB; written to an ignored folder.
 *
 *   npx tsx models/clip/build-vit-b32-random.ts OUT_DIR
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { prng } from '../../tests/helpers/prng';
import { CLIP_MEAN, CLIP_STD } from '../build-tiny-clip';
import { buildClipTokenizerJson, END_TOKEN, START_TOKEN } from './clip-tokenizer-json';
import { DataType, GraphBuilder, attr, encodeModel } from '../onnx-writer';

const EMBED = 512;
const VISION = { size: 224, patch: 32, width: 768, layers: 12, heads: 12 };
const TEXT = { context: 77, vocab: 49408, width: 512, layers: 12, heads: 8 };

class RandomGraph {
  readonly g = new GraphBuilder();
  private n = 0;
  private readonly random = prng(32);

  /** A weight initialiser (added directly: GraphBuilder's constant sharing would hash hundreds of MB). */
  weight(dims: number[], scale = 0.02, constant?: number): string {
    const size = dims.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (constant !== undefined) values.fill(constant);
    else for (let i = 0; i < size; i++) values[i] = (this.random() * 2 - 1) * scale * Math.sqrt(3);
    const name = `w${this.n++}`;
    this.g.initializers.push({ name, dims, dataType: DataType.FLOAT, values });
    return name;
  }

  linear(x: string, inDim: number, outDim: number): string {
    return this.g.op('Add', [this.g.op('MatMul', [x, this.weight([inDim, outDim])]), this.weight([outDim], 0.01)]);
  }

  layerNorm(x: string, dim: number): string {
    return this.g.op('LayerNormalization', [x, this.weight([dim], 0, 1), this.weight([dim], 0, 0)], [['axis', attr.int(-1)], ['epsilon', attr.float(1e-5)]]);
  }

  /** Pre-norm residual attention block (CLIP's), optionally with an additive attention mask. */
  block(x: string, tokens: number, width: number, heads: number, mask?: string): string {
    const g = this.g;
    const hd = width / heads;
    const h = this.layerNorm(x, width);
    const split = (t: string, perm: number[]) =>
      g.op('Transpose', [g.op('Reshape', [t, g.constInt64([0, tokens, heads, hd])])], [['perm', attr.ints(perm)]]);
    const q = split(this.linear(h, width, width), [0, 2, 1, 3]);
    const k = split(this.linear(h, width, width), [0, 2, 3, 1]);
    const v = split(this.linear(h, width, width), [0, 2, 1, 3]);
    let scores = g.op('Mul', [g.op('MatMul', [q, k]), g.constFloat([1 / Math.sqrt(hd)], [], 's')]);
    if (mask) scores = g.op('Add', [scores, mask]);
    const att = g.op('MatMul', [g.op('Softmax', [scores], [['axis', attr.int(-1)]]), v]);
    const merged = g.op('Reshape', [g.op('Transpose', [att], [['perm', attr.ints([0, 2, 1, 3])]]), g.constInt64([0, tokens, width])]);
    const x1 = g.op('Add', [x, this.linear(merged, width, width)]);
    const m = this.linear(this.layerNorm(x1, width), width, 4 * width);
    const gelu = g.op('Mul', [m, g.op('Sigmoid', [g.op('Mul', [m, g.constFloat([1.702], [], 's')])])]); // QuickGELU
    return g.op('Add', [x1, this.linear(gelu, 4 * width, width)]);
  }
}

function encode(name: string, g: GraphBuilder, input: { name: string; type: number; shape: (number | string)[] }): Buffer {
  return encodeModel({
    irVersion: 8,
    opsetImports: [{ domain: '', version: 17 }],
    producerName: 'image-search-gateway',
    producerVersion: '1.0.0',
    docString: `${name}: ViT-B/32 architecture, random weights (timing only)`,
    graph: {
      name,
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [{ name: input.name, elemType: input.type as 1, shape: input.shape }],
      outputs: [{ name: 'embedding', elemType: DataType.FLOAT, shape: ['N', EMBED] }],
    },
  });
}

export function buildVisual(): Buffer {
  const r = new RandomGraph();
  const g = r.g;
  const { size, patch, width, layers, heads } = VISION;
  const grid = (size / patch) ** 2;
  const patches = g.op('Conv', ['image', r.weight([width, 3, patch, patch])], [['strides', attr.ints([patch, patch])]]);
  const seq = g.op('Transpose', [g.op('Reshape', [patches, g.constInt64([0, width, grid])])], [['perm', attr.ints([0, 2, 1])]]);
  // The class token, broadcast over the batch without shape arithmetic: 0 × (any token) + embedding.
  const cls = g.op('Add', [g.op('Mul', [g.op('ReduceMean', [seq], [['axes', attr.ints([1])], ['keepdims', attr.int(1)]]), g.constFloat([0], [], 's')]), r.weight([1, 1, width])]);
  let x = g.op('Add', [g.op('Concat', [cls, seq], [['axis', attr.int(1)]]), r.weight([grid + 1, width])]);
  x = r.layerNorm(x, width);
  for (let i = 0; i < layers; i++) x = r.block(x, grid + 1, width, heads);
  const first = g.op('Gather', [x, g.constInt64([0], [])], [['axis', attr.int(1)]]);
  g.op('MatMul', [r.layerNorm(first, width), r.weight([width, EMBED])], [], 'embedding');
  return encode('vit-b32-random-visual', g, { name: 'image', type: DataType.FLOAT, shape: ['N', 3, size, size] });
}

export function buildTextual(): Buffer {
  const r = new RandomGraph();
  const g = r.g;
  const { context, vocab, width, layers, heads } = TEXT;
  const mask = new Float32Array(context * context);
  for (let i = 0; i < context; i++) for (let j = i + 1; j < context; j++) mask[i * context + j] = -1e9;
  const causal = g.constFloat(mask, [context, context], 'causal_mask');
  let x = g.op('Add', [g.op('Gather', [r.weight([vocab, width]), 'text'], [['axis', attr.int(0)]]), r.weight([context, width], 0.01)]);
  for (let i = 0; i < layers; i++) x = r.block(x, context, width, heads, causal);
  x = r.layerNorm(x, width);
  // Features at the end token: the highest id in each row (as CLIP's text.argmax(dim=-1)).
  const eot = g.op('ArgMax', ['text'], [['axis', attr.int(1)], ['keepdims', attr.int(1)]]);
  const index = g.op('Expand', [g.op('Unsqueeze', [eot, g.constInt64([2])]), g.constInt64([1, 1, width])]);
  const picked = g.op('Reshape', [g.op('GatherElements', [x, index], [['axis', attr.int(1)]]), g.constInt64([-1, width])]);
  g.op('MatMul', [picked, r.weight([width, EMBED])], [], 'embedding');
  return encode('vit-b32-random-textual', g, { name: 'text', type: DataType.INT32, shape: ['N', context] });
}

/** Write the model folder (Immich layout). */
export function writeVitB32Random(outDir: string): void {
  const put = (file: string, content: Buffer | string) => {
    mkdirSync(path.dirname(path.join(outDir, file)), { recursive: true });
    writeFileSync(path.join(outDir, file), content);
  };
  const text = (o: unknown) => JSON.stringify(o, null, 2) + '\n';
  // A small CLIP-format tokenizer: token ids stay far below the 49408 rows of the embedding table.
  const { json } = buildClipTokenizerJson(['a', 'photo', 'of', 'red', 'blue', 'white', 'short', 'sleeve', 'shirt', 'dress']);
  put('config.json', text({ embed_dim: EMBED, vision_cfg: { image_size: 224, layers: 12, width: 768, patch_size: 32 }, text_cfg: { context_length: 77, vocab_size: 49408, width: 512, heads: 8, layers: 12 } }));
  put('visual/preprocess_cfg.json', text({ size: [224, 224], mode: 'RGB', mean: CLIP_MEAN, std: CLIP_STD, interpolation: 'bicubic', resize_mode: 'shortest', fill_color: 0 }));
  put('textual/tokenizer.json', text(json));
  put('textual/tokenizer_config.json', text({ bos_token: START_TOKEN, eos_token: END_TOKEN, pad_token: END_TOKEN, model_max_length: 77 }));
  put('visual/model.onnx', buildVisual());
  put('textual/model.onnx', buildTextual());
}

if (require.main === module) {
  const outDir = process.argv[2];
  if (!outDir) {
    process.stderr.write('usage: tsx models/clip/build-vit-b32-random.ts OUT_DIR\n');
    process.exit(2);
  }
  writeVitB32Random(path.resolve(outDir));
  console.log(`wrote a random-weight ViT-B/32 CLIP model into ${path.resolve(outDir)}`);
}

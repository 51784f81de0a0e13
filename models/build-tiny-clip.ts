/**
 * Builds "tiny-clip-colours": a CLIP model in the Immich layout, a few KB, for tests. Its two towers
 * agree on colour, so text → image ranking can be checked end to end through the real loading,
 * tokenising and preprocessing code:
 *
 * - image tower: undoes the CLIP mean/std normalisation, moves each pixel into an opponent-colour plane
 *   (grey = origin) and lets it vote for the hue directions of COLOURS it is close to, weighted by its
 *   chroma (white, grey and black pixels do not vote); votes are averaged over the image. A constant
 *   last dimension (NEUTRAL) gives grey images and colourless text a direction of their own.
 * - text tower: token ids → rows of an embedding table, summed. The row of each colour word (COLOURS,
 *   English, French and Chinese) is that colour's unit vector; every other token's row is zero.
 *
 *   npx tsx models/build-tiny-clip.ts OUT_DIR
 *
 * Deterministic: the same script writes the same bytes. Not committed: tests build it into a temp dir.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildClipTokenizerJson, END_TOKEN, START_TOKEN } from './clip/clip-tokenizer-json';
import { DataType, GraphBuilder, attr, encodeModel } from './onnx-writer';

export const TINY_CLIP_NAME = 'tiny-clip-colours';

/** OpenAI CLIP's normalisation, as in the preprocess_cfg.json of Immich's ViT-B-32__openai. */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

/** Colours the model knows: hue angle in the opponent plane (degrees) and the words that name it. */
export const COLOURS = [
  { name: 'red', hue: 30, words: ['red', 'rouge', '红色'] },
  { name: 'yellow', hue: 90, words: ['yellow', 'jaune', '黄色'] },
  { name: 'green', hue: 150, words: ['green', 'vert', '绿色'] },
  { name: 'cyan', hue: 210, words: ['cyan', '青色'] },
  { name: 'blue', hue: 270, words: ['blue', 'bleu', '蓝色'] },
  { name: 'magenta', hue: 330, words: ['magenta', 'purple', '紫色'] },
] as const;

/** Other words in the vocabulary (they tokenise to one token whose row is zero). */
const OTHER_WORDS = ['a', 'photo', 'of', 'shirt', 't', 'dress', 'shoe'];

/** Weight of the constant last dimension, in both towers. */
const NEUTRAL = 0.05;
const IMAGE_SIZE = 224;
const CONTEXT_LENGTH = 77;
export const TINY_CLIP_DIMENSION = COLOURS.length + 1;

/** Opponent colour axes: O1 = (R - G)/√2, O2 = (R + G - 2B)/√6. Pure red lies at 30°, yellow at 90°, ... */
const OPPONENT = [
  [1 / Math.SQRT2, -1 / Math.SQRT2, 0],
  [1 / Math.sqrt(6), 1 / Math.sqrt(6), -2 / Math.sqrt(6)],
];

function visualModel(): Buffer {
  const g = new GraphBuilder();
  const K = COLOURS.length;
  // Conv weights fold in the inverse of (p - mean)/std, so the opponent plane is of the RGB values in [0, 1].
  const w = OPPONENT.flatMap((row) => row.map((a, c) => a * CLIP_STD[c]));
  const b = OPPONENT.map((row) => row.reduce((s, a, c) => s + a * CLIP_MEAN[c], 0));
  const opp = g.op('Conv', ['image', g.constFloat(w, [2, 3, 1, 1], 'w'), g.constFloat(b, [2], 'b')]);
  const dirs = COLOURS.flatMap((c) => [Math.cos((c.hue * Math.PI) / 180), Math.sin((c.hue * Math.PI) / 180)]);
  const proj = g.op('Conv', [opp, g.constFloat(dirs, [K, 2, 1, 1], 'w')]);
  const chroma = g.op('Sqrt', [
    g.op('Add', [g.op('Conv', [g.op('Mul', [opp, opp]), g.constFloat([1, 1], [1, 2, 1, 1], 'w')]), g.constFloat([1e-8], [], 's')]),
  ]);
  // A lobe 120° wide around each hue: relu(|o|·cos(Δhue) − |o|·cos 60°).
  const votes = g.op('Relu', [g.op('Sub', [proj, g.op('Mul', [chroma, g.constFloat([0.5], [], 's')])])]);
  const neutral = g.op('Conv', [opp, g.constFloat([0, 0], [1, 2, 1, 1], 'w'), g.constFloat([NEUTRAL], [1], 'b')]);
  const pooled = g.op('GlobalAveragePool', [g.op('Concat', [votes, neutral], [['axis', attr.int(1)]])]);
  g.op('Flatten', [pooled], [['axis', attr.int(1)]], 'embedding');
  return encodeModel({
    irVersion: 8,
    opsetImports: [{ domain: '', version: 17 }],
    producerName: 'image-search-gateway',
    producerVersion: '1.0.0',
    docString: `${TINY_CLIP_NAME} visual: chroma-weighted hue votes (a test model)`,
    graph: {
      name: `${TINY_CLIP_NAME}-visual`,
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [{ name: 'image', elemType: DataType.FLOAT, shape: ['N', 3, IMAGE_SIZE, IMAGE_SIZE] }],
      outputs: [{ name: 'embedding', elemType: DataType.FLOAT, shape: ['N', TINY_CLIP_DIMENSION] }],
    },
  });
}

function textualModel(vocab: Record<string, number>, wordTokens: Map<string, string>): Buffer {
  const g = new GraphBuilder();
  const D = TINY_CLIP_DIMENSION;
  const size = Object.keys(vocab).length;
  const table = new Float32Array(size * D);
  COLOURS.forEach((colour, k) => {
    for (const word of colour.words) table[vocab[wordTokens.get(word)!] * D + k] = 1;
  });
  const rows = g.op('Gather', [g.constFloat(table, [size, D], 'embedding_table'), 'text'], [['axis', attr.int(0)]]);
  const sum = g.op('ReduceSum', [rows, g.constInt64([1])], [['keepdims', attr.int(0)]]);
  const neutral = new Array(D).fill(0);
  neutral[D - 1] = NEUTRAL;
  g.op('Add', [sum, g.constFloat(neutral, [D], 'neutral')], [], 'embedding');
  return encodeModel({
    irVersion: 8,
    opsetImports: [{ domain: '', version: 17 }],
    producerName: 'image-search-gateway',
    producerVersion: '1.0.0',
    docString: `${TINY_CLIP_NAME} textual: summed colour-word rows (a test model)`,
    graph: {
      name: `${TINY_CLIP_NAME}-textual`,
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [{ name: 'text', elemType: DataType.INT32, shape: ['N', CONTEXT_LENGTH] }],
      outputs: [{ name: 'embedding', elemType: DataType.FLOAT, shape: ['N', D] }],
    },
  });
}

/** The files of the model folder, relative path → content. */
export function buildTinyClip(): Map<string, Buffer> {
  const words = [...COLOURS.flatMap((c) => c.words), ...OTHER_WORDS];
  const { json, vocab, wordTokens } = buildClipTokenizerJson(words);
  const text = (o: unknown) => Buffer.from(JSON.stringify(o, null, 2) + '\n');
  return new Map([
    [
      'config.json',
      text({
        embed_dim: TINY_CLIP_DIMENSION,
        vision_cfg: { image_size: IMAGE_SIZE, layers: 0, width: 0, patch_size: IMAGE_SIZE },
        text_cfg: { context_length: CONTEXT_LENGTH, vocab_size: Object.keys(vocab).length, width: 0, heads: 0, layers: 0 },
      }),
    ],
    ['visual/model.onnx', visualModel()],
    [
      'visual/preprocess_cfg.json',
      text({ size: [IMAGE_SIZE, IMAGE_SIZE], mode: 'RGB', mean: CLIP_MEAN, std: CLIP_STD, interpolation: 'bicubic', resize_mode: 'shortest', fill_color: 0 }),
    ],
    ['textual/model.onnx', textualModel(vocab, wordTokens)],
    ['textual/tokenizer.json', text(json)],
    [
      'textual/tokenizer_config.json',
      text({ bos_token: START_TOKEN, eos_token: END_TOKEN, pad_token: END_TOKEN, unk_token: END_TOKEN, model_max_length: CONTEXT_LENGTH }),
    ],
  ]);
}

/** Write the model folder into `outDir` (created if needed); returns the files written. */
export function writeTinyClip(outDir: string): string[] {
  const files = buildTinyClip();
  for (const [file, content] of files) {
    mkdirSync(path.dirname(path.join(outDir, file)), { recursive: true });
    writeFileSync(path.join(outDir, file), content);
  }
  return [...files.keys()];
}

if (require.main === module) {
  const outDir = process.argv[2];
  if (!outDir) {
    process.stderr.write('usage: tsx models/build-tiny-clip.ts OUT_DIR\n');
    process.exit(2);
  }
  const files = writeTinyClip(path.resolve(outDir));
  console.log(`wrote ${TINY_CLIP_NAME} (${files.length} files) into ${path.resolve(outDir)}`);
}

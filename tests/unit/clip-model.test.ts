/**
 * CLIP models in the Immich layout, on the generated tiny model (models/build-tiny-clip.ts): manifest
 * derivation, tokenisation through tokenizer.json, Immich's preprocessing geometry and pixel values,
 * the text tower, its cache and batching, int8 variants and checksum pinning.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { IMMICH_FILES, hasInt8Variants, manifestFromImmichLayout, tensorSpecFromPreprocessCfg } from '../../core/embed/immich-layout';
import { loadModel, sha256File, type LoadedModel } from '../../core/embed/runner';
import { LruCache } from '../../core/embed/text-cache';
import { ClipTokenizer, cleanText } from '../../core/embed/tokenizer';
import { rankLabels } from '../../core/embed/zero-shot';
import { immichCrop, toTensor } from '../../core/image/tensor';
import { COLOURS, TINY_CLIP_DIMENSION, buildTinyClip, writeTinyClip } from '../../models/build-tiny-clip';
import { productImage } from '../helpers/product-images';

let dir: string;
const file = (f: string) => path.join(dir, f);
const json = (f: string) => JSON.parse(readFileSync(file(f), 'utf8'));

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'isg-tiny-clip-'));
  writeTinyClip(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Immich layout → manifest', () => {
  test('dimension, context length, pad token and preprocessing come from the folder files', async () => {
    const m = await manifestFromImmichLayout(dir);
    const pre = json(IMMICH_FILES.preprocess);
    expect(m.dimension).toBe(json(IMMICH_FILES.config).embed_dim);
    expect(m.textual).toMatchObject({
      file: IMMICH_FILES.textual,
      tokenizer: IMMICH_FILES.tokenizer,
      contextLength: json(IMMICH_FILES.config).text_cfg.context_length,
      padToken: json(IMMICH_FILES.tokenizerConfig).pad_token,
    });
    expect(m.visual.preprocess).toEqual({
      width: pre.size[1],
      height: pre.size[0],
      resize: 'shortest_side_center_crop',
      kernel: 'cubic',
      mean: pre.mean,
      std: pre.std,
    });
    expect(m.normalized).toBe(false);
  });

  test('squash, bilinear, and refusals of what Immich would not run', () => {
    const pre = JSON.parse(buildTinyClip().get(IMMICH_FILES.preprocess)!.toString());
    expect(tensorSpecFromPreprocessCfg({ ...pre, resize_mode: 'squash', interpolation: 'bilinear', size: 256 })).toMatchObject({
      resize: 'fill',
      kernel: 'linear',
      width: 256,
      height: 256,
    });
    expect(() => tensorSpecFromPreprocessCfg({ ...pre, interpolation: 'hamming' })).toThrow(/interpolation 'hamming'/);
    expect(() => tensorSpecFromPreprocessCfg({ ...pre, resize_mode: 'longest' })).toThrow(/resize_mode 'longest'/);
    expect(() => tensorSpecFromPreprocessCfg({ ...pre, std: [1, 0, 1] })).toThrow(/std/);
  });

  test('int8 variants are used only when asked for, and only when complete', async () => {
    const copy = mkdtempSync(path.join(tmpdir(), 'isg-int8-'));
    try {
      writeTinyClip(copy);
      expect(hasInt8Variants(copy)).toBe(false);
      await expect(manifestFromImmichLayout(copy, { precision: 'int8' })).rejects.toThrow(/model_int8\.onnx is missing/);
      copyFileSync(path.join(copy, IMMICH_FILES.visual), path.join(copy, IMMICH_FILES.visualInt8));
      expect(hasInt8Variants(copy)).toBe(false); // the text tower has none yet
      copyFileSync(path.join(copy, IMMICH_FILES.textual), path.join(copy, IMMICH_FILES.textualInt8));
      expect(hasInt8Variants(copy)).toBe(true);
      expect((await manifestFromImmichLayout(copy)).visual.file).toBe(IMMICH_FILES.visual); // never silently
      const int8 = await manifestFromImmichLayout(copy, { precision: 'int8' });
      expect([int8.visual.file, int8.textual!.file, int8.precision]).toEqual([IMMICH_FILES.visualInt8, IMMICH_FILES.textualInt8, 'int8']);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe('tokenizer (tokenizer.json through @huggingface/tokenizers)', () => {
  let tok: ClipTokenizer;
  let vocab: Record<string, number>;
  beforeAll(async () => {
    tok = await ClipTokenizer.load(dir, (await manifestFromImmichLayout(dir)).textual!);
    vocab = json(IMMICH_FILES.tokenizer).model.vocab;
  });
  const START = () => vocab['<|startoftext|>'];
  const END = () => vocab['<|endoftext|>'];

  test('start token, the word tokens of the vocabulary, end token, then the pad token to the context length', () => {
    const { ids, mask, length } = tok.encode(tok.clean('A   RED\tshirt'));
    expect(ids.length).toBe(json(IMMICH_FILES.config).text_cfg.context_length);
    expect(Array.from(ids.slice(0, 5))).toEqual([START(), vocab['a</w>'], vocab['red</w>'], vocab['shirt</w>'], END()]);
    expect(length).toBe(5);
    expect(tok.padId).toBe(vocab[json(IMMICH_FILES.tokenizerConfig).pad_token]);
    expect(Array.from(ids.slice(5)).every((id) => id === tok.padId)).toBe(true);
    expect(Array.from(mask)).toEqual(Array.from(ids, (_, i) => (i < 5 ? 1 : 0)));
  });

  test('long text is truncated to the context length and still ends with the end token', () => {
    const { ids, length } = tok.encode(tok.clean('red '.repeat(200)));
    expect(length).toBe(ids.length);
    expect([ids[0], ids[1], ids[ids.length - 2], ids[ids.length - 1]]).toEqual([START(), vocab['red</w>'], vocab['red</w>'], END()]);
  });

  test('multilingual text reaches the tokenizer unchanged: 红色 is one token of the vocabulary', () => {
    expect(tok.clean('  红色   连衣裙 ')).toBe('红色 连衣裙');
    const ids = tok.encode(tok.clean('红色')).ids;
    const red = COLOURS.find((c) => c.name === 'red')!;
    // The byte-level vocabulary entry of 红色 is whatever the tokenizer library makes of it, not a hand-written form.
    const single = Object.entries(vocab).find(([, id]) => id === ids[1])![0];
    expect(ids[2]).toBe(END());
    expect(Buffer.from(Array.from(single.replace('</w>', ''), (ch) => byteOf(ch))).toString('utf8')).toBe(red.words[2]);
  });

  test('cleanText collapses whitespace; canonicalize also drops ASCII punctuation and lower-cases (open_clip "canonicalize")', () => {
    expect(cleanText(' A\n red,  T-shirt! ')).toBe('A red, T-shirt!');
    expect(cleanText(' A\n red,  T-shirt! ', true)).toBe('a red tshirt');
  });
});

/** Inverse of GPT-2's bytes_to_unicode for one character. */
function byteOf(ch: string): number {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) (bs.push(b), cs.push(256 + n++));
  return bs[cs.indexOf(ch.codePointAt(0)!)];
}

describe('preprocessing as Immich does it (shortest side → size, centre crop, mean/std of preprocess_cfg.json)', () => {
  test("geometry: Immich's int() sizes and offsets", () => {
    // resize_pil: 640x480 → (int(640/480*224), 224) = (298, 224); crop_pil: left = int(298/2 - 112) = 37.
    expect(immichCrop(640, 480, 224, 224)).toEqual({ resizedWidth: 298, resizedHeight: 224, left: 37, top: 0 });
    // 300x700: (224, int(700/300*224)) = (224, 522); top = int(261 - 112) = 149.
    expect(immichCrop(300, 700, 224, 224)).toEqual({ resizedWidth: 224, resizedHeight: 522, left: 0, top: 149 });
    expect(immichCrop(224, 224, 224, 224)).toEqual({ resizedWidth: 224, resizedHeight: 224, left: 0, top: 0 });
  });

  test('no scaling needed: the crop starts at exactly column 112 of a 448x224 image, values (v/255 - mean)/std', async () => {
    const spec = tensorSpecFromPreprocessCfg(json(IMMICH_FILES.preprocess));
    const [W, H] = [448, 224];
    const raw = Buffer.alloc(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) raw.set([x % 256, 255 - (x % 256), y], (y * W + x) * 3);
    const t = await toTensor(sharp(raw, { raw: { width: W, height: H, channels: 3 } }), spec, undefined, { width: W, height: H });
    const plane = 224 * 224;
    const norm = (v: number, c: number) => Math.fround((v / 255 - spec.mean[c]) / spec.std[c]);
    for (const [x, y] of [[0, 0], [1, 5], [143, 100], [223, 223]]) {
      const sx = x + 112;
      expect(t[y * 224 + x]).toBeCloseTo(norm(sx % 256, 0), 6);
      expect(t[plane + y * 224 + x]).toBeCloseTo(norm(255 - (sx % 256), 1), 6);
      expect(t[2 * plane + y * 224 + x]).toBeCloseTo(norm(y, 2), 6);
    }
  });

  test('halving: the middle of an 896x448 image, the side bands cut away, inner pixels exact', async () => {
    const spec = tensorSpecFromPreprocessCfg(json(IMMICH_FILES.preprocess));
    const [W, H] = [896, 448];
    const colour = [200, 40, 120];
    // Black bands outside columns 224..671 (the part that survives: resized 448x224, crop left 112).
    const raw = Buffer.alloc(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = 224; x < 672; x++) raw.set(colour, (y * W + x) * 3);
    const t = await toTensor(sharp(raw, { raw: { width: W, height: H, channels: 3 } }), spec, undefined, { width: W, height: H });
    const plane = 224 * 224;
    for (let c = 0; c < 3; c++) {
      const expected = (colour[c] / 255 - spec.mean[c]) / spec.std[c];
      for (const [x, y] of [[4, 4], [112, 112], [219, 200]]) expect(t[c * plane + y * 224 + x]).toBeCloseTo(expected, 5);
      // The bicubic kernel reaches the black band only at the very edge.
      expect(t[c * plane + 100 * 224]).toBeLessThan(expected);
    }
  });
});

describe('the tiny CLIP model loaded from the Immich layout', () => {
  let model: LoadedModel;
  const embed = async (img: Buffer) => model.embedImage(await toTensor(sharp(img), model.manifest.visual.preprocess));
  beforeAll(async () => {
    model = await loadModel(dir, { textCacheSize: 4 });
  });
  afterAll(() => model?.close());

  test('image and text towers agree on colour; vectors are unit length', async () => {
    const names = ['red', 'yellow', 'green', 'blue'];
    const hex: Record<string, string> = { red: '#e02020', yellow: '#e8d020', green: '#20c030', blue: '#2040e0' };
    const images = await Promise.all(names.map(async (n) => embed(await productImage(hex[n], 'circle'))));
    const texts = await Promise.all(names.map((n) => model.embedText!(`a photo of a ${n} shirt`)));
    for (const v of [...images, ...texts]) {
      expect(v.length).toBe(TINY_CLIP_DIMENSION);
      expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    }
    names.forEach((_, i) => {
      const ranked = rankLabels(images[i], names, texts);
      expect(ranked[0].label).toBe(names[i]);
    });
  });

  test('the text cache: repeated (and whitespace-equal) queries hit, the LRU bound holds', async () => {
    const before = model.textStats!();
    const a = await model.embedText!('a blue dress');
    const b = await model.embedText!('  a   blue dress ');
    const after = model.textStats!();
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(after.cacheHits - before.cacheHits).toBe(1);
    for (const w of ['red', 'green', 'cyan', 'magenta', 'yellow']) await model.embedText!(w);
    expect(model.textStats!().cacheSize).toBe(4);
  });

  test('concurrent text queries are micro-batched like images', async () => {
    const before = model.textStats!();
    const words = ['rouge', 'vert', 'bleu', 'jaune', 'red shoe', 'blue shoe', 'green shoe', 'cyan shoe'];
    const vectors = await Promise.all(words.map((w) => model.embedText!(w)));
    const after = model.textStats!();
    expect(after.items - before.items).toBe(words.length);
    expect(after.batches - before.batches).toBeLessThan(words.length);
    expect(vectors.every((v) => v.length === TINY_CLIP_DIMENSION)).toBe(true);
  });

  test('empty text is an invalid argument, not a run', async () => {
    await expect(model.embedText!(' \n ')).rejects.toMatchObject({ kind: 'invalid_argument' });
  });
});

test('LruCache evicts the least recently used entry', () => {
  const c = new LruCache<string, number>(2);
  c.set('a', 1);
  c.set('b', 2);
  expect(c.get('a')).toBe(1); // b is now the oldest
  c.set('c', 3);
  expect([c.get('a'), c.get('b'), c.get('c')]).toEqual([1, undefined, 3]);
});

test('a pinned model whose file changed is refused at load', async () => {
  const copy = mkdtempSync(path.join(tmpdir(), 'isg-pinned-'));
  try {
    writeTinyClip(copy);
    const manifest = await manifestFromImmichLayout(copy);
    manifest.sha256 = { [IMMICH_FILES.tokenizer]: await sha256File(path.join(copy, IMMICH_FILES.tokenizer)) };
    writeFileSync(path.join(copy, 'manifest.json'), JSON.stringify(manifest));
    const ok = await loadModel(copy);
    await ok.close();
    writeFileSync(path.join(copy, IMMICH_FILES.tokenizer), readFileSync(path.join(copy, IMMICH_FILES.tokenizer), 'utf8').replace('"red', '"rad'));
    await expect(loadModel(copy)).rejects.toThrow(/sha256 of textual\/tokenizer.json/);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});

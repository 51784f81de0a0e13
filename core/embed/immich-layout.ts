/**
 * CLIP models in the Immich layout, as published under huggingface.co/immich-app and read by Immich's
 * machine-learning service:
 *
 *   config.json                  open_clip model config: embed_dim, text_cfg.context_length, text_cfg.tokenizer_kwargs
 *   visual/model.onnx            image tower: input "image" float32 [N, 3, S, S], first output = embedding
 *   visual/preprocess_cfg.json   size, mean, std, interpolation, resize_mode ("shortest" when absent)
 *   textual/model.onnx           text tower: input "text" int32 [N, context_length], first output = embedding
 *   textual/tokenizer.json       Hugging Face tokenizer
 *   textual/tokenizer_config.json  pad_token
 *
 * Optional dynamically quantised variants sit beside the fp32 files as `model_int8.onnx` (the gateway's
 * own convention; Immich does not publish them). They are used only when asked for (`precision: 'int8'`,
 * which `isg models add` chooses when they are present), never picked up silently by a folder that is
 * already in use.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TensorSpec } from '../image/types';
import type { ModelManifest } from './manifest';
import { DEFAULT_PAD_TOKEN } from './tokenizer';

export const IMMICH_FILES = {
  config: 'config.json',
  visual: 'visual/model.onnx',
  visualInt8: 'visual/model_int8.onnx',
  preprocess: 'visual/preprocess_cfg.json',
  textual: 'textual/model.onnx',
  textualInt8: 'textual/model_int8.onnx',
  tokenizer: 'textual/tokenizer.json',
  tokenizerConfig: 'textual/tokenizer_config.json',
} as const;

/** open_clip's context length when config.json does not state one. */
const DEFAULT_CONTEXT_LENGTH = 77;

/** PIL resampling names (preprocess_cfg.json "interpolation") → sharp kernels. */
const KERNELS: Record<string, TensorSpec['kernel']> = {
  bicubic: 'cubic',
  bilinear: 'linear',
  nearest: 'nearest',
  lanczos: 'lanczos3',
};

export function isImmichLayout(dir: string): boolean {
  return (
    existsSync(path.join(dir, IMMICH_FILES.config)) &&
    existsSync(path.join(dir, IMMICH_FILES.preprocess)) &&
    (existsSync(path.join(dir, IMMICH_FILES.visual)) || existsSync(path.join(dir, IMMICH_FILES.visualInt8)))
  );
}

/** Whether the folder also has int8 variants of every tower it has. */
export function hasInt8Variants(dir: string): boolean {
  const textual = existsSync(path.join(dir, IMMICH_FILES.textual)) || existsSync(path.join(dir, IMMICH_FILES.textualInt8));
  return existsSync(path.join(dir, IMMICH_FILES.visualInt8)) && (!textual || existsSync(path.join(dir, IMMICH_FILES.textualInt8)));
}

/** Preprocessing from preprocess_cfg.json, as Immich's OpenClipVisualEncoder applies it. */
export function tensorSpecFromPreprocessCfg(cfg: Record<string, unknown>, source = IMMICH_FILES.preprocess): TensorSpec {
  const size = Array.isArray(cfg.size) ? cfg.size : [cfg.size, cfg.size];
  const [height, width] = size as number[];
  const mean = cfg.mean as number[];
  const std = cfg.std as number[];
  const triple = (v: unknown) => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new Error(`${source}: size must be a positive integer or [h, w]`);
  if (!triple(mean) || !triple(std) || std.some((s) => s <= 0)) throw new Error(`${source}: mean and std must be three numbers (std > 0)`);
  const interpolation = String(cfg.interpolation ?? 'bicubic').toLowerCase();
  const kernel = KERNELS[interpolation];
  if (!kernel) throw new Error(`${source}: interpolation '${interpolation}' is not supported (${Object.keys(KERNELS).join(', ')})`);
  const mode = cfg.resize_mode ?? 'shortest'; // open_clip's default for configs older than resize_mode
  if (mode !== 'shortest' && mode !== 'squash') throw new Error(`${source}: resize_mode '${String(mode)}' is not supported (shortest, squash)`);
  if (cfg.mode !== undefined && cfg.mode !== 'RGB') throw new Error(`${source}: mode '${String(cfg.mode)}' is not supported (RGB)`);
  return {
    width,
    height,
    resize: mode === 'squash' ? 'fill' : 'shortest_side_center_crop',
    kernel,
    mean: mean as [number, number, number],
    std: std as [number, number, number],
  };
}

async function readJson(dir: string, file: string): Promise<Record<string, any>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path.join(dir, file), 'utf8'));
  } catch (err) {
    throw new Error(`model ${dir}: cannot read ${file}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`model ${dir}: ${file} is not a JSON object`);
  return parsed as Record<string, any>;
}

export interface ImmichManifestOptions {
  /** Model name; default the folder's name. */
  name?: string;
  /** fp32 (default) or int8 (the model_int8.onnx variants; an error if they are missing). */
  precision?: 'fp32' | 'int8';
}

/** The manifest of an Immich-layout folder (names of inputs and outputs left to the runner, as Immich does). */
export async function manifestFromImmichLayout(dir: string, options: ImmichManifestOptions = {}): Promise<ModelManifest> {
  const precision = options.precision ?? 'fp32';
  const config = await readJson(dir, IMMICH_FILES.config);
  const dimension = config.embed_dim;
  if (!Number.isInteger(dimension) || dimension < 1) throw new Error(`model ${dir}: ${IMMICH_FILES.config} lacks a positive integer embed_dim`);
  const preprocess = tensorSpecFromPreprocessCfg(await readJson(dir, IMMICH_FILES.preprocess));
  const pick = (fp32: string, int8: string): string | undefined => {
    const file = precision === 'int8' ? int8 : fp32;
    return existsSync(path.join(dir, file)) ? file : undefined;
  };
  const visualFile = pick(IMMICH_FILES.visual, IMMICH_FILES.visualInt8);
  if (!visualFile) throw new Error(`model ${dir}: ${precision === 'int8' ? IMMICH_FILES.visualInt8 : IMMICH_FILES.visual} is missing`);

  let textual: ModelManifest['textual'];
  const textualFile = pick(IMMICH_FILES.textual, IMMICH_FILES.textualInt8);
  if (textualFile) {
    if (!existsSync(path.join(dir, IMMICH_FILES.tokenizer))) throw new Error(`model ${dir}: ${textualFile} has no ${IMMICH_FILES.tokenizer} beside it`);
    const textCfg = (config.text_cfg ?? {}) as Record<string, any>;
    const tokenizerConfig = existsSync(path.join(dir, IMMICH_FILES.tokenizerConfig)) ? await readJson(dir, IMMICH_FILES.tokenizerConfig) : undefined;
    const pad = tokenizerConfig?.pad_token;
    const contextLength = textCfg.context_length ?? DEFAULT_CONTEXT_LENGTH;
    if (!Number.isInteger(contextLength) || contextLength < 2) throw new Error(`model ${dir}: text_cfg.context_length must be an integer >= 2`);
    textual = {
      file: textualFile,
      input: '',
      output: '',
      tokenizer: IMMICH_FILES.tokenizer,
      tokenizerConfig: tokenizerConfig ? IMMICH_FILES.tokenizerConfig : undefined,
      contextLength,
      padToken: typeof pad === 'string' ? pad : typeof pad?.content === 'string' ? pad.content : DEFAULT_PAD_TOKEN,
      canonicalize: textCfg.tokenizer_kwargs?.clean === 'canonicalize' ? true : undefined,
    };
  }
  return {
    name: options.name ?? path.basename(path.resolve(dir)),
    version: String(config.version ?? '1'),
    description: textual ? 'CLIP model in the Immich layout (image and text towers)' : 'CLIP model in the Immich layout (image tower only)',
    dimension,
    visual: { file: visualFile, input: '', output: '', preprocess },
    textual,
    normalized: false,
    precision,
    layout: 'immich',
  };
}

/**
 * A model is a folder: manifest.json plus ONNX files. The manifest says how to feed it and what it returns.
 *
 * A folder in the Immich layout (visual/ and textual/ ONNX files, tokenizer.json, preprocess_cfg.json,
 * config.json) has no manifest.json of its own: immich-layout.ts derives one from those files, and
 * `isg models add` writes it down (with checksums) so the model cannot change silently afterwards.
 */
import type { TensorSpec } from '../image/types';

export interface ModelManifest {
  name: string;
  version: string;
  description?: string;
  /** Output dimension of both towers. */
  dimension: number;
  visual: {
    file: string; // relative to the model folder
    /** Input tensor name, NCHW float32 [N, 3, H, W]; empty: the model's first input. */
    input: string;
    /** Output tensor name, float32 [N, dimension]; empty: the model's first output (as Immich reads it). */
    output: string;
    preprocess: TensorSpec;
  };
  /** Present when the model has a text encoder. */
  textual?: {
    file: string;
    /** Token-id input, [N, contextLength]; empty: the model's first input. */
    input: string;
    /** Output tensor name; empty: the model's first output. */
    output: string;
    /** tokenizer.json (Hugging Face tokenizers format), relative to the folder. */
    tokenizer: string;
    /** tokenizer_config.json beside it (pad token, special tokens), relative to the folder. */
    tokenizerConfig?: string;
    contextLength: number;
    /** Token used to pad to contextLength (Immich: tokenizer_config.json pad_token). Default '<|endoftext|>'. */
    padToken?: string;
    /** Name of an attention-mask input (M-CLIP / XLM-Roberta text towers), fed 1 for tokens and 0 for padding. */
    attentionMask?: string;
    /** open_clip `text_cfg.tokenizer_kwargs.clean == "canonicalize"`: strip punctuation and lower-case first. */
    canonicalize?: boolean;
  };
  /** Whether outputs are already L2-normalised (the runner normalises otherwise). */
  normalized: boolean;
  /** Which ONNX variant the files are: 'fp32' or 'int8' (dynamically quantised). Informational. */
  precision?: 'fp32' | 'int8';
  /** Where the manifest came from: written by hand or a build script, or derived from an Immich-layout folder. */
  layout?: 'manifest' | 'immich';
  /** sha256 of each file, checked at load. */
  sha256?: Record<string, string>;
  /**
   * The views (core/image/views.ts) new libraries of this model index images by, `whole` first, unless
   * the gateway's `models.views` says otherwise. Absent: the whole picture only.
   */
  views?: string[];
}

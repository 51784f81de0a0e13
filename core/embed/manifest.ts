/**
 * A model is a folder: manifest.json plus ONNX files. The manifest says how to feed it and what it returns.
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
    input: string; // input tensor name, NCHW float32 [N, 3, H, W]
    output: string; // output tensor name, float32 [N, dimension]
    preprocess: TensorSpec;
  };
  /** Present when the model has a text encoder. */
  textual?: {
    file: string;
    input: string;
    output: string;
    tokenizer: string; // tokenizer.json, relative to the folder
    contextLength: number;
  };
  /** Whether outputs are already L2-normalised (the runner normalises otherwise). */
  normalized: boolean;
  /** sha256 of each file, checked at load. */
  sha256?: Record<string, string>;
}

/**
 * Text → token ids for a CLIP text tower, the way Immich feeds it: the Hugging Face `tokenizer.json`
 * read by a maintained tokenizer library (@huggingface/tokenizers; no hand-written BPE here), then
 * truncated and padded to the model's context length with the pad token of tokenizer_config.json.
 *
 * Text is only cleaned as Immich's clean_text does (runs of whitespace become one space; with
 * `canonicalize`, ASCII punctuation is removed and the text lower-cased). Nothing is translated or
 * filtered: multilingual input reaches the tokenizer unchanged and the model decides what it means.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import type { ModelManifest } from './manifest';

export const DEFAULT_PAD_TOKEN = '<|endoftext|>';

/** Python's string.punctuation, which open_clip's "canonicalize" cleaning removes. */
const ASCII_PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

export function cleanText(text: string, canonicalize = false): string {
  const collapsed = text.split(/\s+/u).filter((w) => w.length > 0).join(' ');
  return canonicalize ? collapsed.replace(ASCII_PUNCTUATION, '').toLowerCase() : collapsed;
}

export interface TokenizedText {
  /** Exactly contextLength ids: the tokens (with start/end tokens), then padding. */
  ids: Int32Array;
  /** 1 for tokens, 0 for padding. */
  mask: Int32Array;
  /** Tokens before padding (at most contextLength). */
  length: number;
}

export class ClipTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    readonly contextLength: number,
    readonly padId: number,
    private readonly canonicalize: boolean,
  ) {}

  /** Load the tokenizer of a model's text tower (paths in the manifest are relative to `dir`). */
  static async load(dir: string, textual: NonNullable<ModelManifest['textual']>): Promise<ClipTokenizer> {
    const json = await readJson(path.join(dir, textual.tokenizer), 'tokenizer');
    const config = textual.tokenizerConfig ? await readJson(path.join(dir, textual.tokenizerConfig), 'tokenizer config') : {};
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(json, config);
    } catch (err) {
      throw new Error(`${textual.tokenizer}: not a tokenizer this gateway can read: ${(err as Error).message}`);
    }
    const padToken = textual.padToken ?? DEFAULT_PAD_TOKEN;
    const padId = tokenizer.token_to_id(padToken);
    if (padId === undefined) throw new Error(`${textual.tokenizer}: the pad token '${padToken}' is not in the vocabulary`);
    if (!(textual.contextLength >= 2)) throw new Error(`context length ${textual.contextLength} is too small`);
    return new ClipTokenizer(tokenizer, textual.contextLength, padId, textual.canonicalize === true);
  }

  /** The text as the tokenizer sees it (the key of the text-embedding cache). */
  clean(text: string): string {
    return cleanText(text, this.canonicalize);
  }

  /** Token id of a vocabulary entry, or undefined. */
  tokenId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  /** Tokenize cleaned text: start and end tokens included, truncated to contextLength (the end token kept), padded. */
  encode(cleaned: string): TokenizedText {
    let ids = this.tokenizer.encode(cleaned).ids;
    const n = this.contextLength;
    // Truncate the content, not the end token: CLIP text towers read the features at the end token.
    if (ids.length > n) ids = [...ids.slice(0, n - 1), ids[ids.length - 1]];
    const out = new Int32Array(n).fill(this.padId);
    const mask = new Int32Array(n);
    out.set(ids);
    mask.fill(1, 0, ids.length);
    return { ids: out, mask, length: ids.length };
  }
}

async function readJson(file: string, what: string): Promise<object> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as object;
  } catch (err) {
    throw new Error(`cannot read ${what} ${file}: ${(err as Error).message}`);
  }
}

/**
 * A tokenizer.json in the exact format of OpenAI CLIP's (normaliser, pre-tokeniser, byte-level BPE with
 * "</w>" word ends, start/end post-processor), with a small vocabulary: the 512 byte-level base tokens,
 * one merged token per given word, and the two special tokens, in CLIP's vocabulary order.
 *
 * The merges are found with the tokenizer library itself (@huggingface/tokenizers): each word is
 * tokenised with the merges so far, and merges joining its pieces left to right are appended. Later
 * merges rank after earlier ones, so words added before keep their single token.
 */
import { Tokenizer } from '@huggingface/tokenizers';

export const START_TOKEN = '<|startoftext|>';
export const END_TOKEN = '<|endoftext|>';
const WORD_END = '</w>';

/** GPT-2/CLIP bytes_to_unicode: printable stand-ins for the 256 byte values, in vocabulary order. */
export function byteLevelAlphabet(): string[] {
  const bs: number[] = [];
  for (let b = '!'.charCodeAt(0); b <= '~'.charCodeAt(0); b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  return cs.map((c) => String.fromCodePoint(c));
}

export interface ClipTokenizerJson {
  json: Record<string, unknown>;
  vocab: Record<string, number>;
  /** The vocabulary entry (byte-level, with "</w>") each given word became. */
  wordTokens: Map<string, string>;
}

function tokenizerJson(vocab: Record<string, number>, merges: string[], startId: number, endId: number): Record<string, unknown> {
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(startId, START_TOKEN), special(endId, END_TOKEN)],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" },
          behavior: 'Removed',
          invert: true,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: { type: 'RobertaProcessing', sep: [END_TOKEN, endId], cls: [START_TOKEN, startId], trim_offsets: false, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: END_TOKEN,
      continuing_subword_prefix: '',
      end_of_word_suffix: WORD_END,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

/** Build the tokenizer.json whose vocabulary has a single token for each of `words` (lower case). */
export function buildClipTokenizerJson(words: string[]): ClipTokenizerJson {
  const alphabet = byteLevelAlphabet();
  const base = [...alphabet, ...alphabet.map((c) => c + WORD_END)];
  const merged: string[] = [];
  const merges: string[] = [];
  const wordTokens = new Map<string, string>();
  const vocabOf = () => Object.fromEntries([...base, ...merged, START_TOKEN, END_TOKEN].map((t, i) => [t, i]));
  for (const word of words) {
    let vocab = vocabOf();
    const pieces = new Tokenizer(tokenizerJson(vocab, merges, vocab[START_TOKEN], vocab[END_TOKEN]), {}).tokenize(word);
    if (pieces.length === 0) throw new Error(`'${word}' has no tokens`);
    let joined = pieces[0];
    for (const piece of pieces.slice(1)) {
      merges.push(`${joined} ${piece}`);
      joined += piece;
      if (!merged.includes(joined) && !base.includes(joined)) merged.push(joined);
    }
    vocab = vocabOf();
    if (vocab[joined] === undefined) merged.push(joined);
    wordTokens.set(word, joined);
  }
  const vocab = vocabOf();
  return { json: tokenizerJson(vocab, merges, vocab[START_TOKEN], vocab[END_TOKEN]), vocab, wordTokens };
}

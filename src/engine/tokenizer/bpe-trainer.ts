import { writeFileAtomic } from '../../runtime/atomic-file.js';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { hfTokenizerFromJson } from './hf-tokenizer.js';
import type { TextTokenizer } from './types.js';

/** The GPT-2 pre-tokenisation regex, as used by the `ByteLevel` pre-tokenizer of HF `tokenizers`. */
export const GPT2_SPLIT_PATTERN =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's `bytes_to_unicode`: a printable character for each of the 256 byte values. */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const chars: string[] = new Array<string>(256);
  const isPrintable = new Set(printable);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    chars[b] = String.fromCodePoint(isPrintable.has(b) ? b : 256 + n++);
  }
  return chars;
}

export interface BpeTrainOptions {
  /** Total vocabulary: special tokens + 256 byte tokens + merged tokens. */
  vocabSize: number;
  /** Pairs seen fewer times than this are never merged (default 2). */
  minFrequency?: number;
  /** Added as special tokens with the first ids (default `['<|endoftext|>']`); the first is the EOS token. */
  specialTokens?: string[];
}

export interface TokenizerJson {
  version: string;
  truncation: null;
  padding: null;
  added_tokens: {
    id: number;
    content: string;
    single_word: boolean;
    lstrip: boolean;
    rstrip: boolean;
    normalized: boolean;
    special: boolean;
  }[];
  normalizer: null;
  pre_tokenizer: object;
  post_processor: object;
  decoder: object;
  model: {
    type: 'BPE';
    dropout: null;
    unk_token: null;
    continuing_subword_prefix: null;
    end_of_word_suffix: null;
    fuse_unk: boolean;
    byte_fallback: boolean;
    ignore_merges: boolean;
    vocab: Record<string, number>;
    merges: string[];
  };
}

export interface BpeTrainResult {
  tokenizerJson: TokenizerJson;
  tokenizer: TextTokenizer;
}

/** Pair keys pack two ids; ids must stay below this. */
const KEY_MUL = 2 ** 21;

/** Max-heap of pair keys by count; ties go to the smaller key (smaller left id, then smaller right id). */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  private above(i: number, j: number): boolean {
    const ci = this.counts[i]!;
    const cj = this.counts[j]!;
    return ci > cj || (ci === cj && this.keys[i]! < this.keys[j]!);
  }

  private swap(i: number, j: number): void {
    const c = this.counts[i]!;
    this.counts[i] = this.counts[j]!;
    this.counts[j] = c;
    const k = this.keys[i]!;
    this.keys[i] = this.keys[j]!;
    this.keys[j] = k;
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.keys.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.above(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): { count: number; key: number } | undefined {
    const n = this.keys.length;
    if (n === 0) return undefined;
    const top = { count: this.counts[0]!, key: this.keys[0]! };
    const lastCount = this.counts.pop()!;
    const lastKey = this.keys.pop()!;
    if (n > 1) {
      this.counts[0] = lastCount;
      this.keys[0] = lastKey;
      let i = 0;
      const m = n - 1;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < m && this.above(l, best)) best = l;
        if (r < m && this.above(r, best)) best = r;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return top;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Counts GPT-2 pre-tokenised words, with special tokens cut out of the text first. */
export function countWords(
  texts: Iterable<string>,
  specialTokens: readonly string[] = [],
): Map<string, number> {
  const counts = new Map<string, number>();
  const specialSplit =
    specialTokens.length > 0 ? new RegExp(specialTokens.map(escapeRegExp).join('|'), 'u') : undefined;
  const countPiece = (piece: string): void => {
    for (const match of piece.matchAll(GPT2_SPLIT_PATTERN)) {
      const word = match[0];
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  };
  for (const text of texts) {
    if (specialSplit !== undefined && specialSplit.test(text)) {
      for (const piece of text.split(specialSplit)) countPiece(piece);
    } else {
      countPiece(text);
    }
  }
  return counts;
}

/**
 * Trains a GPT-2 style byte-level BPE: GPT-2 regex pre-tokenisation, the 256 bytes mapped through
 * `bytes_to_unicode` as the base alphabet, then merges chosen greedily by pair frequency (ties: smaller
 * left id, then smaller right id), with incremental pair counts. Ids: special tokens first, then the 256
 * byte tokens sorted by their character (as HF `tokenizers` orders its alphabet), then merged tokens.
 * The result is a standard tokenizer.json that Python `tokenizers` loads and encodes to the same ids.
 */
export function trainByteLevelBpe(texts: Iterable<string>, options: BpeTrainOptions): BpeTrainResult {
  const specialTokens = options.specialTokens ?? ['<|endoftext|>'];
  const minFrequency = Math.max(1, options.minFrequency ?? 2);
  const { vocabSize } = options;
  if (new Set(specialTokens).size !== specialTokens.length || specialTokens.some((t) => t.length === 0)) {
    throw new Error('specialTokens must be distinct non-empty strings');
  }
  if (specialTokens.length === 0) throw new Error('at least one special token (the EOS token) is required');
  const baseSize = specialTokens.length + 256;
  if (!Number.isInteger(vocabSize) || vocabSize < baseSize || vocabSize >= KEY_MUL) {
    throw new Error(`vocabSize must be an integer in [${baseSize}, ${KEY_MUL}), got ${vocabSize}`);
  }

  // Vocabulary: specials, then the byte alphabet sorted by character.
  const byteChars = bytesToUnicode();
  const tokens: string[] = [...specialTokens];
  const tokenIds = new Map<string, number>();
  specialTokens.forEach((t, i) => tokenIds.set(t, i));
  const byteToId = new Int32Array(256);
  const byteOrder = [...Array(256).keys()].sort(
    (x, y) => byteChars[x]!.codePointAt(0)! - byteChars[y]!.codePointAt(0)!,
  );
  for (const b of byteOrder) {
    const ch = byteChars[b]!;
    byteToId[b] = tokens.length;
    // A special token equal to a byte character would collide; keep the byte token's id unique anyway.
    if (!tokenIds.has(ch)) tokenIds.set(ch, tokens.length);
    tokens.push(ch);
  }

  // Words as symbol-id arrays with their frequencies.
  const encoder = new TextEncoder();
  const words: number[][] = [];
  const freqs: number[] = [];
  for (const [word, count] of countWords(texts, specialTokens)) {
    const bytes = encoder.encode(word);
    if (bytes.length < 2) continue; // no pairs: irrelevant to training
    const symbols = new Array<number>(bytes.length);
    for (let i = 0; i < bytes.length; i++) symbols[i] = byteToId[bytes[i]!]!;
    words.push(symbols);
    freqs.push(count);
  }

  // Initial pair counts and the pair -> words index.
  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  for (let w = 0; w < words.length; w++) {
    const symbols = words[w]!;
    const f = freqs[w]!;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const key = symbols[i]! * KEY_MUL + symbols[i + 1]!;
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + f);
      let where = pairWords.get(key);
      if (where === undefined) pairWords.set(key, (where = new Set()));
      where.add(w);
    }
  }
  const heap = new PairHeap();
  for (const [key, count] of pairCounts) heap.push(count, key);

  const merges: string[] = [];
  const merged = new Set<number>();
  let vocabCount = tokenIds.size;
  const delta = new Map<number, number>();
  while (vocabCount < vocabSize) {
    const top = heap.pop();
    if (top === undefined) break;
    const actual = pairCounts.get(top.key) ?? 0;
    if (actual !== top.count) {
      // Stale entry: counts of existing pairs only fall, or were re-pushed when they rose.
      if (actual > 0 && actual < top.count) heap.push(actual, top.key);
      continue;
    }
    if (actual < minFrequency) break;
    const a = Math.floor(top.key / KEY_MUL);
    const b = top.key - a * KEY_MUL;
    const newToken = tokens[a]! + tokens[b]!;
    let newId = tokenIds.get(newToken);
    if (newId === undefined) {
      newId = tokens.length;
      tokens.push(newToken);
      tokenIds.set(newToken, newId);
      vocabCount++;
    }
    if (!merged.has(top.key)) {
      merged.add(top.key);
      merges.push(`${tokens[a]!} ${tokens[b]!}`);
    }

    // Apply the merge to every word holding the pair, collecting the pair-count changes.
    delta.clear();
    for (const w of pairWords.get(top.key) ?? []) {
      const symbols = words[w]!;
      const out: number[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (symbols[i] === a && symbols[i + 1] === b && i + 1 < symbols.length) {
          out.push(newId);
          i++;
        } else {
          out.push(symbols[i]!);
        }
      }
      if (out.length === symbols.length) continue;
      const f = freqs[w]!;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = symbols[i]! * KEY_MUL + symbols[i + 1]!;
        delta.set(key, (delta.get(key) ?? 0) - f);
      }
      for (let i = 0; i + 1 < out.length; i++) {
        const left = out[i]!;
        const right = out[i + 1]!;
        const key = left * KEY_MUL + right;
        delta.set(key, (delta.get(key) ?? 0) + f);
        if (left === newId || right === newId) {
          let where = pairWords.get(key);
          if (where === undefined) pairWords.set(key, (where = new Set()));
          where.add(w);
        }
      }
      words[w] = out;
    }
    pairWords.delete(top.key);
    for (const [key, change] of delta) {
      if (change === 0) continue;
      const count = (pairCounts.get(key) ?? 0) + change;
      if (count > 0) pairCounts.set(key, count);
      else pairCounts.delete(key);
      if (change > 0) heap.push(count, key);
    }
  }

  // Special tokens belong in the model vocab too: Python `tokenizers` gives an added token missing from it
  // a fresh id past the model vocab, ignoring the id written in added_tokens.
  const vocab: Record<string, number> = {};
  tokens.forEach((t, id) => {
    if (tokenIds.get(t) === id) vocab[t] = id;
  });
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizerJson: TokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specialTokens.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
  const tokenizer = hfTokenizerFromJson(
    tokenizerJson,
    tokenizerConfigFor(tokenizerJson),
    'trained tokenizer',
  );
  return { tokenizerJson, tokenizer };
}

export interface TokenizerConfigOptions {
  /** Default: the first special token of `added_tokens`. */
  eosToken?: string;
  /** Default: the EOS token (the GPT-2 convention; `add_bos_token` stays false). */
  bosToken?: string;
  /** Default 2048. */
  modelMaxLength?: number;
}

/** A minimal tokenizer_config.json for a tokenizer.json: EOS/BOS tokens and the maximum length. */
export function tokenizerConfigFor(
  json: object,
  options: TokenizerConfigOptions = {},
): Record<string, unknown> {
  const added = (json as { added_tokens?: { content?: unknown; special?: unknown }[] }).added_tokens ?? [];
  const firstSpecial = added.find((t) => t.special === true && typeof t.content === 'string')?.content as
    string | undefined;
  const eosToken = options.eosToken ?? firstSpecial;
  if (eosToken === undefined)
    throw new Error('tokenizer.json has no special token to use as EOS; pass eosToken');
  return {
    add_bos_token: false,
    add_eos_token: false,
    add_prefix_space: false,
    bos_token: options.bosToken ?? eosToken,
    eos_token: eosToken,
    clean_up_tokenization_spaces: false,
    model_max_length: options.modelMaxLength ?? 2048,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
}

/**
 * Writes `tokenizer.json` and a minimal `tokenizer_config.json` into `dir` (created when missing), each
 * atomically (temporary file, then rename). Returns both paths.
 */
export async function writeTokenizerJson(
  dir: string,
  json: object,
  options: TokenizerConfigOptions = {},
): Promise<{ tokenizerJsonPath: string; tokenizerConfigPath: string }> {
  const config = tokenizerConfigFor(json, options);
  await mkdir(dir, { recursive: true });
  const tokenizerJsonPath = path.join(dir, 'tokenizer.json');
  const tokenizerConfigPath = path.join(dir, 'tokenizer_config.json');
  await writeFileAtomic(tokenizerJsonPath, JSON.stringify(json, null, 2) + '\n');
  await writeFileAtomic(tokenizerConfigPath, JSON.stringify(config, null, 2) + '\n');
  return { tokenizerJsonPath, tokenizerConfigPath };
}

import type { TextTokenizer } from '../engine/tokenizer/types.js';
import { Rng } from '../engine/rng.js';
import { shuffleInPlace } from './mixing.js';
import type { Doc } from './sources.js';

export interface PackOptions {
  /** Model context: each window holds seqLen inputs and seqLen next-token targets (seqLen + 1 ids). */
  seqLen: number;
  /** Put `tokenizer.bosId` before every document (masked: it is never a target). Default false. */
  addBos?: boolean;
  /** Id written into the padding of the last window (always masked). Default: `tokenizer.eosId`. */
  padId?: number;
  /** Stop after this many windows (e.g. a replay corpus far larger than its share). */
  maxWindows?: number;
  /** Windows per storage chunk (default: about 1M ids per chunk). */
  chunkWindows?: number;
  /**
   * Pack the documents in an order shuffled with this seed rather than in source order. A study run lists
   * the restatements of one chunk side by side; packed so, a model reads the previous restatement in its
   * context and can copy a fact from it instead of recalling it. With `maxWindows`, the documents that fill
   * the windows are read first and shuffled among themselves.
   */
  shuffleSeed?: number;
}

/** What packing did. */
export interface PackStats {
  documents: number;
  /** Documents with no tokens (empty text), dropped. */
  emptyDocuments: number;
  /** Tokens of the stream (documents + separators + BOS), padding excluded. */
  streamTokens: number;
  /** Targets with mask 1 over all windows. */
  trainTargets: number;
  /** Targets with mask 0 that are prompt (or BOS) tokens. */
  promptTargets: number;
  /** Padding ids in the last window. */
  padTokens: number;
  /** True when `maxWindows` cut the stream short. */
  truncated: boolean;
}

/**
 * Fixed-length windows of seqLen + 1 token ids over the concatenated document stream
 * (`[BOS] prompt text EOS [BOS] prompt text EOS ...`), with a parallel mask of the same shape:
 * `mask[j] = 1` when `ids[j]` is trained on as the target of position j - 1 (response tokens and the EOS that
 * ends them), 0 for prompt tokens, BOS and padding. Window w covers stream tokens [w*seqLen, w*seqLen + seqLen]:
 * consecutive windows share one token, so every stream token after the first is a target exactly once.
 * Stored in Int32Array / Uint8Array chunks, not arrays of JS numbers.
 */
export class PackedWindows {
  readonly windowLen: number;
  private readonly idChunks: Int32Array[] = [];
  private readonly maskChunks: Uint8Array[] = [];
  private windows = 0;

  constructor(
    readonly seqLen: number,
    readonly chunkWindows: number,
    readonly stats: PackStats,
  ) {
    this.windowLen = seqLen + 1;
  }

  /** Number of windows. */
  get count(): number {
    return this.windows;
  }

  /** Ids of window i (seqLen + 1), a view into the store. */
  ids(i: number): Int32Array {
    const { chunk, at } = this.locate(i);
    return (this.idChunks[chunk] as Int32Array).subarray(at, at + this.windowLen);
  }

  /** Mask of window i (seqLen + 1; entry 0 is the previous window's last target), a view into the store. */
  mask(i: number): Uint8Array {
    const { chunk, at } = this.locate(i);
    return (this.maskChunks[chunk] as Uint8Array).subarray(at, at + this.windowLen);
  }

  /** Bytes held by the store. */
  get bytes(): number {
    let n = 0;
    for (const c of this.idChunks) n += c.byteLength;
    for (const c of this.maskChunks) n += c.byteLength;
    return n;
  }

  /**
   * A content hash (hex) of every window's ids and mask: a resumed training run compares it with the one it
   * recorded to tell whether its data changed.
   */
  digest(): string {
    let a = 0x811c9dc5;
    let b = 0x9e3779b9 ^ this.seqLen;
    const mix = (v: number): void => {
      a = Math.imul(a ^ v, 0x01000193);
      b = Math.imul(b ^ v ^ (b >>> 13), 0x5bd1e995);
    };
    for (const chunk of this.idChunks) for (let i = 0; i < chunk.length; i++) mix(chunk[i] as number);
    for (const chunk of this.maskChunks) for (let i = 0; i < chunk.length; i++) mix(chunk[i] as number);
    mix(this.windows);
    return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
  }

  private locate(i: number): { chunk: number; at: number } {
    if (!Number.isInteger(i) || i < 0 || i >= this.windows) {
      throw new RangeError(`window ${i} out of range (0..${this.windows - 1})`);
    }
    return { chunk: Math.floor(i / this.chunkWindows), at: (i % this.chunkWindows) * this.windowLen };
  }

  /** Slot for the next window (used by packing). */
  allocate(): { ids: Int32Array; mask: Uint8Array } {
    const at = this.windows % this.chunkWindows;
    if (at === 0) {
      this.idChunks.push(new Int32Array(this.chunkWindows * this.windowLen));
      this.maskChunks.push(new Uint8Array(this.chunkWindows * this.windowLen));
    }
    this.windows++;
    return { ids: this.ids(this.windows - 1), mask: this.mask(this.windows - 1) };
  }

  /** Releases the unused tail of the last chunk (called when packing ends). */
  trim(): void {
    const used = this.windows % this.chunkWindows;
    if (used === 0 || this.idChunks.length === 0) return;
    const last = this.idChunks.length - 1;
    this.idChunks[last] = (this.idChunks[last] as Int32Array).slice(0, used * this.windowLen);
    this.maskChunks[last] = (this.maskChunks[last] as Uint8Array).slice(0, used * this.windowLen);
  }
}

function checkSeqLen(seqLen: number): void {
  if (!Number.isInteger(seqLen) || seqLen < 1)
    throw new Error(`seqLen must be a positive integer, got ${seqLen}`);
}

/**
 * Tokenizes documents and packs them into windows (see PackedWindows). Documents are separated by
 * `tokenizer.eosId`; the last partial window is padded with `padId` (masked). Accepts any (async) iterable of
 * documents, so sources stream through without being held in memory.
 */
export async function packSequences(
  docs: AsyncIterable<Doc> | Iterable<Doc>,
  tokenizer: TextTokenizer,
  options: PackOptions,
): Promise<PackedWindows> {
  const { seqLen } = options;
  checkSeqLen(seqLen);
  const maxWindows = options.maxWindows ?? Infinity;
  if (options.addBos && tokenizer.bosId === undefined) throw new Error('addBos: the tokenizer has no BOS id');
  const padId = options.padId ?? tokenizer.eosId;
  const windowLen = seqLen + 1;
  const chunkWindows = Math.max(1, options.chunkWindows ?? Math.floor((1 << 20) / windowLen));
  const stats: PackStats = {
    documents: 0,
    emptyDocuments: 0,
    streamTokens: 0,
    trainTargets: 0,
    promptTargets: 0,
    padTokens: 0,
    truncated: false,
  };
  const out = new PackedWindows(seqLen, chunkWindows, stats);
  // The window being filled lives in a scratch buffer; a full window is copied into the store.
  const ids = new Int32Array(windowLen);
  const mask = new Uint8Array(windowLen);
  let fill = 0;
  let done = maxWindows <= 0;

  const flush = (): void => {
    const slot = out.allocate();
    slot.ids.set(ids);
    slot.mask.set(mask);
    for (let j = 1; j < windowLen; j++) {
      if (mask[j]) stats.trainTargets++;
      else stats.promptTargets++;
    }
    // The last token becomes the first input of the next window.
    ids[0] = ids[seqLen] as number;
    mask[0] = mask[seqLen] as number;
    fill = 1;
    if (out.count >= maxWindows) done = true;
  };
  const push = (tokens: ArrayLike<number>, trained: number): void => {
    for (let k = 0; k < tokens.length; k++) {
      if (done) {
        stats.truncated = true;
        return;
      }
      ids[fill] = tokens[k] as number;
      mask[fill] = trained;
      fill++;
      stats.streamTokens++;
      if (fill === windowLen) flush();
    }
  };

  const tokenized =
    options.shuffleSeed === undefined
      ? tokenize(docs, tokenizer)
      : await shuffledDocuments(docs, tokenizer, options.shuffleSeed, maxWindows * seqLen + 2);
  for await (const { prompt, text } of tokenized) {
    if (done) {
      stats.truncated = true;
      break;
    }
    if (text.length === 0 && prompt.length === 0) {
      stats.emptyDocuments++;
      continue;
    }
    stats.documents++;
    if (options.addBos) push([tokenizer.bosId as number], 0);
    push(prompt, 0);
    push(text, 1);
    push([tokenizer.eosId], 1);
  }
  if (!done && fill > 1) {
    // The last partial window: pad and mask. (fill === 1 is only the carried token: no targets left.)
    let trained = 0;
    for (let j = 1; j < fill; j++) trained += mask[j] as number;
    stats.padTokens = windowLen - fill;
    ids.fill(padId, fill);
    mask.fill(0, fill);
    const slot = out.allocate();
    slot.ids.set(ids);
    slot.mask.set(mask);
    stats.trainTargets += trained;
    stats.promptTargets += fill - 1 - trained;
  }
  out.trim();
  return out;
}

interface TokenizedDoc {
  prompt: ArrayLike<number>;
  text: ArrayLike<number>;
}

async function* tokenize(
  docs: AsyncIterable<Doc> | Iterable<Doc>,
  tokenizer: TextTokenizer,
): AsyncGenerator<TokenizedDoc> {
  for await (const doc of docs) {
    yield { text: tokenizer.encode(doc.text), prompt: doc.prompt ? tokenizer.encode(doc.prompt) : [] };
  }
}

/** The documents (as many as make `maxTokens`), tokenized and in a seeded random order. */
async function shuffledDocuments(
  docs: AsyncIterable<Doc> | Iterable<Doc>,
  tokenizer: TextTokenizer,
  seed: number,
  maxTokens: number,
): Promise<TokenizedDoc[]> {
  const all: TokenizedDoc[] = [];
  let tokens = 0;
  for await (const doc of tokenize(docs, tokenizer)) {
    all.push(doc);
    tokens += doc.prompt.length + doc.text.length + 1;
    if (tokens >= maxTokens) break;
  }
  const order = Int32Array.from(all.keys());
  shuffleInPlace(order, new Rng(seed));
  return Array.from(order, (i) => all[i] as TokenizedDoc);
}

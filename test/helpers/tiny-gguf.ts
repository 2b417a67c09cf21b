/**
 * Writes a tiny random-weight Llama model as a GGUF v3 file, with our own code, for tests that need a real
 * model file without downloading one (node-llama-cpp loads it and generates from it).
 *
 * GGUF v3 layout (little-endian): magic `GGUF`, u32 version, u64 tensor count, u64 KV count; the KV pairs
 * (u64-length-prefixed UTF-8 key, u32 value type, value); the tensor infos (name, u32 n_dims, u64 ne[n_dims],
 * u32 ggml type, u64 offset into the data section); padding to `general.alignment`; then the tensor data, each
 * tensor starting at a multiple of the alignment. `ne[0]` is the contiguous dimension, so shapes are reversed
 * relative to PyTorch: a torch Linear weight [out, in] is stored with ne = [in, out].
 */
import { writeFile } from 'node:fs/promises';
import {
  encodeGguf,
  GgufValueType,
  type GgufKv,
  type GgufTensorInput as GgufTensor,
} from '../../src/engine/io/gguf.js';
import { Rng } from '../../src/engine/rng.js';

// The encoder is the product's (src/engine/io/gguf.ts); re-exported for tests that build files by hand.
export { encodeGguf, GgufValueType, type GgufKv, type GgufTensor };

export interface TinyLlamaOptions {
  /** PRNG seed of the weights (default 1). */
  seed?: number;
  embeddingLength?: number;
  blockCount?: number;
  headCount?: number;
  headCountKv?: number;
  feedForwardLength?: number;
  contextLength?: number;
  /** Standard deviation of the random weights (default 0.02). */
  weightStd?: number;
  /** Jinja chat template stored as `tokenizer.chat_template` (default: ChatML). */
  chatTemplate?: string;
  name?: string;
}

/** ChatML, the format most chat GGUFs use. `<|im_start|>` and `<|im_end|>` are control tokens in the vocab. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const SP_SPACE = '\u2581';

/**
 * Normal (type 1) SentencePiece pieces after the special and byte tokens. llama.cpp's SPM tokenizer merges
 * adjacent symbols pairwise, so a word piece is reachable only if its prefixes are pieces too: we add them all.
 */
const WORDS = ['the', 'and', 'of', 'to', 'in', 'is', 'a', 'hello', 'world', 'model', 'read'];
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?\'"-:;()';

/** The vocabulary: `<unk>`, `<s>`, `</s>`, 256 byte tokens, ChatML control tokens, then normal pieces. */
export function tinyLlamaVocab(): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens: string[] = ['<unk>', '<s>', '</s>'];
  const types: number[] = [2, 3, 3]; // UNKNOWN, CONTROL, CONTROL
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(6); // BYTE
  }
  tokens.push('<|im_start|>', '<|im_end|>');
  types.push(3, 3);
  const scores: number[] = tokens.map(() => 0);
  const pieces: string[] = [SP_SPACE, ...LETTERS];
  for (const word of WORDS) {
    const full = SP_SPACE + word;
    for (let n = 2; n <= full.length; n++) pieces.push(full.slice(0, n));
  }
  const seen = new Set(tokens);
  for (const piece of pieces) {
    if (seen.has(piece)) continue;
    seen.add(piece);
    tokens.push(piece);
    types.push(1); // NORMAL
    scores.push(piece.length); // merge priority: longer pieces win
  }
  return { tokens, scores, types };
}

/** Builds the KV metadata and tensors of the tiny Llama (exposed for tests that want to tweak them). */
export function buildTinyLlama(options: TinyLlamaOptions = {}): { kvs: GgufKv[]; tensors: GgufTensor[] } {
  const nEmbd = options.embeddingLength ?? 64;
  const nLayer = options.blockCount ?? 2;
  const nHead = options.headCount ?? 4;
  const nHeadKv = options.headCountKv ?? 2;
  const nFf = options.feedForwardLength ?? 128;
  const nCtx = options.contextLength ?? 512;
  const std = options.weightStd ?? 0.02;
  if (nEmbd % nHead !== 0 || nHead % nHeadKv !== 0) throw new Error('head counts must divide the embedding');
  const headDim = nEmbd / nHead;
  const nEmbdKv = headDim * nHeadKv;
  const vocab = tinyLlamaVocab();
  const nVocab = vocab.tokens.length;

  const rng = new Rng(options.seed ?? 1);
  const normal = () => rng.normal();
  const random = (...ne: number[]): Float32Array => {
    const a = new Float32Array(ne.reduce((x, y) => x * y, 1));
    for (let i = 0; i < a.length; i++) a[i] = normal() * std;
    return a;
  };
  const ones = (n: number): Float32Array => new Float32Array(n).fill(1);

  const U32 = GgufValueType.U32;
  const F32 = GgufValueType.F32;
  const STR = GgufValueType.STRING;
  const kvs: GgufKv[] = [
    { key: 'general.architecture', type: STR, value: 'llama' },
    { key: 'general.name', type: STR, value: options.name ?? 'tiny-random-llama' },
    { key: 'general.alignment', type: U32, value: 32 },
    { key: 'general.file_type', type: U32, value: 0 }, // ALL_F32
    { key: 'llama.vocab_size', type: U32, value: nVocab },
    { key: 'llama.context_length', type: U32, value: nCtx },
    { key: 'llama.embedding_length', type: U32, value: nEmbd },
    { key: 'llama.block_count', type: U32, value: nLayer },
    { key: 'llama.feed_forward_length', type: U32, value: nFf },
    { key: 'llama.attention.head_count', type: U32, value: nHead },
    { key: 'llama.attention.head_count_kv', type: U32, value: nHeadKv },
    { key: 'llama.rope.dimension_count', type: U32, value: headDim },
    { key: 'llama.rope.freq_base', type: F32, value: 10000 },
    { key: 'llama.attention.layer_norm_rms_epsilon', type: F32, value: 1e-5 },
    { key: 'tokenizer.ggml.model', type: STR, value: 'llama' },
    { key: 'tokenizer.ggml.tokens', type: GgufValueType.ARRAY, itemType: STR, value: vocab.tokens },
    { key: 'tokenizer.ggml.scores', type: GgufValueType.ARRAY, itemType: F32, value: vocab.scores },
    {
      key: 'tokenizer.ggml.token_type',
      type: GgufValueType.ARRAY,
      itemType: GgufValueType.I32,
      value: vocab.types,
    },
    { key: 'tokenizer.ggml.unknown_token_id', type: U32, value: 0 },
    { key: 'tokenizer.ggml.bos_token_id', type: U32, value: 1 },
    { key: 'tokenizer.ggml.eos_token_id', type: U32, value: 2 },
    { key: 'tokenizer.ggml.add_bos_token', type: GgufValueType.BOOL, value: true },
    { key: 'tokenizer.ggml.add_eos_token', type: GgufValueType.BOOL, value: false },
    { key: 'tokenizer.chat_template', type: STR, value: options.chatTemplate ?? CHATML_TEMPLATE },
  ];

  // Torch shapes [out, in] become ne = [in, out].
  const tensors: GgufTensor[] = [
    { name: 'token_embd.weight', ne: [nEmbd, nVocab], data: random(nEmbd, nVocab) },
  ];
  for (let l = 0; l < nLayer; l++) {
    const p = `blk.${l}`;
    tensors.push(
      { name: `${p}.attn_norm.weight`, ne: [nEmbd], data: ones(nEmbd) },
      { name: `${p}.attn_q.weight`, ne: [nEmbd, nEmbd], data: random(nEmbd, nEmbd) },
      { name: `${p}.attn_k.weight`, ne: [nEmbd, nEmbdKv], data: random(nEmbd, nEmbdKv) },
      { name: `${p}.attn_v.weight`, ne: [nEmbd, nEmbdKv], data: random(nEmbd, nEmbdKv) },
      { name: `${p}.attn_output.weight`, ne: [nEmbd, nEmbd], data: random(nEmbd, nEmbd) },
      { name: `${p}.ffn_norm.weight`, ne: [nEmbd], data: ones(nEmbd) },
      { name: `${p}.ffn_gate.weight`, ne: [nEmbd, nFf], data: random(nEmbd, nFf) },
      { name: `${p}.ffn_up.weight`, ne: [nEmbd, nFf], data: random(nEmbd, nFf) },
      { name: `${p}.ffn_down.weight`, ne: [nFf, nEmbd], data: random(nFf, nEmbd) },
    );
  }
  tensors.push(
    { name: 'output_norm.weight', ne: [nEmbd], data: ones(nEmbd) },
    { name: 'output.weight', ne: [nEmbd, nVocab], data: random(nEmbd, nVocab) },
  );
  return { kvs, tensors };
}

/** Writes the tiny random Llama GGUF to `path` (about 0.5 MB with the defaults). */
export async function writeTinyLlamaGguf(path: string, options: TinyLlamaOptions = {}): Promise<void> {
  const { kvs, tensors } = buildTinyLlama(options);
  await writeFile(path, encodeGguf(kvs, tensors));
}

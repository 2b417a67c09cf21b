/**
 * Export a Llama-family decoder (Hugging Face parameter names, as `LlamaModel` holds them) to a GGUF file that
 * llama.cpp / node-llama-cpp load: arch `llama` (Llama, Mistral) or `qwen2`.
 *
 * Conversions, following llama.cpp's convert_hf_to_gguf.py:
 * - names: `model.embed_tokens.weight` -> `token_embd.weight`, `model.layers.N.self_attn.q_proj.weight` ->
 *   `blk.N.attn_q.weight`, ..., `model.norm.weight` -> `output_norm.weight`, `lm_head.weight` -> `output.weight`
 *   (left out when the embeddings are tied: llama.cpp then reuses `token_embd.weight`).
 * - shapes: torch [out, in] row-major is written unchanged with GGUF ne = [in, out].
 * - RoPE: arch `llama` uses rope mode NORM, which rotates adjacent pairs (x[2i], x[2i+1]), while HF Llama
 *   rotates halves (x[i], x[i + d/2]). The Q and K rows (and biases) are permuted per head so that row 2i+s of
 *   the GGUF head is row s*d/2+i of the HF head (`rotateHalfToInterleaved`). Arch `qwen2` uses rope mode NEOX
 *   (rotate-half, as HF), so its rows are written unpermuted.
 * - Llama 3 rope scaling becomes the `rope_freqs.weight` tensor of per-frequency divisors; linear scaling the
 *   `rope.scaling.type/factor` keys.
 * - 1-D tensors (norms, biases, rope_freqs) are always F32. With `q8_0`, matrices whose rows are not a multiple
 *   of 32 values are written as F16 (llama.cpp cannot store them as Q8_0).
 */
import {
  GgmlType,
  GgufValueType,
  Q8_0_BLOCK,
  writeGguf,
  type GgufKv,
  type GgufTensorInput,
} from './io/gguf.js';
import { llamaParameterShapes, type LlamaShape } from './llama.js';
import { inverseFrequencies } from './rope-tables.js';

/** llama.cpp token types (tokenizer.ggml.token_type). */
export const GgufTokenType = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;

interface GgufTokenizerCommon {
  /** Token strings ordered by id. Shorter than the model's vocab: padded with `[PAD{id}]` unused tokens. */
  tokens: readonly string[];
  /** One GgufTokenType per token. */
  types: readonly number[];
  eos: number;
  pad?: number;
  /** Prepend BOS when tokenizing (llama.cpp's `add_bos_token`; default: true for spm, false for gpt2). */
  addBos?: boolean;
  addEos?: boolean;
  /** Jinja chat template (`tokenizer.chat_template`). */
  chatTemplate?: string;
}

/** SentencePiece-style vocab (`tokenizer.ggml.model = "llama"`): pieces with scores, `<0xNN>` byte tokens. */
export interface GgufSpmTokenizer extends GgufTokenizerCommon {
  kind: 'spm';
  scores: readonly number[];
  bos: number;
  unk: number;
}

/** Byte-level BPE (`tokenizer.ggml.model = "gpt2"`): vocab ordered by id and merges as "a b" strings. */
export interface GgufGpt2Tokenizer extends GgufTokenizerCommon {
  kind: 'gpt2';
  merges: readonly string[];
  bos?: number;
  /** llama.cpp's pre-tokenizer name (`tokenizer.ggml.pre`): 'default', 'llama-bpe', 'qwen2', 'smollm', ... */
  pre?: string;
}

export type GgufTokenizer = GgufSpmTokenizer | GgufGpt2Tokenizer;

export type GgufExportType = 'f32' | 'f16' | 'q8_0';
export type GgufArchitecture = 'llama' | 'qwen2';

export interface ExportGgufOptions {
  type: GgufExportType;
  tokenizer: GgufTokenizer;
  /** `general.name`. */
  name?: string;
  /** `{arch}.context_length` (default 2048). */
  contextLength?: number;
  /**
   * GGUF architecture. Default: `qwen2` when q/k/v have biases and o_proj has none (Qwen2's layout), else
   * `llama` (also right for Mistral).
   */
  architecture?: GgufArchitecture;
  /** Extra metadata written after ours (same key: error). */
  extraMetadata?: readonly GgufKv[];
}

export interface ExportableModel {
  shape: LlamaShape;
  params: ReadonlyMap<string, { data: Float32Array; shape: readonly number[] }>;
}

const FILE_TYPE: Record<GgufExportType, number> = { f32: 0, f16: 1, q8_0: 7 }; // LLAMA_FTYPE_ALL_F32, MOSTLY_F16, MOSTLY_Q8_0

/**
 * Row order that turns one head of HF rotate-half layout into llama.cpp's adjacent-pair layout:
 * `order[j]` is the HF row that becomes GGUF row j, i.e. [0, d/2, 1, d/2+1, ...] (convert_hf_to_gguf's
 * `reshape(n_head, 2, d/2, ...).swapaxes(1, 2)`).
 */
export function rotateHalfToInterleaved(headDim: number): Int32Array {
  if (headDim % 2 !== 0) throw new Error(`head_dim must be even, got ${headDim}`);
  const half = headDim / 2;
  const order = new Int32Array(headDim);
  for (let i = 0; i < half; i++) {
    order[2 * i] = i;
    order[2 * i + 1] = half + i;
  }
  return order;
}

/** Permutes the rows of a [heads*headDim, cols] row-major matrix (cols = 1 for a bias) head by head. */
export function permuteRopeRows(
  data: Float32Array,
  heads: number,
  headDim: number,
  cols: number,
): Float32Array {
  if (data.length !== heads * headDim * cols) {
    throw new Error(`cannot permute ${data.length} values as ${heads} heads x ${headDim} rows x ${cols}`);
  }
  const order = rotateHalfToInterleaved(headDim);
  const out = new Float32Array(data.length);
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < headDim; j++) {
      const src = (h * headDim + (order[j] as number)) * cols;
      out.set(data.subarray(src, src + cols), (h * headDim + j) * cols);
    }
  }
  return out;
}

/** Llama 3 `rope_freqs.weight`: per-frequency divisors base_freq / scaled_freq (as convert_hf_to_gguf). */
export function llama3RopeFactors(shape: LlamaShape): Float32Array {
  const scaling = shape.ropeScaling;
  if (!scaling || scaling.type !== 'llama3') throw new Error('llama3RopeFactors needs llama3 rope scaling');
  const base = inverseFrequencies({ headDim: shape.headDim, ropeTheta: shape.ropeTheta });
  const lowWavelen = scaling.originalMaxPositionEmbeddings / scaling.lowFreqFactor;
  const highWavelen = scaling.originalMaxPositionEmbeddings / scaling.highFreqFactor;
  const out = new Float32Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const wavelen = (2 * Math.PI) / (base[i] as number);
    if (wavelen < highWavelen) out[i] = 1;
    else if (wavelen > lowWavelen) out[i] = scaling.factor;
    else {
      const smooth =
        (scaling.originalMaxPositionEmbeddings / wavelen - scaling.lowFreqFactor) /
        (scaling.highFreqFactor - scaling.lowFreqFactor);
      out[i] = 1 / ((1 - smooth) / scaling.factor + smooth);
    }
  }
  return out;
}

/** The GGUF tensor name of a Hugging Face Llama/Qwen2 parameter name. */
export function ggufTensorName(hfName: string): string {
  const fixed: Record<string, string> = {
    'model.embed_tokens.weight': 'token_embd.weight',
    'model.norm.weight': 'output_norm.weight',
    'lm_head.weight': 'output.weight',
  };
  const direct = fixed[hfName];
  if (direct) return direct;
  const m = /^model\.layers\.(\d+)\.(.+)\.(weight|bias)$/.exec(hfName);
  const parts: Record<string, string> = {
    input_layernorm: 'attn_norm',
    'self_attn.q_proj': 'attn_q',
    'self_attn.k_proj': 'attn_k',
    'self_attn.v_proj': 'attn_v',
    'self_attn.o_proj': 'attn_output',
    post_attention_layernorm: 'ffn_norm',
    'mlp.gate_proj': 'ffn_gate',
    'mlp.up_proj': 'ffn_up',
    'mlp.down_proj': 'ffn_down',
  };
  const part = m ? parts[m[2] as string] : undefined;
  if (!m || !part) throw new Error(`no GGUF name for parameter ${hfName}`);
  return `blk.${m[1]}.${part}.${m[3]}`;
}

function tokenizerMetadata(tok: GgufTokenizer, vocabSize: number): GgufKv[] {
  const { ARRAY, STRING, U32, F32, I32, BOOL } = GgufValueType;
  const n = tok.tokens.length;
  if (tok.types.length !== n) throw new Error(`tokenizer: ${n} tokens but ${tok.types.length} token types`);
  if (tok.kind === 'spm' && tok.scores.length !== n) {
    throw new Error(`tokenizer: ${n} tokens but ${tok.scores.length} scores`);
  }
  if (n > vocabSize) throw new Error(`tokenizer has ${n} tokens but the model's vocab is ${vocabSize}`);
  const tokens = [...tok.tokens];
  const types = [...tok.types];
  const scores = tok.kind === 'spm' ? [...tok.scores] : [];
  for (let i = n; i < vocabSize; i++) {
    tokens.push(`[PAD${i}]`);
    types.push(GgufTokenType.UNUSED);
    if (tok.kind === 'spm') scores.push(-1000);
  }
  const ids: Array<[string, number | undefined]> = [
    ['bos', tok.bos],
    ['eos', tok.eos],
    ['unknown', tok.kind === 'spm' ? tok.unk : undefined],
    ['padding', tok.pad],
  ];
  const kvs: GgufKv[] = [
    { key: 'tokenizer.ggml.model', type: STRING, value: tok.kind === 'spm' ? 'llama' : 'gpt2' },
  ];
  if (tok.kind === 'gpt2') kvs.push({ key: 'tokenizer.ggml.pre', type: STRING, value: tok.pre ?? 'default' });
  kvs.push(
    { key: 'tokenizer.ggml.tokens', type: ARRAY, itemType: STRING, value: tokens },
    { key: 'tokenizer.ggml.token_type', type: ARRAY, itemType: I32, value: types },
  );
  if (tok.kind === 'spm')
    kvs.push({ key: 'tokenizer.ggml.scores', type: ARRAY, itemType: F32, value: scores });
  else kvs.push({ key: 'tokenizer.ggml.merges', type: ARRAY, itemType: STRING, value: [...tok.merges] });
  for (const [name, id] of ids) {
    if (id === undefined) continue;
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize)
      throw new Error(`tokenizer: bad ${name} id ${id}`);
    kvs.push({ key: `tokenizer.ggml.${name}_token_id`, type: U32, value: id });
  }
  kvs.push(
    { key: 'tokenizer.ggml.add_bos_token', type: BOOL, value: tok.addBos ?? tok.kind === 'spm' },
    { key: 'tokenizer.ggml.add_eos_token', type: BOOL, value: tok.addEos ?? false },
  );
  if (tok.chatTemplate !== undefined) {
    kvs.push({ key: 'tokenizer.chat_template', type: STRING, value: tok.chatTemplate });
  }
  return kvs;
}

/** The default GGUF architecture of a decoder shape (see `ExportGgufOptions.architecture`). */
export function defaultGgufArchitecture(shape: LlamaShape): GgufArchitecture {
  return shape.attentionBias && !shape.outputBias && !shape.mlpBias ? 'qwen2' : 'llama';
}

/** The metadata and (lazily converted) tensors of the GGUF export, without writing anything. */
export function buildGgufExport(
  model: ExportableModel,
  options: ExportGgufOptions,
): { kvs: GgufKv[]; tensors: GgufTensorInput[] } {
  const s = model.shape;
  const arch = options.architecture ?? defaultGgufArchitecture(s);
  if (arch === 'qwen2' && (s.outputBias || s.mlpBias)) {
    throw new Error('GGUF arch qwen2 has no o_proj or MLP biases; export this model as arch llama');
  }
  if (!(options.type in FILE_TYPE)) throw new Error(`unsupported GGUF export type ${String(options.type)}`);
  const { U32, F32, STRING } = GgufValueType;
  const kvs: GgufKv[] = [
    { key: 'general.architecture', type: STRING, value: arch },
    { key: 'general.name', type: STRING, value: options.name ?? `${arch}-export` },
    { key: 'general.alignment', type: U32, value: 32 },
    { key: 'general.file_type', type: U32, value: FILE_TYPE[options.type] },
    { key: 'general.quantization_version', type: U32, value: 2 },
    { key: `${arch}.vocab_size`, type: U32, value: s.vocabSize },
    { key: `${arch}.context_length`, type: U32, value: options.contextLength ?? 2048 },
    { key: `${arch}.embedding_length`, type: U32, value: s.hiddenSize },
    { key: `${arch}.block_count`, type: U32, value: s.numLayers },
    { key: `${arch}.feed_forward_length`, type: U32, value: s.intermediateSize },
    { key: `${arch}.attention.head_count`, type: U32, value: s.numHeads },
    { key: `${arch}.attention.head_count_kv`, type: U32, value: s.numKvHeads },
    { key: `${arch}.attention.layer_norm_rms_epsilon`, type: F32, value: s.rmsNormEps },
    { key: `${arch}.rope.freq_base`, type: F32, value: s.ropeTheta },
    { key: `${arch}.rope.dimension_count`, type: U32, value: s.headDim },
  ];
  if (s.headDim * s.numHeads !== s.hiddenSize) {
    kvs.push(
      { key: `${arch}.attention.key_length`, type: U32, value: s.headDim },
      { key: `${arch}.attention.value_length`, type: U32, value: s.headDim },
    );
  }
  const scaling = s.ropeScaling;
  if (scaling?.type === 'linear') {
    kvs.push(
      { key: `${arch}.rope.scaling.type`, type: STRING, value: 'linear' },
      { key: `${arch}.rope.scaling.factor`, type: F32, value: scaling.factor },
    );
  } else if (scaling && scaling.type !== 'llama3') {
    throw new Error(`cannot export rope scaling ${(scaling as { type: string }).type} to GGUF`);
  }
  kvs.push(...tokenizerMetadata(options.tokenizer, s.vocabSize), ...(options.extraMetadata ?? []));

  const matrixType = (cols: number): GgmlType =>
    options.type === 'f32'
      ? GgmlType.F32
      : options.type === 'f16' || cols % Q8_0_BLOCK !== 0
        ? GgmlType.F16
        : GgmlType.Q8_0;
  const permute = arch === 'llama';
  const tensors: GgufTensorInput[] = [];
  for (const [name, shape] of llamaParameterShapes(s)) {
    const param = model.params.get(name);
    if (!param) throw new Error(`missing parameter ${name}`);
    if (param.shape.length !== shape.length || param.shape.some((d, i) => d !== shape[i])) {
      throw new Error(
        `parameter ${name} has shape [${param.shape.join(', ')}], expected [${shape.join(', ')}]`,
      );
    }
    const heads = /\.q_proj\./.test(name) ? s.numHeads : /\.k_proj\./.test(name) ? s.numKvHeads : 0;
    const cols = shape.length === 2 ? (shape[1] as number) : 1;
    const data =
      permute && heads > 0 ? () => permuteRopeRows(param.data, heads, s.headDim, cols) : param.data;
    tensors.push({
      name: ggufTensorName(name),
      ne: [...shape].reverse(),
      type: shape.length === 1 ? GgmlType.F32 : matrixType(cols),
      data,
    });
  }
  if (scaling?.type === 'llama3') {
    tensors.push({
      name: 'rope_freqs.weight',
      ne: [s.headDim / 2],
      type: GgmlType.F32,
      data: llama3RopeFactors(s),
    });
  }
  return { kvs, tensors };
}

/** Writes `model` as a GGUF file at `file` (atomically, tensor by tensor). */
export async function exportGguf(
  model: ExportableModel,
  file: string,
  options: ExportGgufOptions,
): Promise<{ bytes: number; architecture: GgufArchitecture }> {
  const { kvs, tensors } = buildGgufExport(model, options);
  const { bytes } = await writeGguf(file, kvs, tensors);
  return { bytes, architecture: String(kvs[0]?.value) as GgufArchitecture };
}

/** A Hugging Face tokenizer.json (the parts a byte-level BPE export needs). */
export interface HfTokenizerJson {
  model: { type?: string; vocab: Record<string, number>; merges?: Array<string | [string, string]> };
  added_tokens?: Array<{ id: number; content: string; special?: boolean }>;
  pre_tokenizer?: unknown;
}

/**
 * llama.cpp's name for the pre-tokenizer of a tokenizer.json, when it can be told from its structure: a
 * plain ByteLevel pre-tokenizer (with its built-in GPT-2 regex, as our BPE trainer writes) is 'gpt-2'.
 * Others (Llama 3's Split regex, Qwen2, ...) are recognised by llama.cpp's converter from a hash of
 * sample tokenizations; here they stay 'default' unless the caller names them.
 */
export function ggufPreTokenizer(json: HfTokenizerJson): string {
  const pre = json.pre_tokenizer as { type?: string; use_regex?: boolean } | null | undefined;
  if (pre?.type === 'ByteLevel' && pre.use_regex !== false) return 'gpt-2';
  return 'default';
}

/**
 * A `gpt2` GGUF tokenizer from a byte-level BPE tokenizer.json: tokens ordered by id (gaps filled with
 * `[PAD{id}]`), added special tokens as CONTROL, other added tokens as USER_DEFINED, merges as "a b".
 */
export function gpt2TokenizerFromHf(
  json: HfTokenizerJson,
  options: Omit<GgufGpt2Tokenizer, 'kind' | 'tokens' | 'types' | 'merges'>,
): GgufGpt2Tokenizer {
  if (json.model.type !== undefined && json.model.type !== 'BPE') {
    throw new Error(`tokenizer.json model is ${json.model.type}, not BPE`);
  }
  const byId = new Map<number, { text: string; type: number }>();
  for (const [text, id] of Object.entries(json.model.vocab))
    byId.set(id, { text, type: GgufTokenType.NORMAL });
  for (const t of json.added_tokens ?? []) {
    byId.set(t.id, { text: t.content, type: t.special ? GgufTokenType.CONTROL : GgufTokenType.USER_DEFINED });
  }
  const size = Math.max(-1, ...byId.keys()) + 1;
  const tokens: string[] = [];
  const types: number[] = [];
  for (let i = 0; i < size; i++) {
    const t = byId.get(i);
    tokens.push(t?.text ?? `[PAD${i}]`);
    types.push(t?.type ?? GgufTokenType.UNUSED);
  }
  const merges = (json.model.merges ?? []).map((m) => (typeof m === 'string' ? m : `${m[0]} ${m[1]}`));
  return { kind: 'gpt2', tokens, types, merges, pre: ggufPreTokenizer(json), ...options };
}

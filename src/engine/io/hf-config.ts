/**
 * Hugging Face `config.json` for Llama-family models (Llama, Qwen2, Mistral) ↔ a typed LlamaConfig.
 * Defaults follow transformers' LlamaConfig / Qwen2Config / MistralConfig where a key is absent.
 */

export type LlamaArchitecture = 'llama' | 'qwen2' | 'mistral';

export const SUPPORTED_ARCHITECTURES: Record<string, LlamaArchitecture> = {
  LlamaForCausalLM: 'llama',
  Qwen2ForCausalLM: 'qwen2',
  MistralForCausalLM: 'mistral',
};

const ARCH_CLASS: Record<LlamaArchitecture, string> = {
  llama: 'LlamaForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  mistral: 'MistralForCausalLM',
};

export type RopeScaling =
  | { type: 'linear'; factor: number }
  | {
      type: 'llama3';
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositionEmbeddings: number;
    };

export interface LlamaConfig {
  architecture: LlamaArchitecture;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  /**
   * Biases on the attention projections. Qwen2: always true, on q/k/v only (o_proj has none).
   * Llama (`attention_bias`): on q/k/v *and* o_proj, as in transformers. Mistral: always false.
   */
  attentionBias: boolean;
  /** Biases on gate/up/down (Llama `mlp_bias`; false for the others). */
  mlpBias: boolean;
  bosTokenId: number | null;
  eosTokenId: number | number[] | null;
  /** Recorded only (the engine attends to the full context); null when not used. */
  slidingWindow: number | null;
  /** `torch_dtype` (or `dtype`) from the file, informational; null when absent. */
  torchDtype: string | null;
}

/** Raised for any config.json problem; the message names the source file. */
export class HfConfigError extends Error {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(message);
    this.name = 'HfConfigError';
  }
}

type Json = Record<string, unknown>;

const DEFAULTS: Record<
  LlamaArchitecture,
  {
    rmsNormEps: number;
    ropeTheta: number;
    maxPositionEmbeddings: number;
    bos: number | null;
    eos: number | null;
  }
> = {
  llama: { rmsNormEps: 1e-6, ropeTheta: 10000, maxPositionEmbeddings: 2048, bos: 1, eos: 2 },
  qwen2: { rmsNormEps: 1e-6, ropeTheta: 10000, maxPositionEmbeddings: 32768, bos: null, eos: null },
  mistral: { rmsNormEps: 1e-6, ropeTheta: 10000, maxPositionEmbeddings: 4096 * 32, bos: 1, eos: 2 },
};

/**
 * Parse a config.json object. `source` names where it came from (e.g. `<dir>/config.json`) and
 * appears in every error message.
 */
export function parseLlamaConfig(json: unknown, source: string): LlamaConfig {
  const fail = (msg: string): never => {
    throw new HfConfigError(source, `${msg} in ${source}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('config is not a JSON object');
  const c = json as Json;
  const supported = Object.keys(SUPPORTED_ARCHITECTURES).join(', ');

  // Architecture: the first of `architectures`, else model_type.
  let architecture: LlamaArchitecture | undefined;
  const archs = c.architectures;
  if (archs !== undefined && archs !== null) {
    if (!Array.isArray(archs) || archs.length === 0 || typeof archs[0] !== 'string') {
      fail('"architectures" must be a non-empty array of strings');
    }
    const name = (archs as string[])[0]!;
    architecture = SUPPORTED_ARCHITECTURES[name];
    if (!architecture) {
      throw new HfConfigError(
        source,
        `unsupported architecture ${name} in ${source} (supported: ${supported})`,
      );
    }
  } else {
    const mt = c.model_type;
    if (mt === 'llama' || mt === 'qwen2' || mt === 'mistral') architecture = mt;
    else {
      throw new HfConfigError(
        source,
        `unsupported model_type ${JSON.stringify(mt)} (no "architectures") in ${source} (supported: ${supported})`,
      );
    }
  }
  const arch = architecture!;

  const num = (key: string, opts: { int?: boolean; positive?: boolean; def?: number } = {}): number => {
    const v = c[key];
    if (v === undefined || v === null) {
      if (opts.def !== undefined) return opts.def;
      return fail(`missing "${key}"`);
    }
    if (typeof v !== 'number' || !Number.isFinite(v))
      return fail(`"${key}" must be a number, got ${JSON.stringify(v)}`);
    if (opts.int && !Number.isSafeInteger(v)) return fail(`"${key}" must be an integer, got ${v}`);
    if (opts.positive && v <= 0) return fail(`"${key}" must be positive, got ${v}`);
    return v;
  };
  const bool = (key: string, def: boolean): boolean => {
    const v = c[key];
    if (v === undefined || v === null) return def;
    if (typeof v !== 'boolean') return fail(`"${key}" must be a boolean, got ${JSON.stringify(v)}`);
    return v;
  };
  const d = DEFAULTS[arch];

  const hiddenAct = c.hidden_act ?? c.hidden_activation ?? 'silu';
  if (hiddenAct !== 'silu') fail(`unsupported hidden_act ${JSON.stringify(hiddenAct)} (supported: silu)`);

  const vocabSize = num('vocab_size', { int: true, positive: true });
  const hiddenSize = num('hidden_size', { int: true, positive: true });
  const intermediateSize = num('intermediate_size', { int: true, positive: true });
  const numLayers = num('num_hidden_layers', { int: true, positive: true });
  const numHeads = num('num_attention_heads', { int: true, positive: true });
  const numKvHeads = num('num_key_value_heads', { int: true, positive: true, def: numHeads });
  if (numHeads % numKvHeads !== 0) {
    fail(`num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  }
  let headDim: number;
  if (c.head_dim !== undefined && c.head_dim !== null)
    headDim = num('head_dim', { int: true, positive: true });
  else {
    if (hiddenSize % numHeads !== 0) {
      fail(
        `hidden_size (${hiddenSize}) is not divisible by num_attention_heads (${numHeads}) and no head_dim is given`,
      );
    }
    headDim = hiddenSize / numHeads;
  }
  if (headDim % 2 !== 0) fail(`head_dim ${headDim} must be even for rotary embeddings`);

  // rope: transformers v5 moves rope_theta / rope_scaling into rope_parameters.
  const ropeParams = c.rope_parameters;
  let ropeTheta: number;
  let scalingJson: unknown = c.rope_scaling;
  if (typeof ropeParams === 'object' && ropeParams !== null && !Array.isArray(ropeParams)) {
    const rp = ropeParams as Json;
    ropeTheta =
      typeof rp.rope_theta === 'number'
        ? rp.rope_theta
        : num('rope_theta', { positive: true, def: d.ropeTheta });
    if (scalingJson === undefined || scalingJson === null) scalingJson = rp;
  } else {
    ropeTheta = num('rope_theta', { positive: true, def: d.ropeTheta });
  }
  const ropeScaling = parseRopeScaling(scalingJson, source);

  const maxPositionEmbeddings = num('max_position_embeddings', {
    int: true,
    positive: true,
    def: d.maxPositionEmbeddings,
  });
  const tieWordEmbeddings = bool('tie_word_embeddings', false);

  let attentionBias: boolean;
  let mlpBias: boolean;
  if (arch === 'qwen2') {
    attentionBias = true;
    mlpBias = false;
  } else if (arch === 'mistral') {
    attentionBias = false;
    mlpBias = false;
  } else {
    attentionBias = bool('attention_bias', false);
    mlpBias = bool('mlp_bias', false);
  }

  const tokenId = (key: string, def: number | null): number | null => {
    const v = c[key];
    if (v === undefined) return def;
    if (v === null) return null;
    if (!Number.isSafeInteger(v))
      return fail(`"${key}" must be an integer or null, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const bosTokenId = tokenId('bos_token_id', d.bos);
  let eosTokenId: number | number[] | null;
  const eos = c.eos_token_id;
  if (Array.isArray(eos)) {
    if (!eos.every((x) => Number.isSafeInteger(x)))
      fail('"eos_token_id" must be an integer, an array of integers or null');
    eosTokenId = [...(eos as number[])];
  } else eosTokenId = tokenId('eos_token_id', d.eos);

  let slidingWindow: number | null = null;
  const sw = c.sliding_window;
  const useSw = arch === 'qwen2' ? c.use_sliding_window === true : true;
  if (useSw && sw !== undefined && sw !== null)
    slidingWindow = num('sliding_window', { int: true, positive: true });

  const dtype = c.torch_dtype ?? c.dtype;
  const torchDtype = typeof dtype === 'string' ? dtype : null;

  const rmsNormEps = num('rms_norm_eps', { positive: true, def: d.rmsNormEps });

  return {
    architecture: arch,
    vocabSize,
    hiddenSize,
    intermediateSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps,
    ropeTheta,
    ropeScaling,
    maxPositionEmbeddings,
    tieWordEmbeddings,
    attentionBias,
    mlpBias,
    bosTokenId,
    eosTokenId,
    slidingWindow,
    torchDtype,
  };
}

function parseRopeScaling(v: unknown, source: string): RopeScaling | null {
  if (v === undefined || v === null) return null;
  const fail = (msg: string): never => {
    throw new HfConfigError(source, `${msg} in ${source}`);
  };
  if (typeof v !== 'object' || Array.isArray(v)) return fail('"rope_scaling" must be an object or null');
  const r = v as Json;
  const type = r.rope_type ?? r.type;
  if (type === undefined || type === 'default') return null;
  const numField = (key: string, positive = true): number => {
    const x = r[key];
    if (typeof x !== 'number' || !Number.isFinite(x) || (positive && x <= 0)) {
      return fail(`rope_scaling.${key} must be a positive number, got ${JSON.stringify(x)}`);
    }
    return x;
  };
  if (type === 'linear') return { type: 'linear', factor: numField('factor') };
  if (type === 'llama3') {
    const lowFreqFactor = numField('low_freq_factor');
    const highFreqFactor = numField('high_freq_factor');
    if (highFreqFactor <= lowFreqFactor) {
      fail(
        `rope_scaling.high_freq_factor (${highFreqFactor}) must exceed low_freq_factor (${lowFreqFactor})`,
      );
    }
    return {
      type: 'llama3',
      factor: numField('factor'),
      lowFreqFactor,
      highFreqFactor,
      originalMaxPositionEmbeddings: numField('original_max_position_embeddings'),
    };
  }
  return fail(`unsupported rope_scaling type ${JSON.stringify(type)} (supported: linear, llama3)`);
}

/**
 * A transformers-compatible config.json object for `config` (torch_dtype float32, since we write F32
 * weights; pass `torchDtype` to override). Throws when the config cannot be expressed for its
 * architecture (e.g. Qwen2 without attention biases).
 */
export function llamaConfigToJson(
  config: LlamaConfig,
  options: { torchDtype?: string } = {},
): Record<string, unknown> {
  const arch = config.architecture;
  if (!(arch in ARCH_CLASS)) throw new Error(`llamaConfigToJson: unsupported architecture ${String(arch)}`);
  if (arch === 'qwen2' && !config.attentionBias) {
    throw new Error(
      'llamaConfigToJson: Qwen2 always has q/k/v biases; attentionBias=false cannot be expressed',
    );
  }
  if (arch === 'mistral' && config.attentionBias) {
    throw new Error('llamaConfigToJson: Mistral has no attention biases; use architecture llama');
  }
  if (arch !== 'llama' && config.mlpBias) {
    throw new Error(`llamaConfigToJson: ${arch} has no mlp biases; use architecture llama`);
  }
  let ropeScaling: Record<string, unknown> | null = null;
  if (config.ropeScaling?.type === 'linear') {
    ropeScaling = { type: 'linear', rope_type: 'linear', factor: config.ropeScaling.factor };
  } else if (config.ropeScaling?.type === 'llama3') {
    const r = config.ropeScaling;
    ropeScaling = {
      rope_type: 'llama3',
      factor: r.factor,
      low_freq_factor: r.lowFreqFactor,
      high_freq_factor: r.highFreqFactor,
      original_max_position_embeddings: r.originalMaxPositionEmbeddings,
    };
  }
  const out: Record<string, unknown> = {
    architectures: [ARCH_CLASS[arch]],
    model_type: arch,
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    intermediate_size: config.intermediateSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    num_key_value_heads: config.numKvHeads,
    head_dim: config.headDim,
    hidden_act: 'silu',
    max_position_embeddings: config.maxPositionEmbeddings,
    rms_norm_eps: config.rmsNormEps,
    rope_theta: config.ropeTheta,
    rope_scaling: ropeScaling,
    tie_word_embeddings: config.tieWordEmbeddings,
    bos_token_id: config.bosTokenId,
    eos_token_id: config.eosTokenId,
    initializer_range: 0.02,
    attention_dropout: 0.0,
    use_cache: true,
    torch_dtype: options.torchDtype ?? 'float32',
  };
  if (arch === 'llama') {
    out.attention_bias = config.attentionBias;
    out.mlp_bias = config.mlpBias;
    out.pretraining_tp = 1;
  } else if (arch === 'qwen2') {
    out.use_sliding_window = config.slidingWindow !== null;
    out.sliding_window = config.slidingWindow;
    out.max_window_layers = config.numLayers;
  } else {
    out.sliding_window = config.slidingWindow;
  }
  return out;
}

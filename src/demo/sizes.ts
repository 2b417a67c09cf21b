/**
 * Presets of the offline demo: how many people the world has, how many study tokens each method may write per
 * person (the same budget for every method), and the from-scratch model trained on each method's data. The
 * medium preset (the default) finishes in under 10 minutes (584-593 s) on a 2-core machine with the native kernels; the
 * measurements behind these numbers, and the variants tried, are in bench/RESULTS.md ("demo").
 */
export interface DemoSize {
  name: string;
  people: number;
  /** Study tokens per person, per method (cl100k, as `study --budget-tokens` counts them). */
  studyTokensPerPerson: number;
  /** Share of the training tokens taken by the QA examples of the train-split people. */
  qaShare: number;
  model: {
    hiddenSize: number;
    intermediateSize: number;
    numLayers: number;
    numHeads: number;
    vocabSize: number;
  };
  seqLen: number;
  batchTokens: number;
  lr: number;
  /** Intermediate models evaluated for the accuracy-vs-tokens curve. */
  snapshots: number;
}

const MODEL = { hiddenSize: 128, intermediateSize: 352, numLayers: 3, numHeads: 4, vocabSize: 1024 };

const MEDIUM: DemoSize = {
  name: 'medium',
  people: 80,
  studyTokensPerPerson: 24_000,
  qaShare: 0.5,
  model: MODEL,
  seqLen: 128,
  batchTokens: 2048,
  lr: 3e-3,
  snapshots: 3,
};

export const DEMO_SIZES = {
  small: { ...MEDIUM, name: 'small', people: 50 },
  medium: MEDIUM,
  large: { ...MEDIUM, name: 'large', people: 200, model: { ...MODEL, numLayers: 4 }, snapshots: 4 },
} as const satisfies Record<string, DemoSize>;

export type DemoSizeName = keyof typeof DEMO_SIZES;
export const DEMO_SIZE_NAMES = Object.keys(DEMO_SIZES) as DemoSizeName[];

/** The Hugging Face config.json of the demo's from-scratch model. */
export function demoModelConfig(size: DemoSize): Record<string, unknown> {
  const m = size.model;
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: m.vocabSize,
    hidden_size: m.hiddenSize,
    intermediate_size: m.intermediateSize,
    num_hidden_layers: m.numLayers,
    num_attention_heads: m.numHeads,
    num_key_value_heads: m.numHeads,
    max_position_embeddings: size.seqLen,
    rms_norm_eps: 1e-5,
    tie_word_embeddings: true,
  };
}

import { Arena } from './arena.js';
import { decoderLayer } from './decoder-layer.js';
import type { Kernels } from './kernels/types.js';
import {
  add,
  attention,
  crossEntropy,
  linearCrossEntropy,
  dropout,
  embedding,
  linear,
  rmsnorm,
  scale,
  type OpContext,
} from './ops.js';
import { Rng } from './rng.js';
import { ropeTables, type RopeScaling } from './rope-tables.js';
import type { LlamaConfig } from './io/hf-config.js';
import { Tape, Tensor } from './tensor.js';

/** The architecture numbers the decoder needs (a subset of the parsed Hugging Face config). */
export interface LlamaShape {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling?: RopeScaling | null;
  tieWordEmbeddings: boolean;
  /** q/k/v projections with biases (Qwen2; Llama with `attention_bias`). */
  attentionBias: boolean;
  /** o_proj with a bias (Llama with `attention_bias`; not Qwen2). */
  outputBias?: boolean;
  /** gate/up/down with biases (Llama `mlp_bias`). */
  mlpBias?: boolean;
}

/** Low-rank adapters (LoRA) on some projections: W·x + (alpha/rank)·B·A·dropout(x), only A and B train. */
export interface LoraSettings {
  rank: number;
  alpha: number;
  dropout: number;
  /** Projection names, e.g. ['q_proj', 'k_proj', 'v_proj', 'o_proj'] (the default). */
  targets: string[];
  seed?: number;
}

export const DEFAULT_LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];

/** The decoder shape of a parsed Hugging Face config. */
export function shapeFromConfig(config: LlamaConfig): LlamaShape {
  return {
    vocabSize: config.vocabSize,
    hiddenSize: config.hiddenSize,
    intermediateSize: config.intermediateSize,
    numLayers: config.numLayers,
    numHeads: config.numHeads,
    numKvHeads: config.numKvHeads,
    headDim: config.headDim,
    rmsNormEps: config.rmsNormEps,
    ropeTheta: config.ropeTheta,
    ropeScaling: config.ropeScaling,
    tieWordEmbeddings: config.tieWordEmbeddings,
    attentionBias: config.attentionBias,
    outputBias: config.architecture === 'llama' && config.attentionBias,
    mlpBias: config.mlpBias,
  };
}

/** Above this many logits (32 MB) per pass, the loss uses the chunked, fused LM head. */
const FUSED_HEAD_FLOATS = 8 * 1024 * 1024;
/** Rows of logits the fused head forms at a time. */
export const FUSED_HEAD_CHUNK_ROWS = 256;

/** Whether a training pass over `tokens` tokens uses the fused, chunked LM head + cross-entropy. */
export function usesFusedHead(shape: LlamaShape, tokens: number): boolean {
  return tokens * shape.vocabSize > FUSED_HEAD_FLOATS;
}

/** Hugging Face parameter names and shapes ([out, in] for projections) of a Llama-family decoder. */
export function llamaParameterShapes(shape: LlamaShape): Map<string, number[]> {
  const { vocabSize: V, hiddenSize: H, intermediateSize: F, numHeads, numKvHeads, headDim: D } = shape;
  const shapes = new Map<string, number[]>([['model.embed_tokens.weight', [V, H]]]);
  for (let i = 0; i < shape.numLayers; i++) {
    const p = `model.layers.${i}.`;
    shapes.set(`${p}input_layernorm.weight`, [H]);
    shapes.set(`${p}self_attn.q_proj.weight`, [numHeads * D, H]);
    shapes.set(`${p}self_attn.k_proj.weight`, [numKvHeads * D, H]);
    shapes.set(`${p}self_attn.v_proj.weight`, [numKvHeads * D, H]);
    if (shape.attentionBias) {
      shapes.set(`${p}self_attn.q_proj.bias`, [numHeads * D]);
      shapes.set(`${p}self_attn.k_proj.bias`, [numKvHeads * D]);
      shapes.set(`${p}self_attn.v_proj.bias`, [numKvHeads * D]);
    }
    shapes.set(`${p}self_attn.o_proj.weight`, [H, numHeads * D]);
    if (shape.outputBias) shapes.set(`${p}self_attn.o_proj.bias`, [H]);
    shapes.set(`${p}post_attention_layernorm.weight`, [H]);
    shapes.set(`${p}mlp.gate_proj.weight`, [F, H]);
    shapes.set(`${p}mlp.up_proj.weight`, [F, H]);
    shapes.set(`${p}mlp.down_proj.weight`, [H, F]);
    if (shape.mlpBias) {
      shapes.set(`${p}mlp.gate_proj.bias`, [F]);
      shapes.set(`${p}mlp.up_proj.bias`, [F]);
      shapes.set(`${p}mlp.down_proj.bias`, [H]);
    }
  }
  shapes.set('model.norm.weight', [H]);
  if (!shape.tieWordEmbeddings) shapes.set('lm_head.weight', [V, H]);
  return shapes;
}

/**
 * A Llama-family decoder (Llama, Mistral, Qwen2, SmolLM): parameters by their Hugging Face names, a
 * forward pass to logits, and the training loss. Tied embeddings use one tensor for both ends, so its
 * gradient collects both uses.
 */
export class LlamaModel {
  readonly params: Map<string, Tensor>;
  private tables: { positions: number; cos: Float32Array; sin: Float32Array } | undefined;
  private readonly arena = new Arena();

  readonly lora: LoraSettings | undefined;
  private loraRng: Rng;

  /**
   * With `lora`, the base weights are frozen and an A (N(0, 1/rank)) and B (zeros) pair is added per
   * target projection, named like PEFT's (`...q_proj.lora_A.weight`); `adapters` may supply them.
   */
  constructor(
    readonly shape: LlamaShape,
    tensors: Map<string, { shape: readonly number[]; data: Float32Array }>,
    options: {
      lora?: LoraSettings;
      adapters?: Map<string, { shape: readonly number[]; data: Float32Array }>;
    } = {},
  ) {
    this.params = new Map();
    this.lora = options.lora;
    this.loraRng = new Rng(options.lora?.seed ?? 0);
    for (const [name, expected] of llamaParameterShapes(shape)) {
      const t = tensors.get(name);
      if (!t) throw new Error(`missing parameter ${name}`);
      if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
        throw new Error(
          `parameter ${name} has shape [${t.shape.join(', ')}], expected [${expected.join(', ')}]`,
        );
      }
      this.params.set(name, new Tensor(t.data, expected, !options.lora));
    }
    if (options.lora) this.addAdapters(options.lora, options.adapters);
  }

  private addAdapters(
    lora: LoraSettings,
    given: Map<string, { shape: readonly number[]; data: Float32Array }> | undefined,
  ): void {
    if (!(lora.rank > 0) || !Number.isInteger(lora.rank))
      throw new RangeError('LoRA rank must be a positive integer');
    const known = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
    for (const target of lora.targets) {
      if (!known.includes(target))
        throw new Error(`unknown LoRA target module "${target}" (known: ${known.join(', ')})`);
    }
    const init = new Rng(lora.seed ?? 0);
    for (const [name, dims] of llamaParameterShapes(this.shape)) {
      const module = /\.(\w+_proj)\.weight$/.exec(name)?.[1];
      if (!module || !lora.targets.includes(module)) continue;
      const [N, K] = dims as [number, number];
      const base = name.slice(0, -'.weight'.length);
      const a =
        given?.get(`${base}.lora_A.weight`)?.data ??
        Float32Array.from({ length: lora.rank * K }, () => init.normal() / Math.sqrt(lora.rank));
      const b = given?.get(`${base}.lora_B.weight`)?.data ?? new Float32Array(N * lora.rank);
      this.params.set(`${base}.lora_A.weight`, new Tensor(a, [lora.rank, K], true));
      this.params.set(`${base}.lora_B.weight`, new Tensor(b, [N, lora.rank], true));
    }
  }

  /**
   * Restarts the LoRA dropout masks' random stream. The trainer calls it with a seed derived from the step,
   * so a run resumed from a checkpoint draws the same masks as one that never stopped.
   */
  reseedDropout(seed: number): void {
    this.loraRng = new Rng(seed);
  }

  /** The LoRA tensors (PEFT names), for saving an adapter. */
  adapterTensors(): Map<string, Tensor> {
    return new Map([...this.params].filter(([name]) => name.includes('.lora_')));
  }

  /** Folds the adapters into the base weights (W += alpha/rank · B·A) and returns plain HF tensors. */
  mergedWeights(): Map<string, { shape: number[]; data: Float32Array }> {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, t] of this.params) {
      if (name.includes('.lora_')) continue;
      const data = Float32Array.from(t.data);
      const base = name.slice(0, -'.weight'.length);
      const a = this.params.get(`${base}.lora_A.weight`);
      const b = this.params.get(`${base}.lora_B.weight`);
      if (a && b && this.lora) {
        const [N, K] = t.shape as [number, number];
        const r = this.lora.rank;
        const c = this.lora.alpha / r;
        for (let n = 0; n < N; n++) {
          for (let k = 0; k < K; k++) {
            let sum = 0;
            for (let j = 0; j < r; j++) sum += (b.data[n * r + j] as number) * (a.data[j * K + k] as number);
            data[n * K + k] = (data[n * K + k] as number) + c * sum;
          }
        }
      }
      out.set(name, { shape: [...t.shape], data });
    }
    return out;
  }

  private param(name: string): Tensor {
    const t = this.params.get(name);
    if (!t) throw new Error(`missing parameter ${name}`);
    return t;
  }

  private ropeFor(seqLen: number): { cos: Float32Array; sin: Float32Array } {
    if (!this.tables || this.tables.positions < seqLen) {
      this.tables = { positions: seqLen, ...ropeTables(this.shape, seqLen) };
    }
    return this.tables;
  }

  /** Logits [batch*seqLen, vocab] for `ids` laid out as batch rows of seqLen tokens. */
  forward(ctx: OpContext, ids: Int32Array, batch: number, seqLen: number): Tensor {
    return linear(ctx, this.hidden(ctx, ids, batch, seqLen), this.head());
  }

  /**
   * Mean next-token loss against explicit targets. When the logits would be large (over FUSED_HEAD_FLOATS),
   * the fused LM head + cross-entropy keeps them to a chunk at a time, at the price of one GEMM more;
   * small ones go the plain way, which is faster.
   */
  private headLoss(
    ctx: OpContext,
    ids: Int32Array,
    targets: Int32Array,
    batch: number,
    seqLen: number,
  ): Tensor {
    const h = this.hidden(ctx, ids, batch, seqLen);
    if (usesFusedHead(this.shape, ids.length)) {
      return linearCrossEntropy(ctx, h, this.head(), targets, FUSED_HEAD_CHUNK_ROWS);
    }
    return crossEntropy(ctx, linear(ctx, h, this.head()), targets);
  }

  private head(): Tensor {
    return this.param(this.shape.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight');
  }

  /** The final normed hidden states [batch*seqLen, hidden]. */
  private hidden(ctx: OpContext, ids: Int32Array, batch: number, seqLen: number): Tensor {
    if (ids.length !== batch * seqLen) throw new RangeError(`${ids.length} ids is not ${batch} x ${seqLen}`);
    const s = this.shape;
    const { cos, sin } = this.ropeFor(seqLen);
    const dims = { batch, seqLen, heads: s.numHeads, kvHeads: s.numKvHeads, headDim: s.headDim };
    let h = embedding(ctx, ids, this.param('model.embed_tokens.weight'));
    for (let i = 0; i < s.numLayers; i++) {
      const p = `model.layers.${i}.`;
      const proj = (input: Tensor, name: string, biased: boolean | undefined) => {
        const bias = biased ? this.param(`${p}${name}.bias`) : undefined;
        const y = linear(ctx, input, this.param(`${p}${name}.weight`), bias);
        const a = this.params.get(`${p}${name}.lora_A.weight`);
        if (!a || !this.lora) return y;
        const x = ctx.tape ? dropout(ctx, input, this.lora.dropout, () => this.loraRng.next()) : input;
        const low = linear(ctx, linear(ctx, x, a), this.param(`${p}${name}.lora_B.weight`));
        return add(ctx, y, scale(ctx, low, this.lora.alpha / this.lora.rank));
      };
      h = decoderLayer(ctx, h, s, {
        param: (name) => this.param(`${p}${name}`),
        project: proj,
        attend: (q, k, v) => attention(ctx, q, k, v, dims),
        seqLen,
        cos,
        sin,
      });
    }
    h = rmsnorm(ctx, h, this.param('model.norm.weight'), s.rmsNormEps);
    return h;
  }

  /** Next-token loss: row t predicts ids[t+1] within each sequence; `mask[t] = 0` excludes a target. */
  loss(ctx: OpContext, ids: Int32Array, batch: number, seqLen: number, mask?: Uint8Array): Tensor {
    const targets = new Int32Array(ids.length).fill(-100);
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t + 1 < seqLen; t++) {
        const next = b * seqLen + t + 1;
        if (!mask || mask[next]) targets[b * seqLen + t] = ids[next] as number;
      }
    }
    return this.headLoss(ctx, ids, targets, batch, seqLen);
  }

  /**
   * Loss and gradients for a batch whose next-token targets are given (-100 = not trained on). With
   * `gradWeight` < 1 the gradients of several micro-batches add up to the gradient of their mean loss.
   */
  lossAndGradTargets(
    kernels: Kernels,
    ids: Int32Array,
    targets: Int32Array,
    batch: number,
    seqLen: number,
    gradWeight = 1,
  ): number {
    this.arena.reset();
    const tape = new Tape();
    const ctx = { kernels, tape, arena: this.arena };
    const loss = this.headLoss(ctx, ids, targets, batch, seqLen);
    tape.backward(loss, gradWeight);
    return loss.data[0] as number;
  }

  /**
   * Loss and gradients (accumulated into each parameter's grad) for one batch. Activations live in the
   * model's arena, reused from step to step.
   */
  lossAndGrad(kernels: Kernels, ids: Int32Array, batch: number, seqLen: number, mask?: Uint8Array): number {
    this.arena.reset();
    const tape = new Tape();
    const loss = this.loss({ kernels, tape, arena: this.arena }, ids, batch, seqLen, mask);
    tape.backward(loss);
    return loss.data[0] as number;
  }
}

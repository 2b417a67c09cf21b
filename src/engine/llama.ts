import { Arena } from './arena.js';
import type { Kernels } from './kernels/types.js';
import {
  add,
  attention,
  crossEntropy,
  embedding,
  linear,
  rmsnorm,
  rope,
  swiglu,
  type OpContext,
} from './ops.js';
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

  constructor(
    readonly shape: LlamaShape,
    tensors: Map<string, { shape: readonly number[]; data: Float32Array }>,
  ) {
    this.params = new Map();
    for (const [name, expected] of llamaParameterShapes(shape)) {
      const t = tensors.get(name);
      if (!t) throw new Error(`missing parameter ${name}`);
      if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
        throw new Error(
          `parameter ${name} has shape [${t.shape.join(', ')}], expected [${expected.join(', ')}]`,
        );
      }
      this.params.set(name, new Tensor(t.data, expected, true));
    }
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
    if (ids.length !== batch * seqLen) throw new RangeError(`${ids.length} ids is not ${batch} x ${seqLen}`);
    const s = this.shape;
    const { cos, sin } = this.ropeFor(seqLen);
    const dims = { batch, seqLen, heads: s.numHeads, kvHeads: s.numKvHeads, headDim: s.headDim };
    let h = embedding(ctx, ids, this.param('model.embed_tokens.weight'));
    for (let i = 0; i < s.numLayers; i++) {
      const p = `model.layers.${i}.`;
      const proj = (input: Tensor, name: string, biased: boolean | undefined) =>
        linear(
          ctx,
          input,
          this.param(`${p}${name}.weight`),
          biased ? this.param(`${p}${name}.bias`) : undefined,
        );
      const x = rmsnorm(ctx, h, this.param(`${p}input_layernorm.weight`), s.rmsNormEps);
      const q = rope(
        ctx,
        proj(x, 'self_attn.q_proj', s.attentionBias),
        s.numHeads,
        s.headDim,
        seqLen,
        cos,
        sin,
      );
      const k = rope(
        ctx,
        proj(x, 'self_attn.k_proj', s.attentionBias),
        s.numKvHeads,
        s.headDim,
        seqLen,
        cos,
        sin,
      );
      const v = proj(x, 'self_attn.v_proj', s.attentionBias);
      h = add(ctx, h, proj(attention(ctx, q, k, v, dims), 'self_attn.o_proj', s.outputBias));
      const y = rmsnorm(ctx, h, this.param(`${p}post_attention_layernorm.weight`), s.rmsNormEps);
      const mlp = swiglu(ctx, proj(y, 'mlp.gate_proj', s.mlpBias), proj(y, 'mlp.up_proj', s.mlpBias));
      h = add(ctx, h, proj(mlp, 'mlp.down_proj', s.mlpBias));
    }
    h = rmsnorm(ctx, h, this.param('model.norm.weight'), s.rmsNormEps);
    const head = this.param(s.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight');
    return linear(ctx, h, head);
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
    return crossEntropy(ctx, this.forward(ctx, ids, batch, seqLen), targets);
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

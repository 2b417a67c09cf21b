/**
 * One Llama decoder layer (pre-norm attention, then a pre-norm SwiGLU MLP, each with a residual), written once
 * for training and for incremental decoding: they differ only in how a projection is computed (LoRA or not)
 * and in how queries meet keys and values (all positions at once, or against a KV cache).
 */
import type { LlamaShape } from './llama.js';
import { add, rmsnorm, rope, swiglu, type OpContext } from './ops.js';
import type { Tensor } from './tensor.js';

export interface DecoderLayerParts {
  /** A parameter of this layer by its name after `model.layers.N.`. */
  param: (name: string) => Tensor;
  /** `input` times the named projection of this layer (`self_attn.q_proj`...), with its bias when `biased`. */
  project: (input: Tensor, name: string, biased: boolean | undefined) => Tensor;
  /** Attention of the RoPE'd queries and keys and the values: [rows, heads * headDim]. */
  attend: (q: Tensor, k: Tensor, v: Tensor) => Tensor;
  /** Rows per sequence, and the RoPE tables of their positions. */
  seqLen: number;
  cos: Float32Array;
  sin: Float32Array;
}

export function decoderLayer(ctx: OpContext, h: Tensor, s: LlamaShape, parts: DecoderLayerParts): Tensor {
  const { param, project, seqLen, cos, sin } = parts;
  const x = rmsnorm(ctx, h, param('input_layernorm.weight'), s.rmsNormEps);
  const roped = (name: string, heads: number) =>
    rope(ctx, project(x, name, s.attentionBias), heads, s.headDim, seqLen, cos, sin);
  const q = roped('self_attn.q_proj', s.numHeads);
  const k = roped('self_attn.k_proj', s.numKvHeads);
  const v = project(x, 'self_attn.v_proj', s.attentionBias);
  const attended = add(ctx, h, project(parts.attend(q, k, v), 'self_attn.o_proj', s.outputBias));
  const y = rmsnorm(ctx, attended, param('post_attention_layernorm.weight'), s.rmsNormEps);
  const mlp = swiglu(ctx, project(y, 'mlp.gate_proj', s.mlpBias), project(y, 'mlp.up_proj', s.mlpBias));
  return add(ctx, attended, project(mlp, 'mlp.down_proj', s.mlpBias));
}

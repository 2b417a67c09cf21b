import type { Kernels } from './kernels/types.js';
import { LlamaModel } from './llama.js';
import { linear, rmsnorm, rope, swiglu, add, embedding, type OpContext } from './ops.js';
import { Rng } from './rng.js';
import { ropeTables } from './rope-tables.js';
import { Tensor } from './tensor.js';

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 (default) is greedy. */
  temperature?: number;
  topP?: number;
  seed?: number;
  /** Generation stops after producing one of these ids (not included in the output). */
  stopIds?: number[];
}

/**
 * Text generation from the engine itself: the prompt is fed token by token into a KV cache (keys after
 * RoPE, values), then each new token costs one row through every layer and attention over the cache.
 */
export function generate(
  trained: LlamaModel,
  kernels: Kernels,
  prompt: ArrayLike<number>,
  options: GenerateOptions,
): number[] {
  if (prompt.length === 0) throw new RangeError('generate needs at least one prompt token');
  // Adapters are folded into the weights first: one matrix per projection at decode time.
  const model = trained.lora ? new LlamaModel(trained.shape, trained.mergedWeights()) : trained;
  const s = model.shape;
  const total = prompt.length + options.maxNewTokens;
  const { cos, sin } = ropeTables(s, total);
  const half = s.headDim / 2;
  const kvWidth = s.numKvHeads * s.headDim;
  const cacheK = Array.from({ length: s.numLayers }, () => new Float32Array(total * kvWidth));
  const cacheV = Array.from({ length: s.numLayers }, () => new Float32Array(total * kvWidth));
  const ctx: OpContext = { kernels };
  const param = (name: string) => model.params.get(name) as Tensor;
  const rng = new Rng(options.seed ?? 0);
  const stop = new Set(options.stopIds ?? []);

  /** Logits of the next token after feeding `token` at `position`. */
  const step = (token: number, position: number): Float32Array => {
    let h = embedding(ctx, Int32Array.of(token), param('model.embed_tokens.weight'));
    const c = cos.subarray(position * half, (position + 1) * half);
    const sn = sin.subarray(position * half, (position + 1) * half);
    for (let i = 0; i < s.numLayers; i++) {
      const p = `model.layers.${i}.`;
      const proj = (input: Tensor, name: string, biased: boolean | undefined) =>
        linear(ctx, input, param(`${p}${name}.weight`), biased ? param(`${p}${name}.bias`) : undefined);
      const x = rmsnorm(ctx, h, param(`${p}input_layernorm.weight`), s.rmsNormEps);
      const q = rope(ctx, proj(x, 'self_attn.q_proj', s.attentionBias), s.numHeads, s.headDim, 1, c, sn);
      const k = rope(ctx, proj(x, 'self_attn.k_proj', s.attentionBias), s.numKvHeads, s.headDim, 1, c, sn);
      const v = proj(x, 'self_attn.v_proj', s.attentionBias);
      (cacheK[i] as Float32Array).set(k.data, position * kvWidth);
      (cacheV[i] as Float32Array).set(v.data, position * kvWidth);
      const attended = attendCache(
        q.data,
        cacheK[i] as Float32Array,
        cacheV[i] as Float32Array,
        position + 1,
        s,
      );
      h = add(
        ctx,
        h,
        proj(new Tensor(attended, [1, s.numHeads * s.headDim]), 'self_attn.o_proj', s.outputBias),
      );
      const y = rmsnorm(ctx, h, param(`${p}post_attention_layernorm.weight`), s.rmsNormEps);
      const mlp = swiglu(ctx, proj(y, 'mlp.gate_proj', s.mlpBias), proj(y, 'mlp.up_proj', s.mlpBias));
      h = add(ctx, h, proj(mlp, 'mlp.down_proj', s.mlpBias));
    }
    h = rmsnorm(ctx, h, param('model.norm.weight'), s.rmsNormEps);
    return linear(ctx, h, param(s.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight')).data;
  };

  let logits: Float32Array = new Float32Array(0);
  for (let i = 0; i < prompt.length; i++) logits = step(prompt[i] as number, i);
  const out: number[] = [];
  for (let n = 0; n < options.maxNewTokens; n++) {
    const next = pick(logits, options.temperature ?? 0, options.topP ?? 1, rng);
    if (stop.has(next)) break;
    out.push(next);
    if (n + 1 < options.maxNewTokens) logits = step(next, prompt.length + n);
  }
  return out;
}

/** One query row against `length` cached positions, grouped-query heads. */
function attendCache(
  q: Float32Array,
  keys: Float32Array,
  values: Float32Array,
  length: number,
  s: { numHeads: number; numKvHeads: number; headDim: number },
): Float32Array {
  const D = s.headDim;
  const group = s.numHeads / s.numKvHeads;
  const kvWidth = s.numKvHeads * D;
  const out = new Float32Array(s.numHeads * D);
  const scores = new Float64Array(length);
  const scale = 1 / Math.sqrt(D);
  for (let h = 0; h < s.numHeads; h++) {
    const kh = Math.floor(h / group);
    let max = -Infinity;
    for (let t = 0; t < length; t++) {
      let dot = 0;
      for (let d = 0; d < D; d++)
        dot += (q[h * D + d] as number) * (keys[t * kvWidth + kh * D + d] as number);
      scores[t] = dot * scale;
      max = Math.max(max, scores[t] as number);
    }
    let sum = 0;
    for (let t = 0; t < length; t++) sum += scores[t] = Math.exp((scores[t] as number) - max);
    for (let t = 0; t < length; t++) {
      const w = (scores[t] as number) / sum;
      for (let d = 0; d < D; d++)
        out[h * D + d] = (out[h * D + d] as number) + w * (values[t * kvWidth + kh * D + d] as number);
    }
  }
  return out;
}

/** Greedy at temperature 0; otherwise softmax sampling at `temperature` within the top-p nucleus. */
function pick(logits: Float32Array, temperature: number, topP: number, rng: Rng): number {
  if (temperature <= 0) {
    let best = 0;
    for (let v = 1; v < logits.length; v++) if ((logits[v] as number) > (logits[best] as number)) best = v;
    return best;
  }
  let max = -Infinity;
  for (const x of logits) max = Math.max(max, x);
  const order = Array.from(logits.keys());
  const weights = Array.from(logits, (x) => Math.exp((x - max) / temperature));
  order.sort((a, b) => (weights[b] as number) - (weights[a] as number));
  const total = weights.reduce((a, b) => a + b, 0);
  let kept = 0;
  const nucleus: number[] = [];
  for (const id of order) {
    nucleus.push(id);
    kept += weights[id] as number;
    if (kept >= topP * total) break;
  }
  let r = rng.next() * kept;
  for (const id of nucleus) {
    r -= weights[id] as number;
    if (r <= 0) return id;
  }
  return nucleus.at(-1) as number;
}

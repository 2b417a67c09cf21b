/**
 * Incremental decoding on the engine's Llama model: a KV cache (keys after RoPE, values) that tokens are fed
 * into a chunk at a time (a whole prompt, then one generated token per call), returning the next-token
 * logits. `generate()` runs it in one synchronous loop; the engine TextGenerator (src/models) drives it token
 * by token to check stop strings, aborts and yield to the event loop in between.
 */
import type { Kernels } from './kernels/types.js';
import type { LlamaModel, LlamaShape } from './llama.js';
import { decoderLayer } from './decoder-layer.js';
import { attention, embedding, linear, rmsnorm, type OpContext } from './ops.js';
import type { Rng } from './rng.js';
import { ropeTables } from './rope-tables.js';
import { Tensor } from './tensor.js';

export class KvDecoder {
  private readonly shape: LlamaShape;
  private readonly ctx: OpContext;
  private readonly cos: Float32Array;
  private readonly sin: Float32Array;
  private readonly cacheK: Float32Array[];
  private readonly cacheV: Float32Array[];
  private filled = 0;

  /** `capacity`: positions the cache holds (prompt + generated tokens). */
  constructor(
    private readonly model: LlamaModel,
    kernels: Kernels,
    readonly capacity: number,
  ) {
    if (model.lora) throw new Error('KvDecoder needs merged weights (a model without LoRA adapters)');
    this.shape = model.shape;
    this.ctx = { kernels };
    const tables = ropeTables(this.shape, capacity);
    this.cos = tables.cos;
    this.sin = tables.sin;
    const width = capacity * this.shape.numKvHeads * this.shape.headDim;
    this.cacheK = Array.from({ length: this.shape.numLayers }, () => new Float32Array(width));
    this.cacheV = Array.from({ length: this.shape.numLayers }, () => new Float32Array(width));
  }

  /** Positions filled so far. */
  get length(): number {
    return this.filled;
  }

  /** Feeds `tokens` at the next positions; returns the logits of the token after the last one. */
  feed(tokens: ArrayLike<number>): Float32Array {
    const s = this.shape;
    const T = tokens.length;
    const start = this.filled;
    if (T === 0) throw new RangeError('feed needs at least one token');
    if (start + T > this.capacity) {
      throw new RangeError(`KV cache full: ${start} + ${T} tokens exceed its ${this.capacity} positions`);
    }
    const ctx = this.ctx;
    const param = (name: string): Tensor => {
      const t = this.model.params.get(name);
      if (!t) throw new Error(`model has no parameter ${name}`);
      return t;
    };
    const half = s.headDim / 2;
    const kvWidth = s.numKvHeads * s.headDim;
    const qWidth = s.numHeads * s.headDim;
    // Row r of this chunk sits at position start + r: the rope op reads table row (r mod T) of these views.
    const cos = this.cos.subarray(start * half, (start + T) * half);
    const sin = this.sin.subarray(start * half, (start + T) * half);

    let h = embedding(ctx, Int32Array.from(tokens), param('model.embed_tokens.weight'));
    for (let i = 0; i < s.numLayers; i++) {
      const p = `model.layers.${i}.`;
      const proj = (input: Tensor, name: string, biased: boolean | undefined): Tensor =>
        linear(ctx, input, param(`${p}${name}.weight`), biased ? param(`${p}${name}.bias`) : undefined);
      const cacheK = this.cacheK[i] as Float32Array;
      const cacheV = this.cacheV[i] as Float32Array;
      const attend = (q: Tensor, k: Tensor, v: Tensor): Tensor => {
        cacheK.set(k.data, start * kvWidth);
        cacheV.set(v.data, start * kvWidth);
        // A prompt fed into an empty cache is plain causal attention: batched GEMMs, not a loop per row.
        if (start === 0 && T > 1) {
          const dims = { batch: 1, seqLen: T, heads: s.numHeads, kvHeads: s.numKvHeads, headDim: s.headDim };
          return attention(ctx, q, k, v, dims);
        }
        // Later rows (a generated token, or a later chunk of a long prompt): GEMMs against the cache.
        const attended = new Float32Array(T * qWidth);
        attendChunk(ctx.kernels, q.data, cacheK, cacheV, start, T, s, attended);
        return new Tensor(attended, [T, qWidth]);
      };
      h = decoderLayer(ctx, h, s, {
        param: (name) => param(`${p}${name}`),
        project: proj,
        attend,
        seqLen: T,
        cos,
        sin,
      });
    }
    this.filled += T;
    // Only the last row's logits are needed: the LM head is the largest product, skip it for the others.
    const H = s.hiddenSize;
    const last = new Tensor(h.data.slice((T - 1) * H, T * H), [1, H]);
    const normed = rmsnorm(ctx, last, param('model.norm.weight'), s.rmsNormEps);
    const head = param(s.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight');
    return linear(ctx, normed, head).data;
  }
}

/**
 * `T` query rows at positions start..start+T-1 against the cache (its first start+T positions), grouped-query
 * heads, written into `out` [T, heads * headDim]: per head, the scores as one GEMM, a causal softmax (row r
 * sees positions up to start + r), and the weighted values as another GEMM.
 */
function attendChunk(
  kernels: Kernels,
  q: Float32Array,
  keys: Float32Array,
  values: Float32Array,
  start: number,
  T: number,
  s: { numHeads: number; numKvHeads: number; headDim: number },
  out: Float32Array,
): void {
  const D = s.headDim;
  const group = s.numHeads / s.numKvHeads;
  const kvWidth = s.numKvHeads * D;
  const qWidth = s.numHeads * D;
  const L = start + T;
  const scores = new Float32Array(T * L);
  const scale = 1 / Math.sqrt(D);
  for (let h = 0; h < s.numHeads; h++) {
    const kv = Math.floor(h / group) * D;
    kernels.sgemm(
      false,
      true,
      T,
      L,
      D,
      scale,
      q.subarray(h * D),
      qWidth,
      keys.subarray(kv),
      kvWidth,
      0,
      scores,
      L,
    );
    for (let r = 0; r < T; r++) {
      const row = r * L;
      const seen = start + r + 1;
      let max = -Infinity;
      for (let t = 0; t < seen; t++) max = Math.max(max, scores[row + t] as number);
      let sum = 0;
      for (let t = 0; t < seen; t++) {
        const e = Math.exp((scores[row + t] as number) - max);
        scores[row + t] = e;
        sum += e;
      }
      for (let t = 0; t < seen; t++) scores[row + t] = (scores[row + t] as number) / sum;
      scores.fill(0, row + seen, row + L);
    }
    kernels.sgemm(
      false,
      false,
      T,
      D,
      L,
      1,
      scores,
      L,
      values.subarray(kv),
      kvWidth,
      0,
      out.subarray(h * D),
      qWidth,
    );
  }
}

/**
 * The next token: greedy at temperature 0, else softmax sampling at `temperature` within the top-p nucleus.
 * Ties in weight keep the lower id first; the order is built over typed arrays, which matters at 50k-token
 * vocabularies.
 */
export function pickToken(logits: Float32Array, temperature: number, topP: number, rng: Rng): number {
  if (temperature <= 0) {
    let best = 0;
    for (let v = 1; v < logits.length; v++) if ((logits[v] as number) > (logits[best] as number)) best = v;
    return best;
  }
  let max = -Infinity;
  for (const x of logits) max = Math.max(max, x);
  const weights = new Float64Array(logits.length);
  let total = 0;
  for (let v = 0; v < logits.length; v++) weights[v] = Math.exp(((logits[v] as number) - max) / temperature);
  for (let v = 0; v < weights.length; v++) total += weights[v] as number;
  const order = new Int32Array(logits.length);
  for (let v = 0; v < order.length; v++) order[v] = v;
  order.sort((a, b) => (weights[b] as number) - (weights[a] as number) || a - b);
  let kept = 0;
  let end = 0;
  while (end < order.length) {
    kept += weights[order[end] as number] as number;
    end++;
    if (kept >= topP * total) break;
  }
  let r = rng.next() * kept;
  for (let i = 0; i < end; i++) {
    const id = order[i] as number;
    r -= weights[id] as number;
    if (r <= 0) return id;
  }
  return order[end - 1] as number;
}

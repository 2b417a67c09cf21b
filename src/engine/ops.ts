import { tsElementwise } from './kernels/ts-kernels.js';
import type { ElementwiseKernels, Kernels } from './kernels/types.js';
import type { Arena } from './arena.js';
import { Tensor, type Tape } from './tensor.js';

/**
 * The ops a Llama decoder needs, each a plain forward plus a plain backward that accumulates into the
 * inputs' gradients. Activations are 2-D: rows are the B*T token positions, columns the features.
 */
export interface OpContext {
  kernels: Kernels;
  /** Present while training: ops record their backward here. */
  tape?: Tape;
  /** Reused memory for activations and their gradients (training steps); plain allocation without it. */
  arena?: Arena;
}

/** The element-wise kernels of `kernels`, or the TypeScript ones when it has none (e.g. a test double). */
function ew(kernels: Kernels): ElementwiseKernels {
  return kernels.swigluForward ? (kernels as ElementwiseKernels) : tsElementwise;
}

/** Whether a gradient has to flow into `t` (a parameter, or something computed from one). */
function tracks(t: Tensor): boolean {
  return t.requiresGrad || t.backwardFn !== undefined;
}

function output(ctx: OpContext, shape: number[], inputs: Tensor[]): { out: Tensor; record: boolean } {
  const record = ctx.tape !== undefined && inputs.some(tracks);
  // Every op writes all of its output, so the buffer need not be zeroed.
  const out = new Tensor(
    overwritten(
      ctx,
      shape.reduce((a, b) => a * b, 1),
    ),
    shape,
  );
  out.arena = ctx.arena;
  return { out, record };
}

/** A zeroed work buffer from the arena when there is one. */
function scratch(ctx: OpContext, size: number): Float32Array {
  return ctx.arena ? ctx.arena.take(size) : new Float32Array(size);
}

/** An arena that can also hand out buffers without zeroing them (contents unspecified). */
type UninitializedArena = Arena & { takeUninitialized?: (size: number) => Float32Array };

/**
 * A work buffer the caller overwrites completely before reading: not zeroed when the arena offers
 * `takeUninitialized`, else the same as `scratch`.
 */
function overwritten(ctx: OpContext, size: number): Float32Array {
  const arena = ctx.arena as UninitializedArena | undefined;
  return arena?.takeUninitialized ? arena.takeUninitialized(size) : scratch(ctx, size);
}

function rowsCols(t: Tensor, name: string): [number, number] {
  if (t.shape.length !== 2) throw new RangeError(`${name} must be 2-D, got [${t.shape.join(', ')}]`);
  return [t.shape[0] as number, t.shape[1] as number];
}

/** y[R,N] = x[R,K] · W[N,K]ᵀ (+ b[N]): torch's nn.Linear layout. */
export function linear(ctx: OpContext, x: Tensor, w: Tensor, b?: Tensor): Tensor {
  const [R, K] = rowsCols(x, 'linear input');
  const [N, K2] = rowsCols(w, 'linear weight');
  if (K !== K2) throw new RangeError(`linear: input has ${K} features, weight expects ${K2}`);
  const { out, record } = output(ctx, [R, N], b ? [x, w, b] : [x, w]);
  const y = out.data;
  ctx.kernels.sgemm(false, true, R, N, K, 1, x.data, K, w.data, K, 0, y, N);
  if (b)
    for (let r = 0; r < R; r++)
      for (let n = 0; n < N; n++) y[r * N + n] = (y[r * N + n] as number) + (b.data[n] as number);
  if (!record) return out;
  return (ctx.tape as Tape).record(out, () => {
    const dy = out.grad;
    if (!dy) return;
    if (tracks(x)) ctx.kernels.sgemm(false, false, R, K, N, 1, dy, N, w.data, K, 1, x.gradBuffer(), K);
    if (tracks(w)) ctx.kernels.sgemm(true, false, N, K, R, 1, dy, N, x.data, K, 1, w.gradBuffer(), K);
    if (b && tracks(b)) {
      const db = b.gradBuffer();
      for (let r = 0; r < R; r++)
        for (let n = 0; n < N; n++) db[n] = (db[n] as number) + (dy[r * N + n] as number);
    }
  });
}

/** y[r] = W[ids[r]]. */
export function embedding(ctx: OpContext, ids: Int32Array, w: Tensor): Tensor {
  const [V, H] = rowsCols(w, 'embedding weight');
  const R = ids.length;
  const { out, record } = output(ctx, [R, H], [w]);
  for (let r = 0; r < R; r++) {
    const id = ids[r] as number;
    if (id < 0 || id >= V) throw new RangeError(`token id ${id} is outside the vocabulary (size ${V})`);
    out.data.set(w.data.subarray(id * H, id * H + H), r * H);
  }
  if (!record) return out;
  return (ctx.tape as Tape).record(out, () => {
    const dy = out.grad;
    if (!dy) return;
    const dw = w.gradBuffer();
    for (let r = 0; r < R; r++) {
      const base = (ids[r] as number) * H;
      for (let h = 0; h < H; h++) dw[base + h] = (dw[base + h] as number) + (dy[r * H + h] as number);
    }
  });
}

/** y = x / sqrt(mean(x²) + eps) · g, per row. */
export function rmsnorm(ctx: OpContext, x: Tensor, g: Tensor, eps: number): Tensor {
  const [R, H] = rowsCols(x, 'rmsnorm input');
  if (g.size !== H) throw new RangeError(`rmsnorm: weight has ${g.size} values, rows have ${H}`);
  const { out, record } = output(ctx, [R, H], [x, g]);
  const rstd = new Float32Array(R);
  ew(ctx.kernels).rmsnormForward(x.data, g.data, out.data, rstd, R, H, eps);
  if (!record) return out;
  return (ctx.tape as Tape).record(out, () => {
    const dy = out.grad;
    if (!dy) return;
    const dx = tracks(x) ? x.gradBuffer() : null;
    const dg = tracks(g) ? g.gradBuffer() : null;
    if (dx || dg) ew(ctx.kernels).rmsnormBackward(x.data, g.data, rstd, dy, dx, dg, R, H);
  });
}

/**
 * Rotary position embedding in Hugging Face's rotate-half layout: within each head, feature i is paired
 * with feature i + headDim/2. `cos`/`sin` are [positions, headDim/2]; row r has position r mod seqLen.
 */
export function rope(
  ctx: OpContext,
  x: Tensor,
  heads: number,
  headDim: number,
  seqLen: number,
  cos: Float32Array,
  sin: Float32Array,
): Tensor {
  const [R, C] = rowsCols(x, 'rope input');
  if (C !== heads * headDim) throw new RangeError(`rope: ${C} features is not ${heads} heads × ${headDim}`);
  const { out, record } = output(ctx, [R, C], [x]);
  const k = ew(ctx.kernels);
  const rotate = (src: Float32Array, dst: Float32Array, direction: 1 | -1, accumulate: boolean) =>
    k.rope(src, dst, R, heads, headDim, seqLen, cos, sin, direction, accumulate);
  rotate(x.data, out.data, 1, false);
  if (!record) return out;
  return (ctx.tape as Tape).record(out, () => {
    // The rotation's transpose is the rotation by the opposite angle.
    if (out.grad && tracks(x)) rotate(out.grad, x.gradBuffer(), -1, true);
  });
}

/**
 * Causal softmax attention with grouped-query heads: q is [B*T, heads*hd], k and v are [B*T, kvHeads*hd];
 * query head h reads kv head floor(h / (heads / kvHeads)). Per (sequence, head) the scores and the
 * weighted sum are GEMMs on strided views, issued as one batch per product (`gemmBatch`: the native
 * kernels spread the heads over their threads); the softmax runs over all heads in one kernel call. The
 * probabilities (B·H·T² floats, the largest activation of a layer) are not kept: the backward pass
 * recomputes them, one batched GEMM and a softmax, a few percent of the layer's work.
 */
export function attention(
  ctx: OpContext,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  dims: { batch: number; seqLen: number; heads: number; kvHeads: number; headDim: number },
): Tensor {
  const { batch: B, seqLen: T, heads: H, kvHeads: KH, headDim: D } = dims;
  if (H % KH !== 0) throw new RangeError(`attention: ${H} heads is not a multiple of ${KH} kv heads`);
  const group = H / KH;
  const QC = H * D;
  const KC = KH * D;
  const scale = 1 / Math.sqrt(D);
  const { out, record } = output(ctx, [B * T, QC], [q, k, v]);
  // One entry per (sequence, head), b-major, so the heads sharing a kv head are adjacent (sgemmBatch).
  const n = B * H;
  const offQ = new Int32Array(n);
  const offKV = new Int32Array(n);
  const offP = new Int32Array(n);
  for (let b = 0, i = 0; b < B; b++) {
    for (let h = 0; h < H; h++, i++) {
      offQ[i] = b * T * QC + h * D;
      offKV[i] = b * T * KC + Math.floor(h / group) * D;
      offP[i] = i * T * T;
    }
  }
  const kernels = ctx.kernels;
  // S = scale · Q Kᵀ per head, the causal softmax in place (every block: GEMM with beta 0, then the masked
  // softmax, so the buffer need not be zeroed).
  const probabilities = (): Float32Array => {
    const probs = overwritten(ctx, n * T * T);
    gemmBatch(kernels, false, true, T, T, D, scale, q.data, QC, offQ, k.data, KC, offKV, 0, probs, T, offP);
    ew(kernels).causalSoftmax(probs, n, T);
    return probs;
  };
  const probs = probabilities();
  // O = P V.
  gemmBatch(kernels, false, false, T, D, T, 1, probs, T, offP, v.data, KC, offKV, 0, out.data, QC, offQ);
  ctx.arena?.release(probs);
  if (!record) return out;
  return (ctx.tape as Tape).record(out, () => {
    const dout = out.grad;
    if (!dout) return;
    const dq = tracks(q) ? q.gradBuffer() : undefined;
    const dk = tracks(k) ? k.gradBuffer() : undefined;
    const dv = tracks(v) ? v.gradBuffer() : undefined;
    const P = probabilities();
    if (dv) gemmBatch(kernels, true, false, T, D, T, 1, P, T, offP, dout, QC, offQ, 1, dv, KC, offKV);
    if (dq || dk) {
      // dP = dO · Vᵀ, then the softmax backward in place: dS = P ⊙ (dP − Σ P ⊙ dP) · scale.
      const dS = overwritten(ctx, n * T * T);
      gemmBatch(kernels, false, true, T, T, D, 1, dout, QC, offQ, v.data, KC, offKV, 0, dS, T, offP);
      ew(kernels).causalSoftmaxBackward(P, dS, n, T, scale);
      if (dq) gemmBatch(kernels, false, false, T, D, T, 1, dS, T, offP, k.data, KC, offKV, 1, dq, QC, offQ);
      if (dk) gemmBatch(kernels, true, false, T, D, T, 1, dS, T, offP, q.data, QC, offQ, 1, dk, KC, offKV);
      ctx.arena?.release(dS);
    }
    ctx.arena?.release(P);
  });
}

/** kernels.sgemmBatch when there is one, else one sgemm per entry on subarray views. */
function gemmBatch(
  kernels: Kernels,
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array,
  lda: number,
  offA: Int32Array,
  B: Float32Array,
  ldb: number,
  offB: Int32Array,
  beta: number,
  C: Float32Array,
  ldc: number,
  offC: Int32Array,
): void {
  if (kernels.sgemmBatch && M > 0 && N > 0 && K > 0 && alpha !== 0) {
    kernels.sgemmBatch(transA, transB, M, N, K, alpha, A, lda, offA, B, ldb, offB, beta, C, ldc, offC);
    return;
  }
  for (let i = 0; i < offA.length; i++) {
    kernels.sgemm(
      transA,
      transB,
      M,
      N,
      K,
      alpha,
      A.subarray(offA[i] as number),
      lda,
      B.subarray(offB[i] as number),
      ldb,
      beta,
      C.subarray(offC[i] as number),
      ldc,
    );
  }
}

/** y = silu(gate) · up (the SwiGLU of Llama's MLP). Hot loops read typed arrays through locals. */
export function swiglu(ctx: OpContext, gate: Tensor, up: Tensor): Tensor {
  if (gate.size !== up.size) throw new RangeError('swiglu: gate and up differ in size');
  const { out, record } = output(ctx, [...gate.shape], [gate, up]);
  ew(ctx.kernels).swigluForward(gate.data, up.data, out.data);
  if (!record) return out;
  return (ctx.tape as Tape).record(out, () => {
    const dy = out.grad;
    if (!dy) return;
    const dg = tracks(gate) ? gate.gradBuffer() : null;
    const du = tracks(up) ? up.gradBuffer() : null;
    if (dg || du) ew(ctx.kernels).swigluBackward(gate.data, up.data, dy, dg, du);
  });
}

/** y = a + b (the residual stream). */
export function add(ctx: OpContext, a: Tensor, b: Tensor): Tensor {
  if (a.size !== b.size) throw new RangeError('add: shapes differ');
  const { out, record } = output(ctx, [...a.shape], [a, b]);
  ew(ctx.kernels).add(a.data, b.data, out.data);
  if (!record) return out;
  return (ctx.tape as Tape).record(out, () => {
    const dy = out.grad;
    if (!dy) return;
    for (const t of [a, b]) if (tracks(t)) ew(ctx.kernels).axpy(t.gradBuffer(), dy, 1);
  });
}

/** Targets equal to IGNORE_INDEX do not count (padding, prompt tokens): torch's convention. */
export const IGNORE_INDEX = -100;

/**
 * Mean cross-entropy of logits [R,V] against target ids, over the rows whose target is not ignored. The
 * softmax of each counted row is kept (arena memory) so the backward pass needs no second exp.
 */
export function crossEntropy(ctx: OpContext, logits: Tensor, targets: Int32Array): Tensor {
  const [R, V] = rowsCols(logits, 'cross-entropy logits');
  if (targets.length !== R) throw new RangeError(`cross-entropy: ${targets.length} targets for ${R} rows`);
  const { out, record } = output(ctx, [1], [logits]);
  const ld = logits.data;
  // Only the counted rows are written, and only they are read back.
  const probs = record ? overwritten(ctx, R * V) : undefined;
  let count = 0;
  for (let r = 0; r < R; r++) {
    const target = targets[r] as number;
    if (target === IGNORE_INDEX) continue;
    if (target < 0 || target >= V)
      throw new RangeError(`target id ${target} is outside the vocabulary (size ${V})`);
    count++;
  }
  const total = ew(ctx.kernels).crossEntropyForward(ld, targets, probs ?? null, R, V, IGNORE_INDEX);
  out.data[0] = count > 0 ? total / count : 0;
  if (!record || count === 0 || !probs) return out;
  return (ctx.tape as Tape).record(out, () => {
    const g = (out.grad?.[0] ?? 0) / count;
    ew(ctx.kernels).crossEntropyBackward(probs, targets, logits.gradBuffer(), R, V, g, IGNORE_INDEX);
    ctx.arena?.release(probs);
  });
}

/** y = c · x. */
export function scale(ctx: OpContext, x: Tensor, c: number): Tensor {
  const { out, record } = output(ctx, [...x.shape], [x]);
  const xd = x.data;
  const od = out.data;
  for (let i = 0; i < xd.length; i++) od[i] = (xd[i] as number) * c;
  if (!record) return out;
  return (ctx.tape as Tape).record(out, () => {
    const dy = out.grad;
    if (!dy || !tracks(x)) return;
    const dx = x.gradBuffer();
    for (let i = 0; i < dx.length; i++) dx[i] = (dx[i] as number) + (dy[i] as number) * c;
  });
}

/** Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1-p). */
export function dropout(ctx: OpContext, x: Tensor, p: number, random: () => number): Tensor {
  if (p <= 0) return x;
  const keep = new Uint8Array(x.size);
  const { out, record } = output(ctx, [...x.shape], [x]);
  const factor = 1 / (1 - p);
  for (let i = 0; i < x.size; i++) {
    keep[i] = random() >= p ? 1 : 0;
    out.data[i] = keep[i] ? (x.data[i] as number) * factor : 0;
  }
  if (!record) return out;
  return (ctx.tape as Tape).record(out, () => {
    const dy = out.grad;
    if (!dy || !tracks(x)) return;
    const dx = x.gradBuffer();
    for (let i = 0; i < dx.length; i++) if (keep[i]) dx[i] = (dx[i] as number) + (dy[i] as number) * factor;
  });
}

/**
 * The LM head and the cross-entropy in one op: logits = h · Wᵀ are formed `chunkRows` rows at a time and
 * never kept, so memory is chunkRows × vocab instead of rows × vocab (three such arrays with the gradient);
 * the backward pass recomputes each chunk's logits (one GEMM more) and feeds dh and dW directly.
 */
export function linearCrossEntropy(
  ctx: OpContext,
  h: Tensor,
  w: Tensor,
  targets: Int32Array,
  chunkRows = 256,
): Tensor {
  const [R, H] = rowsCols(h, 'LM-head input');
  const [V, H2] = rowsCols(w, 'LM-head weight');
  if (H !== H2) throw new RangeError(`LM head: input has ${H} features, weight expects ${H2}`);
  if (targets.length !== R) throw new RangeError(`cross-entropy: ${targets.length} targets for ${R} rows`);
  let count = 0;
  for (let r = 0; r < R; r++) {
    const target = targets[r] as number;
    if (target === IGNORE_INDEX) continue;
    if (target < 0 || target >= V)
      throw new RangeError(`target id ${target} is outside the vocabulary (size ${V})`);
    count++;
  }
  const { out, record } = output(ctx, [1], [h, w]);
  const rows = Math.max(1, Math.min(R, chunkRows));
  const logits = overwritten(ctx, rows * V);
  const kernels = ctx.kernels;
  let total = 0;
  for (let r0 = 0; r0 < R; r0 += rows) {
    const n = Math.min(rows, R - r0);
    kernels.sgemm(false, true, n, V, H, 1, h.data.subarray(r0 * H), H, w.data, H, 0, logits, V);
    total += ew(kernels).crossEntropyForward(logits, targets.subarray(r0, r0 + n), null, n, V, IGNORE_INDEX);
  }
  out.data[0] = count > 0 ? total / count : 0;
  if (!record || count === 0) {
    ctx.arena?.release(logits);
    return out;
  }
  return (ctx.tape as Tape).record(out, () => {
    const g = (out.grad?.[0] ?? 0) / count;
    const probs = overwritten(ctx, rows * V);
    const dlogits = overwritten(ctx, rows * V);
    const dh = tracks(h) ? h.gradBuffer() : undefined;
    const dw = tracks(w) ? w.gradBuffer() : undefined;
    for (let r0 = 0; r0 < R; r0 += rows) {
      const n = Math.min(rows, R - r0);
      const t = targets.subarray(r0, r0 + n);
      kernels.sgemm(false, true, n, V, H, 1, h.data.subarray(r0 * H), H, w.data, H, 0, logits, V);
      ew(kernels).crossEntropyForward(logits, t, probs, n, V, IGNORE_INDEX);
      dlogits.fill(0, 0, n * V);
      ew(kernels).crossEntropyBackward(probs, t, dlogits, n, V, g, IGNORE_INDEX);
      if (dh) kernels.sgemm(false, false, n, H, V, 1, dlogits, V, w.data, H, 1, dh.subarray(r0 * H), H);
      if (dw) kernels.sgemm(true, false, V, H, n, 1, dlogits, V, h.data.subarray(r0 * H), H, 1, dw, H);
    }
    for (const buffer of [logits, probs, dlogits]) ctx.arena?.release(buffer);
  });
}

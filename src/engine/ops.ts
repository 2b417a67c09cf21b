import type { Kernels } from './kernels/types.js';
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

/** Whether a gradient has to flow into `t` (a parameter, or something computed from one). */
function tracks(t: Tensor): boolean {
  return t.requiresGrad || t.backwardFn !== undefined;
}

function output(ctx: OpContext, shape: number[], inputs: Tensor[]): { out: Tensor; record: boolean } {
  const record = ctx.tape !== undefined && inputs.some(tracks);
  const out = new Tensor(
    scratch(
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
  for (let r = 0; r < R; r++) {
    let ss = 0;
    for (let h = 0; h < H; h++) ss += (x.data[r * H + h] as number) ** 2;
    const s = 1 / Math.sqrt(ss / H + eps);
    rstd[r] = s;
    for (let h = 0; h < H; h++)
      out.data[r * H + h] = (x.data[r * H + h] as number) * s * (g.data[h] as number);
  }
  if (!record) return out;
  return (ctx.tape as Tape).record(out, () => {
    const dy = out.grad;
    if (!dy) return;
    const dx = tracks(x) ? x.gradBuffer() : undefined;
    const dg = tracks(g) ? g.gradBuffer() : undefined;
    for (let r = 0; r < R; r++) {
      const s = rstd[r] as number;
      let dot = 0; // Σ dxhat · xhat
      for (let h = 0; h < H; h++) {
        const xhat = (x.data[r * H + h] as number) * s;
        const dxhat = (dy[r * H + h] as number) * (g.data[h] as number);
        dot += dxhat * xhat;
        if (dg) dg[h] = (dg[h] as number) + (dy[r * H + h] as number) * xhat;
      }
      if (!dx) continue;
      const mean = dot / H;
      for (let h = 0; h < H; h++) {
        const xhat = (x.data[r * H + h] as number) * s;
        const dxhat = (dy[r * H + h] as number) * (g.data[h] as number);
        dx[r * H + h] = (dx[r * H + h] as number) + s * (dxhat - xhat * mean);
      }
    }
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
  const half = headDim / 2;
  const { out, record } = output(ctx, [R, C], [x]);
  const rotate = (src: Float32Array, dst: Float32Array, direction: 1 | -1, accumulate: boolean) => {
    for (let r = 0; r < R; r++) {
      const p = (r % seqLen) * half;
      for (let h = 0; h < heads; h++) {
        const base = r * C + h * headDim;
        for (let i = 0; i < half; i++) {
          const c = cos[p + i] as number;
          const s = (sin[p + i] as number) * direction;
          const a = src[base + i] as number;
          const b = src[base + i + half] as number;
          const ya = a * c - b * s;
          const yb = b * c + a * s;
          if (accumulate) {
            dst[base + i] = (dst[base + i] as number) + ya;
            dst[base + i + half] = (dst[base + i + half] as number) + yb;
          } else {
            dst[base + i] = ya;
            dst[base + i + half] = yb;
          }
        }
      }
    }
  };
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
 * weighted sum are two GEMMs on strided views (so they run in BLAS natively); the probabilities are kept
 * for the backward pass.
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
  const gemm = ctx.kernels.sgemm.bind(ctx.kernels);
  const { out, record } = output(ctx, [B * T, QC], [q, k, v]);
  const probs = scratch(ctx, B * H * T * T);
  const view = (t: Float32Array, b: number, cols: number, head: number) =>
    t.subarray(b * T * cols + head * D);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kh = Math.floor(h / group);
      const P = probs.subarray((b * H + h) * T * T, (b * H + h + 1) * T * T);
      gemm(false, true, T, T, D, scale, view(q.data, b, QC, h), QC, view(k.data, b, KC, kh), KC, 0, P, T);
      for (let t = 0; t < T; t++) {
        const row = t * T;
        let max = -Infinity;
        for (let s = 0; s <= t; s++) max = Math.max(max, P[row + s] as number);
        let sum = 0;
        for (let s = 0; s <= t; s++) {
          const e = Math.exp((P[row + s] as number) - max);
          P[row + s] = e;
          sum += e;
        }
        const inv = 1 / sum;
        for (let s = 0; s <= t; s++) P[row + s] = (P[row + s] as number) * inv;
        P.fill(0, row + t + 1, row + T); // causal mask
      }
      gemm(false, false, T, D, T, 1, P, T, view(v.data, b, KC, kh), KC, 0, view(out.data, b, QC, h), QC);
    }
  }
  if (!record) return out;
  return (ctx.tape as Tape).record(out, () => {
    const dout = out.grad;
    if (!dout) return;
    const dq = tracks(q) ? q.gradBuffer() : undefined;
    const dk = tracks(k) ? k.gradBuffer() : undefined;
    const dv = tracks(v) ? v.gradBuffer() : undefined;
    const dS = scratch(ctx, T * T);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const kh = Math.floor(h / group);
        const P = probs.subarray((b * H + h) * T * T, (b * H + h + 1) * T * T);
        const dO = view(dout, b, QC, h);
        if (dv) gemm(true, false, T, D, T, 1, P, T, dO, QC, 1, view(dv, b, KC, kh), KC);
        if (!dq && !dk) continue;
        // dP = dO · Vᵀ, then the softmax backward: dS = P ⊙ (dP − Σ P ⊙ dP) · scale.
        gemm(false, true, T, T, D, 1, dO, QC, view(v.data, b, KC, kh), KC, 0, dS, T);
        for (let t = 0; t < T; t++) {
          const row = t * T;
          let weighted = 0;
          for (let s = 0; s <= t; s++) weighted += (P[row + s] as number) * (dS[row + s] as number);
          for (let s = 0; s <= t; s++)
            dS[row + s] = (P[row + s] as number) * ((dS[row + s] as number) - weighted) * scale;
          dS.fill(0, row + t + 1, row + T);
        }
        if (dq) gemm(false, false, T, D, T, 1, dS, T, view(k.data, b, KC, kh), KC, 1, view(dq, b, QC, h), QC);
        if (dk) gemm(true, false, T, D, T, 1, dS, T, view(q.data, b, QC, h), QC, 1, view(dk, b, KC, kh), KC);
      }
    }
  });
}

/** y = silu(gate) · up (the SwiGLU of Llama's MLP). Hot loops read typed arrays through locals. */
export function swiglu(ctx: OpContext, gate: Tensor, up: Tensor): Tensor {
  if (gate.size !== up.size) throw new RangeError('swiglu: gate and up differ in size');
  const { out, record } = output(ctx, [...gate.shape], [gate, up]);
  const n = gate.size;
  const gd = gate.data;
  const ud = up.data;
  const od = out.data;
  for (let i = 0; i < n; i++) {
    const x = gd[i] as number;
    od[i] = (x / (1 + Math.exp(-x))) * (ud[i] as number);
  }
  if (!record) return out;
  return (ctx.tape as Tape).record(out, () => {
    const dy = out.grad;
    if (!dy) return;
    const dg = tracks(gate) ? gate.gradBuffer() : undefined;
    const du = tracks(up) ? up.gradBuffer() : undefined;
    for (let i = 0; i < n; i++) {
      const x = gd[i] as number;
      const sig = 1 / (1 + Math.exp(-x));
      const g = dy[i] as number;
      if (du) du[i] = (du[i] as number) + g * x * sig;
      if (dg) dg[i] = (dg[i] as number) + g * (ud[i] as number) * sig * (1 + x * (1 - sig));
    }
  });
}

/** y = a + b (the residual stream). */
export function add(ctx: OpContext, a: Tensor, b: Tensor): Tensor {
  if (a.size !== b.size) throw new RangeError('add: shapes differ');
  const { out, record } = output(ctx, [...a.shape], [a, b]);
  const n = a.size;
  const ad = a.data;
  const bd = b.data;
  const od = out.data;
  for (let i = 0; i < n; i++) od[i] = (ad[i] as number) + (bd[i] as number);
  if (!record) return out;
  return (ctx.tape as Tape).record(out, () => {
    const dy = out.grad;
    if (!dy) return;
    for (const t of [a, b]) {
      if (!tracks(t)) continue;
      const d = t.gradBuffer();
      for (let i = 0; i < n; i++) d[i] = (d[i] as number) + (dy[i] as number);
    }
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
  const probs = record ? scratch(ctx, R * V) : undefined;
  let total = 0;
  let count = 0;
  for (let r = 0; r < R; r++) {
    const target = targets[r] as number;
    if (target === IGNORE_INDEX) continue;
    if (target < 0 || target >= V)
      throw new RangeError(`target id ${target} is outside the vocabulary (size ${V})`);
    const base = r * V;
    let max = -Infinity;
    for (let c = 0; c < V; c++) max = Math.max(max, ld[base + c] as number);
    let sum = 0;
    for (let c = 0; c < V; c++) {
      const e = Math.exp((ld[base + c] as number) - max);
      if (probs) probs[base + c] = e;
      sum += e;
    }
    if (probs) {
      const inv = 1 / sum;
      for (let c = 0; c < V; c++) probs[base + c] = (probs[base + c] as number) * inv;
    }
    total += max + Math.log(sum) - (ld[base + target] as number);
    count++;
  }
  out.data[0] = count > 0 ? total / count : 0;
  if (!record || count === 0 || !probs) return out;
  return (ctx.tape as Tape).record(out, () => {
    const g = (out.grad?.[0] ?? 0) / count;
    const dl = logits.gradBuffer();
    for (let r = 0; r < R; r++) {
      const target = targets[r] as number;
      if (target === IGNORE_INDEX) continue;
      const base = r * V;
      for (let c = 0; c < V; c++) dl[base + c] = (dl[base + c] as number) + g * (probs[base + c] as number);
      dl[base + target] = (dl[base + target] as number) - g;
    }
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

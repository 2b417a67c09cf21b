/**
 * Kernels without the native addon: always available, single-threaded. The GEMM and the
 * element-wise kernels run on WebAssembly SIMD (wasm-gemm.ts, wasm-elementwise.ts) where the runtime has it;
 * the TypeScript loops here are their fallbacks. The TypeScript sgemm packs blocks of op(A)
 * and op(B) into contiguous Float64 panels (which also absorbs the transposes and leading dimensions), then
 * runs a 4×4 register-tiled micro-kernel over them, GotoBLAS style. Scratch panels are allocated once per
 * process.
 */
import { checkAdamw, checkLength, checkSgemm, checkTargets } from './check.js';
import type { ElementwiseKernels, Kernels } from './types.js';
import { createWasmElementwise } from './wasm-elementwise.js';
import { createWasmSgemm } from './wasm-gemm.js';

const MR = 4; // rows of op(A) per micro-tile
const NR = 4; // columns of op(B) per micro-tile
const KC = 256; // depth of a packed block
const MC = 64; // rows of op(A) per packed block (multiple of MR)
const NC = 1024; // columns of op(B) per packed block (multiple of NR)

let packA: Float64Array | undefined;
let packB: Float64Array | undefined;
const edgeTile = new Float64Array(MR * NR);

/** C[0..M, 0..N] *= beta, with BLAS semantics for beta = 0 (overwrite, so NaN/Inf in C do not propagate). */
function scaleC(M: number, N: number, beta: number, C: Float32Array, ldc: number): void {
  if (beta === 1) return;
  for (let i = 0; i < M; i++) {
    const row = i * ldc;
    if (beta === 0) C.fill(0, row, row + N);
    else for (let j = row, end = row + N; j < end; j++) C[j] = beta * C[j]!;
  }
}

/** Packs op(A)[i0..i0+mc, p0..p0+kc] as MR-row panels, each stored k-major (kc × MR), zero-padded. */
function packBlockA(
  transA: boolean,
  A: Float32Array,
  lda: number,
  i0: number,
  mc: number,
  p0: number,
  kc: number,
  dst: Float64Array,
): void {
  for (let ip = 0; ip < mc; ip += MR) {
    const base = ip * kc; // panel (ip / MR) starts at (ip / MR) * kc * MR
    const rows = Math.min(MR, mc - ip);
    for (let r = 0; r < MR; r++) {
      let d = base + r;
      if (r >= rows) {
        for (let p = 0; p < kc; p++, d += MR) dst[d] = 0;
      } else if (transA) {
        // op(A)(i, k) = A[k * lda + i]
        let s = p0 * lda + i0 + ip + r;
        for (let p = 0; p < kc; p++, d += MR, s += lda) dst[d] = A[s]!;
      } else {
        let s = (i0 + ip + r) * lda + p0;
        for (let p = 0; p < kc; p++, d += MR, s++) dst[d] = A[s]!;
      }
    }
  }
}

/** Packs op(B)[p0..p0+kc, j0..j0+nc] as NR-column panels, each stored k-major (kc × NR), zero-padded. */
function packBlockB(
  transB: boolean,
  B: Float32Array,
  ldb: number,
  p0: number,
  kc: number,
  j0: number,
  nc: number,
  dst: Float64Array,
): void {
  for (let jp = 0; jp < nc; jp += NR) {
    const base = jp * kc;
    const cols = Math.min(NR, nc - jp);
    if (!transB && cols === NR) {
      let s = p0 * ldb + j0 + jp;
      for (let p = 0, d = base; p < kc; p++, d += NR, s += ldb) {
        dst[d] = B[s]!;
        dst[d + 1] = B[s + 1]!;
        dst[d + 2] = B[s + 2]!;
        dst[d + 3] = B[s + 3]!;
      }
      continue;
    }
    for (let c = 0; c < NR; c++) {
      let d = base + c;
      if (c >= cols) {
        for (let p = 0; p < kc; p++, d += NR) dst[d] = 0;
      } else if (transB) {
        // op(B)(k, j) = B[j * ldb + k]
        let s = (j0 + jp + c) * ldb + p0;
        for (let p = 0; p < kc; p++, d += NR, s++) dst[d] = B[s]!;
      } else {
        let s = p0 * ldb + j0 + jp + c;
        for (let p = 0; p < kc; p++, d += NR, s += ldb) dst[d] = B[s]!;
      }
    }
  }
}

/** C[i0.., j0..] += alpha * packedA-block · packedB-block, 4×4 tiles. */
function macroKernel(
  mc: number,
  nc: number,
  kc: number,
  alpha: number,
  pa: Float64Array,
  pb: Float64Array,
  C: Float32Array,
  ldc: number,
  i0: number,
  j0: number,
): void {
  for (let jp = 0; jp < nc; jp += NR) {
    const bBase = jp * kc;
    const cols = Math.min(NR, nc - jp);
    for (let ip = 0; ip < mc; ip += MR) {
      const aBase = ip * kc;
      const rows = Math.min(MR, mc - ip);
      let c00 = 0,
        c01 = 0,
        c02 = 0,
        c03 = 0;
      let c10 = 0,
        c11 = 0,
        c12 = 0,
        c13 = 0;
      let c20 = 0,
        c21 = 0,
        c22 = 0,
        c23 = 0;
      let c30 = 0,
        c31 = 0,
        c32 = 0,
        c33 = 0;
      for (let p = 0, a = aBase, b = bBase; p < kc; p++, a += MR, b += NR) {
        const a0 = pa[a]!,
          a1 = pa[a + 1]!,
          a2 = pa[a + 2]!,
          a3 = pa[a + 3]!;
        const b0 = pb[b]!,
          b1 = pb[b + 1]!,
          b2 = pb[b + 2]!,
          b3 = pb[b + 3]!;
        c00 += a0 * b0;
        c01 += a0 * b1;
        c02 += a0 * b2;
        c03 += a0 * b3;
        c10 += a1 * b0;
        c11 += a1 * b1;
        c12 += a1 * b2;
        c13 += a1 * b3;
        c20 += a2 * b0;
        c21 += a2 * b1;
        c22 += a2 * b2;
        c23 += a2 * b3;
        c30 += a3 * b0;
        c31 += a3 * b1;
        c32 += a3 * b2;
        c33 += a3 * b3;
      }
      const c = (i0 + ip) * ldc + j0 + jp;
      if (rows === MR && cols === NR) {
        C[c] = C[c]! + alpha * c00;
        C[c + 1] = C[c + 1]! + alpha * c01;
        C[c + 2] = C[c + 2]! + alpha * c02;
        C[c + 3] = C[c + 3]! + alpha * c03;
        const c1 = c + ldc;
        C[c1] = C[c1]! + alpha * c10;
        C[c1 + 1] = C[c1 + 1]! + alpha * c11;
        C[c1 + 2] = C[c1 + 2]! + alpha * c12;
        C[c1 + 3] = C[c1 + 3]! + alpha * c13;
        const c2 = c1 + ldc;
        C[c2] = C[c2]! + alpha * c20;
        C[c2 + 1] = C[c2 + 1]! + alpha * c21;
        C[c2 + 2] = C[c2 + 2]! + alpha * c22;
        C[c2 + 3] = C[c2 + 3]! + alpha * c23;
        const c3 = c2 + ldc;
        C[c3] = C[c3]! + alpha * c30;
        C[c3 + 1] = C[c3 + 1]! + alpha * c31;
        C[c3 + 2] = C[c3 + 2]! + alpha * c32;
        C[c3 + 3] = C[c3 + 3]! + alpha * c33;
      } else {
        const t = edgeTile;
        t[0] = c00;
        t[1] = c01;
        t[2] = c02;
        t[3] = c03;
        t[4] = c10;
        t[5] = c11;
        t[6] = c12;
        t[7] = c13;
        t[8] = c20;
        t[9] = c21;
        t[10] = c22;
        t[11] = c23;
        t[12] = c30;
        t[13] = c31;
        t[14] = c32;
        t[15] = c33;
        for (let r = 0; r < rows; r++) {
          for (let q = 0; q < cols; q++) {
            const idx = c + r * ldc + q;
            C[idx] = C[idx]! + alpha * t[r * NR + q]!;
          }
        }
      }
    }
  }
}

/** Up to this many rows of C, products skip the packing (it would touch all of B to use it a few times). */
const SKINNY_ROWS = 4;

/**
 * C += alpha·op(A)·op(B) for a few rows (token-by-token decoding is one row): straight dot products or row
 * updates over B as it is stored, accumulated in double like the packed path.
 */
function skinnyGemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array,
  lda: number,
  B: Float32Array,
  ldb: number,
  C: Float32Array,
  ldc: number,
): void {
  const a = new Float64Array(K);
  const acc = new Float64Array(N);
  for (let i = 0; i < M; i++) {
    for (let k = 0; k < K; k++) a[k] = (transA ? A[k * lda + i] : A[i * lda + k]) as number;
    if (transB) {
      // B is [N, K]: output n is the dot product of this row with B's row n.
      for (let n = 0; n < N; n++) {
        const row = n * ldb;
        let sum = 0;
        for (let k = 0; k < K; k++) sum += (a[k] as number) * (B[row + k] as number);
        acc[n] = sum;
      }
    } else {
      // B is [K, N]: add a[k] times B's row k.
      acc.fill(0);
      for (let k = 0; k < K; k++) {
        const ak = a[k] as number;
        if (ak === 0) continue;
        const row = k * ldb;
        for (let n = 0; n < N; n++) acc[n] = (acc[n] as number) + ak * (B[row + n] as number);
      }
    }
    const c = i * ldc;
    for (let n = 0; n < N; n++) C[c + n] = (C[c + n] as number) + alpha * (acc[n] as number);
  }
}

function sgemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array,
  lda: number,
  B: Float32Array,
  ldb: number,
  beta: number,
  C: Float32Array,
  ldc: number,
): void {
  checkSgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, C, ldc);
  if (M === 0 || N === 0) return;
  scaleC(M, N, beta, C, ldc);
  if (K === 0 || alpha === 0) return;
  if (M <= SKINNY_ROWS) {
    skinnyGemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, C, ldc);
    return;
  }
  const pa = (packA ??= new Float64Array(MC * KC));
  const pb = (packB ??= new Float64Array(KC * NC));
  for (let j0 = 0; j0 < N; j0 += NC) {
    const nc = Math.min(NC, N - j0);
    for (let p0 = 0; p0 < K; p0 += KC) {
      const kc = Math.min(KC, K - p0);
      packBlockB(transB, B, ldb, p0, kc, j0, nc, pb);
      for (let i0 = 0; i0 < M; i0 += MC) {
        const mc = Math.min(MC, M - i0);
        packBlockA(transA, A, lda, i0, mc, p0, kc, pa);
        macroKernel(mc, nc, kc, alpha, pa, pb, C, ldc, i0, j0);
      }
    }
  }
}

function adamw(
  param: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  lr: number,
  beta1: number,
  beta2: number,
  eps: number,
  weightDecay: number,
  step: number,
): void {
  checkAdamw(param, grad, m, v, step);
  const decay = 1 - lr * weightDecay;
  const ob1 = 1 - beta1;
  const ob2 = 1 - beta2;
  const stepSize = lr / (1 - Math.pow(beta1, step));
  const invBc2Sqrt = 1 / Math.sqrt(1 - Math.pow(beta2, step));
  for (let i = 0, n = param.length; i < n; i++) {
    const g = grad[i]!;
    const mi = beta1 * m[i]! + ob1 * g;
    const vi = beta2 * v[i]! + ob2 * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = param[i]! * decay - (stepSize * mi) / (Math.sqrt(vi) * invBc2Sqrt + eps);
  }
}

// ---- Element-wise kernels of the training ops (types.ts ElementwiseKernels). ----

function swigluForward(gate: Float32Array, up: Float32Array, out: Float32Array): void {
  const n = gate.length;
  checkLength('swigluForward', 'up', up, n);
  checkLength('swigluForward', 'out', out, n);
  for (let i = 0; i < n; i++) {
    const x = gate[i]!;
    out[i] = (x / (1 + Math.exp(-x))) * up[i]!;
  }
}

function swigluBackward(
  gate: Float32Array,
  up: Float32Array,
  dy: Float32Array,
  dgate: Float32Array | null,
  dup: Float32Array | null,
): void {
  const n = gate.length;
  checkLength('swigluBackward', 'up', up, n);
  checkLength('swigluBackward', 'dy', dy, n);
  checkLength('swigluBackward', 'dgate', dgate, n);
  checkLength('swigluBackward', 'dup', dup, n);
  if (dgate && dup) {
    for (let i = 0; i < n; i++) {
      const x = gate[i]!;
      const sig = 1 / (1 + Math.exp(-x));
      const g = dy[i]!;
      dup[i] = dup[i]! + g * x * sig;
      dgate[i] = dgate[i]! + g * up[i]! * sig * (1 + x * (1 - sig));
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const x = gate[i]!;
    const sig = 1 / (1 + Math.exp(-x));
    const g = dy[i]!;
    if (dup) dup[i] = dup[i]! + g * x * sig;
    if (dgate) dgate[i] = dgate[i]! + g * up[i]! * sig * (1 + x * (1 - sig));
  }
}

function rmsnormForward(
  x: Float32Array,
  g: Float32Array,
  out: Float32Array,
  rstd: Float32Array,
  rows: number,
  cols: number,
  eps: number,
): void {
  checkLength('rmsnormForward', 'x', x, rows * cols);
  checkLength('rmsnormForward', 'out', out, rows * cols);
  checkLength('rmsnormForward', 'g', g, cols);
  checkLength('rmsnormForward', 'rstd', rstd, rows);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let ss = 0;
    for (let h = 0; h < cols; h++) ss += x[base + h]! ** 2;
    const s = 1 / Math.sqrt(ss / cols + eps);
    rstd[r] = s;
    for (let h = 0; h < cols; h++) out[base + h] = x[base + h]! * s * g[h]!;
  }
}

function rmsnormBackward(
  x: Float32Array,
  g: Float32Array,
  rstd: Float32Array,
  dy: Float32Array,
  dx: Float32Array | null,
  dg: Float32Array | null,
  rows: number,
  cols: number,
): void {
  checkLength('rmsnormBackward', 'x', x, rows * cols);
  checkLength('rmsnormBackward', 'dy', dy, rows * cols);
  checkLength('rmsnormBackward', 'dx', dx, rows * cols);
  checkLength('rmsnormBackward', 'g', g, cols);
  checkLength('rmsnormBackward', 'dg', dg, cols);
  checkLength('rmsnormBackward', 'rstd', rstd, rows);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const s = rstd[r]!;
    let dot = 0; // Σ dxhat · xhat
    for (let h = 0; h < cols; h++) {
      const xhat = x[base + h]! * s;
      const dxhat = dy[base + h]! * g[h]!;
      dot += dxhat * xhat;
      if (dg) dg[h] = dg[h]! + dy[base + h]! * xhat;
    }
    if (!dx) continue;
    const mean = dot / cols;
    for (let h = 0; h < cols; h++) {
      const xhat = x[base + h]! * s;
      const dxhat = dy[base + h]! * g[h]!;
      dx[base + h] = dx[base + h]! + s * (dxhat - xhat * mean);
    }
  }
}

function crossEntropyForward(
  logits: Float32Array,
  targets: Int32Array,
  probs: Float32Array | null,
  rows: number,
  vocab: number,
  ignoreIndex: number,
): number {
  checkLength('crossEntropyForward', 'logits', logits, rows * vocab);
  checkLength('crossEntropyForward', 'probs', probs, rows * vocab);
  checkTargets('crossEntropyForward', targets, rows, vocab, ignoreIndex);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const target = targets[r]!;
    if (target === ignoreIndex) continue;
    const base = r * vocab;
    let max = -Infinity;
    for (let c = 0; c < vocab; c++) max = Math.max(max, logits[base + c]!);
    let sum = 0;
    if (probs) {
      for (let c = 0; c < vocab; c++) {
        const e = Math.exp(logits[base + c]! - max);
        probs[base + c] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let c = 0; c < vocab; c++) probs[base + c] = probs[base + c]! * inv;
    } else {
      for (let c = 0; c < vocab; c++) sum += Math.exp(logits[base + c]! - max);
    }
    total += max + Math.log(sum) - logits[base + target]!;
  }
  return total;
}

function crossEntropyBackward(
  probs: Float32Array,
  targets: Int32Array,
  dlogits: Float32Array,
  rows: number,
  vocab: number,
  g: number,
  ignoreIndex: number,
): void {
  checkLength('crossEntropyBackward', 'probs', probs, rows * vocab);
  checkLength('crossEntropyBackward', 'dlogits', dlogits, rows * vocab);
  checkTargets('crossEntropyBackward', targets, rows, vocab, ignoreIndex);
  for (let r = 0; r < rows; r++) {
    const target = targets[r]!;
    if (target === ignoreIndex) continue;
    const base = r * vocab;
    for (let c = 0; c < vocab; c++) dlogits[base + c] = dlogits[base + c]! + g * probs[base + c]!;
    dlogits[base + target] = dlogits[base + target]! - g;
  }
}

function causalSoftmax(P: Float32Array, blocks: number, T: number): void {
  checkLength('causalSoftmax', 'P', P, blocks * T * T);
  for (let row = 0, end = blocks * T * T, t = 0; row < end; row += T, t = t + 1 === T ? 0 : t + 1) {
    let max = -Infinity;
    for (let s = 0; s <= t; s++) max = Math.max(max, P[row + s]!);
    let sum = 0;
    for (let s = 0; s <= t; s++) {
      const e = Math.exp(P[row + s]! - max);
      P[row + s] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let s = 0; s <= t; s++) P[row + s] = P[row + s]! * inv;
    P.fill(0, row + t + 1, row + T); // causal mask
  }
}

function causalSoftmaxBackward(
  P: Float32Array,
  dS: Float32Array,
  blocks: number,
  T: number,
  scale: number,
): void {
  checkLength('causalSoftmaxBackward', 'P', P, blocks * T * T);
  checkLength('causalSoftmaxBackward', 'dS', dS, blocks * T * T);
  for (let row = 0, end = blocks * T * T, t = 0; row < end; row += T, t = t + 1 === T ? 0 : t + 1) {
    let weighted = 0;
    for (let s = 0; s <= t; s++) weighted += P[row + s]! * dS[row + s]!;
    for (let s = 0; s <= t; s++) dS[row + s] = P[row + s]! * (dS[row + s]! - weighted) * scale;
    dS.fill(0, row + t + 1, row + T);
  }
}

function add(a: Float32Array, b: Float32Array, out: Float32Array): void {
  const n = out.length;
  checkLength('add', 'a', a, n);
  checkLength('add', 'b', b, n);
  for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
}

function axpy(dst: Float32Array, src: Float32Array, alpha: number): void {
  const n = dst.length;
  checkLength('axpy', 'src', src, n);
  if (alpha === 1) for (let i = 0; i < n; i++) dst[i] = dst[i]! + src[i]!;
  else for (let i = 0; i < n; i++) dst[i] = dst[i]! + src[i]! * alpha;
}

function rope(
  src: Float32Array,
  dst: Float32Array,
  rows: number,
  heads: number,
  headDim: number,
  seqLen: number,
  cos: Float32Array,
  sin: Float32Array,
  direction: number,
  accumulate: boolean,
): void {
  const C = heads * headDim;
  const half = headDim / 2;
  checkLength('rope', 'src', src, rows * C);
  checkLength('rope', 'dst', dst, rows * C);
  checkLength('rope', 'cos', cos, Math.min(rows, seqLen) * half);
  checkLength('rope', 'sin', sin, Math.min(rows, seqLen) * half);
  for (let r = 0; r < rows; r++) {
    const p = (r % seqLen) * half;
    for (let h = 0; h < heads; h++) {
      const base = r * C + h * headDim;
      for (let i = 0; i < half; i++) {
        const c = cos[p + i]!;
        const s = sin[p + i]! * direction;
        const a = src[base + i]!;
        const b = src[base + i + half]!;
        const ya = a * c - b * s;
        const yb = b * c + a * s;
        if (accumulate) {
          dst[base + i] = dst[base + i]! + ya;
          dst[base + i + half] = dst[base + i + half]! + yb;
        } else {
          dst[base + i] = ya;
          dst[base + i + half] = yb;
        }
      }
    }
  }
}

/**
 * The TypeScript element-wise kernels: the reference in tests, and what ops.ts uses when a Kernels object has
 * none of its own.
 */
export const tsElementwise: ElementwiseKernels = {
  swigluForward,
  swigluBackward,
  rmsnormForward,
  rmsnormBackward,
  crossEntropyForward,
  crossEntropyBackward,
  causalSoftmax,
  causalSoftmaxBackward,
  add,
  axpy,
  rope,
};

/** The TypeScript GEMM alone (the WebAssembly one's fallback, and a reference in tests). */
export const tsSgemm: Kernels['sgemm'] = sgemm;

// WebAssembly SIMD where the runtime has it (every supported Node.js does), else the TypeScript loops.
const wasmSgemm = createWasmSgemm(sgemm);
const wasmElementwise = createWasmElementwise(tsElementwise);

/** What the ts kernels run on, for log lines: "TypeScript, GEMM and element-wise kernels on WebAssembly SIMD". */
export const TS_KERNELS_DESCRIPTION =
  wasmSgemm && wasmElementwise
    ? 'TypeScript, GEMM and element-wise kernels on WebAssembly SIMD'
    : wasmSgemm
      ? 'TypeScript, GEMM on WebAssembly SIMD'
      : 'pure TypeScript';

export const tsKernels: Kernels = {
  name: 'ts',
  sgemm: wasmSgemm ?? sgemm,
  adamw,
  ...tsElementwise,
  ...wasmElementwise, // each function it has replaces the TypeScript one
  setThreads(): void {
    // The TypeScript kernels are single-threaded.
  },
};

/**
 * Pure TypeScript kernels: always available, single-threaded. sgemm packs blocks of op(A) and op(B) into
 * contiguous Float64 panels (which also absorbs the transposes and leading dimensions), then runs a 4×4
 * register-tiled micro-kernel over them, GotoBLAS style. Scratch panels are allocated once per process.
 */
import { checkAdamw, checkSgemm } from './check.js';
import type { Kernels } from './types.js';

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

export const tsKernels: Kernels = {
  name: 'ts',
  sgemm,
  adamw,
  setThreads(): void {
    // The TypeScript kernels are single-threaded.
  },
};

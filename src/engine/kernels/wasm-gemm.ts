/**
 * sgemm on WebAssembly SIMD for the ts kernels, with nothing to install (bench/RESULTS.md has its speed).
 * Operands are copied into the module's memory as they are stored (memcpy, no JS loops): the micro-kernel in
 * wasm/gemm.wat reads op(A) in place through its strides, a transposed B is transposed there by SIMD
 * shuffles, and alpha and beta are applied as each tile is stored; the rows of C are then copied back.
 * Products too small to repay the copies, or too large for the memory cap, stay on the TypeScript path.
 */
import { checkSgemm } from './check.js';
import { instantiateWasm } from './wasm-module.js';
import type { Kernels } from './types.js';
import { GEMM_WASM_BASE64 } from './wasm/gemm-binary.js';

type Sgemm = Kernels['sgemm'];

interface GemmExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  /** Pointers and strides in bytes; see wasm/gemm.wat. */
  gemm(
    M: number,
    N: number,
    K: number,
    A: number,
    rsA: number,
    csA: number,
    B: number,
    ldb: number,
    C: number,
    ldc: number,
    alpha: number,
    beta: number,
    load: number,
  ): void;
  transpose(src: number, rows: number, cols: number, lds: number, dst: number, ldd: number): void;
}

const TILE_M = 4;
const TILE_N = 8;
/** Depth of one pass of the micro-kernel: a 4-row strip of A stays in L1 across a panel of B. */
const BLOCK_K = 256;
/** Width of one panel of B: BLOCK_K x BLOCK_N floats (128 KiB) stay in L2 while every row strip passes. */
const BLOCK_N = 128;
/** Below this many multiply-adds the copies cost more than the TypeScript GEMM saves. */
const MIN_WORK = 32 * 1024;
/** The module's memory stops growing here; larger products go to the TypeScript GEMM. */
const MAX_BYTES = 512 * 1024 * 1024;
const PAGE = 64 * 1024;
/**
 * A transposed A is read in place unless its rows are a multiple of 4 KiB apart: then the K steps of a strip
 * all fall in the same few L1 sets and evict each other (1.3-1.5x slower), so it is transposed first.
 */
const ALIASING_STRIDE = 1024;

const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;

/** The WebAssembly GEMM, or undefined where WebAssembly SIMD is unavailable. */
export function createWasmSgemm(fallback: Sgemm): Sgemm | undefined {
  const exports = instantiateWasm<GemmExports>(GEMM_WASM_BASE64);
  if (!exports) return undefined;
  let heap = new Float32Array(exports.memory.buffer);

  /** Room for `floats` in the module's memory (growing it invalidates the old view). */
  const reserve = (floats: number): Float32Array => {
    const needed = floats * 4;
    if (needed > exports.memory.buffer.byteLength) {
      exports.memory.grow(Math.ceil((needed - exports.memory.buffer.byteLength) / PAGE));
      heap = new Float32Array(exports.memory.buffer);
    }
    return heap;
  };

  return (transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) => {
    checkSgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, C, ldc);
    const Mp = roundUp(M, TILE_M);
    const Np = roundUp(N, TILE_N);
    // A as stored, and the floats past it that the padding rows (or columns) of op(A) reach.
    const aLength = transA ? (K - 1) * lda + M : (M - 1) * lda + K;
    const aSpan = roundUp(transA ? (K - 1) * lda + Mp : (Mp - 1) * lda + K, 4);
    // B as stored; a transposed B is then transposed into a K x Np block, a plain one read in place.
    const bLength = transB ? (N - 1) * ldb + K : (K - 1) * ldb + N;
    const bSpan = roundUp(transB ? bLength : (K - 1) * ldb + Np, 4);
    const packedB = transB ? K * Np : 0;
    const packA = transA && lda % ALIASING_STRIDE === 0;
    const floats = aSpan + bSpan + packedB + Mp * Np + (packA ? Mp * K : 0);
    if (M * N * K < MIN_WORK || M < TILE_M || N < TILE_N || floats * 4 > MAX_BYTES || alpha === 0) {
      fallback(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
      return;
    }
    const mem = reserve(floats);
    const offB = aSpan;
    const offC = offB + bSpan + packedB;
    mem.set(A.subarray(0, aLength), 0);
    mem.fill(0, aLength, aSpan); // the padding lands in rows or columns of C that are never copied out
    mem.set(B.subarray(0, bLength), offB);
    mem.fill(0, offB + bLength, offB + bSpan);
    let bRows = offB;
    let bStride = ldb;
    if (transB) {
      bRows = offB + bSpan;
      bStride = Np;
      exports.transpose(offB * 4, N, K, ldb * 4, bRows * 4, Np * 4);
      if (Np > N) for (let k = 0; k < K; k++) mem.fill(0, bRows + k * Np + N, bRows + (k + 1) * Np);
    }
    const whole = ldc === N && Np === N;
    if (beta !== 0) {
      if (whole) mem.set(C.subarray(0, M * N), offC);
      else for (let i = 0; i < M; i++) mem.set(C.subarray(i * ldc, i * ldc + N), offC + i * Np);
    }
    let aBase = 0;
    let [rsA, csA] = transA ? [4, lda * 4] : [lda * 4, 4];
    if (packA) {
      aBase = offC + Mp * Np;
      exports.transpose(0, K, M, lda * 4, aBase * 4, K * 4);
      mem.fill(0, aBase + M * K, aBase + Mp * K);
      [rsA, csA] = [K * 4, 4];
    }
    for (let j0 = 0; j0 < Np; j0 += BLOCK_N) {
      const nc = Math.min(BLOCK_N, Np - j0);
      for (let k0 = 0; k0 < K; k0 += BLOCK_K) {
        const first = k0 === 0;
        exports.gemm(
          Mp,
          nc,
          Math.min(BLOCK_K, K - k0),
          aBase * 4 + k0 * csA,
          rsA,
          csA,
          (bRows + k0 * bStride + j0) * 4,
          bStride * 4,
          (offC + j0) * 4,
          Np * 4,
          alpha,
          first ? beta : 1,
          first && beta === 0 ? 0 : 1, // beta 0: C is not read, as in BLAS
        );
      }
    }
    if (whole) C.set(mem.subarray(offC, offC + M * N), 0);
    else for (let i = 0; i < M; i++) C.set(mem.subarray(offC + i * Np, offC + i * Np + N), i * ldc);
  };
}

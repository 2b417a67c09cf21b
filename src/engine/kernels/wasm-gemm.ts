/**
 * sgemm on WebAssembly SIMD for the ts kernels: 6-8x the TypeScript GEMM on one core (bench/RESULTS.md),
 * with nothing to install. op(A) and op(B) are copied (transposed as needed, zero-padded to whole 4x8 tiles)
 * into the module's memory, the micro-kernel in wasm/gemm.wat computes their product a block of K at a time,
 * and the result is scaled into C. Products too small to repay the copies, or too large for the memory cap,
 * stay on the TypeScript path.
 */
import { checkSgemm } from './check.js';
import type { Kernels } from './types.js';
import { GEMM_WASM_BASE64 } from './wasm/gemm-binary.js';

type Sgemm = Kernels['sgemm'];

/** The part of the WebAssembly global used here (tsconfig has no DOM lib, where its types live). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

interface GemmExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  gemm(M: number, N: number, K: number, lda: number, A: number, B: number, C: number, acc: number): void;
}

const TILE_M = 4;
const TILE_N = 8;
/** Depth of one pass of the micro-kernel: a 4-row strip of A and an 8-column strip of B stay in L1. */
const BLOCK_K = 256;
/** Below this many multiply-adds the copies cost more than the TypeScript GEMM saves. */
const MIN_WORK = 32 * 1024;
/** The module's memory stops growing here; larger products go to the TypeScript GEMM. */
const MAX_BYTES = 512 * 1024 * 1024;
const PAGE = 64 * 1024;

const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;
/** Side of the square blocks a transpose goes through, so reads and writes both stay in cache. */
const TRANSPOSE_BLOCK = 32;

/**
 * dst[offset + c * ldDst + r] = src[r * ldSrc + c] for r < rows, c < cols: the transpose of a rows x cols
 * matrix, block by block.
 */
function transposeInto(
  dst: Float32Array,
  offset: number,
  ldDst: number,
  src: Float32Array,
  ldSrc: number,
  rows: number,
  cols: number,
): void {
  for (let r0 = 0; r0 < rows; r0 += TRANSPOSE_BLOCK) {
    const r1 = Math.min(rows, r0 + TRANSPOSE_BLOCK);
    for (let c0 = 0; c0 < cols; c0 += TRANSPOSE_BLOCK) {
      const c1 = Math.min(cols, c0 + TRANSPOSE_BLOCK);
      for (let r = r0; r < r1; r++) {
        const from = r * ldSrc;
        for (let c = c0; c < c1; c++) dst[offset + c * ldDst + r] = src[from + c] as number;
      }
    }
  }
}

/** The WebAssembly GEMM, or undefined where WebAssembly SIMD is unavailable. */
export function createWasmSgemm(fallback: Sgemm): Sgemm | undefined {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  const bytes = Buffer.from(GEMM_WASM_BASE64, 'base64');
  if (!wasm || !wasm.validate(bytes)) return undefined;
  const exports = new wasm.Instance(new wasm.Module(bytes)).exports as GemmExports;
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
    const floats = Mp * K + K * Np + Mp * Np;
    if (M * N * K < MIN_WORK || M < TILE_M || N < TILE_N || floats * 4 > MAX_BYTES || alpha === 0) {
      fallback(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
      return;
    }
    const mem = reserve(floats);
    const offB = Mp * K;
    const offC = offB + K * Np;
    // op(A) as Mp x K rows, op(B) as K x Np rows, zero-padded.
    if (transA) {
      transposeInto(mem, 0, K, A, lda, K, M);
    } else if (lda === K) {
      mem.set(A.subarray(0, M * K), 0);
    } else {
      for (let i = 0; i < M; i++) mem.set(A.subarray(i * lda, i * lda + K), i * K);
    }
    mem.fill(0, M * K, Mp * K);
    if (transB) {
      transposeInto(mem, offB, Np, B, ldb, N, K);
    } else {
      for (let k = 0; k < K; k++) mem.set(B.subarray(k * ldb, k * ldb + N), offB + k * Np);
    }
    if (Np > N) for (let k = 0; k < K; k++) mem.fill(0, offB + k * Np + N, offB + (k + 1) * Np);

    for (let k0 = 0; k0 < K; k0 += BLOCK_K) {
      const kc = Math.min(BLOCK_K, K - k0);
      exports.gemm(Mp, Np, kc, K * 4, k0 * 4, (offB + k0 * Np) * 4, offC * 4, k0 === 0 ? 0 : 1);
    }

    // C = alpha * product + beta * C (beta 0: C is not read, as in BLAS).
    for (let i = 0; i < M; i++) {
      const c = i * ldc;
      const p = offC + i * Np;
      if (beta === 0 && alpha === 1) C.set(mem.subarray(p, p + N), c);
      else if (beta === 0) for (let n = 0; n < N; n++) C[c + n] = alpha * (mem[p + n] as number);
      else
        for (let n = 0; n < N; n++) C[c + n] = alpha * (mem[p + n] as number) + beta * (C[c + n] as number);
    }
  };
}

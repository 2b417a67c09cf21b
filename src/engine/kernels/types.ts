/**
 * The compute kernels the training engine runs on. Two implementations: `ts` (pure TypeScript, always
 * available) and `native` (an N-API addon calling OpenBLAS sgemm, with C loops for the optimizer step).
 * All matrices are row-major Float32Arrays.
 */
export interface Kernels {
  readonly name: 'ts' | 'native';
  /**
   * C = alpha * op(A) · op(B) + beta * C, where op(A) is M×K and op(B) is K×N (cblas_sgemm, row-major).
   * lda/ldb/ldc are the row strides of A, B, C as stored (A is M×K, or K×M when transA).
   */
  sgemm(
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
  ): void;
  /**
   * One decoupled AdamW step in place (PyTorch semantics): p -= lr * wd * p; m = b1 m + (1-b1) g;
   * v = b2 v + (1-b2) g²; p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps). `step` is t, 1-based.
   */
  adamw(
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
  ): void;
  /** Threads for BLAS (native only; the ts kernels are single-threaded). */
  setThreads(threads: number): void;
}

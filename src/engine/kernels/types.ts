/**
 * The compute kernels the training engine runs on. Two implementations: `ts` (TypeScript with the GEMM and
 * the exp-heavy element-wise kernels on WebAssembly SIMD, always available) and `native` (an N-API addon
 * calling OpenBLAS sgemm, with C loops for the optimizer step). All matrices are row-major Float32Arrays.
 */
/**
 * Element-wise kernels of the training ops (ops.ts). Every Kernels implementation may provide them; ops.ts
 * falls back to the TypeScript ones (`tsElementwise`) when a Kernels object lacks them. Buffers named `d*`
 * are gradients that are ACCUMULATED into (+=); a `null` gradient is skipped. Outputs (`out`, `probs`,
 * `rstd`) are fully overwritten, so they need not be zeroed first.
 */
export interface ElementwiseKernels {
  /** out[i] = silu(gate[i]) · up[i] (n = gate.length). */
  swigluForward(gate: Float32Array, up: Float32Array, out: Float32Array): void;
  /** dup += dy · silu(gate); dgate += dy · up · σ(gate) · (1 + gate · (1 − σ(gate))). */
  swigluBackward(
    gate: Float32Array,
    up: Float32Array,
    dy: Float32Array,
    dgate: Float32Array | null,
    dup: Float32Array | null,
  ): void;
  /** Per row of x [rows, cols]: rstd[r] = 1/sqrt(mean(x²) + eps); out = x · rstd[r] · g. */
  rmsnormForward(
    x: Float32Array,
    g: Float32Array,
    out: Float32Array,
    rstd: Float32Array,
    rows: number,
    cols: number,
    eps: number,
  ): void;
  /** The rmsnorm backward, accumulating into dx [rows, cols] and dg [cols]. */
  rmsnormBackward(
    x: Float32Array,
    g: Float32Array,
    rstd: Float32Array,
    dy: Float32Array,
    dx: Float32Array | null,
    dg: Float32Array | null,
    rows: number,
    cols: number,
  ): void;
  /**
   * Cross-entropy of logits [rows, vocab] against targets (rows whose target is ignoreIndex are skipped;
   * the others must be in range). Returns the SUM of the counted rows' losses; when probs is given, the
   * softmax of each counted row is written there (other rows are left as they are).
   */
  crossEntropyForward(
    logits: Float32Array,
    targets: Int32Array,
    probs: Float32Array | null,
    rows: number,
    vocab: number,
    ignoreIndex: number,
  ): number;
  /** dlogits += g · (probs − onehot(target)) on the counted rows. */
  crossEntropyBackward(
    probs: Float32Array,
    targets: Int32Array,
    dlogits: Float32Array,
    rows: number,
    vocab: number,
    g: number,
    ignoreIndex: number,
  ): void;
  /**
   * In place over `blocks` consecutive T×T score matrices: causal row softmax (row t over columns 0..t),
   * the upper triangle set to 0.
   */
  causalSoftmax(P: Float32Array, blocks: number, T: number): void;
  /**
   * In place on `blocks` consecutive T×T blocks of dS (holding dP): dS = P ⊙ (dP − Σ_row P ⊙ dP) · scale,
   * upper triangle 0.
   */
  causalSoftmaxBackward(P: Float32Array, dS: Float32Array, blocks: number, T: number, scale: number): void;
  /** out = a + b (out may alias a or b). */
  add(a: Float32Array, b: Float32Array, out: Float32Array): void;
  /** dst += alpha · src. */
  axpy(dst: Float32Array, src: Float32Array, alpha: number): void;
  /**
   * Rotate-half rotary embedding of src [rows, heads·headDim] into dst (overwrite, or += when accumulate);
   * row r has position r mod seqLen, cos/sin are [positions, headDim/2]; direction −1 rotates backwards.
   */
  rope(
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
  ): void;
}

export interface Kernels extends Partial<ElementwiseKernels> {
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
  /**
   * Optional: for each i, sgemm on A.subarray(offA[i]), B.subarray(offB[i]), C.subarray(offC[i]) (same
   * shapes, strides, alpha ≠ 0, K > 0). Items whose C blocks overlap must have equal offC and be adjacent.
   * The native one spreads the batch over its threads (tiny per-head GEMMs run badly on BLAS threads).
   */
  sgemmBatch?(
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
  ): void;
  /** Threads for BLAS (native only; the ts kernels are single-threaded). */
  setThreads(threads: number): void;
}

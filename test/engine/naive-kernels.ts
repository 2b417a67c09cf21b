import type { Kernels } from '../../src/engine/kernels/types.js';

/** Textbook kernels in float64 accumulation: the ground truth the real kernels and the ops are checked with. */
export const naiveKernels: Kernels = {
  name: 'ts',
  sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let sum = 0;
        for (let k = 0; k < K; k++) {
          const a = transA ? A[k * lda + i] : A[i * lda + k];
          const b = transB ? B[j * ldb + k] : B[k * ldb + j];
          sum += (a as number) * (b as number);
        }
        C[i * ldc + j] = alpha * sum + (beta === 0 ? 0 : beta * (C[i * ldc + j] as number));
      }
    }
  },
  adamw(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step) {
    const bc1 = 1 - beta1 ** step;
    const bc2 = 1 - beta2 ** step;
    for (let i = 0; i < param.length; i++) {
      const g = grad[i] as number;
      let p = (param[i] as number) * (1 - lr * weightDecay);
      m[i] = beta1 * (m[i] as number) + (1 - beta1) * g;
      v[i] = beta2 * (v[i] as number) + (1 - beta2) * g * g;
      p -= (lr * ((m[i] as number) / bc1)) / (Math.sqrt((v[i] as number) / bc2) + eps);
      param[i] = p;
    }
  },
  setThreads() {},
};

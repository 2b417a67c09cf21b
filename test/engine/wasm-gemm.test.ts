import { describe, expect, it } from 'vitest';
import { tsKernels, tsSgemm } from '../../src/engine/kernels/ts-kernels.js';
import type { Kernels } from '../../src/engine/kernels/types.js';
import { createWasmSgemm } from '../../src/engine/kernels/wasm-gemm.js';
import { GEMM_WASM_BASE64 } from '../../src/engine/kernels/wasm/gemm-binary.js';
import { assembleWat } from '../../scripts/build-wasm.js';

type Sgemm = Kernels['sgemm'];

function filled(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(seed * 1000 + i * 0.37) * 2;
  return out;
}

/** Counts the products handed to the TypeScript fallback. */
function counted(): { sgemm: Sgemm; calls: number } {
  const box = {
    calls: 0,
    sgemm: ((...args: Parameters<Sgemm>) => {
      box.calls++;
      tsSgemm(...args);
    }) as Sgemm,
  };
  return box;
}

describe('the WebAssembly SIMD GEMM', () => {
  it('is assembled from gemm.wat as committed (run the wasm build script after editing the .wat)', async () => {
    expect(Buffer.from(await assembleWat('gemm')).toString('base64')).toBe(GEMM_WASM_BASE64);
  });

  it('is what the ts kernels use', () => {
    expect(createWasmSgemm(tsSgemm)).toBeDefined();
    expect(tsKernels.sgemm).not.toBe(tsSgemm);
  });

  /** Checks the WebAssembly GEMM against the TypeScript one at three (alpha, beta) pairs, C's padding untouched. */
  function expectMatches(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    lda: number,
    ldb: number,
  ) {
    const fallback = counted();
    const wasm = createWasmSgemm(fallback.sgemm)!;
    const ldc = N + 2;
    const A = filled((transA ? K : M) * lda, 1);
    const B = filled((transB ? N : K) * ldb, 2);
    for (const [alpha, beta] of [
      [1, 0],
      [2, 0.5],
      [-0.5, 1],
    ] as const) {
      const C0 = filled(M * ldc, 3);
      if (beta === 0) C0.fill(Number.NaN); // beta 0: C is not read
      const expected = C0.slice();
      const got = C0.slice();
      tsSgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, expected, ldc);
      wasm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, got, ldc);
      for (let i = 0; i < M; i++) {
        for (let n = 0; n < ldc; n++) {
          const at = i * ldc + n;
          if (n >= N)
            expect(Object.is(got[at], C0[at])).toBe(true); // the padding of C is left alone
          else expect(Math.abs(got[at]! - expected[at]!)).toBeLessThan(1e-3 * (1 + Math.abs(expected[at]!)));
        }
      }
    }
    expect(fallback.calls).toBe(0);
  }

  for (const [transA, transB] of [
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ] as const) {
    it(`matches the TypeScript GEMM (transA ${transA}, transB ${transB}, ragged sizes, strides, alpha, beta)`, () => {
      // M and N off the 4x8 tiles, K over one 256-deep block, leading dimensions wider than the rows.
      const [M, N, K] = [37, 29, 301];
      expectMatches(transA, transB, M, N, K, (transA ? M : K) + 3, (transB ? K : N) + 5);
      // N over one 128-wide panel of B.
      expectMatches(transA, transB, 21, 203, 66, transA ? 21 : 66, transB ? 66 : 203);
    });
  }

  it('matches it when a transposed A has rows 4 KiB apart (transposed before the product)', () => {
    expectMatches(true, false, 37, 29, 301, 1024, 29);
    expectMatches(true, true, 1024, 16, 10, 2048, 10);
  });

  it('leaves small, skinny and empty products to the TypeScript GEMM, with the same checks', () => {
    const fallback = counted();
    const wasm = createWasmSgemm(fallback.sgemm)!;
    const C = new Float32Array(16);
    wasm(false, false, 4, 4, 4, 1, filled(16, 1), 4, filled(16, 2), 4, 0, C, 4);
    wasm(
      false,
      false,
      1,
      512,
      512,
      1,
      filled(512, 1),
      512,
      filled(512 * 512, 2),
      512,
      0,
      new Float32Array(512),
      512,
    );
    wasm(
      false,
      false,
      64,
      64,
      0,
      1,
      new Float32Array(0),
      0,
      new Float32Array(0),
      64,
      0,
      new Float32Array(64 * 64),
      64,
    );
    expect(fallback.calls).toBe(3);
    expect(() =>
      wasm(false, false, 64, 64, 64, 1, filled(10, 1), 64, filled(64 * 64, 2), 64, 0, C, 64),
    ).toThrow(RangeError);
  });
});

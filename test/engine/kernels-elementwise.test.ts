import { describe, expect, it } from 'vitest';

import { rand } from '../helpers/random-floats.js';
import { ENV_VAR, loadKernels } from '../../src/engine/kernels/index.js';
import { tsElementwise, tsKernels } from '../../src/engine/kernels/ts-kernels.js';
import type { ElementwiseKernels, Kernels } from '../../src/engine/kernels/types.js';
import { createWasmElementwise } from '../../src/engine/kernels/wasm-elementwise.js';

/** Relative to max(|expected|, 0.1): the inputs are O(1), so float32 rounding is about 1e-7 absolute. */
function expectClose(actual: Float32Array, expected: Float32Array, rel = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= rel * Math.max(0.1, Math.abs(e)))) {
      throw new Error(`element ${i}: got ${a}, expected ${e}`);
    }
  }
}

let native: Kernels | undefined;
const envAtStart = process.env[ENV_VAR];
try {
  delete process.env[ENV_VAR];
  native = loadKernels({ prefer: 'native', log: () => {} });
} catch {
  native = undefined; // kernels.test.ts prints the notice
}
if (envAtStart !== undefined) process.env[ENV_VAR] = envAtStart;

/** The implementations under test: ts and wasm always, native when the addon (with element-wise kernels) loads. */
const impls: [string, ElementwiseKernels][] = [['ts', tsElementwise]];
// On WebAssembly however small the input (tsKernels leaves small ones to the TypeScript loops).
impls.push(['wasm', createWasmElementwise(tsElementwise, 0)!]);
if (native?.swigluForward) impls.push(['native', native as ElementwiseKernels]);
const ts = tsElementwise;

describe('tsKernels carries the element-wise kernels', () => {
  it('has every tsElementwise function (on WebAssembly SIMD: wasm-elementwise.test.ts)', () => {
    for (const name of Object.keys(tsElementwise) as (keyof ElementwiseKernels)[])
      expect(typeof tsKernels[name]).toBe('function');
  });
});

describe.skipIf(!native)('native addon', () => {
  it('exports the element-wise kernels', () => {
    expect(typeof native?.swigluForward).toBe('function');
    expect(typeof native?.rope).toBe('function');
  });
});

for (const [name, k] of impls) {
  describe(`${name} element-wise kernels agree with the TypeScript reference`, () => {
    it('swiglu forward and backward (both, one or no gradient)', () => {
      const n = 1037;
      const gate = rand(n, 1, 12);
      const up = rand(n, 2);
      const dy = rand(n, 3);
      const out = new Float32Array(n).fill(NaN); // outputs are overwritten
      const ref = new Float32Array(n);
      k.swigluForward(gate, up, out);
      ts.swigluForward(gate, up, ref);
      expectClose(out, ref);
      for (const [withG, withU] of [
        [true, true],
        [true, false],
        [false, true],
      ]) {
        const dg = withG ? rand(n, 4) : null;
        const du = withU ? rand(n, 5) : null;
        const rdg = dg && Float32Array.from(dg);
        const rdu = du && Float32Array.from(du);
        k.swigluBackward(gate, up, dy, dg, du);
        ts.swigluBackward(gate, up, dy, rdg, rdu);
        if (dg && rdg) expectClose(dg, rdg);
        if (du && rdu) expectClose(du, rdu);
      }
    });

    it('rmsnorm forward and backward', () => {
      const R = 7;
      const H = 48;
      const x = rand(R * H, 6, 3);
      const g = rand(H, 7);
      const out = new Float32Array(R * H).fill(NaN);
      const rstd = new Float32Array(R);
      const rOut = new Float32Array(R * H);
      const rRstd = new Float32Array(R);
      k.rmsnormForward(x, g, out, rstd, R, H, 1e-6);
      ts.rmsnormForward(x, g, rOut, rRstd, R, H, 1e-6);
      expectClose(out, rOut);
      expectClose(rstd, rRstd);
      const dy = rand(R * H, 8);
      const dx = rand(R * H, 9);
      const dg = rand(H, 10);
      const rdx = Float32Array.from(dx);
      const rdg = Float32Array.from(dg);
      k.rmsnormBackward(x, g, rstd, dy, dx, dg, R, H);
      ts.rmsnormBackward(x, g, rRstd, dy, rdx, rdg, R, H);
      expectClose(dx, rdx, 1e-4);
      expectClose(dg, rdg, 1e-4);
      const dx2 = new Float32Array(R * H);
      const rdx2 = new Float32Array(R * H);
      k.rmsnormBackward(x, g, rstd, dy, dx2, null, R, H);
      ts.rmsnormBackward(x, g, rRstd, dy, rdx2, null, R, H);
      expectClose(dx2, rdx2, 1e-4);
    });

    it('cross-entropy forward (with and without probs, ignored rows) and backward', () => {
      const R = 6;
      const V = 301;
      const logits = rand(R * V, 11, 8);
      const targets = new Int32Array([3, -100, 300, 0, -100, 150]);
      const probs = new Float32Array(R * V);
      const rProbs = new Float32Array(R * V);
      const total = k.crossEntropyForward(logits, targets, probs, R, V, -100);
      const rTotal = ts.crossEntropyForward(logits, targets, rProbs, R, V, -100);
      expect(Math.abs(total - rTotal)).toBeLessThan(1e-5 * Math.abs(rTotal));
      expectClose(probs, rProbs);
      const noProbs = k.crossEntropyForward(logits, targets, null, R, V, -100);
      expect(Math.abs(noProbs - rTotal)).toBeLessThan(1e-5 * Math.abs(rTotal));
      const dl = rand(R * V, 12);
      const rdl = Float32Array.from(dl);
      k.crossEntropyBackward(probs, targets, dl, R, V, 0.25, -100);
      ts.crossEntropyBackward(rProbs, targets, rdl, R, V, 0.25, -100);
      expectClose(dl, rdl);
      expect(() =>
        k.crossEntropyForward(logits, new Int32Array([0, 1, 2, V, 0, 0]), null, R, V, -100),
      ).toThrow(/outside the vocabulary/);
    });

    it('causal softmax forward (several blocks) and backward', () => {
      const T = 19;
      const blocks = 3;
      const P = rand(blocks * T * T, 13, 6);
      const ref = Float32Array.from(P);
      k.causalSoftmax(P, blocks, T);
      ts.causalSoftmax(ref, blocks, T);
      expectClose(P, ref);
      for (let t = 0; t < T; t++) expect(P[t * T + T - 1]).toBe(t === T - 1 ? P[t * T + T - 1] : 0);
      const dS = rand(blocks * T * T, 14);
      const rdS = Float32Array.from(dS);
      k.causalSoftmaxBackward(P, dS, blocks, T, 0.125);
      ts.causalSoftmaxBackward(ref, rdS, blocks, T, 0.125);
      expectClose(dS, rdS, 1e-4);
    });

    it('add and axpy', () => {
      const n = 517;
      const a = rand(n, 15);
      const b = rand(n, 16);
      const out = new Float32Array(n);
      k.add(a, b, out);
      for (let i = 0; i < n; i++) expect(out[i]).toBe(Math.fround(a[i]! + b[i]!));
      const d = Float32Array.from(a);
      const rd = Float32Array.from(a);
      k.axpy(d, b, 1);
      ts.axpy(rd, b, 1);
      expectClose(d, rd);
      k.axpy(d, b, -0.5);
      ts.axpy(rd, b, -0.5);
      expectClose(d, rd);
    });

    it('rope forward (overwrite) and backward (accumulate, reversed)', () => {
      const R = 10;
      const heads = 3;
      const hd = 8;
      const seq = 4;
      const half = hd / 2;
      const cos = rand(seq * half, 17);
      const sin = rand(seq * half, 18);
      const x = rand(R * heads * hd, 19);
      const y = new Float32Array(R * heads * hd).fill(NaN);
      const ry = new Float32Array(R * heads * hd);
      k.rope(x, y, R, heads, hd, seq, cos, sin, 1, false);
      ts.rope(x, ry, R, heads, hd, seq, cos, sin, 1, false);
      expectClose(y, ry);
      const acc = rand(R * heads * hd, 20);
      const racc = Float32Array.from(acc);
      k.rope(y, acc, R, heads, hd, seq, cos, sin, -1, true);
      ts.rope(ry, racc, R, heads, hd, seq, cos, sin, -1, true);
      expectClose(acc, racc);
    });

    it('rejects buffers that are too short', () => {
      expect(() => k.swigluForward(new Float32Array(4), new Float32Array(3), new Float32Array(4))).toThrow(
        /up needs 4 values/,
      );
      expect(() => k.causalSoftmax(new Float32Array(8), 1, 3)).toThrow(/P needs 9 values/);
    });
  });
}

describe.skipIf(!native?.sgemmBatch)('native sgemmBatch', () => {
  it('matches one sgemm per entry, with shared (adjacent) outputs, on 1 and 2 threads', () => {
    const k = native!;
    const T = 9;
    const D = 4;
    const heads = 4;
    const kvHeads = 2;
    const B = 3;
    const QC = heads * D;
    const KC = kvHeads * D;
    const n = B * heads;
    const offQ = new Int32Array(n);
    const offKV = new Int32Array(n);
    const offP = new Int32Array(n);
    for (let b = 0, i = 0; b < B; b++)
      for (let h = 0; h < heads; h++, i++) {
        offQ[i] = b * T * QC + h * D;
        offKV[i] = b * T * KC + Math.floor(h / (heads / kvHeads)) * D;
        offP[i] = i * T * T;
      }
    const P = rand(n * T * T, 21);
    const dO = rand(B * T * QC, 22);
    for (const threads of [1, 2]) {
      k.setThreads(threads);
      // dV += Pᵀ · dO: query heads sharing a kv head accumulate into the same block.
      const dv = rand(B * T * KC, 23);
      const ref = Float32Array.from(dv);
      k.sgemmBatch!(true, false, T, D, T, 0.5, P, T, offP, dO, QC, offQ, 1, dv, KC, offKV);
      for (let i = 0; i < n; i++)
        tsKernels.sgemm(
          true,
          false,
          T,
          D,
          T,
          0.5,
          P.subarray(offP[i]),
          T,
          dO.subarray(offQ[i]),
          QC,
          1,
          ref.subarray(offKV[i]),
          KC,
        );
      expectClose(dv, ref, 1e-5);
    }
    expect(() =>
      k.sgemmBatch!(false, false, T, D, T, 1, P, T, offP, dO, QC, offQ, 0, new Float32Array(10), KC, offKV),
    ).toThrow(/C needs/);
  });
});

describe.skipIf(!native?.swigluForward)('native element-wise kernels split over threads', () => {
  // Sizes above the addon's split threshold (32k floats per thread), so 2 and 3 threads really split.
  it('give the same values on 1, 2 and 3 threads', () => {
    const k = native as Kernels & ElementwiseKernels;
    const run = (threads: number) => {
      k.setThreads(threads);
      const n = 100_003;
      const gate = rand(n, 31, 6);
      const up = rand(n, 32);
      const swOut = new Float32Array(n);
      k.swigluForward(gate, up, swOut);
      const dg = rand(n, 33);
      const du = rand(n, 34);
      k.swigluBackward(gate, up, rand(n, 35), dg, du);
      const [R, H] = [1500, 64];
      const x = rand(R * H, 36, 3);
      const g = rand(H, 37);
      const rmsOut = new Float32Array(R * H);
      const rstd = new Float32Array(R);
      k.rmsnormForward(x, g, rmsOut, rstd, R, H, 1e-6);
      const dx = rand(R * H, 38);
      const dgain = rand(H, 39);
      k.rmsnormBackward(x, g, rstd, rand(R * H, 40), dx, dgain, R, H);
      const [CR, V] = [40, 5000];
      const logits = rand(CR * V, 41, 8);
      const targets = Int32Array.from({ length: CR }, (_, i) => (i % 7 === 3 ? -100 : (i * 977) % V));
      const probs = new Float32Array(CR * V);
      const loss = k.crossEntropyForward(logits, targets, probs, CR, V, -100);
      const dlogits = rand(CR * V, 42);
      k.crossEntropyBackward(probs, targets, dlogits, CR, V, 0.25, -100);
      const [blocks, T] = [4, 200];
      const P = rand(blocks * T * T, 43, 4);
      k.causalSoftmax(P, blocks, T);
      const dS = rand(blocks * T * T, 44);
      k.causalSoftmaxBackward(P, dS, blocks, T, 0.125);
      const param = rand(n, 45);
      const m = rand(n, 46, 0.1);
      const v = rand(n, 47, 0.1).map(Math.abs);
      k.adamw(param, rand(n, 48), m, v, 1e-3, 0.9, 0.999, 1e-8, 0.1, 3);
      return { swOut, dg, du, rmsOut, rstd, dx, dgain, probs, dlogits, P, dS, param, m, v, loss };
    };
    const one = run(1);
    for (const threads of [2, 3]) {
      const many = run(threads);
      for (const key of Object.keys(one) as (keyof typeof one)[]) {
        if (key === 'loss') continue;
        expect(Array.from(many[key] as Float32Array), `${key} on ${threads} threads`).toEqual(
          Array.from(one[key] as Float32Array),
        );
      }
      // The loss is a sum of per-row partials: only the grouping of the additions differs.
      expect(Math.abs(many.loss - one.loss)).toBeLessThanOrEqual(1e-9 * Math.abs(one.loss));
    }
    k.setThreads(2);
  });
});

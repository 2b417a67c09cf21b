import { describe, expect, it } from 'vitest';

import { rand } from '../helpers/random-floats.js';
import { tsElementwise, tsKernels } from '../../src/engine/kernels/ts-kernels.js';
import type { ElementwiseKernels } from '../../src/engine/kernels/types.js';
import { createWasmElementwise, MIN_FLOATS } from '../../src/engine/kernels/wasm-elementwise.js';
import { ELEMENTWISE_WASM_BASE64 } from '../../src/engine/kernels/wasm/elementwise-binary.js';
import { assembleWat } from '../../scripts/build-wasm.js';

const ts = tsElementwise;
/** Everything on WebAssembly, however small (the ts kernels leave small inputs to the TypeScript loops). */
const wasm = createWasmElementwise(ts, 0)!;
/** Above one chunk of the module's memory (32k floats), so the chunked copies are exercised. */
const BIG = 70_001;

/** |actual − expected| <= rel · max(|expected|, floor) element by element (float32 rounding, O(1) inputs). */
function expectClose(actual: Float32Array, expected: Float32Array, rel = 1e-5, floor = 1): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= rel * Math.max(floor, Math.abs(e))))
      throw new Error(`element ${i}: got ${a}, expected ${e}`);
  }
}

/** Runs `f` on wasm and on ts with copies of the given buffers, then compares every buffer. */
function compare(
  buffers: (Float32Array | null)[],
  f: (k: ElementwiseKernels, b: (Float32Array | null)[]) => void,
  rel = 1e-5,
): void {
  const mine = buffers.map((b) => b && Float32Array.from(b));
  const ref = buffers.map((b) => b && Float32Array.from(b));
  f(wasm, mine);
  f(ts, ref);
  mine.forEach((b, i) => b && expectClose(b, ref[i]!, rel));
}

describe('the WebAssembly SIMD element-wise kernels', () => {
  it('are assembled from elementwise.wat as committed (run scripts/build-wasm.ts after editing it)', async () => {
    expect(Buffer.from(await assembleWat('elementwise')).toString('base64')).toBe(ELEMENTWISE_WASM_BASE64);
  });

  it('are what the ts kernels use', () => {
    expect(wasm).toBeDefined();
    for (const name of Object.keys(ts) as (keyof ElementwiseKernels)[]) {
      expect(typeof wasm[name]).toBe('function');
      expect(tsKernels[name]).not.toBe(ts[name]);
    }
  });

  it('swiglu forward and backward (odd sizes, one or both gradients, accumulating)', () => {
    for (const n of [1, 3, 4, 5, 1037, BIG]) {
      const gate = rand(n, 1, 12);
      const up = rand(n, 2);
      const dy = rand(n, 3);
      const out = new Float32Array(n).fill(NaN); // overwritten
      const ref = new Float32Array(n);
      wasm.swigluForward(gate, up, out);
      ts.swigluForward(gate, up, ref);
      expectClose(out, ref);
      for (const [dg, du] of [
        [rand(n, 4), rand(n, 5)],
        [rand(n, 4), null],
        [null, rand(n, 5)],
        [null, null],
      ] as (Float32Array | null)[][])
        compare([dg ?? null, du ?? null], (k, [g, u]) =>
          k.swigluBackward(gate, up, dy, g ?? null, u ?? null),
        );
    }
  });

  it('compute e^x to about 1e-7 relative over the float range (through σ(x) ≈ e^x for x < 0)', () => {
    const n = 20_001;
    const gate = Float32Array.from({ length: n }, (_, i) => -87 + (174 * i) / (n - 1));
    const out = new Float32Array(n);
    wasm.swigluForward(gate, new Float32Array(n).fill(1), out);
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const x = gate[i]!;
      const exact = x / (1 + Math.exp(-x)); // float64
      if (exact !== 0) worst = Math.max(worst, Math.abs(out[i]! - exact) / Math.abs(exact));
    }
    expect(worst).toBeLessThan(5e-7);
  });

  it('swiglu at extreme gates: no NaN, σ saturating to 0 and 1 as in float64', () => {
    const gate = Float32Array.from([
      -3e38, -1e30, -1e4, -200, -89, -88.5, -88, -87.5, -87, -50, -20, -1e-30, 0,
    ]);
    const both = Float32Array.from([...gate, ...gate.map((x) => -x)]);
    const up = rand(both.length, 6);
    const dy = rand(both.length, 7);
    const out = new Float32Array(both.length);
    const ref = new Float32Array(both.length);
    wasm.swigluForward(both, up, out);
    ts.swigluForward(both, up, ref);
    expectClose(out, ref, 1e-6);
    compare([rand(both.length, 8), rand(both.length, 9)], (k, [dg, du]) =>
      k.swigluBackward(both, up, dy, dg!, du!),
    );
    const dg = new Float32Array(both.length);
    wasm.swigluBackward(both, up, dy, dg, null);
    expect(dg.every(Number.isFinite)).toBe(true);
  });

  it('cross-entropy forward (with and without probs, ignored rows) and backward', () => {
    for (const [R, V] of [
      [1, 1],
      [5, 4],
      [3, 7],
      [6, 301],
      [70, 1025], // over one chunk of rows
      [2, 40_001], // a row longer than a chunk
    ] as const) {
      const logits = rand(R * V, 11, 8);
      const targets = Int32Array.from({ length: R }, (_, r) => (r % 3 === 1 ? -100 : (r * 977) % V));
      targets[R - 1] = V - 1;
      const probs = new Float32Array(R * V).fill(NaN);
      const rProbs = new Float32Array(R * V).fill(NaN);
      const total = wasm.crossEntropyForward(logits, targets, probs, R, V, -100);
      const rTotal = ts.crossEntropyForward(logits, targets, rProbs, R, V, -100);
      expect(Math.abs(total - rTotal)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(rTotal)));
      expect(wasm.crossEntropyForward(logits, targets, null, R, V, -100)).toBe(total);
      for (let r = 0; r < R; r++) {
        const row = probs.subarray(r * V, (r + 1) * V);
        if (targets[r] === -100)
          expect(row.every(Number.isNaN)).toBe(true); // ignored rows are left alone
        else expectClose(row, rProbs.subarray(r * V, (r + 1) * V));
      }
      for (const g of [0.25, -1.5])
        compare([rand(R * V, 12)], (k, [dl]) => k.crossEntropyBackward(rProbs, targets, dl!, R, V, g, -100));
    }
  });

  it('cross-entropy with -1e30 and -Infinity logits', () => {
    const V = 13;
    const logits = rand(3 * V, 13, 4);
    logits.fill(-1e30, 0, 6); // row 0: masked logits, the target among them
    logits[V + 2] = -Infinity;
    logits.fill(-1e30, 2 * V, 3 * V); // row 2: all equal
    logits[2 * V - 1] = 120; // row 1's largest logit, in the last (partial) vector: e^(x − max) must not overflow
    const targets = Int32Array.from([1, 3, 5]);
    const probs = new Float32Array(3 * V);
    const rProbs = new Float32Array(3 * V);
    const total = wasm.crossEntropyForward(logits, targets, probs, 3, V, -100);
    const rTotal = ts.crossEntropyForward(logits, targets, rProbs, 3, V, -100);
    expect(Math.abs(total - rTotal)).toBeLessThanOrEqual(1e-6 * Math.abs(rTotal));
    expectClose(probs, rProbs, 1e-6);
    expect(probs[V + 2]).toBe(0);
  });

  it('causal softmax forward and backward (T and block counts off the vector width, several chunks)', () => {
    for (const [blocks, T] of [
      [1, 1],
      [2, 2],
      [3, 3],
      [1, 5],
      [3, 19],
      [2, 128],
      [7, 100], // three chunks of blocks
      [2, 200], // a block larger than a chunk
    ] as const) {
      const P = rand(blocks * T * T, 13, 6);
      const ref = Float32Array.from(P);
      wasm.causalSoftmax(P, blocks, T);
      ts.causalSoftmax(ref, blocks, T);
      expectClose(P, ref, 1e-5, 0.1);
      for (let b = 0; b < blocks; b++)
        for (let t = 0; t < T; t++) for (let s = t + 1; s < T; s++) expect(P[(b * T + t) * T + s]).toBe(0); // the causal mask
      compare(
        [rand(blocks * T * T, 14)],
        (k, [dS]) => k.causalSoftmaxBackward(ref, dS!, blocks, T, 0.125),
        1e-4,
      );
    }
  });

  it('causal softmax with -1e30 and -Infinity scores (masked positions give exactly 0)', () => {
    const T = 9;
    const P = rand(T * T, 15, 3);
    for (let t = 0; t < T; t++) P[t * T + Math.floor(t / 2)] = t % 2 ? -Infinity : -1e30;
    P[0] = 1; // row 0's only score
    const ref = Float32Array.from(P);
    wasm.causalSoftmax(P, 1, T);
    ts.causalSoftmax(ref, 1, T);
    expectClose(P, ref, 1e-6, 0.1);
    for (let t = 1; t < T; t++) expect(P[t * T + Math.floor(t / 2)]).toBe(0);
  });

  it('rmsnorm forward and backward (one or both gradients, accumulating)', () => {
    for (const [R, H] of [
      [1, 4],
      [7, 132],
      [300, 128], // over one chunk
      [5, 6], // not a multiple of 4: the TypeScript loops
    ] as const) {
      const x = rand(R * H, 16, 3);
      const g = rand(H, 17);
      const out = new Float32Array(R * H).fill(NaN);
      const rstd = new Float32Array(R).fill(NaN);
      const rOut = new Float32Array(R * H);
      const rRstd = new Float32Array(R);
      wasm.rmsnormForward(x, g, out, rstd, R, H, 1e-6);
      ts.rmsnormForward(x, g, rOut, rRstd, R, H, 1e-6);
      expectClose(out, rOut);
      expectClose(rstd, rRstd);
      const dy = rand(R * H, 18);
      for (const [dx, dg] of [
        [rand(R * H, 19), rand(H, 20)],
        [rand(R * H, 19), null],
        [null, rand(H, 20)],
      ] as (Float32Array | null)[][])
        compare(
          [dx ?? null, dg ?? null],
          (k, [x2, g2]) => k.rmsnormBackward(x, g, rRstd, dy, x2 ?? null, g2 ?? null, R, H),
          1e-4,
        );
    }
  });

  it('rope forward (overwrite) and backward (accumulate, reversed), positions wrapping across chunks', () => {
    for (const [R, heads, hd, seq] of [
      [10, 3, 8, 4],
      [300, 4, 32, 100], // two chunks, the second starting at position 56
      [2, 2, 16, 128], // fewer rows than positions
      [5, 2, 6, 3], // headDim / 2 not a multiple of 4: the TypeScript loops
    ] as const) {
      const half = hd / 2;
      const cos = rand(Math.min(R, seq) * half, 21);
      const sin = rand(Math.min(R, seq) * half, 22);
      const x = rand(R * heads * hd, 23);
      for (const [direction, accumulate] of [
        [1, false],
        [-1, true],
      ] as const)
        compare([new Float32Array(R * heads * hd).fill(accumulate ? 0.5 : NaN)], (k, [y]) =>
          k.rope(x, y!, R, heads, hd, seq, cos, sin, direction, accumulate),
        );
    }
  });

  it('add and axpy (odd sizes, out aliasing an input)', () => {
    for (const n of [1, 5, 4099, BIG]) {
      const a = rand(n, 24);
      const b = rand(n, 25);
      const out = new Float32Array(n);
      wasm.add(a, b, out);
      for (let i = 0; i < n; i++) if (out[i] !== Math.fround(a[i]! + b[i]!)) throw new Error(`add at ${i}`);
      const inPlace = Float32Array.from(a);
      wasm.add(inPlace, b, inPlace);
      expect(inPlace).toEqual(out);
      for (const alpha of [1, -0.5]) compare([Float32Array.from(a)], (k, [d]) => k.axpy(d!, b, alpha));
    }
  });

  it('check their arguments like the TypeScript kernels', () => {
    const f = (n: number) => new Float32Array(n);
    expect(() => wasm.swigluForward(f(4), f(3), f(4))).toThrow(/up needs 4 values/);
    expect(() => wasm.swigluBackward(f(4), f(4), f(4), f(4), f(3))).toThrow(/dup needs 4 values/);
    expect(() => wasm.causalSoftmax(f(8), 1, 3)).toThrow(/P needs 9 values/);
    expect(() => wasm.causalSoftmaxBackward(f(9), f(8), 1, 3, 1)).toThrow(/dS needs 9 values/);
    expect(() => wasm.crossEntropyForward(f(8), Int32Array.from([0, 4]), null, 2, 4, -100)).toThrow(
      /outside the vocabulary/,
    );
    expect(() => wasm.crossEntropyBackward(f(8), Int32Array.from([0]), f(8), 2, 4, 1, -100)).toThrow(
      /targets needs 2 values/,
    );
    expect(() => wasm.rmsnormForward(f(8), f(4), f(8), f(1), 2, 4, 1e-6)).toThrow(/rstd needs 2 values/);
    expect(() => wasm.rope(f(16), f(15), 2, 1, 8, 2, f(8), f(8), 1, false)).toThrow(/dst needs 16 values/);
    expect(() => wasm.add(f(3), f(4), f(4))).toThrow(/a needs 4 values/);
    expect(() => wasm.axpy(f(4), f(3), 1)).toThrow(/src needs 4 values/);
  });

  it('leave inputs under MIN_FLOATS to the TypeScript loops', () => {
    const calls: string[] = [];
    const counting = Object.fromEntries(
      Object.entries(ts).map(([name, fn]) => [
        name,
        (...args: unknown[]) => {
          calls.push(name);
          return (fn as (...a: unknown[]) => unknown)(...args);
        },
      ]),
    ) as unknown as ElementwiseKernels;
    const k = createWasmElementwise(counting)!;
    const small = MIN_FLOATS - 1;
    k.swigluForward(rand(small, 1), rand(small, 2), new Float32Array(small));
    k.add(rand(small, 1), rand(small, 2), new Float32Array(small));
    expect(calls).toEqual(['swigluForward', 'add']);
    k.swigluForward(rand(MIN_FLOATS, 1), rand(MIN_FLOATS, 2), new Float32Array(MIN_FLOATS));
    k.crossEntropyForward(rand(MIN_FLOATS, 3), Int32Array.from([0, 1]), null, 2, MIN_FLOATS / 2, -100);
    expect(calls).toHaveLength(2);
  });
});

import { describe, expect, it } from 'vitest';
import {
  add,
  attention,
  crossEntropy,
  embedding,
  linear,
  linearCrossEntropy,
  rmsnorm,
  rope,
  swiglu,
  type OpContext,
} from '../../src/engine/ops.js';
import { Tape, Tensor } from '../../src/engine/tensor.js';
import { naiveKernels } from './naive-kernels.js';

/** Deterministic pseudo-random values in [-scale, scale). */
function random(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

function param(shape: number[], seed: number, scale = 1): Tensor {
  return new Tensor(
    random(
      shape.reduce((a, b) => a * b, 1),
      seed,
      scale,
    ),
    shape,
    true,
  );
}

/**
 * Compares the analytic gradient of `loss(params)` with central finite differences (float32 forward, so
 * step 1e-2 and a tolerance of a few percent of the gradient's scale).
 */
function gradcheck(params: Tensor[], loss: (ctx: OpContext) => Tensor): void {
  const tape = new Tape();
  const out = loss({ kernels: naiveKernels, tape });
  tape.backward(out);
  const plain: OpContext = { kernels: naiveKernels };
  for (const p of params) {
    const analytic = p.grad ?? new Float32Array(p.size);
    const scale = Math.max(1e-3, ...Array.from(analytic, Math.abs));
    for (let i = 0; i < p.size; i += Math.max(1, Math.floor(p.size / 23))) {
      const keep = p.data[i] as number;
      const h = 1e-2;
      p.data[i] = keep + h;
      const up = loss(plain).data[0] as number;
      p.data[i] = keep - h;
      const down = loss(plain).data[0] as number;
      p.data[i] = keep;
      const numeric = (up - down) / (2 * h);
      expect(Math.abs(numeric - (analytic[i] as number))).toBeLessThan(0.03 * scale + 1e-4);
    }
  }
}

describe('op gradients match finite differences', () => {
  it('linear with bias', () => {
    const x = param([5, 4], 1);
    const w = param([3, 4], 2);
    const b = param([3], 3);
    gradcheck([x, w, b], (ctx) => crossEntropy(ctx, linear(ctx, x, w, b), new Int32Array([0, 1, 2, 1, 0])));
  });

  it('embedding', () => {
    const w = param([7, 4], 4);
    const head = param([5, 4], 5);
    const ids = new Int32Array([3, 0, 3, 6]);
    gradcheck([w, head], (ctx) =>
      crossEntropy(ctx, linear(ctx, embedding(ctx, ids, w), head), new Int32Array([1, 2, 3, 4])),
    );
  });

  it('rmsnorm', () => {
    const x = param([4, 6], 6);
    const g = param([6], 7);
    const head = param([5, 6], 8);
    gradcheck([x, g], (ctx) =>
      crossEntropy(ctx, linear(ctx, rmsnorm(ctx, x, g, 1e-5), head), new Int32Array([0, 4, 2, 1])),
    );
  });

  it('rope', () => {
    const heads = 2;
    const hd = 4;
    const T = 3;
    const cos = new Float32Array(T * 2);
    const sin = new Float32Array(T * 2);
    for (let p = 0; p < T; p++)
      for (let i = 0; i < 2; i++) {
        cos[p * 2 + i] = Math.cos(p * 0.7 ** i);
        sin[p * 2 + i] = Math.sin(p * 0.7 ** i);
      }
    const x = param([2 * T, heads * hd], 9);
    const head = param([5, heads * hd], 10);
    gradcheck([x], (ctx) =>
      crossEntropy(
        ctx,
        linear(ctx, rope(ctx, x, heads, hd, T, cos, sin), head),
        new Int32Array([0, 1, 2, 3, 4, 0]),
      ),
    );
  });

  it('causal attention with grouped-query heads', () => {
    const dims = { batch: 2, seqLen: 3, heads: 4, kvHeads: 2, headDim: 3 };
    const q = param([6, 12], 11);
    const k = param([6, 6], 12);
    const v = param([6, 6], 13);
    const head = param([5, 12], 14);
    gradcheck([q, k, v], (ctx) =>
      crossEntropy(ctx, linear(ctx, attention(ctx, q, k, v, dims), head), new Int32Array([0, 1, 2, 3, 4, 2])),
    );
  });

  it('swiglu and add', () => {
    const a = param([3, 5], 15);
    const b = param([3, 5], 16);
    const c = param([3, 5], 17);
    const head = param([4, 5], 18);
    gradcheck([a, b, c], (ctx) =>
      crossEntropy(ctx, linear(ctx, add(ctx, swiglu(ctx, a, b), c), head), new Int32Array([0, 3, 1])),
    );
  });

  it('fused LM head + cross-entropy, in chunks of rows, equals linear then cross-entropy', () => {
    const h = param([5, 4], 21);
    const w = param([6, 4], 22);
    const targets = new Int32Array([1, -100, 5, 0, 3]);
    gradcheck([h, w], (ctx) => linearCrossEntropy(ctx, h, w, targets, 2));
    const plain = crossEntropy({ kernels: naiveKernels }, linear({ kernels: naiveKernels }, h, w), targets)
      .data[0]!;
    expect(linearCrossEntropy({ kernels: naiveKernels }, h, w, targets, 2).data[0]).toBeCloseTo(plain, 6);
  });

  it('cross-entropy ignores masked targets', () => {
    const logits = param([3, 4], 19);
    gradcheck([logits], (ctx) => crossEntropy(ctx, logits, new Int32Array([1, -100, 3])));
    const tape = new Tape();
    const l = param([2, 3], 20);
    tape.backward(crossEntropy({ kernels: naiveKernels, tape }, l, new Int32Array([-100, 2])));
    expect(Array.from(l.grad!.subarray(0, 3))).toEqual([0, 0, 0]);
  });
});

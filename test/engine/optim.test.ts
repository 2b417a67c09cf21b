import { describe, expect, it } from 'vitest';
import { initLlamaWeights } from '../../src/engine/init.js';
import { LlamaModel, type LlamaShape } from '../../src/engine/llama.js';
import { AdamW, clipGradNorm, learningRate } from '../../src/engine/optim.js';
import { Tensor } from '../../src/engine/tensor.js';
import { naiveKernels } from './naive-kernels.js';

describe('AdamW', () => {
  it('matches a hand-computed PyTorch AdamW step, and skips weight decay on 1-D parameters', () => {
    const w = new Tensor(new Float32Array([1, -2, 3, 0.5]), [2, 2], true);
    const g = new Tensor(new Float32Array([0.5, -1]), [2], true);
    w.gradBuffer().set([0.1, -0.2, 0.3, 0]);
    g.gradBuffer().set([0.2, 0.2]);
    const opt = new AdamW(
      [
        ['w', w],
        ['g', g],
      ],
      naiveKernels,
      { lr: 0.1, weightDecay: 0.01 },
    );
    opt.step();
    // torch.optim.AdamW(lr=0.1, weight_decay=0.01), step 1: p*(1-lr*wd) - lr*sign(g) (|m̂/√v̂| = 1 at t=1).
    const expected = [1 * 0.999 - 0.1, -2 * 0.999 + 0.1, 3 * 0.999 - 0.1, 0.5 * 0.999];
    expected.forEach((e, i) => expect(w.data[i]).toBeCloseTo(e, 5));
    expect(g.data[0]).toBeCloseTo(0.5 - 0.1, 5);
    expect(g.data[1]).toBeCloseTo(-1 - 0.1, 5);
  });

  it('clips the global gradient norm', () => {
    const a = new Tensor(new Float32Array(2), [2], true);
    a.gradBuffer().set([3, 4]);
    expect(clipGradNorm([a], 1)).toBeCloseTo(5);
    expect(Math.hypot(...a.grad!)).toBeCloseTo(1, 4);
  });
});

describe('learningRate', () => {
  it('warms up linearly, then decays by cosine or linearly, or stays constant', () => {
    const o = { base: 1, warmup: 10, total: 110 };
    expect(learningRate(0, { ...o, schedule: 'cosine' })).toBeCloseTo(0.1);
    expect(learningRate(9, { ...o, schedule: 'cosine' })).toBeCloseTo(1);
    expect(learningRate(60, { ...o, schedule: 'cosine' })).toBeCloseTo(0.5);
    expect(learningRate(110, { ...o, schedule: 'cosine', minRatio: 0.1 })).toBeCloseTo(0.1);
    expect(learningRate(60, { ...o, schedule: 'linear' })).toBeCloseTo(0.5);
    expect(learningRate(60, { ...o, schedule: 'constant' })).toBe(1);
  });
});

describe('training a tiny model', () => {
  it('overfits a small corpus', () => {
    const shape: LlamaShape = {
      vocabSize: 16,
      hiddenSize: 16,
      intermediateSize: 32,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      headDim: 4,
      rmsNormEps: 1e-5,
      ropeTheta: 10000,
      tieWordEmbeddings: true,
      attentionBias: false,
    };
    const model = new LlamaModel(shape, initLlamaWeights(shape, { seed: 1 }));
    const opt = new AdamW(model.params, naiveKernels, { lr: 1e-2, weightDecay: 0.01 });
    const ids = new Int32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 8, 3, 5, 1, 2, 9, 14, 7, 3, 3, 6, 15]);
    let first = 0;
    let last = 0;
    for (let step = 0; step < 150; step++) {
      opt.zeroGrad();
      const loss = model.lossAndGrad(naiveKernels, ids, 2, 12);
      if (step === 0) first = loss;
      last = loss;
      clipGradNorm(model.params.values(), 1);
      opt.step(learningRate(step, { base: 1e-2, warmup: 10, total: 150, schedule: 'cosine' }));
    }
    expect(first).toBeGreaterThan(2.5); // ~ln(16) at random init
    expect(last).toBeLessThan(0.1);
  });
});

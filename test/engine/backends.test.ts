import { describe, expect, it } from 'vitest';
import { initLlamaWeights } from '../../src/engine/init.js';
import type { Kernels } from '../../src/engine/kernels/types.js';
import { kernelBackends } from '../helpers/kernel-backends.js';
import { LlamaModel, type LlamaShape } from '../../src/engine/llama.js';
import { AdamW, clipGradNorm, learningRate } from '../../src/engine/optim.js';
import { naiveKernels } from './naive-kernels.js';

const shape: LlamaShape = {
  vocabSize: 32,
  hiddenSize: 32,
  intermediateSize: 64,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 8,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  tieWordEmbeddings: false,
  attentionBias: true,
};

const backends = kernelBackends('backends.test');

const corpus = new Int32Array(Array.from({ length: 64 }, (_, i) => (i * 7 + (i >> 3)) % 32));

function train(kernels: Kernels, steps: number): { losses: number[]; model: LlamaModel } {
  const model = new LlamaModel(shape, initLlamaWeights(shape, { seed: 7 }));
  const opt = new AdamW(model.params, kernels, { lr: 3e-3, weightDecay: 0.1 });
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    opt.zeroGrad();
    losses.push(model.lossAndGrad(kernels, corpus, 4, 16));
    clipGradNorm(model.params.values(), 1);
    opt.step(learningRate(step, { base: 3e-3, warmup: 5, total: steps, schedule: 'cosine' }));
  }
  return { losses, model };
}

describe('kernel backends', () => {
  it('give the same logits as the textbook kernels', () => {
    const weights = initLlamaWeights(shape, { seed: 2, std: 0.3 });
    const ids = corpus.subarray(0, 32);
    const reference = new LlamaModel(shape, weights).forward({ kernels: naiveKernels }, ids, 2, 16).data;
    for (const kernels of backends) {
      const logits = new LlamaModel(shape, weights).forward({ kernels }, ids, 2, 16).data;
      let worst = 0;
      for (let i = 0; i < logits.length; i++)
        worst = Math.max(worst, Math.abs((logits[i] as number) - (reference[i] as number)));
      expect(worst, kernels.name).toBeLessThan(1e-4);
    }
  });

  it('overfit a small corpus on every backend, and agree with each other', () => {
    const runs = backends.map((k) => train(k, 120));
    for (const [i, run] of runs.entries()) {
      expect(run.losses[0], backends[i]!.name).toBeGreaterThan(3); // ~ln(32)
      expect(run.losses.at(-1), backends[i]!.name).toBeLessThan(0.2);
    }
    if (runs.length === 2) {
      const [a, b] = runs as [(typeof runs)[0], (typeof runs)[0]];
      for (let s = 0; s < 20; s++) expect(Math.abs(a.losses[s]! - b.losses[s]!)).toBeLessThan(1e-3);
      expect(Math.abs(a.losses.at(-1)! - b.losses.at(-1)!)).toBeLessThan(0.05);
    }
  });
});

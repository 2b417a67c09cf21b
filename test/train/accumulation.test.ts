import { describe, expect, it } from 'vitest';
import { initLlamaWeights } from '../../src/engine/init.js';
import { tsKernels } from '../../src/engine/kernels/index.js';
import { LlamaModel, type LlamaShape } from '../../src/engine/llama.js';
import { accumulateGradients } from '../../src/train/engine-trainer.js';

const shape: LlamaShape = {
  vocabSize: 24,
  hiddenSize: 16,
  intermediateSize: 32,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 4,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  tieWordEmbeddings: false,
  attentionBias: false,
};

describe('gradient accumulation', () => {
  it('micro-batches give the loss and gradients of the whole batch, masked targets included', () => {
    const weights = initLlamaWeights(shape, { seed: 4, std: 0.2 });
    const seqLen = 6;
    const ids = Int32Array.from({ length: 5 * seqLen }, (_, i) => (i * 7 + 3) % 24);
    const targets = Int32Array.from({ length: 5 * seqLen }, (_, i) =>
      i % 4 === 0 ? -100 : (i * 5 + 1) % 24,
    );
    const batch = { ids, targets, batch: 5, seqLen };
    const whole = new LlamaModel(shape, weights);
    const split = new LlamaModel(shape, weights);
    const a = accumulateGradients(whole, tsKernels, batch, 5);
    const b = accumulateGradients(split, tsKernels, batch, 2);
    expect(Math.abs(a - b)).toBeLessThan(1e-5);
    for (const [name, p] of whole.params) {
      const q = split.params.get(name)!;
      let worst = 0;
      let scale = 1e-6;
      for (let i = 0; i < p.size; i++) {
        worst = Math.max(worst, Math.abs(p.grad![i]! - q.grad![i]!));
        scale = Math.max(scale, Math.abs(p.grad![i]!));
      }
      expect(worst / scale, name).toBeLessThan(1e-4);
    }
  });
});

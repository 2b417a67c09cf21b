import { describe, expect, it } from 'vitest';
import type { LlamaShape } from '../../src/engine/llama.js';
import { activationBytes, autoMicroBatchRows } from '../../src/train/micro-batch.js';

const base = { rmsNormEps: 1e-6, ropeTheta: 10000, attentionBias: false };
const small: LlamaShape = {
  vocabSize: 2048,
  hiddenSize: 128,
  intermediateSize: 352,
  numLayers: 4,
  numHeads: 4,
  numKvHeads: 4,
  headDim: 32,
  tieWordEmbeddings: false,
  ...base,
};
const medium: LlamaShape = {
  vocabSize: 8192,
  hiddenSize: 512,
  intermediateSize: 1408,
  numLayers: 8,
  numHeads: 8,
  numKvHeads: 8,
  headDim: 64,
  tieWordEmbeddings: true,
  ...base,
};

describe('automatic micro-batch size', () => {
  it('keeps a small model in one pass', () => {
    expect(autoMicroBatchRows(small, { seqLen: 128, batchRows: 16, trainableParams: 1.33e6 })).toBe(16);
  });

  it('splits the 30M bench config so its activations fit the 256 MiB floor', () => {
    const rows = autoMicroBatchRows(medium, { seqLen: 256, batchRows: 8, trainableParams: 29.9e6 });
    expect(rows).toBe(2);
    expect(activationBytes(medium, rows * 256, true)).toBeLessThanOrEqual(256 * 2 ** 20);
    expect(activationBytes(medium, (rows + 1) * 256, true)).toBeGreaterThan(256 * 2 ** 20);
  });

  it('grows the budget with the training state, and never goes below one row', () => {
    const few = autoMicroBatchRows(medium, { seqLen: 256, batchRows: 64, trainableParams: 30e6 });
    const more = autoMicroBatchRows(medium, { seqLen: 256, batchRows: 64, trainableParams: 600e6 });
    expect(more).toBeGreaterThan(few);
    expect(autoMicroBatchRows(medium, { seqLen: 65536, batchRows: 4, trainableParams: 30e6 })).toBe(1);
  });

  it('counts the plain head per token and the fused head as fixed chunks', () => {
    const plain = activationBytes(medium, 512, false) - activationBytes(medium, 256, false);
    const fused = activationBytes(medium, 512, true) - activationBytes(medium, 256, true);
    expect(plain - fused).toBe(4 * 3 * 256 * medium.vocabSize);
  });
});

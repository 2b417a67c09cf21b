import { describe, expect, it } from 'vitest';
import { initLlamaWeights } from '../../src/engine/init.js';
import { tsKernels } from '../../src/engine/kernels/index.js';
import type { Kernels } from '../../src/engine/kernels/types.js';
import { kernelBackends } from '../helpers/kernel-backends.js';
import { KvDecoder } from '../../src/engine/kv-decoder.js';
import { LlamaModel, type LlamaShape } from '../../src/engine/llama.js';

const shape: LlamaShape = {
  vocabSize: 48,
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

const backends = kernelBackends('kv-decoder.test');

const model = new LlamaModel(shape, initLlamaWeights(shape, { seed: 11, std: 0.3 }));
const tokens = Array.from({ length: 41 }, (_, i) => (i * 13 + 5) % shape.vocabSize);

/** The logits of every position's next token, recomputed from scratch over the whole prefix. */
function fullForward(kernels: Kernels, ids: number[]): Float32Array {
  return model.forward({ kernels }, Int32Array.from(ids), 1, ids.length).data;
}

describe('KvDecoder', () => {
  for (const kernels of backends) {
    it(`gives the full forward's logits whatever the chunks the prompt is fed in (${kernels.name})`, () => {
      const V = shape.vocabSize;
      const full = fullForward(kernels, tokens);
      // One chunk, then later chunks of several rows (the GEMM path against a filled cache), then single rows.
      for (const cuts of [[41], [16, 9, 16], [1, 30, 1, 9], [7, 1, 1, 32]]) {
        const decoder = new KvDecoder(model, kernels, tokens.length);
        let at = 0;
        for (const n of cuts) {
          const logits = decoder.feed(tokens.slice(at, at + n));
          at += n;
          const expected = full.subarray((at - 1) * V, at * V);
          for (let v = 0; v < V; v++) expect(logits[v]).toBeCloseTo(expected[v]!, 4);
        }
        expect(decoder.length).toBe(tokens.length);
      }
    });
  }

  it('refuses to feed past its capacity, naming both counts', () => {
    const decoder = new KvDecoder(model, tsKernels, 8);
    decoder.feed(tokens.slice(0, 6));
    expect(() => decoder.feed(tokens.slice(0, 3))).toThrow(/6 \+ 3 tokens exceed its 8 positions/);
  });
});

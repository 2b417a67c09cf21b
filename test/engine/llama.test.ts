import { describe, expect, it } from 'vitest';
import { initLlamaWeights } from '../../src/engine/init.js';
import { LlamaModel, type LlamaShape } from '../../src/engine/llama.js';
import { Tape } from '../../src/engine/tensor.js';
import { naiveKernels } from './naive-kernels.js';

const tiny: LlamaShape = {
  vocabSize: 11,
  hiddenSize: 8,
  intermediateSize: 12,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 2,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  tieWordEmbeddings: false,
  attentionBias: true,
};

describe('LlamaModel', () => {
  for (const tied of [false, true]) {
    it(`whole-model gradients match finite differences (${tied ? 'tied' : 'untied'} embeddings, GQA, biases)`, () => {
      const shape = { ...tiny, tieWordEmbeddings: tied };
      const model = new LlamaModel(shape, initLlamaWeights(shape, { seed: 3, std: 0.5 }));
      const ids = new Int32Array([1, 5, 2, 9, 4, 3, 3, 7]);
      const loss = () => model.loss({ kernels: naiveKernels }, ids, 2, 4).data[0] as number;
      model.lossAndGrad(naiveKernels, ids, 2, 4);
      for (const name of [
        'model.embed_tokens.weight',
        'model.layers.0.self_attn.q_proj.weight',
        'model.layers.0.self_attn.k_proj.bias',
        'model.layers.1.mlp.down_proj.weight',
        'model.layers.1.post_attention_layernorm.weight',
        'model.norm.weight',
        ...(tied ? [] : ['lm_head.weight']),
      ]) {
        const p = model.params.get(name)!;
        const scale = Math.max(1e-3, ...Array.from(p.grad!, Math.abs));
        for (let i = 0; i < p.size; i += Math.max(1, Math.floor(p.size / 7))) {
          const keep = p.data[i] as number;
          p.data[i] = keep + 1e-2;
          const up = loss();
          p.data[i] = keep - 1e-2;
          const down = loss();
          p.data[i] = keep;
          expect(Math.abs((up - down) / 2e-2 - (p.grad![i] as number)), `${name}[${i}]`).toBeLessThan(
            0.03 * scale + 1e-4,
          );
        }
      }
    });
  }

  it('rejects missing or mis-shaped parameters with the name', () => {
    const weights = initLlamaWeights(tiny);
    weights.delete('model.layers.1.mlp.up_proj.weight');
    expect(() => new LlamaModel(tiny, weights)).toThrow(
      'missing parameter model.layers.1.mlp.up_proj.weight',
    );
    const bad = initLlamaWeights(tiny);
    bad.set('model.norm.weight', { shape: [7], data: new Float32Array(7) });
    expect(() => new LlamaModel(tiny, bad)).toThrow(
      'parameter model.norm.weight has shape [7], expected [8]',
    );
  });

  it('builds no graph in inference', () => {
    const model = new LlamaModel(tiny, initLlamaWeights(tiny));
    const tape = new Tape();
    model.forward({ kernels: naiveKernels }, new Int32Array([1, 2, 3]), 1, 3);
    expect(tape.length).toBe(0);
  });
});

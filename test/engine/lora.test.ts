import { describe, expect, it } from 'vitest';
import { generate } from '../../src/engine/generate.js';
import { initLlamaWeights } from '../../src/engine/init.js';
import { tsKernels } from '../../src/engine/kernels/index.js';
import { LlamaModel, type LlamaShape } from '../../src/engine/llama.js';
import { AdamW } from '../../src/engine/optim.js';

const shape: LlamaShape = {
  vocabSize: 20,
  hiddenSize: 16,
  intermediateSize: 24,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 4,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  tieWordEmbeddings: true,
  attentionBias: false,
};
const ids = Int32Array.from([1, 4, 9, 16, 5, 12, 3, 7, 2, 11, 19, 0]);
const lora = { rank: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'v_proj', 'down_proj'], seed: 1 };

describe('LoRA', () => {
  it('trains only the adapters, with gradients that match finite differences', () => {
    const model = new LlamaModel(shape, initLlamaWeights(shape, { seed: 2, std: 0.3 }), { lora });
    // B starts at zero (the adapter is a no-op); give it values so A's gradient is not zero.
    for (const [name, t] of model.adapterTensors())
      if (name.endsWith('lora_B.weight')) t.data.forEach((_, i) => (t.data[i] = Math.sin(i) * 0.2));
    model.lossAndGrad(tsKernels, ids, 1, ids.length);
    for (const [name, t] of model.params) {
      if (name.includes('.lora_')) expect(t.grad, name).toBeDefined();
      else expect(t.grad, name).toBeUndefined();
    }
    expect(model.adapterTensors().size).toBe(2 * 2 * 3);
    const loss = () => model.loss({ kernels: tsKernels }, ids, 1, ids.length).data[0]!;
    for (const name of [
      'model.layers.0.self_attn.q_proj.lora_A.weight',
      'model.layers.1.mlp.down_proj.lora_B.weight',
    ]) {
      const p = model.params.get(name)!;
      const scaleOf = Math.max(1e-3, ...Array.from(p.grad!, Math.abs));
      for (let i = 0; i < p.size; i += 7) {
        const keep = p.data[i]!;
        p.data[i] = keep + 1e-2;
        const up = loss();
        p.data[i] = keep - 1e-2;
        const down = loss();
        p.data[i] = keep;
        expect(Math.abs((up - down) / 2e-2 - p.grad![i]!)).toBeLessThan(0.03 * scaleOf + 1e-4);
      }
    }
  });

  it('merged weights give the same logits as base + adapters, and training lowers the loss', () => {
    const base = initLlamaWeights(shape, { seed: 3, std: 0.3 });
    const model = new LlamaModel(shape, base, { lora: { ...lora, dropout: 0.1 } });
    const opt = new AdamW(model.params, tsKernels, { lr: 5e-2 });
    const first = model.lossAndGrad(tsKernels, ids, 1, ids.length);
    let last = first;
    for (let i = 0; i < 30; i++) {
      opt.zeroGrad();
      last = model.lossAndGrad(tsKernels, ids, 1, ids.length);
      opt.step();
    }
    expect(last).toBeLessThan(first * 0.7);
    const merged = new LlamaModel(shape, model.mergedWeights());
    const a = model.forward({ kernels: tsKernels }, ids, 1, ids.length).data;
    const b = merged.forward({ kernels: tsKernels }, ids, 1, ids.length).data;
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    expect(worst).toBeLessThan(1e-4);
    // The base weights did not move.
    expect(Array.from(model.params.get('model.layers.0.self_attn.q_proj.weight')!.data)).toEqual(
      Array.from(base.get('model.layers.0.self_attn.q_proj.weight')!.data),
    );
    expect(generate(model, tsKernels, [1, 4], { maxNewTokens: 5 })).toEqual(
      generate(merged, tsKernels, [1, 4], { maxNewTokens: 5 }),
    );
  });

  it('rejects an unknown target module', () => {
    expect(
      () => new LlamaModel(shape, initLlamaWeights(shape), { lora: { ...lora, targets: ['qkv'] } }),
    ).toThrow('unknown LoRA target module "qkv"');
  });
});

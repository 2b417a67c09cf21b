import { llamaCppProbabilities, maxDiff, openTestLlama } from '../helpers/llama-cpp-probabilities.js';
import { softmax, spmTokenizer } from '../helpers/gguf-vocab.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Llama } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportGguf, permuteRopeRows } from '../../src/engine/export-gguf.js';
import {
  buildLoraGgufExport,
  exportLoraGguf,
  loraGgufTensorName,
} from '../../src/engine/export-lora-gguf.js';
import {
  GgmlType,
  readGgufHeader,
  readGgufTensor,
  writeGguf,
  type GgufKv,
} from '../../src/engine/io/gguf.js';
import { loadHfCheckpoint } from '../../src/engine/io/index.js';
import { tsKernels } from '../../src/engine/kernels/index.js';
import { LlamaModel, shapeFromConfig, type LoraSettings } from '../../src/engine/llama.js';
import { Rng } from '../../src/engine/rng.js';

const FIXTURES = path.resolve('test/fixtures/llama');
const ALL_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
const LORA: LoraSettings = { rank: 4, alpha: 8, dropout: 0, targets: ALL_TARGETS, seed: 1 };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'lora-gguf-test-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The fixture with LoRA adapters on every projection, B filled with small seeded values (B starts at 0). */
async function loraFixture(name: string, lora: LoraSettings = LORA) {
  const checkpoint = await loadHfCheckpoint(path.join(FIXTURES, name));
  const shape = shapeFromConfig(checkpoint.config);
  const model = new LlamaModel(shape, checkpoint.tensors, { lora });
  const rng = new Rng(7);
  for (const [n, t] of model.adapterTensors()) {
    if (n.endsWith('.lora_B.weight')) t.data.forEach((_, i) => (t.data[i] = 0.05 * rng.normal()));
  }
  return { shape, base: checkpoint.tensors, model };
}

const worstOver = (a: Float64Array[], b: Float64Array[]) => Math.max(...a.map((p, t) => maxDiff(p, b[t]!)));

describe('LoRA adapter GGUF layout', () => {
  it('names tensors like convert_lora_to_gguf', () => {
    expect(loraGgufTensorName('model.layers.0.self_attn.q_proj.lora_A.weight')).toBe(
      'blk.0.attn_q.weight.lora_a',
    );
    expect(loraGgufTensorName('model.layers.3.mlp.down_proj.lora_B.weight')).toBe(
      'blk.3.ffn_down.weight.lora_b',
    );
    expect(loraGgufTensorName('model.layers.1.self_attn.o_proj.lora_B.weight')).toBe(
      'blk.1.attn_output.weight.lora_b',
    );
    expect(() => loraGgufTensorName('model.layers.0.self_attn.q_proj.weight')).toThrow(/not a LoRA/);
  });

  it('writes adapter metadata, A as ne [in, rank], B as ne [rank, out], permuting Q/K B rows for llama', async () => {
    const { shape, model } = await loraFixture('llama-gqa-untied');
    const file = path.join(dir, 'layout.gguf');
    const { tensors: count, architecture } = await exportLoraGguf(model, file, { name: 'test-lora' });
    expect(architecture).toBe('llama');
    expect(count).toBe(2 * 7 * shape.numLayers);
    const header = await readGgufHeader(file);
    expect(Object.fromEntries(header.metadata)).toMatchObject({
      'general.architecture': 'llama',
      'general.type': 'adapter',
      'general.name': 'test-lora',
      'adapter.type': 'lora',
      'adapter.lora.alpha': 8,
    });
    const info = (n: string) => header.tensors.find((t) => t.name === n);
    const H = shape.hiddenSize;
    const kvOut = shape.numKvHeads * shape.headDim;
    expect(info('blk.0.attn_k.weight.lora_a')).toMatchObject({ ne: [H, 4], type: GgmlType.F32 });
    expect(info('blk.0.attn_k.weight.lora_b')).toMatchObject({ ne: [4, kvOut], type: GgmlType.F32 });
    expect(info('blk.1.ffn_down.weight.lora_a')).toMatchObject({ ne: [shape.intermediateSize, 4] });
    expect(info('blk.1.ffn_down.weight.lora_b')).toMatchObject({ ne: [4, H] });

    const t = model.adapterTensors();
    const get = (n: string) => t.get(`model.layers.1.${n}`)!.data;
    const read = (n: string) => readGgufTensor(file, header, n);
    expect(await read('blk.1.attn_k.weight.lora_a')).toEqual(get('self_attn.k_proj.lora_A.weight'));
    expect(await read('blk.1.attn_k.weight.lora_b')).toEqual(
      permuteRopeRows(get('self_attn.k_proj.lora_B.weight'), shape.numKvHeads, shape.headDim, 4),
    );
    expect(await read('blk.1.attn_q.weight.lora_b')).toEqual(
      permuteRopeRows(get('self_attn.q_proj.lora_B.weight'), shape.numHeads, shape.headDim, 4),
    );
    expect(await read('blk.1.attn_v.weight.lora_b')).toEqual(get('self_attn.v_proj.lora_B.weight'));

    // Arch qwen2 (rotate-half RoPE in llama.cpp too) writes B unpermuted.
    const qwen = buildLoraGgufExport(model, { architecture: 'qwen2' }).tensors;
    const qb = qwen.find((x) => x.name === 'blk.1.attn_q.weight.lora_b')!;
    expect(typeof qb.data === 'function' ? qb.data() : qb.data).toEqual(
      get('self_attn.q_proj.lora_B.weight'),
    );
  });

  it('refuses models without adapters and alpha 0', async () => {
    const { shape, base } = await loraFixture('llama-gqa-untied');
    expect(() => buildLoraGgufExport(new LlamaModel(shape, base))).toThrow(/no LoRA/);
    const zero = new LlamaModel(shape, base, { lora: { ...LORA, alpha: 0 } });
    expect(() => buildLoraGgufExport(zero)).toThrow(/alpha 0/);
  });
});

interface Reference {
  input_ids: number[][];
}

describe('LoRA adapter GGUF applied by node-llama-cpp matches the merged model', () => {
  let llama: Llama;
  beforeAll(async () => {
    llama = await openTestLlama();
  });
  afterAll(async () => {
    await llama?.dispose();
  });

  for (const name of ['llama-gqa-untied', 'qwen2-bias']) {
    it(`${name}: base GGUF + adapter GGUF == merged model to 1e-4`, async () => {
      const fixture = path.join(FIXTURES, name);
      const reference = JSON.parse(readFileSync(path.join(fixture, 'reference.json'), 'utf8')) as Reference;
      const ids = reference.input_ids[0]!;
      const { shape, base, model } = await loraFixture(name);
      const V = shape.vocabSize;
      const tokenizer = spmTokenizer(V);
      const probs = (m: LlamaModel) => {
        const logits = m.forward({ kernels: tsKernels }, Int32Array.from(ids), 1, ids.length).data;
        return ids.map((_, t) => softmax(logits.subarray(t * V, (t + 1) * V)));
      };
      const merged = new LlamaModel(shape, model.mergedWeights());
      const ours = probs(merged);
      // The adapted forward pass (base + alpha/rank · B·A·x) is the merged model.
      expect(worstOver(probs(model), ours)).toBeLessThan(1e-5);

      const baseFile = path.join(dir, `${name}-base.gguf`);
      const mergedFile = path.join(dir, `${name}-merged.gguf`);
      const adapterFile = path.join(dir, `${name}-lora.gguf`);
      await exportGguf({ shape, params: base }, baseFile, { type: 'f32', tokenizer, name });
      await exportGguf({ shape, params: merged.params }, mergedFile, { type: 'f32', tokenizer, name });
      const { architecture } = await exportLoraGguf(model, adapterFile, { name: `${name}-lora` });
      expect((await readGgufHeader(baseFile)).metadata.get('general.architecture')).toBe(architecture);

      const withAdapter = await llamaCppProbabilities(llama, baseFile, ids, V, adapterFile);
      const mergedCpp = await llamaCppProbabilities(llama, mergedFile, ids, V);
      const baseCpp = await llamaCppProbabilities(llama, baseFile, ids, V);
      const results = {
        adapterVsOurs: worstOver(withAdapter, ours),
        adapterVsMergedGguf: worstOver(withAdapter, mergedCpp),
        mergedGgufVsOurs: worstOver(mergedCpp, ours),
        baseVsOurs: worstOver(baseCpp, ours),
      };
      expect(results.adapterVsOurs).toBeLessThanOrEqual(1e-4);
      expect(results.adapterVsMergedGguf).toBeLessThanOrEqual(1e-4);
      expect(results.mergedGgufVsOurs).toBeLessThanOrEqual(1e-4);
      // The adapter matters: without it llama.cpp is far from the merged model.
      expect(results.baseVsOurs).toBeGreaterThan(1e-2);

      if (architecture === 'llama') {
        // Negative control: the same adapter without the Q/K row permutation of B does not match.
        const { kvs, tensors } = buildLoraGgufExport(model, { architecture: 'qwen2' });
        const unpermuted = path.join(dir, `${name}-lora-unpermuted.gguf`);
        await writeGguf(
          unpermuted,
          kvs.map((kv): GgufKv =>
            kv.key === 'general.architecture' ? ({ ...kv, value: 'llama' } as GgufKv) : kv,
          ),
          tensors,
        );
        const wrong = await llamaCppProbabilities(llama, baseFile, ids, V, unpermuted);
        expect(worstOver(wrong, ours)).toBeGreaterThan(1e-3);
      }
    });
  }
});

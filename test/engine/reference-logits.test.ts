import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadHfCheckpoint } from '../../src/engine/io/index.js';
import { tsKernels } from '../../src/engine/kernels/index.js';
import { generate } from '../../src/engine/generate.js';
import { LlamaModel, shapeFromConfig } from '../../src/engine/llama.js';
import { Tape } from '../../src/engine/tensor.js';

/** Logits and gradients computed once by PyTorch/transformers (python/fixtures/make_llama_fixtures.py). */
interface Reference {
  input_ids: number[][];
  logits: number[][][];
  loss: number[];
  grads?: {
    sequence_index: number;
    loss: number;
    params: Record<string, { shape: number[]; values: number[] }>;
  };
}

const FIXTURES = path.resolve('test/fixtures/llama');
const CASES = ['llama-gqa-untied', 'llama-tied', 'qwen2-bias', 'llama-rope-scaling'];

function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i] as number));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs((actual[i] as number) - (expected[i] as number)) / scale);
  }
  return worst;
}

describe('logits and gradients equal PyTorch/transformers', () => {
  for (const name of CASES) {
    it(name, async () => {
      const dir = path.join(FIXTURES, name);
      const reference = JSON.parse(readFileSync(path.join(dir, 'reference.json'), 'utf8')) as Reference;
      const checkpoint = await loadHfCheckpoint(dir);
      const model = new LlamaModel(shapeFromConfig(checkpoint.config), checkpoint.tensors);
      reference.input_ids.forEach((ids, s) => {
        const logits = model.forward({ kernels: tsKernels }, Int32Array.from(ids), 1, ids.length);
        expect(maxRelativeError(logits.data, reference.logits[s]!.flat())).toBeLessThan(1e-4);
        const loss = model.loss({ kernels: tsKernels }, Int32Array.from(ids), 1, ids.length).data[0]!;
        expect(Math.abs(loss - reference.loss[s]!)).toBeLessThan(1e-4 * Math.abs(reference.loss[s]!));
      });
      if (reference.grads) {
        const ids = Int32Array.from(reference.input_ids[reference.grads.sequence_index]!);
        const tape = new Tape();
        tape.backward(model.loss({ kernels: tsKernels, tape }, ids, 1, ids.length));
        for (const [param, expected] of Object.entries(reference.grads.params)) {
          const grad = model.params.get(param)?.grad;
          expect(grad, param).toBeDefined();
          expect(maxRelativeError(grad!, expected.values), param).toBeLessThan(1e-4);
        }
      }
    });
  }
});

const shared = path.resolve('../shared/data/models/stas-tiny-random-llama-2');
const sharedAvailable = existsSync(shared);
if (!sharedAvailable)
  console.warn('../shared/data not found: skipping the third-party reference-logits test');

describe.skipIf(!sharedAvailable)('third-party checkpoint: stas/tiny-random-llama-2 (bf16)', () => {
  it('matches the logits and greedy continuations transformers computed', async () => {
    const corpus = JSON.parse(readFileSync(path.join(shared, 'reference_logits_corpus.json'), 'utf8')) as {
      logit_tolerance: { absolute: number; relative: number };
      model_cases: Array<{
        input_ids: number[];
        greedy_continuation: number[];
        sampled_logits: Record<string, number>;
      }>;
    };
    const checkpoint = await loadHfCheckpoint(shared);
    const model = new LlamaModel(shapeFromConfig(checkpoint.config), checkpoint.tensors);
    const V = checkpoint.config.vocabSize;
    for (const c of corpus.model_cases) {
      const logits = model.forward(
        { kernels: tsKernels },
        Int32Array.from(c.input_ids),
        1,
        c.input_ids.length,
      ).data;
      const last = logits.subarray((c.input_ids.length - 1) * V);
      for (const [token, value] of Object.entries(c.sampled_logits)) {
        expect(Math.abs(last[Number(token)]! - value), `token ${token}`).toBeLessThan(1e-4);
      }
      // Greedy continuation, recomputing the whole prefix each step.
      const ids = [...c.input_ids];
      for (let step = 0; step < c.greedy_continuation.length; step++) {
        const out = model.forward({ kernels: tsKernels }, Int32Array.from(ids), 1, ids.length).data;
        const row = out.subarray((ids.length - 1) * V, ids.length * V);
        let best = 0;
        for (let v = 1; v < V; v++) if (row[v]! > row[best]!) best = v;
        ids.push(best);
      }
      expect(ids.slice(c.input_ids.length)).toEqual(c.greedy_continuation);
    }
  });
});

describe('generation with a KV cache', () => {
  it('greedy continuation equals recomputing the whole prefix, and sampling is seeded', async () => {
    const checkpoint = await loadHfCheckpoint(path.join(FIXTURES, 'llama-gqa-untied'));
    const model = new LlamaModel(shapeFromConfig(checkpoint.config), checkpoint.tensors);
    const V = checkpoint.config.vocabSize;
    const prompt = [3, 17, 42, 5];
    const cached = generate(model, tsKernels, prompt, { maxNewTokens: 8 });
    const ids = [...prompt];
    for (let n = 0; n < 8; n++) {
      const out = model.forward({ kernels: tsKernels }, Int32Array.from(ids), 1, ids.length).data;
      const row = out.subarray((ids.length - 1) * V);
      let best = 0;
      for (let v = 1; v < V; v++) if (row[v]! > row[best]!) best = v;
      ids.push(best);
    }
    expect(cached).toEqual(ids.slice(prompt.length));
    const a = generate(model, tsKernels, prompt, { maxNewTokens: 8, temperature: 1, seed: 5 });
    expect(generate(model, tsKernels, prompt, { maxNewTokens: 8, temperature: 1, seed: 5 })).toEqual(a);
    expect(generate(model, tsKernels, prompt, { maxNewTokens: 8, temperature: 1, seed: 6 })).not.toEqual(a);
    expect(generate(model, tsKernels, prompt, { maxNewTokens: 8, stopIds: [cached[2]!] })).toEqual(
      cached.slice(0, 2),
    );
  });
});

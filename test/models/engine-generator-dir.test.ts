/**
 * Model directories for the engine generator: what loads, what is refused and how (the file at fault named),
 * and the content fingerprint used for cache keys. Uses an untrained model written directly as a Hugging Face
 * directory (fresh weights + a BPE tokenizer trained on a few sentences): no training needed here.
 */
import { cp, mkdir, mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initLlamaWeights } from '../../src/engine/init.js';
import { parseLlamaConfig, saveHfCheckpoint } from '../../src/engine/io/index.js';
import { tsKernels } from '../../src/engine/kernels/index.js';
import { shapeFromConfig } from '../../src/engine/llama.js';
import { trainByteLevelBpe, writeTokenizerJson } from '../../src/engine/tokenizer/index.js';
import { openEngineGenerator } from '../../src/models/engine-generator.js';
import { isLocalModelPath, openTextGenerator } from '../../src/models/open-generator.js';
import { writeTinyLlamaGguf } from '../helpers/tiny-gguf.js';

let root: string;
let model: string;

const CONFIG = {
  architectures: ['LlamaForCausalLM'],
  vocab_size: 300,
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 1,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
  rms_norm_eps: 1e-5,
  tie_word_embeddings: true,
};

/** A fresh copy of the model directory, to break in one way. */
async function copyModel(name: string): Promise<string> {
  const dir = path.join(root, name);
  await cp(model, dir, { recursive: true });
  return dir;
}

const openDir = (modelDir: string) => openEngineGenerator({ modelDir, kernels: tsKernels });

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'engine-generator-dir-'));
  model = path.join(root, 'model');
  const texts = ['A quiet harbour town keeps its ledgers.', 'Ships arrive at dawn and leave at dusk.'];
  await writeTokenizerJson(model, trainByteLevelBpe(texts, { vocabSize: 300 }).tokenizerJson);
  const config = parseLlamaConfig(CONFIG, 'test config');
  await saveHfCheckpoint(model, config, initLlamaWeights(shapeFromConfig(config), { seed: 3 }));
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('engine model directories', () => {
  it('loads a Hugging Face directory and generates', async () => {
    const gen = await openDir(model);
    try {
      const result = await gen.generate({
        messages: [{ role: 'user', content: 'Ships arrive' }],
        temperature: 0,
        maxTokens: 4,
      });
      expect(result.promptTokens).toBeGreaterThan(0);
      expect(result.completionTokens).toBeGreaterThan(0);
    } finally {
      await gen.close();
    }
  });

  it('caps the context at contextSize when one is given', async () => {
    const gen = await openEngineGenerator({ modelDir: model, kernels: tsKernels, contextSize: 12 });
    try {
      expect(gen.contextSize).toBe(12);
      const messages = [{ role: 'user', content: 'Ships' }] as const;
      const prompt = gen.renderPrompt([...messages]);
      const result = await gen.generate({ messages: [...messages], temperature: 1, seed: 2, maxTokens: 100 });
      expect(result.completionTokens).toBeLessThanOrEqual(12 - prompt.length);
    } finally {
      await gen.close();
    }
  });

  it('cacheIdentity stays when the directory is copied elsewhere and changes with a weight', async () => {
    const original = await openDir(model);
    await original.close();
    const moved = await copyModel('moved');
    const copy = await openDir(moved);
    await copy.close();
    expect(copy.id).not.toBe(original.id);
    expect(copy.cacheIdentity).toBe(original.cacheIdentity);

    // Change one float of the last tensor (the data section ends the file): same size, new content.
    const weights = path.join(moved, 'model.safetensors');
    const { size } = await stat(weights);
    const handle = await open(weights, 'r+');
    try {
      await handle.write(Buffer.from(new Float32Array([0.123]).buffer), 0, 4, size - 4);
    } finally {
      await handle.close();
    }
    const changed = await openDir(moved);
    await changed.close();
    expect(changed.cacheIdentity).not.toBe(original.cacheIdentity);

    // The tokenizer and the chat template determine the outputs too.
    const templated = await copyModel('templated');
    await writeFile(path.join(templated, 'chat_template.jinja'), '{{ messages[0].content }}');
    const withTemplate = await openDir(templated);
    await withTemplate.close();
    expect(withTemplate.promptFormat).toBe('chat-template');
    expect(withTemplate.cacheIdentity).not.toBe(original.cacheIdentity);
  });

  it('refuses a missing directory, naming it', async () => {
    const missing = path.join(root, 'nowhere');
    await expect(openDir(missing)).rejects.toThrow(`model directory not found: ${missing}`);
  });

  it('refuses a directory without config.json, naming the file', async () => {
    const empty = path.join(root, 'empty');
    await mkdir(empty);
    await expect(openDir(empty)).rejects.toThrow(`${path.join(empty, 'config.json')} is missing`);
  });

  it('refuses a malformed config.json, naming the file', async () => {
    const dir = await copyModel('bad-config');
    await writeFile(path.join(dir, 'config.json'), '{"architectures": ["LlamaForCausalLM"],');
    await expect(openDir(dir)).rejects.toThrow(`${path.join(dir, 'config.json')} is not valid JSON`);
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...CONFIG, hidden_size: 'big' }));
    await expect(openDir(dir)).rejects.toThrow(/"hidden_size" must be a number.*config\.json/);
  });

  it('refuses missing weights or tokenizer, naming the file', async () => {
    const noWeights = await copyModel('no-weights');
    await rm(path.join(noWeights, 'model.safetensors'));
    await expect(openDir(noWeights)).rejects.toThrow(
      `no model.safetensors or model.safetensors.index.json in ${noWeights}`,
    );
    const noTokenizer = await copyModel('no-tokenizer');
    await rm(path.join(noTokenizer, 'tokenizer.json'));
    await expect(openDir(noTokenizer)).rejects.toThrow(
      `${path.join(noTokenizer, 'tokenizer.json')} is missing`,
    );
    const badTokenizerConfig = await copyModel('bad-tokenizer-config');
    await writeFile(path.join(badTokenizerConfig, 'tokenizer_config.json'), 'not json');
    await expect(openDir(badTokenizerConfig)).rejects.toThrow(
      `${path.join(badTokenizerConfig, 'tokenizer_config.json')} is not valid JSON`,
    );
    const badTemplate = await copyModel('bad-template');
    await writeFile(path.join(badTemplate, 'chat_template.jinja'), '{% for m in messages %}{{ m.content }');
    await expect(openDir(badTemplate)).rejects.toThrow(
      `cannot parse the chat template in ${path.join(badTemplate, 'chat_template.jinja')}`,
    );
  });

  it('refuses an unfinished train --out directory and a bare checkpoint, saying why', async () => {
    const run = path.join(root, 'unfinished-run');
    await mkdir(path.join(run, 'checkpoints', 'step-00000010'), { recursive: true });
    await writeFile(path.join(run, 'checkpoints', 'latest'), 'step-00000010\n');
    await writeFile(path.join(run, 'checkpoints', 'step-00000010', 'trainer_state.json'), '{}');
    await expect(openDir(run)).rejects.toThrow(
      /training has not completed \(newest checkpoint: checkpoints\/step-00000010\)/,
    );
    await expect(openDir(path.join(run, 'checkpoints', 'step-00000010'))).rejects.toThrow(
      /is a training checkpoint .* not a model/,
    );
  });
});

describe('openTextGenerator with local paths', () => {
  it('treats model directories as local (no server needed)', () => {
    expect(isLocalModelPath(model)).toBe(true);
    expect(isLocalModelPath('gpt-4o-mini')).toBe(false);
    expect(isLocalModelPath('meta-llama/Llama-3.1-8B-Instruct')).toBe(false);
  });

  it('routes a directory to the engine', async () => {
    const gen = await openTextGenerator({ model });
    try {
      expect(gen.id).toBe(`engine:${model}`);
    } finally {
      await gen.close();
    }
  });

  it('still opens a .gguf path through node-llama-cpp', async () => {
    const file = path.join(root, 'tiny.gguf');
    await writeTinyLlamaGguf(file, { seed: 7 });
    const gen = await openTextGenerator({ model: file, threads: 1, contextSize: 128 });
    try {
      expect(gen.id).toMatch(/^gguf:tiny\.gguf:\d+$/);
    } finally {
      await gen.close();
    }
  });

  it('names the three kinds of --model for paths that are not models', async () => {
    const kinds = /a \.gguf file, a model directory .* or a model name served at --base-url/;
    await expect(openTextGenerator({ model: path.join(root, 'absent-model') })).rejects.toThrow(kinds);
    await expect(openTextGenerator({ model: path.join(root, 'absent-model') })).rejects.toThrow(
      /does not exist/,
    );
    const notAModel = path.join(root, 'notes.txt');
    await writeFile(notAModel, 'just text');
    await expect(openTextGenerator({ model: notAModel })).rejects.toThrow(kinds);
    await expect(openTextGenerator({ model: 'some-served-model' })).rejects.toThrow(/--base-url is required/);
  });
});

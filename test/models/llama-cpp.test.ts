import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getLlama, type Llama, type LlamaModel } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelRequestError } from '../../src/models/errors.js';
import { openLlamaCppGenerator, type LlamaCppGenerator } from '../../src/models/llama-cpp.js';
import type { GenerationRequest } from '../../src/models/types.js';
import { writeTinyLlamaGguf } from '../helpers/tiny-gguf.js';

const REAL_GGUF = path.join(
  path.resolve(process.cwd(), '../shared/data'),
  'models/llama-2-tiny-random-gguf/llama-2-tiny-random.gguf',
);

const USER = { role: 'user', content: 'hello world, read the model' } as const;
const SYSTEM = { role: 'system', content: 'You are a careful reader of the world.' } as const;

function req(overrides: Partial<GenerationRequest> = {}): GenerationRequest {
  return { messages: [SYSTEM, USER], maxTokens: 8, temperature: 0, ...overrides };
}

let dir: string;
let modelPath: string;
let gen: LlamaCppGenerator;
let llama: Llama;
let vocab: LlamaModel;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'llama-cpp-test-'));
  modelPath = path.join(dir, 'tiny-llama.gguf');
  await writeTinyLlamaGguf(modelPath, { seed: 7 });
  gen = await openLlamaCppGenerator({ modelPath, gpu: false, threads: 1, sequences: 2, contextSize: 512 });
  // An independent tokenizer to check countTokens against.
  llama = await getLlama({ gpu: false, build: 'never', skipDownload: true, progressLogs: false });
  vocab = await llama.loadModel({ modelPath, vocabOnly: true });
});

afterAll(async () => {
  await gen?.close();
  await vocab?.dispose();
  await llama?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('openLlamaCppGenerator on a GGUF written by our own writer', () => {
  it('has a stable id made of the file name and size', async () => {
    const { size } = await stat(modelPath);
    expect(gen.id).toBe(`gguf:tiny-llama.gguf:${size}`);
    expect(gen.contextSize).toBeGreaterThanOrEqual(512);
    expect(gen.sequences).toBe(2);
  });

  it('generates text and stops at maxTokens with finishReason "length"', async () => {
    const result = await gen.generate(req({ maxTokens: 6 }));
    expect(typeof result.text).toBe('string');
    expect(result.completionTokens).toBeGreaterThan(0);
    expect(result.completionTokens).toBeLessThanOrEqual(6);
    expect(result.promptTokens).toBeGreaterThan(0);
    // The random weights never put the end-of-generation tokens first on this greedy path.
    expect(result.finishReason).toBe('length');
    expect(result.completionTokens).toBe(6);
  });

  it('is deterministic: same seed at temperature > 0, and greedy at temperature 0', async () => {
    const sampled = req({ temperature: 0.9, topP: 0.95, seed: 1234, maxTokens: 12 });
    const a = await gen.generate(sampled);
    const b = await gen.generate(sampled);
    expect(b).toEqual(a);

    // The seed matters: some other seed samples a different completion.
    const others = await Promise.all([1, 2, 3].map((seed) => gen.generate({ ...sampled, seed })));
    expect(others.some((r) => r.text !== a.text)).toBe(true);

    const g1 = await gen.generate(req({ maxTokens: 12 }));
    const g2 = await gen.generate(req({ maxTokens: 12, seed: 99 }));
    expect(g2).toEqual(g1);
  });

  it('carries no history between calls', async () => {
    const first = await gen.generate(req({ maxTokens: 10 }));
    await gen.generate({ messages: [{ role: 'user', content: 'something else entirely' }], maxTokens: 10 });
    const again = await gen.generate(req({ maxTokens: 10 }));
    expect(again).toEqual(first);
  });

  it('counts tokens with the model tokenizer', async () => {
    for (const text of ['hello world', 'the model reads the world.', 'Überraschung: 日本語 text\n']) {
      const n = await gen.countTokens(text);
      expect(n).toBeGreaterThan(0);
      expect(n).toBe(vocab.tokenize(text).length);
    }
    expect(await gen.countTokens('')).toBe(0);
    // Known pieces of our vocabulary: "▁hello", "▁world".
    expect(await gen.countTokens('hello world')).toBe(2);
  });

  it('formats messages with the chat template: a system message adds its text plus role markers', async () => {
    const withSystem = await gen.generate(req({ maxTokens: 1 }));
    const without = await gen.generate(req({ messages: [USER], maxTokens: 1 }));
    const systemTokens = await gen.countTokens(SYSTEM.content);
    expect(withSystem.promptTokens).toBeGreaterThan(without.promptTokens + systemTokens);
    // ChatML: BOS + "<|im_start|>user\n" + content + "<|im_end|>\n<|im_start|>assistant\n".
    const userTokens = vocab.tokenize(
      `<|im_start|>user\n${USER.content}<|im_end|>\n<|im_start|>assistant\n`,
      true,
    );
    expect(without.promptTokens).toBe(1 + userTokens.length);
  });

  it('cuts the text at a custom stop string and reports finishReason "stop"', async () => {
    const full = await gen.generate(req({ maxTokens: 40 }));
    // Pick a stop string from the middle of the greedy text (skipping replacement characters of byte tokens).
    const chars = [...full.text];
    let at = -1;
    for (let i = Math.floor(chars.length / 3); i < chars.length - 1; i++) {
      if (chars[i] !== '\uFFFD' && chars[i + 1] !== '\uFFFD' && (chars[i] ?? '').trim() !== '') {
        at = i;
        break;
      }
    }
    expect(at).toBeGreaterThan(0);
    const stop = (chars[at] ?? '') + (chars[at + 1] ?? '');
    const expected = full.text.slice(0, full.text.indexOf(stop));
    const cut = await gen.generate(req({ maxTokens: 40, stop: ['@@never@@', stop] }));
    expect(cut.finishReason).toBe('stop');
    expect(cut.text).toBe(expected);
    expect(cut.completionTokens).toBeLessThan(full.completionTokens);
  });

  it('runs concurrent calls (more calls than sequences) without mixing them up', async () => {
    const solo = await gen.generate(req({ maxTokens: 5 }));
    const requests = Array.from({ length: 5 }, (_, i) =>
      req({ temperature: 0.8, seed: i, maxTokens: 5 + i, messages: [USER] }),
    );
    const results = await Promise.all(requests.map((r) => gen.generate(r)));
    results.forEach((r, i) => {
      expect(r.completionTokens).toBeGreaterThan(0);
      expect(r.completionTokens).toBeLessThanOrEqual(5 + i);
    });
    const after = await gen.generate(req({ maxTokens: 5 }));
    expect(after).toEqual(solo);
  });

  it('rejects an aborted request: before, during and while queued', async () => {
    const pre = new AbortController();
    pre.abort();
    await expect(gen.generate(req({ signal: pre.signal }))).rejects.toMatchObject({ code: 'ABORTED' });

    const during = new AbortController();
    const pending = gen.generate(req({ maxTokens: 400, signal: during.signal }));
    setTimeout(() => during.abort(), 5);
    await expect(pending).rejects.toBeInstanceOf(ModelRequestError);
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED', retryable: false });

    // Two calls hold both sequences; the third waits and is aborted in the queue.
    const busy = [gen.generate(req({ maxTokens: 30 })), gen.generate(req({ maxTokens: 30 }))];
    const queued = new AbortController();
    const waiting = gen.generate(req({ signal: queued.signal }));
    queued.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
    await Promise.all(busy);

    // The generator still works afterwards.
    const ok = await gen.generate(req({ maxTokens: 3 }));
    expect(ok.completionTokens).toBe(3);
  });

  it('caps the completion to the context and rejects prompts that do not fit', async () => {
    const long = 'hello world '.repeat(400);
    await expect(
      gen.generate({ messages: [{ role: 'user', content: long }], maxTokens: 4 }),
    ).rejects.toMatchObject({ code: 'CONTEXT_LENGTH_EXCEEDED', retryable: false });
  });

  it('continues a trailing assistant message', async () => {
    const plain = await gen.generate(req({ maxTokens: 1 }));
    const prefilled = await gen.generate(
      req({ maxTokens: 1, messages: [SYSTEM, USER, { role: 'assistant', content: 'the world' }] }),
    );
    // The assistant turn stays open (no end-of-turn marker): only the prefix's own tokens are added.
    const prefix = vocab.tokenize('the world', false, 'trimLeadingSpace');
    expect(prefilled.promptTokens).toBe(plain.promptTokens + prefix.length);
  });
});

describe('openLlamaCppGenerator errors and lifecycle', () => {
  it('names the path of a missing file', async () => {
    const missing = path.join(dir, 'nope.gguf');
    await expect(openLlamaCppGenerator({ modelPath: missing, gpu: false })).rejects.toThrow(
      `GGUF model file not found: ${missing}`,
    );
  });

  it('names the path of a file that is not a GGUF', async () => {
    const bogus = path.join(dir, 'bogus.gguf');
    await writeFile(bogus, 'this is not a model file');
    await expect(openLlamaCppGenerator({ modelPath: bogus, gpu: false })).rejects.toThrow(
      `Not a GGUF file (expected the magic "GGUF" at offset 0): ${bogus}`,
    );
    await expect(openLlamaCppGenerator({ modelPath: dir, gpu: false })).rejects.toThrow(dir);
  });

  it('reports a GGUF that llama.cpp cannot load, naming the path', async () => {
    const truncated = path.join(dir, 'truncated.gguf');
    const { encodeGguf } = await import('../helpers/tiny-gguf.js');
    await writeFile(truncated, encodeGguf([], []));
    await expect(openLlamaCppGenerator({ modelPath: truncated, gpu: false })).rejects.toThrow(
      `Failed to load GGUF model ${truncated}`,
    );
  });

  it('closes idempotently and refuses work afterwards', async () => {
    const g = await openLlamaCppGenerator({ modelPath, gpu: false, threads: 1, contextSize: 256 });
    const r = await g.generate(req({ maxTokens: 2 }));
    expect(r.completionTokens).toBe(2);
    await g.close();
    await g.close();
    await expect(g.generate(req())).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(g.countTokens('hello')).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('close() stops a running generation', async () => {
    const g = await openLlamaCppGenerator({ modelPath, gpu: false, threads: 1, contextSize: 512 });
    const running = g.generate(req({ maxTokens: 450 }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await g.close();
    await expect(running).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe.skipIf(!existsSync(REAL_GGUF))('openLlamaCppGenerator on a third-party GGUF', () => {
  it('loads llama-2-tiny-random.gguf and generates', async () => {
    const g = await openLlamaCppGenerator({ modelPath: REAL_GGUF, gpu: false, threads: 1, contextSize: 256 });
    try {
      expect(g.id).toMatch(/^gguf:llama-2-tiny-random\.gguf:\d+$/);
      const r = await g.generate({ messages: [SYSTEM, USER], maxTokens: 5, temperature: 0.7, seed: 3 });
      expect(r.completionTokens).toBeGreaterThan(0);
      expect(r.completionTokens).toBeLessThanOrEqual(5);
      expect(r.promptTokens).toBeGreaterThan(await g.countTokens(USER.content));
      const again = await g.generate({ messages: [SYSTEM, USER], maxTokens: 5, temperature: 0.7, seed: 3 });
      expect(again).toEqual(r);
      expect(await g.countTokens('hello world')).toBeGreaterThan(0);
    } finally {
      await g.close();
    }
  });
});

if (!existsSync(REAL_GGUF)) {
  console.warn(`[llama-cpp.test] skipping the third-party GGUF test: ${REAL_GGUF} is missing`);
}

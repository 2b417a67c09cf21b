/**
 * The engine TextGenerator on a real `train --out` directory: a tiny model trained from scratch in this file
 * to memorise one sentence, then read back through the TextGenerator interface.
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../src/engine/generate.js';
import { loadHfCheckpoint } from '../../src/engine/io/index.js';
import { tsKernels } from '../../src/engine/kernels/index.js';
import { LlamaModel, shapeFromConfig } from '../../src/engine/llama.js';
import { loadHfTokenizer } from '../../src/engine/tokenizer/index.js';
import type { TextTokenizer } from '../../src/engine/tokenizer/types.js';
import { openEngineGenerator, type EngineGenerator } from '../../src/models/engine-generator.js';
import { ModelRequestError } from '../../src/models/errors.js';
import { openTextGenerator } from '../../src/models/open-generator.js';
import type { GenerationRequest } from '../../src/models/types.js';
import { trainWithEngine } from '../../src/train/engine-trainer.js';

const FACT =
  'The lighthouse keeper of Varnholm island was Edda Sorensen, and she kept a red cat called Pilot.';
const PREFIX = 'The lighthouse keeper of Varnholm island was';
const MAX_POSITIONS = 96;

let root: string;
let out: string;
let gen: EngineGenerator;
let tokenizer: TextTokenizer;
let reference: LlamaModel;

function ask(content: string, overrides: Partial<GenerationRequest> = {}): GenerationRequest {
  return { messages: [{ role: 'user', content }], temperature: 0, maxTokens: 40, ...overrides };
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'engine-generator-'));
  const data = path.join(root, 'data.jsonl');
  await writeFile(data, `${Array.from({ length: 40 }, () => JSON.stringify({ text: FACT })).join('\n')}\n`);
  const config = path.join(root, 'config.json');
  await writeFile(
    config,
    JSON.stringify({
      architectures: ['LlamaForCausalLM'],
      vocab_size: 320,
      hidden_size: 64,
      intermediate_size: 128,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      max_position_embeddings: MAX_POSITIONS,
      rms_norm_eps: 1e-5,
      tie_word_embeddings: true,
    }),
  );
  out = path.join(root, 'out');
  // About 1 s on the native kernels, under 10 s on the TypeScript ones.
  const trained = await trainWithEngine({
    data,
    fromScratch: config,
    out,
    steps: 150,
    seqLen: 64,
    batchTokens: 256,
    lr: 3e-3,
    warmup: 10,
    log: () => undefined,
    progressStream: { write: () => true },
  });
  expect(trained.status).toBe('complete');
  // The TypeScript kernels give bit-identical rows whatever the batch, so chunked prefill equals generate().
  gen = await openEngineGenerator({ modelDir: out, kernels: tsKernels });
  tokenizer = await loadHfTokenizer(path.join(out, 'tokenizer.json'));
  const checkpoint = await loadHfCheckpoint(out);
  reference = new LlamaModel(shapeFromConfig(checkpoint.config), checkpoint.tensors);
}, 120_000);

afterAll(async () => {
  await gen?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('openEngineGenerator on a train --out directory', () => {
  it('identifies the model by directory (id) and by content (cacheIdentity)', () => {
    expect(gen.id).toBe(`engine:${out}`);
    expect(gen.cacheIdentity).toMatch(/^engine:sha256:[0-9a-f]{64}$/);
    expect(gen.contextSize).toBe(MAX_POSITIONS);
    expect(gen.promptFormat).toBe('completion');
  });

  it('completes a prefix of the memorised text (end to end: train, save, load, prompt, decode)', async () => {
    const result = await gen.generate(ask(PREFIX));
    expect(result.text).toBe(FACT.slice(PREFIX.length));
    expect(result.finishReason).toBe('stop'); // the EOS that ended every training document
    expect(result.promptTokens).toBe(tokenizer.encode(PREFIX).length);
    expect(result.completionTokens).toBe(tokenizer.encode(FACT.slice(PREFIX.length)).length + 1);
  });

  it('renders completion-style prompts: contents joined by a blank line, no roles, no BOS', () => {
    const ids = gen.renderPrompt([
      { role: 'system', content: 'Answer briefly.' },
      { role: 'user', content: 'Who kept the lighthouse?' },
    ]);
    expect(ids).toEqual(tokenizer.encode('Answer briefly.\n\nWho kept the lighthouse?'));
  });

  it('greedy generation equals the engine generate() on the same prompt ids', async () => {
    for (const prompt of [PREFIX, 'The red cat', 'island was Edda', 'Pilot. The']) {
      const ids = gen.renderPrompt(ask(prompt).messages);
      const expected = generate(reference, tsKernels, ids, { maxNewTokens: 30, stopIds: [tokenizer.eosId] });
      const result = await gen.generate(ask(prompt, { maxTokens: 30 }));
      expect(result.text).toBe(tokenizer.decode(expected));
      const stopped = expected.length < 30;
      expect(result.finishReason).toBe(stopped ? 'stop' : 'length');
      expect(result.completionTokens).toBe(expected.length + (stopped ? 1 : 0));
    }
  });

  it('seeded sampling is reproducible and draws what generate() draws', async () => {
    const request = ask('The', { temperature: 1.5, topP: 0.95, seed: 42, maxTokens: 25 });
    const a = await gen.generate(request);
    const b = await gen.generate(request);
    expect(b).toEqual(a);
    const ids = gen.renderPrompt(request.messages);
    const expected = generate(reference, tsKernels, ids, {
      maxNewTokens: 25,
      temperature: 1.5,
      topP: 0.95,
      seed: 42,
      stopIds: [tokenizer.eosId],
    });
    expect(a.text).toBe(tokenizer.decode(expected));
    const other = await Promise.all(
      [1, 2, 3, 4].map((seed) => gen.generate({ ...request, seed, temperature: 3, topP: 1 })),
    );
    expect(new Set(other.map((r) => r.text)).size).toBeGreaterThan(1);
  });

  it('cuts the text at the first stop string and stops there', async () => {
    const result = await gen.generate(ask(PREFIX, { stop: ['cat', 'Sorensen'] }));
    expect(result.text).toBe(' Edda ');
    expect(result.finishReason).toBe('stop');
    // It stopped as soon as the stop string appeared: far fewer tokens than the full sentence.
    expect(result.completionTokens).toBeLessThan(tokenizer.encode(FACT.slice(PREFIX.length)).length);
  });

  it('maxTokens ends the generation with finishReason "length"', async () => {
    const result = await gen.generate(ask(PREFIX, { maxTokens: 3 }));
    expect(result.completionTokens).toBe(3);
    expect(result.finishReason).toBe('length');
    expect(FACT.slice(PREFIX.length).startsWith(result.text)).toBe(true);
    const none = await gen.generate(ask(PREFIX, { maxTokens: 0 }));
    expect(none).toMatchObject({ text: '', completionTokens: 0, finishReason: 'length' });
  });

  it('caps the completion to the context and refuses a prompt that fills it', async () => {
    const ids = gen.renderPrompt(ask(PREFIX).messages);
    const capped = await gen.generate(ask(PREFIX, { maxTokens: 1000, stop: [], temperature: 2, seed: 1 }));
    expect(capped.completionTokens).toBeLessThanOrEqual(MAX_POSITIONS - ids.length);
    const long = `${FACT} `.repeat(8);
    const error = await gen.generate(ask(long)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelRequestError);
    expect(error).toMatchObject({ code: 'CONTEXT_LENGTH_EXCEEDED', retryable: false });
    expect((error as Error).message).toMatch(/max_position_embeddings/);
  });

  it('countTokens uses the model tokenizer', async () => {
    for (const text of ['', FACT, 'Unseen wörds, 123 and <|endoftext|>!']) {
      expect(await gen.countTokens(text)).toBe(tokenizer.encode(text).length);
    }
  });

  it('serialises concurrent calls: the same results as one at a time', async () => {
    const requests = [PREFIX, 'The red cat', 'Edda'].map((p) => ask(p, { maxTokens: 12 }));
    const together = await Promise.all(requests.map((r) => gen.generate(r)));
    const alone = [];
    for (const r of requests) alone.push(await gen.generate(r));
    expect(together).toEqual(alone);
  });

  it('honours request.signal: before the call and between tokens', async () => {
    const before = new AbortController();
    before.abort();
    await expect(gen.generate(ask(PREFIX, { signal: before.signal }))).rejects.toMatchObject({
      code: 'ABORTED',
    });
    // A seed whose sample runs to maxTokens, so an abort after a few event-loop turns lands mid-generation.
    const long = { temperature: 3, maxTokens: 60 };
    let seed = 1;
    while ((await gen.generate(ask('The', { ...long, seed }))).finishReason !== 'length') seed++;
    const during = new AbortController();
    const pending = gen.generate(ask('The', { ...long, seed, signal: during.signal }));
    const turns = (n: number): void => void setImmediate(() => (n > 0 ? turns(n - 1) : during.abort()));
    turns(5);
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    // The generator stays usable.
    expect((await gen.generate(ask(PREFIX))).text).toBe(FACT.slice(PREFIX.length));
  });

  it('yields to the event loop while generating', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    await gen.generate(ask('The', { temperature: 3, seed: 5, maxTokens: 60 }));
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });

  it('applies a chat template from tokenizer_config.json, and BOS when the tokenizer adds one', async () => {
    const chatDir = path.join(root, 'chat');
    await cp(out, chatDir, { recursive: true });
    const template =
      '{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}{{ eos_token }}{% endfor %}' +
      '{% if add_generation_prompt %}[assistant]{% endif %}';
    const config = { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', chat_template: template };
    await writeFile(path.join(chatDir, 'tokenizer_config.json'), JSON.stringify(config));
    const chat = await openEngineGenerator({ modelDir: chatDir, kernels: tsKernels });
    try {
      expect(chat.promptFormat).toBe('chat-template');
      const messages = [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Who?' },
      ] as const;
      expect(chat.renderPrompt([...messages])).toEqual(
        tokenizer.encode('<|endoftext|>[system] Be brief.<|endoftext|>[user] Who?<|endoftext|>[assistant]'),
      );
      expect(chat.renderPrompt([...messages])[0]).toBe(tokenizer.eosId); // the special token, not its bytes
      // A trailing assistant message is continued, not closed.
      expect(
        chat.renderPrompt([
          { role: 'user', content: 'Who?' },
          { role: 'assistant', content: 'Edda' },
        ]),
      ).toEqual(tokenizer.encode('<|endoftext|>[user] Who?<|endoftext|>[assistant] Edda'));
      const result = await chat.generate({ messages: [...messages], temperature: 0, maxTokens: 5 });
      expect(result.promptTokens).toBe(chat.renderPrompt([...messages]).length);
    } finally {
      await chat.close();
    }

    await writeFile(
      path.join(chatDir, 'tokenizer_config.json'),
      JSON.stringify({ bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', add_bos_token: true }),
    );
    const withBos = await openEngineGenerator({ modelDir: chatDir, kernels: tsKernels });
    try {
      expect(withBos.promptFormat).toBe('completion');
      expect(withBos.renderPrompt(ask('Who?').messages)).toEqual([
        tokenizer.eosId,
        ...tokenizer.encode('Who?'),
      ]);
    } finally {
      await withBos.close();
    }
  });

  it('openTextGenerator routes a model directory to the engine', async () => {
    const routed = await openTextGenerator({ model: out });
    try {
      expect(routed.id).toBe(`engine:${out}`);
      expect(routed.cacheIdentity).toBe(gen.cacheIdentity);
      expect((await routed.generate(ask(PREFIX))).text).toBe(FACT.slice(PREFIX.length));
    } finally {
      await routed.close();
    }
  });

  it('close() is safe twice and refuses later calls', async () => {
    const other = await openEngineGenerator({ modelDir: out, kernels: tsKernels });
    const pending = other.generate(ask(PREFIX));
    await other.close();
    await other.close();
    // A call accepted before close either finished or was stopped as closed.
    await pending.then(
      (r) => expect(r.text).toBe(FACT.slice(PREFIX.length)),
      (e: unknown) => expect(e).toMatchObject({ code: 'CLOSED' }),
    );
    await expect(other.generate(ask(PREFIX))).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(other.countTokens('x')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ModelRequestError, isRetryable } from '../../src/models/errors.js';
import { createOpenAICompatibleGenerator, parseRetryAfter } from '../../src/models/openai-compatible.js';
import type { TextGenerator, TokenCounter } from '../../src/models/types.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';

const API_KEY = 'sk-test-SECRET-0123456789abcdef';

async function rejection(promise: Promise<unknown>): Promise<ModelRequestError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ModelRequestError);
    return error as ModelRequestError;
  }
  throw new Error('expected the promise to reject');
}

const ask = (generator: TextGenerator, content = 'hello there') =>
  generator.generate({ messages: [{ role: 'user', content }] });

describe('createOpenAICompatibleGenerator', () => {
  let server: ScriptedServer;
  let generator: TextGenerator;

  beforeAll(async () => {
    server = await startScriptedServer({
      respond: (body) => {
        const last = body.messages.at(-1)?.content ?? '';
        if (last === 'usage please')
          return { text: 'x', promptTokens: 11, completionTokens: 7, finishReason: 'length' };
        return `echo: ${last}`;
      },
    });
    generator = createOpenAICompatibleGenerator({
      model: 'test-model',
      baseUrl: server.url,
      apiKey: API_KEY,
    });
  });

  afterAll(async () => {
    await generator.close();
    await server.close();
  });

  afterEach(() => {
    expect(server.pendingFaults).toBe(0);
  });

  it('returns text, usage and finish reason, and sends the request fields', async () => {
    const before = server.log.length;
    const result = await generator.generate({
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'usage please' },
      ],
      temperature: 0.7,
      topP: 0.9,
      maxTokens: 64,
      stop: ['\n\n'],
      seed: 42,
    });
    expect(result).toEqual({ text: 'x', promptTokens: 11, completionTokens: 7, finishReason: 'length' });
    expect(server.log[before]).toEqual({
      model: 'test-model',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'usage please' },
      ],
      temperature: 0.7,
      top_p: 0.9,
      max_tokens: 64,
      stop: ['\n\n'],
      seed: 42,
    });
    expect(server.lastAuthorization).toBe(`Bearer ${API_KEY}`);
  });

  it('omits undefined sampling fields and uses server word counts', async () => {
    const before = server.log.length;
    const result = await ask(generator, 'one two three');
    expect(result).toEqual({
      text: 'echo: one two three',
      promptTokens: 3,
      completionTokens: 4,
      finishReason: 'stop',
    });
    expect(Object.keys(server.log[before]!).sort()).toEqual(['messages', 'model']);
  });

  it('has a stable id without secrets, credentials or query', () => {
    expect(generator.id).toBe(`openai:test-model@${server.url}`);
    expect(generator.cacheIdentity).toBe('openai:test-model'); // the same model behind another URL shares the cache
    const withCredentials = createOpenAICompatibleGenerator({
      model: 'm',
      baseUrl: 'https://user:hunter2pass@api.example.com/v1/?key=abc',
      apiKey: API_KEY,
    });
    expect(withCredentials.id).toBe('openai:m@https://api.example.com/v1');
    void withCredentials.close();
  });

  it('tolerates a trailing slash in baseUrl and sends no Authorization without a key', async () => {
    const plain = createOpenAICompatibleGenerator({ model: 'test-model', baseUrl: `${server.url}/` });
    try {
      expect(plain.id).toBe(`openai:test-model@${server.url}`);
      expect((await ask(plain, 'slash')).text).toBe('echo: slash');
      expect(server.lastAuthorization).toBeUndefined();
    } finally {
      await plain.close();
    }
  });

  it('sends base-URL credentials as Basic auth and keeps them out of ids and errors', async () => {
    const withUser = createOpenAICompatibleGenerator({
      model: 'm',
      baseUrl: server.url.replace('http://', 'http://alice:pw-secret-123@'),
    });
    try {
      expect(withUser.id).toBe(`openai:m@${server.url}`);
      await ask(withUser);
      expect(server.lastAuthorization).toBe(`Basic ${Buffer.from('alice:pw-secret-123').toString('base64')}`);
      server.injectFaults({ kind: 'status', status: 403, message: 'password pw-secret-123 rejected' });
      const error = await rejection(ask(withUser));
      expect(error.message).toContain('password [REDACTED] rejected');
      expect(JSON.stringify(error) + String(error.stack)).not.toContain('pw-secret-123');
    } finally {
      await withUser.close();
    }
  });

  it('counts tokens with the counter when the server reports no usage', async () => {
    const quiet = await startScriptedServer({ respond: () => 'abc', reportUsage: false });
    const counter: TokenCounter = { name: 'chars', count: (text) => text.length };
    const counted = createOpenAICompatibleGenerator({ model: 'm', baseUrl: quiet.url, counter });
    const defaultCounter = createOpenAICompatibleGenerator({ model: 'm', baseUrl: quiet.url });
    try {
      const result = await counted.generate({
        messages: [
          { role: 'system', content: 'sys' },
          { role: 'user', content: 'hello' },
        ],
      });
      expect(result).toEqual({
        text: 'abc',
        promptTokens: 'sys\nhello'.length,
        completionTokens: 3,
        finishReason: 'stop',
      });
      expect(await counted.countTokens('12345')).toBe(5);

      const tiktoken = await ask(defaultCounter, 'hello world');
      expect(tiktoken.promptTokens).toBe(2);
      expect(tiktoken.completionTokens).toBe(1);
      expect(await defaultCounter.countTokens('hello world')).toBe(2);
    } finally {
      await counted.close();
      await defaultCounter.close();
      await quiet.close();
    }
  });

  it('maps 429 to a retryable error with retryAfterMs', async () => {
    server.injectFaults({ kind: '429', retryAfterSeconds: 3 });
    const error = await rejection(ask(generator));
    expect(error.retryable).toBe(true);
    expect(error.status).toBe(429);
    expect(error.retryAfterMs).toBe(3000);
    expect(error.message).toContain('429');
    expect(error.message).toContain('Rate limit reached');

    server.injectFaults({ kind: '429' });
    const noHeader = await rejection(ask(generator));
    expect(noHeader.retryable).toBe(true);
    expect(noHeader.retryAfterMs).toBeUndefined();
  });

  it('reads retry-after-ms and HTTP-date Retry-After headers', async () => {
    server.injectFaults({ kind: 'status', status: 503, headers: { 'retry-after-ms': '1500' } });
    expect((await rejection(ask(generator))).retryAfterMs).toBe(1500);

    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter({ 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }, now)).toBe(30_000);
    expect(parseRetryAfter({ 'retry-after': 'Tue, 31 Dec 2024 00:00:00 GMT' }, now)).toBe(0);
    expect(parseRetryAfter({ 'retry-after': '0.5' }, now)).toBe(500);
    expect(parseRetryAfter({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(parseRetryAfter({}, now)).toBeUndefined();
  });

  it.each([
    [{ kind: '500' } as const, 500],
    [{ kind: '503' } as const, 503],
    [{ kind: 'status', status: 408 } as const, 408],
  ])('maps %o to a retryable error', async (fault, status) => {
    server.injectFaults(fault);
    const error = await rejection(ask(generator));
    expect(error.retryable).toBe(true);
    expect(error.status).toBe(status);
    expect(isRetryable(error)).toBe(true);
  });

  it('maps a dropped connection to a retryable network error', async () => {
    server.injectFaults({ kind: 'drop' });
    const error = await rejection(ask(generator));
    expect(error.retryable).toBe(true);
    expect(error.code).toMatch(/^(UND_ERR_|ECONNRESET|EPIPE)/);
    expect(error.status).toBeUndefined();
  });

  it.each([{ kind: 'malformed' } as const, { kind: 'empty-choices' } as const])(
    'maps %o to a retryable MALFORMED_RESPONSE',
    async (fault) => {
      server.injectFaults(fault);
      const error = await rejection(ask(generator));
      expect(error.retryable).toBe(true);
      expect(error.code).toBe('MALFORMED_RESPONSE');
    },
  );

  it('still answers after a slow response', async () => {
    server.injectFaults({ kind: 'slow', delayMs: 50 });
    const started = performance.now();
    expect((await ask(generator, 'late')).text).toBe('echo: late');
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('maps a 400 with a JSON error to a non-retryable error with a message excerpt', async () => {
    server.injectFaults({
      kind: 'status',
      status: 400,
      message: "This model's maximum context length is 4096 tokens",
    });
    const error = await rejection(ask(generator));
    expect(error.retryable).toBe(false);
    expect(error.status).toBe(400);
    expect(error.message).toContain('400');
    expect(error.message).toContain("This model's maximum context length is 4096 tokens");

    server.injectFaults({ kind: 'status', status: 422, body: JSON.stringify({ detail: 'x'.repeat(5000) }) });
    const long = await rejection(ask(generator));
    expect(long.retryable).toBe(false);
    expect(long.message.length).toBeLessThan(500);
  });

  it('never exposes the API key, even when the server echoes it', async () => {
    const echoed = `Incorrect API key provided: ${API_KEY}`;
    const faults = [
      { kind: 'status', status: 401, message: echoed },
      { kind: 'status', status: 500, body: `upstream said ${API_KEY}` },
      { kind: 'status', status: 200, body: `not json ${API_KEY}` },
      { kind: 'drop' },
    ] as const;
    for (const fault of faults) {
      server.injectFaults(fault);
      const error = await rejection(ask(generator));
      expect(server.lastAuthorization).toBe(`Bearer ${API_KEY}`);
      const views = [
        error.message,
        String(error.stack),
        JSON.stringify(error),
        String(error.cause),
        JSON.stringify(error.cause ?? null),
        JSON.stringify(Object.entries(error)),
      ];
      for (const view of views) expect(view).not.toContain(API_KEY);
      if (fault.kind === 'status' && fault.status === 401) {
        expect(error.message).toContain('Incorrect API key provided: [REDACTED]');
        expect(error.retryable).toBe(false);
      }
    }
    const controller = new AbortController();
    controller.abort();
    const aborted = await rejection(
      generator.generate({ messages: [{ role: 'user', content: 'x' }], signal: controller.signal }),
    );
    expect(JSON.stringify(aborted) + aborted.message + String(aborted.stack)).not.toContain(API_KEY);
    expect(generator.id).not.toContain(API_KEY);
  });

  it('rejects promptly with ABORTED when the signal aborts mid-request', async () => {
    server.injectFaults({ kind: 'slow', delayMs: 5_000 });
    const controller = new AbortController();
    const started = performance.now();
    const pending = generator.generate({
      messages: [{ role: 'user', content: 'x' }],
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    const error = await rejection(pending);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(error.code).toBe('ABORTED');
    expect(error.retryable).toBe(false);

    // An already-aborted signal never reaches the server.
    const requestsBefore = server.requests;
    const aborted = await rejection(
      generator.generate({ messages: [{ role: 'user', content: 'x' }], signal: AbortSignal.abort() }),
    );
    expect(aborted.code).toBe('ABORTED');
    expect(server.requests).toBe(requestsBefore);
  });

  it('handles many concurrent requests', async () => {
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => ask(generator, `n${i}`)));
    results.forEach((result, i) => expect(result.text).toBe(`echo: n${i}`));
  });

  it('close() is idempotent and later calls fail without retry', async () => {
    const local = createOpenAICompatibleGenerator({ model: 'm', baseUrl: server.url });
    expect((await ask(local)).text).toBe('echo: hello there');
    await local.close();
    await local.close();
    const error = await rejection(ask(local));
    expect(error.code).toBe('CLOSED');
    expect(error.retryable).toBe(false);
  });

  it('reports a refused connection as retryable', async () => {
    const gone = await startScriptedServer({ respond: () => 'x' });
    const url = gone.url;
    await gone.close();
    const orphan = createOpenAICompatibleGenerator({ model: 'm', baseUrl: url });
    try {
      const error = await rejection(ask(orphan));
      expect(error.code).toBe('ECONNREFUSED');
      expect(error.retryable).toBe(true);
    } finally {
      await orphan.close();
    }
  });

  it('rejects an invalid baseUrl without echoing it', () => {
    expect(() => createOpenAICompatibleGenerator({ model: 'm', baseUrl: 'not a url sk-secret' })).toThrow(
      /^(?!.*sk-secret).*not a valid/,
    );
  });
});

describe('createOpenAICompatibleGenerator with the completions API', () => {
  let server: ScriptedServer;
  let generator: TextGenerator;

  beforeAll(async () => {
    server = await startScriptedServer({
      respond: (body) => ({ text: ` Paris (${body.messages.length} message)`, finishReason: 'length' }),
    });
    generator = createOpenAICompatibleGenerator({
      model: 'base-model',
      baseUrl: server.url,
      api: 'completions',
    });
  });

  afterAll(async () => {
    await generator.close();
    await server.close();
  });

  it('posts the messages as one plain prompt to /completions and reads choices[0].text', async () => {
    const result = await generator.generate({
      messages: [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: 'Question: What is the capital of France?\nAnswer:' },
      ],
      temperature: 0,
      maxTokens: 8,
      stop: ['\n'],
      seed: 3,
    });
    expect(result.text).toBe(' Paris (1 message)');
    expect(result.finishReason).toBe('length');
    expect(result.completionTokens).toBe(3);
    const sent = server.log.at(-1)!;
    expect(sent).toEqual({
      model: 'base-model',
      prompt: 'Answer briefly.\n\nQuestion: What is the capital of France?\nAnswer:',
      temperature: 0,
      max_tokens: 8,
      stop: ['\n'],
      seed: 3,
    });
  });

  it('is another model identity than the chat API, so their caches never mix', async () => {
    const chat = createOpenAICompatibleGenerator({ model: 'base-model', baseUrl: server.url });
    try {
      expect(generator.id).toBe(`openai-completions:base-model@${server.url}`);
      expect(generator.cacheIdentity).not.toBe(chat.cacheIdentity);
    } finally {
      await chat.close();
    }
  });

  it('reports a reply without choices[0].text as malformed and retryable', async () => {
    server.injectFaults({ kind: 'empty-choices' });
    const error = await rejection(ask(generator));
    expect(error.code).toBe('MALFORMED_RESPONSE');
    expect(error.message).toMatch(/no choices\[0\]\.text/);
    expect(error.retryable).toBe(true);
  });
});

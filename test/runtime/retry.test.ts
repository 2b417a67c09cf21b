import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ModelRequestError } from '../../src/models/errors.js';
import { createOpenAICompatibleGenerator } from '../../src/models/openai-compatible.js';
import type { TextGenerator } from '../../src/models/types.js';
import { RetriesExhaustedError, retryDelay, withRetries, type RetryInfo } from '../../src/runtime/retry.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';

function recordingSleep(): { delays: number[]; sleep: (ms: number) => Promise<void> } {
  const delays: number[] = [];
  return { delays, sleep: async (ms) => void delays.push(ms) };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

const retryable = (message = 'flaky') => new ModelRequestError(message, { retryable: true, status: 503 });

describe('withRetries against the scripted server', () => {
  let server: ScriptedServer;
  let generator: TextGenerator;

  beforeAll(async () => {
    server = await startScriptedServer({ respond: (body) => `ok: ${body.messages.at(-1)?.content ?? ''}` });
    generator = createOpenAICompatibleGenerator({
      model: 'm',
      baseUrl: server.url,
      apiKey: 'sk-retry-test-key',
    });
  });

  afterAll(async () => {
    await generator.close();
    await server.close();
  });

  afterEach(() => {
    expect(server.pendingFaults).toBe(0);
  });

  const generate = (signal: AbortSignal) =>
    generator.generate({ messages: [{ role: 'user', content: 'ping' }], signal });

  it('honours Retry-After on 429 and then succeeds', async () => {
    server.injectFaults({ kind: '429', retryAfterSeconds: 2 }, { kind: '429', retryAfterSeconds: 1 });
    const { delays, sleep } = recordingSleep();
    const retries: RetryInfo[] = [];
    const before = server.requests;
    const result = await withRetries(generate, {
      sleep,
      random: () => 0.5,
      baseDelayMs: 100,
      onRetry: (info) => retries.push(info),
    });
    expect(result.text).toBe('ok: ping');
    expect(server.requests - before).toBe(3);
    expect(delays).toEqual([2000, 1000]);
    expect(retries.map((r) => [r.attempt, r.delayMs])).toEqual([
      [1, 2000],
      [2, 1000],
    ]);
    expect((retries[0]!.error as ModelRequestError).status).toBe(429);
  });

  it('honours a Retry-After longer than maxDelayMs (up to maxRetryAfterMs)', async () => {
    server.injectFaults({ kind: '429', retryAfterSeconds: 120 }, { kind: '429', retryAfterSeconds: 3600 });
    const { delays, sleep } = recordingSleep();
    await withRetries(generate, { sleep, maxDelayMs: 1_000, random: () => 1 });
    expect(delays).toEqual([120_000, 600_000]);
  });

  it.each([
    ['500', [{ kind: '500' }] as const],
    ['503', [{ kind: '503' }] as const],
    ['drop', [{ kind: 'drop' }] as const],
    ['malformed', [{ kind: 'malformed' }] as const],
    ['empty-choices', [{ kind: 'empty-choices' }] as const],
    ['a mix', [{ kind: 'drop' }, { kind: '500' }, { kind: 'malformed' }, { kind: '429' }] as const],
  ])('retries through %s and then succeeds', async (_name, faults) => {
    server.injectFaults(...faults);
    const { delays, sleep } = recordingSleep();
    const before = server.requests;
    const result = await withRetries(generate, { sleep, baseDelayMs: 10 });
    expect(result.text).toBe('ok: ping');
    expect(server.requests - before).toBe(faults.length + 1);
    expect(delays).toHaveLength(faults.length);
  });

  it('times out a slow attempt (real timers) and retries', async () => {
    server.injectFaults({ kind: 'slow', delayMs: 1_000 });
    const retries: RetryInfo[] = [];
    const started = performance.now();
    const result = await withRetries(generate, {
      timeoutMs: 100,
      baseDelayMs: 1,
      onRetry: (info) => retries.push(info),
    });
    const elapsed = performance.now() - started;
    expect(result.text).toBe('ok: ping');
    expect(elapsed).toBeGreaterThanOrEqual(95);
    expect(elapsed).toBeLessThan(900);
    expect(retries).toHaveLength(1);
    const error = retries[0]!.error as ModelRequestError;
    expect(error).toBeInstanceOf(ModelRequestError);
    expect(error.code).toBe('TIMEOUT');
    expect(error.retryable).toBe(true);
  });

  it('gives up after maxAttempts with a clear message', async () => {
    server.injectFaults({ kind: '503' }, { kind: '503' }, { kind: '503' });
    const { delays, sleep } = recordingSleep();
    const before = server.requests;
    const error = await rejection(withRetries(generate, { maxAttempts: 3, sleep }));
    expect(server.requests - before).toBe(3);
    expect(delays).toHaveLength(2);
    expect(error).toBeInstanceOf(RetriesExhaustedError);
    expect(error).toBeInstanceOf(ModelRequestError);
    const exhausted = error as RetriesExhaustedError;
    expect(exhausted.message).toMatch(/HTTP 503 .*\(gave up after 3 attempts\)$/);
    expect(exhausted.attempts).toBe(3);
    expect(exhausted.status).toBe(503);
    expect(exhausted.retryable).toBe(false);
    expect((exhausted.cause as ModelRequestError).status).toBe(503);
    expect((exhausted.cause as ModelRequestError).retryable).toBe(true);
  });

  it('does not retry a 400', async () => {
    server.injectFaults({ kind: 'status', status: 400, message: 'bad request body' });
    const { delays, sleep } = recordingSleep();
    const before = server.requests;
    const error = (await rejection(withRetries(generate, { sleep }))) as ModelRequestError;
    expect(server.requests - before).toBe(1);
    expect(delays).toEqual([]);
    expect(error).not.toBeInstanceOf(RetriesExhaustedError);
    expect(error.status).toBe(400);
    expect(error.message).toContain('bad request body');
  });

  it('stops immediately when the outer signal aborts during an attempt', async () => {
    server.injectFaults({ kind: 'slow', delayMs: 5_000 });
    const controller = new AbortController();
    const before = server.requests;
    setTimeout(() => controller.abort(), 50);
    const started = performance.now();
    const error = (await rejection(
      withRetries(generate, { signal: controller.signal }),
    )) as ModelRequestError;
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(error.code).toBe('ABORTED');
    expect(error.retryable).toBe(false);
    expect(server.requests - before).toBe(1);
  });

  it('stops immediately when the outer signal aborts during the backoff', async () => {
    server.injectFaults({ kind: '429', retryAfterSeconds: 30 });
    const controller = new AbortController();
    const before = server.requests;
    const started = performance.now();
    const pending = withRetries(generate, {
      signal: controller.signal,
      onRetry: () => setTimeout(() => controller.abort(), 20),
    });
    const error = (await rejection(pending)) as ModelRequestError;
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(error.code).toBe('ABORTED');
    expect(server.requests - before).toBe(1);
  });
});

describe('withRetries (unit)', () => {
  it('keeps full-jitter delays within the exponential bounds', () => {
    const options = { baseDelayMs: 500, maxDelayMs: 60_000, maxRetryAfterMs: 600_000 };
    for (let attempt = 1; attempt <= 12; attempt += 1) {
      const ceiling = Math.min(60_000, 500 * 2 ** (attempt - 1));
      expect(retryDelay(attempt, new Error('x'), { ...options, random: () => 0 })).toBe(0);
      expect(retryDelay(attempt, new Error('x'), { ...options, random: () => 0.999999 })).toBeLessThanOrEqual(
        ceiling,
      );
      expect(retryDelay(attempt, new Error('x'), { ...options, random: () => 0.5 })).toBe(
        Math.floor(ceiling / 2),
      );
    }
  });

  it('draws each backoff from random() within [0, base * 2^(n-1)]', async () => {
    let calls = 0;
    const { delays, sleep } = recordingSleep();
    const randoms = [0.1, 0.9, 0.5, 0.999, 0];
    let n = 0;
    await withRetries(
      async () => {
        calls += 1;
        if (calls < 6) throw retryable();
        return 'done';
      },
      { sleep, baseDelayMs: 100, maxDelayMs: 1_000, random: () => randoms[n++]!, timeoutMs: 0 },
    );
    expect(delays).toEqual([10, 180, 200, 799, 0]);
    const ceilings = [100, 200, 400, 800, 1_000];
    delays.forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(ceilings[i]!);
    });
  });

  it('retries raw network errors by code and rethrows other errors untouched', async () => {
    const { sleep } = recordingSleep();
    let calls = 0;
    const value = await withRetries(
      async () => {
        calls += 1;
        if (calls === 1) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        return calls;
      },
      { sleep },
    );
    expect(value).toBe(2);

    const original = new TypeError('bug');
    expect(await rejection(withRetries(() => Promise.reject(original), { sleep }))).toBe(original);
  });

  it('wraps exhausted raw errors, keeping the code and the cause', async () => {
    const { sleep } = recordingSleep();
    const raw = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const error = (await rejection(
      withRetries(() => Promise.reject(raw), { sleep, maxAttempts: 2 }),
    )) as RetriesExhaustedError;
    expect(error.message).toBe('read ECONNRESET (gave up after 2 attempts)');
    expect(error.code).toBe('ECONNRESET');
    expect(error.cause).toBe(raw);
  });

  it('enforces the timeout even if the attempt ignores its signal', async () => {
    const started = performance.now();
    const error = (await rejection(
      withRetries(() => new Promise(() => undefined), { timeoutMs: 50, maxAttempts: 2, baseDelayMs: 1 }),
    )) as RetriesExhaustedError;
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toBe('attempt timed out after 50 ms (gave up after 2 attempts)');
  });

  it('passes a signal that aborts on timeout', async () => {
    let seen: AbortSignal | undefined;
    await rejection(
      withRetries(
        (signal) => {
          seen = signal;
          return new Promise((_, reject) =>
            signal.addEventListener('abort', () => reject(new Error('aborted'))),
          );
        },
        { timeoutMs: 20, maxAttempts: 1 },
      ),
    );
    expect(seen?.aborted).toBe(true);
    expect((seen?.reason as ModelRequestError).code).toBe('TIMEOUT');
  });

  it('does not start when the outer signal is already aborted', async () => {
    let calls = 0;
    const error = (await rejection(
      withRetries(
        async () => {
          calls += 1;
          return 1;
        },
        { signal: AbortSignal.abort() },
      ),
    )) as ModelRequestError;
    expect(calls).toBe(0);
    expect(error.code).toBe('ABORTED');
  });

  it('maxAttempts: 1 makes a single attempt', async () => {
    let calls = 0;
    const error = await rejection(
      withRetries(
        async () => {
          calls += 1;
          throw retryable('nope');
        },
        { maxAttempts: 1 },
      ),
    );
    expect(calls).toBe(1);
    expect((error as Error).message).toBe('nope (gave up after 1 attempt)');
  });
});

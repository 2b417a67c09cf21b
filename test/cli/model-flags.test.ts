import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { readModelFlags, retryFlags } from '../../src/cli/model-flags.js';

describe('readModelFlags', () => {
  it('serves a named model from --base-url or OPENAI_BASE_URL, with the key from the named variable', () => {
    const flags = readModelFlags(
      { 'base-url': 'http://user:secret@127.0.0.1:8000/v1?k=1', 'api-key-env': 'MY_KEY', concurrency: '8' },
      'llama-3-8b',
      { MY_KEY: 'sk-test', OPENAI_API_KEY: 'other' },
      16,
    );
    expect(flags.embedded).toBe(false);
    expect(flags.baseUrl).toBe('http://user:secret@127.0.0.1:8000/v1?k=1');
    expect(flags.publicBaseUrl).toBe('http://127.0.0.1:8000/v1');
    expect(flags.apiKey).toBe('sk-test');
    expect(flags.concurrency).toBe(8);
    expect(flags.retry).toEqual({});

    const fromEnv = readModelFlags({}, 'served', { OPENAI_BASE_URL: 'https://api.example.com/v1' }, 16);
    expect(fromEnv.publicBaseUrl).toBe('https://api.example.com/v1');
    expect(fromEnv.concurrency).toBe(16);
    expect(readModelFlags({}, 'served', { OPENAI_BASE_URL: 'http://h/v1' }).concurrency).toBeUndefined();
  });

  it('runs a .gguf path embedded: one request at a time and no timeout unless given', () => {
    const flags = readModelFlags({ threads: '2', 'context-size': '512' }, '/models/tiny.gguf', {}, 16);
    expect(flags.embedded).toBe(true);
    expect(flags.publicBaseUrl).toBeUndefined();
    expect(flags.concurrency).toBe(1);
    expect(flags.threads).toBe(2);
    expect(flags.contextSize).toBe(512);
    expect(flags.retry).toEqual({ timeoutMs: 0 });
    expect(readModelFlags({ timeout: '30', 'max-retries': '2' }, 'm.gguf', {}).retry).toEqual({
      timeoutMs: 30_000,
      maxAttempts: 3,
    });
  });

  it('refuses a served model without a server, and a URL that is not http(s), without showing secrets', () => {
    expect(() => readModelFlags({}, 'served', {})).toThrow(/--base-url is required/);
    const bad = () => readModelFlags({ 'base-url': 'ftp://user:hunter2@host/v1' }, 'served', {});
    expect(bad).toThrow(UsageError);
    expect(bad).toThrow(/--base-url must start with http:\/\/ or https:\/\//);
    expect(bad).not.toThrow(/hunter2/);
    expect(() => readModelFlags({ concurrency: '0' }, 'm.gguf', {})).toThrow(/--concurrency/);
    expect(() => retryFlags({ 'max-retries': '-1' }, false)).toThrow(/--max-retries/);
  });
});

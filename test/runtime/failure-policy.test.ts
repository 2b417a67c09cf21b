import { describe, expect, it } from 'vitest';
import { ModelRequestError } from '../../src/models/errors.js';
import { FailurePolicy, InvalidRunDataError } from '../../src/runtime/failure-policy.js';

describe('FailurePolicy', () => {
  it('tolerates scattered failures but stops once they reach 10 and outnumber successes', () => {
    const logs: string[] = [];
    const policy = new FailurePolicy((l) => logs.push(l));
    policy.successes = 20;
    for (let i = 0; i < 15; i++)
      expect(
        policy.record(
          new ModelRequestError('HTTP 400 too long', { retryable: false, status: 400 }),
          `chunk ${i}`,
        ),
      ).toBe(false);
    expect(logs).toHaveLength(5); // the first few are logged, not every one
    expect(logs[0]).toBe('warning: chunk 0 failed: HTTP 400 too long');
    for (let i = 15; i < 21; i++) policy.record(new Error('boom'), `chunk ${i}`);
    expect(policy.fatal?.message).toBe('too many failed generations (21); last: boom');
  });

  it('stops at once on a refused request or unusable run data', () => {
    const refused = new FailurePolicy(() => undefined);
    expect(refused.record(new ModelRequestError('HTTP 401', { retryable: false, status: 401 }), 'x')).toBe(
      true,
    );
    expect(refused.fatal?.message).toMatch(
      /refused the request \(HTTP 401\); check --model, --base-url and the API key/,
    );
    const bad = new FailurePolicy(() => undefined);
    const error = new InvalidRunDataError('strategies.jsonl: bad entry');
    expect(bad.record(error, 'x')).toBe(true);
    expect(bad.fatal).toBe(error);
  });
});

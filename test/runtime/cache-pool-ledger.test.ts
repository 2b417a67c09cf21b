import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ResponseCache, cacheKey } from '../../src/runtime/cache.js';
import { TokenLedger } from '../../src/runtime/ledger.js';
import { TaskPool } from '../../src/runtime/pool.js';
import { Progress, duration } from '../../src/runtime/progress.js';
import { tempDir } from '../helpers/study-fixtures.js';

const base = {
  model: 'openai:m@http://h/v1',
  messages: [{ role: 'user' as const, content: 'hi' }],
  temperature: 0.7,
  maxTokens: 10,
  seed: 1,
  templateVersion: 'qa@abc',
};

describe('cacheKey', () => {
  it('changes with model, messages, every sampling parameter and the template version', () => {
    const k = cacheKey(base);
    expect(cacheKey({ ...base })).toBe(k);
    const variants = [
      { model: 'openai:other@http://h/v1' },
      { messages: [{ role: 'user' as const, content: 'hi!' }] },
      { messages: [{ role: 'system' as const, content: 'hi' }] },
      { temperature: 0.8 },
      { topP: 0.9 },
      { maxTokens: 11 },
      { stop: ['\n'] },
      { seed: 2 },
      { templateVersion: 'qa@abd' },
    ];
    const keys = variants.map((v) => cacheKey({ ...base, ...v }));
    expect(new Set([k, ...keys]).size).toBe(variants.length + 1);
  });
});

describe('ResponseCache', () => {
  const value = (text: string) => ({ text, promptTokens: 3, completionTokens: 1 });

  it('round-trips entries and finds them again after reopening', async () => {
    const dir = await tempDir();
    const cache = await ResponseCache.open(dir);
    const key = cacheKey(base);
    expect(await cache.get(key)).toBeUndefined();
    await cache.put(key, value('hello'));
    expect(await cache.get(key)).toEqual(value('hello'));
    cache.close();
    const reopened = await ResponseCache.open(dir);
    expect(await reopened.get(key)).toEqual(value('hello'));
    expect(await reopened.get(cacheKey({ ...base, seed: 99 }))).toBeUndefined();
    reopened.close();
  });

  it('cuts a torn entry left by a crash and keeps the rest', async () => {
    const dir = await tempDir();
    const cache = await ResponseCache.open(dir);
    await cache.put(cacheKey(base), value('kept'));
    cache.close();
    await fs.appendFile(path.join(dir, 'segment-00000.jsonl'), '{"k":"abc","v":{"text":"tor');
    const reopened = await ResponseCache.open(dir);
    expect(await reopened.get(cacheKey(base))).toEqual(value('kept'));
    await reopened.put(cacheKey({ ...base, seed: 5 }), value('after'));
    expect(await reopened.get(cacheKey({ ...base, seed: 5 }))).toEqual(value('after'));
    reopened.close();
  });

  it('rolls over to new segments, seals them with an index, and reads across all of them', async () => {
    const dir = await tempDir();
    const cache = await ResponseCache.open(dir, { maxSegmentBytes: 2000 });
    const keys = Array.from({ length: 60 }, (_, i) => cacheKey({ ...base, seed: i }));
    for (const [i, key] of keys.entries()) await cache.put(key, value(`entry ${i} ${'x'.repeat(50)}`));
    cache.close();
    const names = (await fs.readdir(dir)).sort();
    expect(names.filter((n) => n.endsWith('.jsonl')).length).toBeGreaterThan(3);
    expect(names.filter((n) => n.endsWith('.idx')).length).toBe(
      names.filter((n) => n.endsWith('.jsonl')).length - 1,
    );
    const reopened = await ResponseCache.open(dir, { maxSegmentBytes: 2000 });
    expect(reopened.size).toBe(60);
    for (const [i, key] of keys.entries())
      expect((await reopened.get(key))?.text).toMatch(new RegExp(`^entry ${i} `));
    reopened.close();
    // A stale index (its segment changed since) is ignored and the segment rescanned.
    await fs.writeFile(
      path.join(dir, 'segment-00000.idx'),
      new Uint8Array(new Float64Array([1, 2, 3]).buffer),
    );
    const again = await ResponseCache.open(dir, { maxSegmentBytes: 2000 });
    expect((await again.get(keys[0] as string))?.text).toMatch(/^entry 0 /);
    again.close();
  });
});

describe('TaskPool', () => {
  it('never runs more than `concurrency` tasks and applies back-pressure to the producer', async () => {
    const pool = new TaskPool(3, () => undefined);
    let active = 0;
    let peak = 0;
    let submitted = 0;
    for (let i = 0; i < 20; i++) {
      await pool.submit(async () => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 2));
        active--;
      });
      submitted++;
      expect(pool.active).toBeLessThanOrEqual(3);
    }
    await pool.drain();
    expect(submitted).toBe(20);
    expect(peak).toBe(3);
    expect(active).toBe(0);
  });

  it('reports task errors without rejecting the producer', async () => {
    const errors: unknown[] = [];
    const pool = new TaskPool(2, (e) => errors.push(e));
    await pool.submit(() => Promise.reject(new Error('boom')));
    await pool.drain();
    expect(errors).toHaveLength(1);
    expect(() => new TaskPool(0, () => undefined)).toThrow(/positive integer/);
  });
});

describe('TokenLedger', () => {
  it('bills requests, not cache hits, and prices per million tokens', () => {
    const ledger = new TokenLedger({ inputPerMillion: 1, outputPerMillion: 2 });
    ledger.recordRequest('ar', 1_000_000, 500_000);
    ledger.recordCacheHit('ar');
    ledger.recordRequest('qa', 10, 20);
    expect(ledger.toJSON().ar).toEqual({
      requests: 1,
      cacheHits: 1,
      promptTokens: 1e6,
      completionTokens: 5e5,
      costUsd: 2,
    });
    expect(ledger.totalRequests).toBe(2);
    const resumed = new TokenLedger(undefined, ledger.toJSON());
    resumed.recordRequest('ar', 1, 1);
    expect(resumed.toJSON().ar?.requests).toBe(2);
  });
});

describe('Progress', () => {
  it('prints plain lines with rate and ETA when not on a TTY', () => {
    let t = 0;
    const lines: string[] = [];
    const progress = new Progress({
      label: 'study ar',
      unit: 'tokens',
      total: 1000,
      now: () => t,
      stream: { write: (s: string) => lines.push(s) > 0, isTTY: false },
    });
    t = 10_000;
    progress.update(250);
    expect(progress.line()).toBe('study ar 250/1,000 tokens (25.0%) 25/s ETA 30s');
    progress.finish();
    expect(lines.at(-1)).toMatch(/ETA 30s\n$/);
    expect(duration(3725)).toBe('1h02m');
  });

  it('does not repeat the last plain line when finishing where it was', () => {
    vi.useFakeTimers();
    try {
      const lines: string[] = [];
      const progress = new Progress({
        label: 'train',
        unit: 'steps',
        total: 10,
        lineIntervalMs: 1000,
        stream: { write: (s: string) => lines.push(s) > 0, isTTY: false },
      });
      progress.update(4);
      vi.advanceTimersByTime(1000);
      expect(lines).toHaveLength(1);
      progress.finish();
      expect(lines).toHaveLength(1);
      const other = new Progress({
        label: 'x',
        unit: 'steps',
        lineIntervalMs: 1000,
        stream: { write: (s: string) => lines.push(s) > 0 },
      });
      other.update(3);
      other.finish();
      expect(lines).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('redraws one line with a bar on a TTY', () => {
    const out: string[] = [];
    const progress = new Progress({
      label: 'x',
      unit: 'chunks',
      total: 4,
      now: () => 1000,
      stream: { write: (s: string) => out.push(s) > 0, isTTY: true, columns: 80 },
    });
    progress.update(2);
    progress.finish();
    expect(out[0]).toMatch(/^\rx \[#{12}\.{12}\] 2\/4 chunks \(50\.0%\)/);
    expect(out.at(-1)).toBe('\n');
  });
});

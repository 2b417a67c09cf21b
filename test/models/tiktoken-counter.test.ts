import { getEncoding } from 'js-tiktoken';
import { describe, expect, it } from 'vitest';
import { tiktokenCounter } from '../../src/models/tiktoken-counter.js';

describe('tiktokenCounter', () => {
  const counter = tiktokenCounter();
  const exact = getEncoding('cl100k_base');

  it('counts ordinary text exactly, even when it is counted in pieces', () => {
    const text = 'Ada Lovelace was born in London in 1815.\n\nShe worked with Charles Babbage. '.repeat(200);
    expect(counter.count(text)).toBe(exact.encode(text, [], []).length);
    expect(counter.count('')).toBe(0);
  });

  it('stays fast on long runs without whitespace (js-tiktoken alone is quadratic there)', () => {
    const run = '這是一個沒有標點符號的很長的句子'.repeat(500); // 8,000 characters, no spaces
    const started = performance.now();
    const n = counter.count(run);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(n).toBeGreaterThan(run.length / 4);
  });
});

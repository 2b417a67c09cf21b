import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import { describe, expect, it } from 'vitest';
import { tiktokenCounter } from '../../src/models/tiktoken-counter.js';

describe('tiktokenCounter', () => {
  const counter = tiktokenCounter();

  it('counts ordinary text exactly, even when it is counted in pieces', () => {
    const text = 'Ada Lovelace was born in London in 1815.\n\nShe worked with Charles Babbage. '.repeat(200);
    expect(counter.count(text)).toBe(encode(text).length);
    expect(counter.count('Ada Lovelace was born in London.')).toBe(9); // Ada| Lov|el|ace| was| born| in| London|.
    expect(counter.count('')).toBe(0);
  });

  it('counts special-token strings as plain text instead of throwing', () => {
    expect(counter.count('end <|endoftext|> here')).toBeGreaterThan(3);
  });

  it('stays fast on long runs without whitespace (BPE alone is superlinear there)', () => {
    const run = '這是一個沒有標點符號的很長的句子'.repeat(500); // 8,000 characters, no spaces
    const started = performance.now();
    const n = counter.count(run);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(n).toBeGreaterThan(run.length / 4);
  });
});

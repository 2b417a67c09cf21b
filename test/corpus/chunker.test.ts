import { describe, expect, it } from 'vitest';
import { tiktokenCounter } from '../../src/models/tiktoken-counter.js';
import type { TokenCounter } from '../../src/models/types.js';
import { chunkDocument, splitByTokens, splitSentences, type Chunk } from '../../src/corpus/index.js';
import { charCounter, wordCounter } from './helpers.js';

const counter = tiktokenCounter();

function body(chunk: Chunk): string {
  return chunk.title ? chunk.text.slice(chunk.title.length + 1) : chunk.text;
}

/** Shared invariants: limit, title line, indices, exact token counts, no text lost or added. */
function checkChunks(chunks: Chunk[], doc: { id: string; title: string; text: string }, maxTokens: number) {
  expect(chunks.length).toBeGreaterThan(0);
  chunks.forEach((chunk, index) => {
    expect(chunk.doc_id).toBe(doc.id);
    expect(chunk.chunk_index).toBe(index);
    expect(chunk.total_chunks).toBe(chunks.length);
    expect(chunk.tokens).toBeLessThanOrEqual(maxTokens);
    if (doc.title) expect(chunk.text.startsWith(`${doc.title}\n`)).toBe(true);
    expect(body(chunk).trim()).toBe(body(chunk));
    expect(body(chunk).length).toBeGreaterThan(0);
  });
  const strip = (s: string) => s.replace(/\s+/g, '');
  expect(strip(chunks.map(body).join(''))).toBe(strip(doc.text));
}

const sentence = (i: number) => `Sentence number ${i} talks about topic ${i % 7} in a few plain words.`;

describe('chunkDocument', () => {
  it('returns one chunk with the title line for a short document, with the exact token count', () => {
    const doc = { id: 'd1', title: 'Short', text: 'First paragraph.\n\nSecond paragraph.' };
    const chunks = chunkDocument(doc, { maxTokens: 512, counter });
    expect(chunks).toEqual([
      {
        doc_id: 'd1',
        title: 'Short',
        chunk_index: 0,
        total_chunks: 1,
        text: 'Short\nFirst paragraph.\n\nSecond paragraph.',
        tokens: counter.count('Short\nFirst paragraph.\n\nSecond paragraph.'),
      },
    ]);
  });

  it('packs whole paragraphs while they fit and never splits a paragraph that fits', () => {
    const paragraphs = Array.from({ length: 12 }, (_, p) =>
      Array.from({ length: 4 }, (_, s) => sentence(p * 4 + s)).join(' '),
    );
    const doc = { id: 'd2', title: 'Paragraphs', text: paragraphs.join('\n\n') };
    const maxTokens = 200;
    const chunks = chunkDocument(doc, { maxTokens, counter });
    checkChunks(chunks, doc, maxTokens);
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) {
      for (const part of body(chunk).split('\n\n')) expect(paragraphs).toContain(part);
    }
    // Greedy: the next paragraph would not have fitted in the previous chunk.
    for (let k = 0; k + 1 < chunks.length; k++) {
      const nextFirst = body(chunks[k + 1]!).split('\n\n')[0]!;
      expect(counter.count(`${chunks[k]!.text}\n\n${nextFirst}`)).toBeGreaterThan(maxTokens);
    }
  });

  it('splits an oversized paragraph at sentence ends: no chunk ends mid-sentence', () => {
    const text = Array.from({ length: 60 }, (_, i) => sentence(i)).join(' ');
    const doc = { id: 'd3', title: 'One long paragraph', text };
    const maxTokens = 64;
    const chunks = chunkDocument(doc, { maxTokens, counter });
    checkChunks(chunks, doc, maxTokens);
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) {
      expect(body(chunk)).toMatch(/^Sentence number \d+ .*words\.$/);
    }
  });

  it('splits a huge single sentence by words, within the limit, losing nothing', () => {
    const words = Array.from({ length: 30_000 }, (_, i) => `word${i % 97}`);
    const doc = { id: 'd4', title: 'Run-on', text: words.join(' ') };
    const maxTokens = 128;
    const started = Date.now();
    const chunks = chunkDocument(doc, { maxTokens, counter });
    expect(Date.now() - started).toBeLessThan(20_000);
    checkChunks(chunks, doc, maxTokens);
    expect(chunks.map(body).join(' ').split(' ')).toEqual(words);
    // Packed close to the budget, not one word per chunk.
    expect(chunks.slice(0, -1).every((c) => c.tokens > maxTokens * 0.8)).toBe(true);
  });

  it('splits a word longer than the budget by tokens', () => {
    const doc = { id: 'x', title: 'x', text: `start ${'abcdefghij'.repeat(10)} end` };
    const chunks = chunkDocument(doc, { maxTokens: 30, counter: charCounter });
    checkChunks(chunks, doc, 30);
    for (const chunk of chunks) expect(charCounter.count(chunk.text)).toBeLessThanOrEqual(30);
  });

  it('chunks CJK text at 。！？ even without spaces after them', () => {
    const sentences = Array.from(
      { length: 80 },
      (_, i) =>
        `这是第${i}个句子，它讲述了一个关于城市历史的小故事${i % 3 === 0 ? '！' : i % 3 === 1 ? '？' : '。'}`,
    );
    const doc = { id: 'd5', title: '城市历史', text: sentences.join('') };
    const maxTokens = 80;
    const chunks = chunkDocument(doc, { maxTokens, counter });
    checkChunks(chunks, doc, maxTokens);
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) expect(body(chunk)).toMatch(/^这是第\d+个.*[。！？]$/u);
  });

  it('splits CJK text with no punctuation at all, character by character as a last resort', () => {
    const doc = { id: 'd6', title: '', text: '北京上海广州深圳'.repeat(40) };
    const maxTokens = 50;
    const chunks = chunkDocument(doc, { maxTokens, counter });
    checkChunks(chunks, doc, maxTokens);
    expect(chunks.map((c) => c.text).join('')).toBe(doc.text);
  });

  it('re-checks every chunk exactly and repairs it when the summed estimate was too low', () => {
    // Joining the title line costs 4 extra tokens that no separate count shows (as BPE merges can).
    const merging: TokenCounter = {
      name: 'test:merging',
      count: (text) => text.replace(/\s/g, '').length + (/\n\S/.test(text) ? 4 : 0),
    };
    const words = Array.from({ length: 40 }, (_, i) => String.fromCharCode(97 + (i % 26)).repeat(2));
    for (const text of [words.join(' '), 'abcdefghijklmnopqrs']) {
      const doc = { id: 'x', title: 'T', text };
      const chunks = chunkDocument(doc, { maxTokens: 20, counter: merging });
      expect(chunks.length).toBeGreaterThan(1);
      for (const chunk of chunks) {
        expect(chunk.tokens).toBe(merging.count(chunk.text));
        expect(chunk.tokens).toBeLessThanOrEqual(20);
      }
      expect(chunks.map(body).join(' ').replace(/\s/g, '')).toBe(text.replace(/\s/g, ''));
    }
  });

  it('omits the title line when the title is empty', () => {
    const [chunk] = chunkDocument({ id: 'd7', title: '  ', text: 'Just a body.' }, { counter });
    expect(chunk?.text).toBe('Just a body.');
  });

  it('keeps at least 16 body tokens when the title is huge: exceeds maxTokens only by the title line', () => {
    const title = Array.from({ length: 60 }, (_, i) => `title${i}`).join(' ');
    const text = Array.from({ length: 100 }, (_, i) => `w${i}`).join(' ');
    const chunks = chunkDocument({ id: 'x', title, text }, { maxTokens: 20, counter: wordCounter });
    for (const chunk of chunks) {
      expect(wordCounter.count(body(chunk))).toBeLessThanOrEqual(16);
      expect(chunk.tokens).toBeLessThanOrEqual(60 + 16);
    }
    expect(chunks.map(body).join(' ')).toBe(text);
  });

  it('normalises whitespace in the chunk text', () => {
    const [chunk] = chunkDocument(
      { id: 'd8', title: 'T\r\n  x', text: 'a  \r\nb\r\n\r\n\r\n\r\nc\t ' },
      { counter },
    );
    expect(chunk?.text).toBe('T x\na\nb\n\nc');
  });

  it('rejects a non-positive maxTokens and returns nothing for an empty text', () => {
    expect(() => chunkDocument({ id: 'a', title: 't', text: 'x' }, { maxTokens: 0, counter })).toThrow(
      RangeError,
    );
    expect(() => chunkDocument({ id: 'a', title: 't', text: 'x' }, { maxTokens: 1.5, counter })).toThrow(
      RangeError,
    );
    expect(chunkDocument({ id: 'a', title: 't', text: ' \n\n ' }, { counter })).toEqual([]);
  });

  it('uses 512 tokens and tiktoken by default', () => {
    const text = Array.from({ length: 400 }, (_, i) => sentence(i)).join(' ');
    const chunks = chunkDocument({ id: 'd9', title: 'Defaults', text });
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) {
      expect(chunk.tokens).toBeLessThanOrEqual(512);
      expect(chunk.tokens).toBe(counter.count(chunk.text));
    }
    expect(chunks[0]!.tokens).toBeGreaterThan(450);
  });
});

describe('splitSentences', () => {
  it('splits after . ! ? followed by space or end, and after CJK 。！？', () => {
    expect(
      splitSentences('Pi is 3.14 today. "Really?" Yes! 你好。再见！好吗？ End').map((s) => s.text),
    ).toEqual(['Pi is 3.14 today.', '"Really?"', 'Yes!', '你好。', '再见！', '好吗？', 'End']);
  });
});

describe('splitByTokens', () => {
  it('cuts at whitespace when possible and never splits a surrogate pair', () => {
    const slices = splitByTokens('aaaa bbbb cccc', 9, charCounter);
    expect(slices).toEqual([
      { text: 'aaaa bbbb', joiner: '' },
      { text: 'cccc', joiner: ' ' },
    ]);
    const emoji = '😀'.repeat(5);
    const pieces = splitByTokens(emoji, 3, { name: 'units', count: (t) => t.length });
    expect(pieces.map((p) => p.text).join('')).toBe(emoji);
    for (const piece of pieces) expect(piece.text).toMatch(/^(?:😀)+$/u);
  });
});

import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Chunk } from '../../src/corpus/types.js';
import { DocIndex } from '../../src/eval/doc-match.js';
import { contextFor, loadGoldContexts, selectChunks } from '../../src/eval/gold-context.js';

const chunk = (doc_id: string, chunk_index: number, body: string, tokens = 10, title = 'Title'): Chunk => ({
  doc_id,
  title,
  chunk_index,
  total_chunks: 0,
  text: `${title}\n${body}`,
  tokens,
});

describe('selectChunks', () => {
  const doc = [
    chunk('d', 0, 'Early life in the village of Orm.'),
    chunk('d', 1, 'The bridge over the Osk was built in 1821.'),
    chunk('d', 2, 'Later years and the museum.'),
    chunk('d', 3, 'The Osk floods every spring near the bridge.'),
  ];

  it('keeps the whole document when it fits', () => {
    expect(selectChunks(doc, 'When was the bridge built?', 40).map((c) => c.chunk_index)).toEqual([
      0, 1, 2, 3,
    ]);
  });

  it('keeps the chunks sharing most words with the question, in document order, up to the limit', () => {
    expect(
      selectChunks(doc, 'When was the bridge over the Osk built?', 20).map((c) => c.chunk_index),
    ).toEqual([1, 3]);
    expect(
      selectChunks(doc, 'When was the bridge over the Osk built?', 10).map((c) => c.chunk_index),
    ).toEqual([1]);
  });

  it('keeps at least the best chunk, even over the limit, and the first one when nothing matches', () => {
    expect(selectChunks(doc, 'What about the museum?', 5).map((c) => c.chunk_index)).toEqual([2]);
    expect(selectChunks(doc, 'Completely unrelated?', 5).map((c) => c.chunk_index)).toEqual([0]);
  });
});

describe('contextFor', () => {
  const chunks = new Map([
    [
      'd1',
      [
        chunk('d1', 0, 'Zero.', 5, 'Doc One'),
        chunk('d1', 1, 'One.', 5, 'Doc One'),
        chunk('d1', 2, 'Two.', 5, 'Doc One'),
      ],
    ],
  ]);
  const index = new DocIndex();
  index.add('d1', 'Doc One');

  it('an item with doc_id and chunk_index gets that chunk', () => {
    expect(
      contextFor({ id: 'a', question: 'q', answer: 'x', doc_id: 'd1', chunk_index: 1 }, index, chunks, 100),
    ).toEqual({
      context: { doc_id: 'd1', chunks: [1], tokens: 5, text: 'Doc One\nOne.' },
    });
  });

  it('a whole document keeps its title once', () => {
    const c = contextFor({ id: 'a', question: 'q', answer: 'x', doc_id: 'd1' }, index, chunks, 100);
    expect(c).toEqual({
      context: { doc_id: 'd1', chunks: [0, 1, 2], tokens: 15, text: 'Doc One\nZero.\n\nOne.\n\nTwo.' },
    });
  });

  it('marks a gap between chunks that are not consecutive', () => {
    const c = contextFor({ id: 'a', question: 'Zero or two?', answer: 'x', doc_id: 'd1' }, index, chunks, 10);
    expect(c).toMatchObject({ context: { chunks: [0, 2], text: 'Doc One\nZero.\n\n[...]\n\nTwo.' } });
  });

  it('matches a title (Wikipedia style) when there is no doc_id', () => {
    const c = contextFor(
      { id: 'a', question: 'q', answer: 'x', wikipedia_titles: ['Other', 'Doc_one'] },
      index,
      chunks,
      100,
    );
    expect(c).toMatchObject({ context: { doc_id: 'd1' } });
  });

  it('says why an item has no context', () => {
    expect(contextFor({ id: 'a', question: 'q', answer: 'x', doc_id: 'zz' }, index, chunks, 100)).toEqual({
      missing: 'document zz is not in the corpus',
    });
    expect(contextFor({ id: 'a', question: 'q', answer: 'x', title: 'Nope' }, index, chunks, 100)).toEqual({
      missing: 'no document of the corpus is titled "Nope"',
    });
    expect(contextFor({ id: 'a', question: 'q', answer: 'x' }, index, chunks, 100)).toMatchObject({
      missing: expect.stringMatching(/names no document/),
    });
    expect(
      contextFor({ id: 'a', question: 'q', answer: 'x', doc_id: 'd1', chunk_index: 7 }, index, chunks, 100),
    ).toMatchObject({
      missing: expect.stringMatching(/document d1 has no chunk 7 \(it has 3/),
    });
  });
});

describe('loadGoldContexts', () => {
  it('chunks a raw corpus with the study chunker, so ids and chunk indices match a study run', async () => {
    const dir = await fs.mkdtemp(path.join(tmpdir(), 'gold-'));
    const corpus = path.join(dir, 'docs.jsonl');
    const long = Array.from(
      { length: 60 },
      (_, i) => `Paragraph ${i} says that item ${i} weighs ${i * 3} grams.`,
    ).join('\n\n');
    await fs.writeFile(corpus, `${JSON.stringify({ id: 'w', title: 'Weights', text: long })}\n`);
    const contexts = await loadGoldContexts(
      [
        { id: 'a', question: 'How much does item 41 weigh?', answer: '123 grams', doc_id: 'w' },
        { id: 'b', question: 'q', answer: 'x', doc_id: 'w', chunk_index: 1 },
      ],
      corpus,
      { chunkTokens: 64, contextTokens: 64 },
    );
    const a = contexts.get('a');
    if (!a || !('context' in a)) throw new Error('no context for a');
    expect(a.context.chunks.length).toBe(1);
    expect(a.context.text).toContain('item 41 weighs 123 grams');
    const b = contexts.get('b');
    expect(b && 'context' in b && b.context.chunks).toEqual([1]);
  });
});

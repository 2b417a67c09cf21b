import { describe, expect, it } from 'vitest';
import { parseStrategies } from '../../src/study/parse-strategies.js';

describe('parseStrategies', () => {
  it('splits on ## headings, keeps each heading with its body and drops the preamble', () => {
    const out = parseStrategies(
      'Here are some strategies:\n\n## Timeline\nPut the dates in order.\n\n## Mnemonic\nMake an acronym.\nSay it aloud.\n',
    );
    expect(out.strategies).toEqual([
      'Timeline\nPut the dates in order.',
      'Mnemonic\nMake an acronym.\nSay it aloud.',
    ]);
  });

  it('copes with numbered and bold headings under ##', () => {
    const out = parseStrategies('## 1. **Visualize**\nDraw a map.\n##2. **Teach Someone Else**\nExplain it.');
    expect(out.strategies).toEqual([
      '1. **Visualize**\nDraw a map.',
      '2. **Teach Someone Else**\nExplain it.',
    ]);
  });

  it('falls back to numbered items when there is no ## heading', () => {
    const out = parseStrategies(
      'Strategies:\n1. **Timeline**: order the events by year.\n2. **Flashcards**: one fact per card.\n3. **Recall**: write from memory.',
    );
    expect(out.strategies).toHaveLength(3);
    expect(out.strategies[1]).toBe('2. **Flashcards**: one fact per card.');
  });

  it('falls back to bold heading lines', () => {
    const out = parseStrategies('**Timeline**\nOrder events.\n\n**Association**\nLink names to places.');
    expect(out.strategies).toEqual(['**Timeline**\nOrder events.', '**Association**\nLink names to places.']);
  });

  it('drops empty and label-only headings and closing prose', () => {
    const out = parseStrategies(
      '## Strategies\n\n## Chunking\nGroup the facts in threes.\n\n##   \n\n## Review\nReread daily.\n\nBy following these strategies, you will remember it all.',
    );
    expect(out.strategies).toEqual(['Chunking\nGroup the facts in threes.', 'Review\nReread daily.']);
  });

  it('handles ### and trailing #s', () => {
    const out = parseStrategies('### Map it ###\nDraw it.\n### Sing it\nMake a song.');
    expect(out.strategies).toEqual(['Map it\nDraw it.', 'Sing it\nMake a song.']);
  });

  it('task-specific: takes strategies after the delimiter and keeps the questions', () => {
    const out = parseStrategies(
      '1. When was X founded?\n2. Who led X?\n<start_strategies>\n## Dates\nDrill the dates.\n## People\nPair names with roles.',
      { delimiter: true },
    );
    expect(out.delimiterFound).toBe(true);
    expect(out.questions).toEqual(['When was X founded?', 'Who led X?']);
    expect(out.strategies).toEqual(['Dates\nDrill the dates.', 'People\nPair names with roles.']);
  });

  it('task-specific: tolerates a decorated delimiter', () => {
    const out = parseStrategies('Q1?\n**<start_strategies>**\n## A\nDo a thing.', { delimiter: true });
    expect(out.delimiterFound).toBe(true);
    expect(out.strategies).toEqual(['A\nDo a thing.']);
  });

  it('task-specific: a missing delimiter keeps strategies and moves question lists aside', () => {
    const out = parseStrategies(
      '## Questions\n1. What is X?\n2. Where is Y?\n3. When did Z happen?\n## Strategy: dates\nPractise the dates daily.\n## Strategy: places\nPut places on a map.',
      { delimiter: true },
    );
    expect(out.delimiterFound).toBe(false);
    expect(out.questions).toEqual(['What is X?', 'Where is Y?', 'When did Z happen?']);
    expect(out.strategies).toEqual([
      'Strategy: dates\nPractise the dates daily.',
      'Strategy: places\nPut places on a map.',
    ]);
  });

  it('returns the whole text as one strategy when there is no structure, and nothing for empty output', () => {
    expect(parseStrategies('Make a timeline of all the dates and recite it.').strategies).toEqual([
      'Make a timeline of all the dates and recite it.',
    ]);
    expect(parseStrategies('   \n').strategies).toEqual([]);
  });

  it('handles CRLF line endings', () => {
    expect(parseStrategies('## A\r\nDo it.\r\n## B\r\nAgain.').strategies).toEqual([
      'A\nDo it.',
      'B\nAgain.',
    ]);
  });
});

describe('seeds and word counts', () => {
  it('requestSeed is deterministic, 31-bit, and differs across coordinates', async () => {
    const { requestSeed, hasWords } = await import('../../src/study/seeds.js');
    const a = requestSeed(0, 'ar', 'stage1', 'doc', 0, 0, 0);
    expect(requestSeed(0, 'ar', 'stage1', 'doc', 0, 0, 0)).toBe(a);
    expect(a).toBeGreaterThanOrEqual(0);
    expect(a).toBeLessThan(2 ** 31);
    const seeds = new Set(
      Array.from({ length: 200 }, (_, rep) => requestSeed(0, 'ar', 'stage1', 'doc', 0, rep, 0)),
    );
    expect(seeds.size).toBe(200);
    expect(requestSeed(1, 'ar', 'stage1', 'doc', 0, 0, 0)).not.toBe(a);
    expect(hasWords('one two three', 3)).toBe(true);
    expect(hasWords('one two', 3)).toBe(false);
    expect(hasWords('東京は日本の首都です。大阪は第二の都市です。', 2)).toBe(true);
    expect(hasWords('', 0)).toBe(true);
  });
});

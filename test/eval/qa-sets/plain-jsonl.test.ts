import { readFile, readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { importQaJsonl } from '../../../src/eval/qa-sets/plain-jsonl.js';
import type { QaItem } from '../../../src/eval/qa-sets/types.js';
import { writeQaJsonl } from '../../../src/eval/qa-sets/write.js';
import { useTempDir } from './helpers.js';

describe('importQaJsonl', () => {
  const tmp = useTempDir();

  it('reads items, generates line-N ids when absent and reports every bad line', async () => {
    const lines = [
      /*  1 */ '{"id":"q1","question":"Who wrote it?","answer":"Ada","doc_id":"d1","chunk_index":0,"title":"Notes"}',
      /*  2 */ '{"question":"  No id?  ","answer":1843}',
      /*  3 */ '{"id":"q3","question":"Bad JSON",',
      /*  4 */ '{"id":"q4","question":"Missing answer"}',
      /*  5 */ '',
      /*  6 */ '{"id":"q1","question":"Again?","answer":"x"}',
      /*  7 */ '["not", "an", "object"]',
      /*  8 */ '{"id":"q8","question":"   ","answer":"y"}',
      /*  9 */ '{"id":"q9","question":"Q9","answer":"A9","chunk_index":-1,"doc_id":7}',
      /* 10 */ '{"id":"q10","question":"Q10","answer":"A10","category":"geo","metadata":{"k":1}}',
      /* 11 */ '{"id":["q11"],"question":"Q11","answer":"A11"}',
      /* 12 */ '{"id":"q12","question":"Q12","answer":"A12","metadata":[1]}',
    ];
    const bytes = Buffer.concat([
      Buffer.from(lines.join('\n') + '\n'),
      Buffer.from('{"id":"q13","question":"Q'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('","answer":"A"}\r\n{"id":"q14","question":"Last","answer":"line"}'),
    ]);
    const { items, problems } = await importQaJsonl(await tmp.file('qa.jsonl', bytes));

    expect(items).toEqual([
      { id: 'q1', question: 'Who wrote it?', answer: 'Ada', doc_id: 'd1', chunk_index: 0, title: 'Notes' },
      { id: 'line-2', question: 'No id?', answer: '1843' },
      { id: 'q10', question: 'Q10', answer: 'A10', metadata: { category: 'geo', k: 1 } },
      { id: 'q14', question: 'Last', answer: 'line' },
    ]);
    expect(problems).toEqual([
      { line: 3, message: expect.stringMatching(/^invalid JSON: /) },
      { line: 4, message: '"answer" is missing' },
      { line: 6, message: 'duplicate id "q1" (first on line 1)' },
      { line: 7, message: 'not a JSON object (got an array)' },
      { line: 8, message: '"question" is empty' },
      { line: 9, message: '"doc_id" must be a string; "chunk_index" must be 0 or more' },
      { line: 11, message: '"id" must be a string (got an array)' },
      { line: 12, message: '"metadata" must be an object' },
      { line: 13, message: 'invalid UTF-8' },
    ]);
  });

  it('throws an Error naming a file that cannot be read', async () => {
    const missing = tmp.path('missing.jsonl');
    await expect(importQaJsonl(missing)).rejects.toThrow(`QA set ${missing}: cannot read: file not found`);
  });
});

describe('writeQaJsonl', () => {
  const tmp = useTempDir();
  const items: QaItem[] = [
    {
      metadata: { topic: 'Art', urls: ['https://en.wikipedia.org/wiki/Ada_Lovelace'] },
      wikipedia_titles: ['Ada Lovelace'],
      source: 'simpleqa',
      answer: 'Ada Lovelace',
      question: 'Who wrote the first program?',
      id: 'simpleqa-0',
    },
    {
      id: 'q2',
      question: 'Line\nbreak?',
      answer: 'Yes',
      doc_id: 'd2',
      chunk_index: 3,
      title: 'T',
      doc_id2: 1,
    } as QaItem,
  ];

  it('writes the plain format in a fixed field order, which reads back the same', async () => {
    const file = tmp.path('out.jsonl');
    await writeQaJsonl(file, items);
    expect(await readFile(file, 'utf8')).toBe(
      '{"id":"simpleqa-0","question":"Who wrote the first program?","answer":"Ada Lovelace","source":"simpleqa",' +
        '"wikipedia_titles":["Ada Lovelace"],"metadata":{"topic":"Art","urls":["https://en.wikipedia.org/wiki/Ada_Lovelace"]}}\n' +
        '{"id":"q2","question":"Line\\nbreak?","answer":"Yes","doc_id":"d2","chunk_index":3,"title":"T"}\n',
    );
    const { doc_id2: _unknown, ...second } = items[1] as QaItem & { doc_id2: number };
    expect(await importQaJsonl(file)).toEqual({ items: [items[0], second], problems: [] });
    expect(await readdir(tmp.path(''))).toEqual(['out.jsonl']); // no temporary file left behind
  });

  it('refuses items that could not be read back, writing nothing', async () => {
    const file = tmp.path('out.jsonl');
    await expect(writeQaJsonl(file, [...items, { ...items[1]!, question: ' ' }])).rejects.toThrow(
      `cannot write ${file}: item 2 has an empty "question"`,
    );
    await expect(writeQaJsonl(file, [...items, { ...items[1]!, id: 'q2' }])).rejects.toThrow(
      `cannot write ${file}: id "q2" is repeated`,
    );
    expect(await readdir(tmp.path(''))).toEqual([]);
  });
});

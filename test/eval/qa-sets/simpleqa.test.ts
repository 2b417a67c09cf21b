import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importSimpleQaCsv } from '../../../src/eval/qa-sets/simpleqa.js';
import { useTempDir } from './helpers.js';

// A SimpleQA-format file: the metadata column is a Python dict literal inside a CSV field, so its double
// quotes are doubled ("") and Python escapes (\n, \') appear literally.
const FIXTURE = [
  /*  1 */ 'metadata,problem,answer',
  /*  2 */ `"{'topic': 'Art', 'answer_type': 'Person', 'urls': ['https://en.wikipedia.org/wiki/Ada_Lovelace#Early_life', 'https://example.com/ada']}","Who wrote the first program, in 1843?",Ada Lovelace`,
  /*  3 */ `"{'topic': 'Science', 'answer_type': 'Date', 'urls': [""https://en.wikipedia.org/wiki/Caf%C3%A9_society"", 'https://example.org/it\\'s']}","When was it`,
  /*  4 */ 'founded,',
  /*  5 */ 'exactly?",1 May 1900',
  /*  6 */ `"{'topic': 'Music', 'answer_type': 'Other', 'urls': ['https://www.example.com/only', 'https://fr.wikipedia.org/wiki/Paris']}",Which band played?,The Band`,
  /*  7 */ `"{'topic': 'Broken', 'urls': ['https://en.wikipedia.org/wiki/X'",What is broken?,Nothing`,
  /*  8 */ `"{'topic': 'History', 'answer_type': 'Person', 'urls': [""notes: see\\nhttps://en.wikipedia.org/w/index.php?title=O%27Brien_(surname)&action=edit""]}",Who is the O'Brien?,"He said ""yes"""`,
  /*  9 */ `"{'topic': 'Empty', 'urls': []}",   ,Nobody`,
  /* 10 */ `"{'topic': 'Few', 'urls': []}",Only two fields`,
  /* 11 */ '',
  /* 12 */ `"{'topic': 'Geography', 'answer_type': 'Place', 'urls': ['http://en.wikipedia.org/wiki/Paris']}",Capital of France?,Paris`,
  /* 13 */ `"{'topic': 'Quotes', 'urls': []}","A "bad" quote",Answer`,
  /* 14 */ `"['not', 'a', 'dict']",Question?,Answer`,
  /* 15 */ `"{'topic': 'Urls', 'urls': 'https://en.wikipedia.org/wiki/X'}",Question?,Answer`,
  /* 16 */ `"{'urls': []}",Say "hi"?,Hi`,
  /* 17 */ `"{'topic': 'Last', 'urls': []}",Last question?,"Never closed`,
].join('\n');

describe('importSimpleQaCsv', () => {
  const tmp = useTempDir();

  it('reads items with their titles and metadata, and reports every bad row at the line where it starts', async () => {
    const file = await tmp.file('simple_qa.csv', FIXTURE + '\n');
    const { items, problems, excluded } = await importSimpleQaCsv(file);

    expect(items).toEqual([
      {
        id: 'simpleqa-0',
        question: 'Who wrote the first program, in 1843?',
        answer: 'Ada Lovelace',
        source: 'simpleqa',
        wikipedia_titles: ['Ada Lovelace'],
        metadata: {
          topic: 'Art',
          answer_type: 'Person',
          urls: ['https://en.wikipedia.org/wiki/Ada_Lovelace#Early_life', 'https://example.com/ada'],
        },
      },
      {
        id: 'simpleqa-1',
        question: 'When was it\nfounded,\nexactly?',
        answer: '1 May 1900',
        source: 'simpleqa',
        wikipedia_titles: ['Café society'],
        metadata: {
          topic: 'Science',
          answer_type: 'Date',
          urls: ['https://en.wikipedia.org/wiki/Caf%C3%A9_society', "https://example.org/it's"],
        },
      },
      {
        id: 'simpleqa-2',
        question: 'Which band played?',
        answer: 'The Band',
        source: 'simpleqa',
        wikipedia_titles: [],
        metadata: {
          topic: 'Music',
          answer_type: 'Other',
          urls: ['https://www.example.com/only', 'https://fr.wikipedia.org/wiki/Paris'],
        },
      },
      {
        id: 'simpleqa-4',
        question: "Who is the O'Brien?",
        answer: 'He said "yes"',
        source: 'simpleqa',
        wikipedia_titles: ["O'Brien (surname)"],
        metadata: {
          topic: 'History',
          answer_type: 'Person',
          urls: ['notes: see\nhttps://en.wikipedia.org/w/index.php?title=O%27Brien_(surname)&action=edit'],
        },
      },
      {
        id: 'simpleqa-7',
        question: 'Capital of France?',
        answer: 'Paris',
        source: 'simpleqa',
        wikipedia_titles: ['Paris'],
        metadata: { topic: 'Geography', answer_type: 'Place', urls: ['http://en.wikipedia.org/wiki/Paris'] },
      },
    ]);
    expect(problems).toEqual([
      {
        line: 7,
        message: '"metadata" is not a Python literal: expected "," or "]" at character 63',
      },
      { line: 9, message: '"problem" is empty' },
      { line: 10, message: 'expected 3 fields, got 2' },
      {
        line: 13,
        message:
          'malformed CSV record: text after the closing quote of a field (a quote inside a quoted field must be doubled)',
      },
      { line: 14, message: '"metadata" must be a dict (got an array)' },
      { line: 15, message: '"metadata": "urls" must be a list of strings' },
      {
        line: 16,
        message:
          'malformed CSV record: a quote inside an unquoted field (quote the whole field and double the quote)',
      },
      { line: 17, message: 'malformed CSV record: a quoted field is never closed' },
    ]);
    expect(excluded).toBe(0);
  });

  it('keeps only Wikipedia-grounded questions with wikipediaOnly, with the same ids', async () => {
    const file = await tmp.file('simple_qa.csv', FIXTURE);
    const { items, problems, excluded } = await importSimpleQaCsv(file, { wikipediaOnly: true });
    expect(items.map((item) => item.id)).toEqual(['simpleqa-0', 'simpleqa-1', 'simpleqa-4', 'simpleqa-7']);
    expect(problems.map((problem) => problem.line)).toEqual([7, 9, 10, 13, 14, 15, 16, 17]);
    expect(excluded).toBe(1);
  });

  it('reads CRLF files, a byte-order mark and columns in another order', async () => {
    const csv =
      '\ufeffanswer,problem,metadata\r\nParis,"Capital\r\nof France?","{\'urls\': []}"\r\n\r\nRome,,"{}"\r\n';
    const { items, problems } = await importSimpleQaCsv(await tmp.file('crlf.csv', csv));
    expect(items).toEqual([
      {
        id: 'simpleqa-0',
        question: 'Capital\r\nof France?',
        answer: 'Paris',
        source: 'simpleqa',
        wikipedia_titles: [],
        metadata: { urls: [] },
      },
    ]);
    expect(problems).toEqual([{ line: 5, message: '"problem" is empty' }]);
  });

  it('reports a row with invalid UTF-8 and keeps the others', async () => {
    const bytes = Buffer.concat([
      Buffer.from('metadata,problem,answer\n"{\'urls\': []}",Q1?,A1\n"{\'urls\': []}",Q2'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('?,A2\n"{\'urls\': []}",Q3?,A3\n'),
    ]);
    const { items, problems } = await importSimpleQaCsv(await tmp.file('bad-utf8.csv', bytes));
    expect(items.map((item) => [item.id, item.question])).toEqual([
      ['simpleqa-0', 'Q1?'],
      ['simpleqa-2', 'Q3?'],
    ]);
    expect(problems).toEqual([{ line: 3, message: 'invalid UTF-8' }]);
  });

  it('refuses a file without the SimpleQA columns, naming it', async () => {
    const file = await tmp.file('other.csv', 'question,answer\nQ,A\n');
    await expect(importSimpleQaCsv(file)).rejects.toThrow(
      `QA set ${file}: not a SimpleQA CSV (its first line must name the columns metadata, problem, answer; found: question, answer)`,
    );
    const empty = await tmp.file('empty.csv', '');
    await expect(importSimpleQaCsv(empty)).rejects.toThrow('the file has no records');
  });

  it('throws an Error naming a file that cannot be read', async () => {
    const missing = tmp.path('missing.csv');
    await expect(importSimpleQaCsv(missing)).rejects.toThrow(
      `QA set ${missing}: cannot read: file not found`,
    );
  });
});

// Real third-party material: OpenAI's SimpleQA test set in ../shared/data, beside the repository root.
const realFile = fileURLToPath(new URL('../../../../shared/data/simple_qa_test_set.csv', import.meta.url));
const available = existsSync(realFile);
if (!available) console.warn(`${realFile} not found: skipping the real SimpleQA test`);

describe.skipIf(!available)('real material: SimpleQA test set', () => {
  it('has 4,326 questions, 3,449 of them grounded in English Wikipedia', async () => {
    const all = await importSimpleQaCsv(realFile);
    expect(all.problems).toEqual([]);
    expect(all.items).toHaveLength(4326);
    expect(all.items.map((item) => item.id)).toEqual(all.items.map((_, n) => `simpleqa-${n}`));
    expect(all.items[0]).toEqual({
      id: 'simpleqa-0',
      question: 'Who received the IEEE Frank Rosenblatt Award in 2010?',
      answer: 'Michio Sugeno',
      source: 'simpleqa',
      wikipedia_titles: ['IEEE Frank Rosenblatt Award'],
      metadata: {
        topic: 'Science and technology',
        answer_type: 'Person',
        urls: [
          'https://en.wikipedia.org/wiki/IEEE_Frank_Rosenblatt_Award',
          'https://ieeexplore.ieee.org/author/37271220500',
          'https://en.wikipedia.org/wiki/IEEE_Frank_Rosenblatt_Award',
          'https://www.nxtbook.com/nxtbooks/ieee/awards_2010/index.php?startid=21#/p/20',
        ],
      },
    });

    const wiki = await importSimpleQaCsv(realFile, { wikipediaOnly: true });
    expect(wiki.problems).toEqual([]);
    expect(wiki.items).toHaveLength(3449);
    expect(wiki.excluded).toBe(4326 - 3449);
    expect(wiki.items.every((item) => item.wikipedia_titles.length > 0)).toBe(true);
    // The same rule as the replication that reported 3,449: any reference containing an en.wikipedia.org link.
    const bySubstring = all.items.filter((item) =>
      item.metadata.urls.some((url) => /https?:\/\/en\.wikipedia\.org\//.test(url)),
    );
    expect(wiki.items.map((item) => item.id)).toEqual(bySubstring.map((item) => item.id));
  });
});

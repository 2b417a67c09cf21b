import { describe, expect, it } from 'vitest';
import { loadQaSet } from '../../../src/eval/qa-sets/load.js';
import { jsonl, useTempDir } from './helpers.js';

describe('loadQaSet', () => {
  const tmp = useTempDir();
  const simpleQa =
    'metadata,problem,answer\n' +
    `"{'urls': ['https://en.wikipedia.org/wiki/Paris']}",Capital of France?,Paris\n` +
    `"{'urls': ['https://example.com']}",Capital of Italy?,Rome\n`;

  it('reads .csv files as SimpleQA, passing wikipediaOnly on', async () => {
    const file = await tmp.file('set.CSV', simpleQa);
    const all = await loadQaSet(file);
    expect(all.format).toBe('simpleqa');
    expect(all.items.map((item) => item.id)).toEqual(['simpleqa-0', 'simpleqa-1']);
    const wiki = await loadQaSet(file, { wikipediaOnly: true });
    expect(wiki).toMatchObject({ format: 'simpleqa', excluded: 1, problems: [] });
    expect(wiki.items.map((item) => item.answer)).toEqual(['Paris']);
  });

  it('recognises FinanceBench by its first JSON object, even after blank and bad lines', async () => {
    const file = await tmp.file(
      'fb.jsonl',
      '\n{oops\n' + jsonl([{ financebench_id: 'fb1', question: 'Q?', answer: 'A', doc_name: 'X_2020_10K' }]),
    );
    expect(await loadQaSet(file)).toEqual({
      format: 'financebench',
      excluded: 0,
      items: [
        {
          id: 'fb1',
          question: 'Q?',
          answer: 'A',
          doc_id: 'X_2020_10K',
          source: 'financebench',
          metadata: {},
        },
      ],
      problems: [{ line: 2, message: expect.stringMatching(/^invalid JSON: /) }],
    });
  });

  it('reads anything else as the plain JSONL format', async () => {
    const file = await tmp.file('qa.json', jsonl([{ id: 'a', question: 'Q?', answer: 'A' }]));
    expect(await loadQaSet(file)).toEqual({
      format: 'jsonl',
      excluded: 0,
      items: [{ id: 'a', question: 'Q?', answer: 'A' }],
      problems: [],
    });
    expect(await loadQaSet(await tmp.file('empty.jsonl', ''))).toEqual({
      format: 'jsonl',
      excluded: 0,
      items: [],
      problems: [],
    });
  });

  it('throws an Error naming a file that cannot be read', async () => {
    for (const name of ['missing.csv', 'missing.jsonl']) {
      const file = tmp.path(name);
      await expect(loadQaSet(file)).rejects.toThrow(`QA set ${file}: cannot read: file not found`);
    }
  });
});

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QA_FLAGS, QA_HELP } from '../../src/cli/qa.js';
import type { QaItem } from '../../src/eval/qa-sets/types.js';
import type { EvalSummaryFile } from '../../src/eval/summary-file.js';
import {
  startScriptedServer,
  type ChatCompletionRequestBody,
  type ScriptedServer,
} from '../helpers/scripted-server.js';
import { tempDir } from '../helpers/study-fixtures.js';
import { cli, cliSync, readJsonlFile, requireCli } from './eval-fixtures.js';

let dir: string;
beforeAll(async () => {
  await requireCli();
  dir = await tempDir('ar-qa-cli-');
});

describe('qa --help and argument errors', () => {
  it('--help documents every flag', () => {
    const { code, stdout } = cliSync(['qa', '--help']);
    expect(code).toBe(0);
    expect(stdout).toBe(QA_HELP);
    const flags = Object.keys(QA_FLAGS);
    expect(flags.length).toBeGreaterThan(15);
    for (const flag of flags) expect(stdout).toContain(`--${flag}`);
  });

  const bad: Array<[string[], RegExp]> = [
    [['qa', '--out', 'x.jsonl'], /give one of --simpleqa CSV, --financebench JSONL or --from-corpus PATH/],
    [
      ['qa', '--simpleqa', 'a.csv', '--from-corpus', 'c', '--out', 'x'],
      /--simpleqa and --from-corpus cannot be used together/,
    ],
    [['qa', '--simpleqa', 'a.csv'], /--out FILE is required/],
    [
      ['qa', '--financebench', 'f.jsonl', '--wikipedia-only', '--out', 'x'],
      /--wikipedia-only goes with --simpleqa/,
    ],
    [['qa', '--simpleqa', 'a.csv', '--model', 'm', '--out', 'x'], /--model is only used with --from-corpus/],
    [['qa', '--from-corpus', 'c', '--out', 'x'], /--model is required with --from-corpus/],
    [
      ['qa', '--from-corpus', 'c', '--model', 'm.gguf', '--per-chunk', '0', '--out', 'x'],
      /--per-chunk expects/,
    ],
    [['qa', '--simpleqa', 'a.csv', '--out', 'x', '--nope'], /Unknown option '--nope'/],
  ];
  for (const [args, message] of bad) {
    it(`rejects ${args.slice(1, 3).join(' ')} ... with one clear line`, () => {
      const { code, stderr } = cliSync(args);
      expect(code).toBe(2);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(message);
    });
  }
});

describe('qa --simpleqa and --financebench', () => {
  const csv = [
    'metadata,problem,answer',
    `"{'topic': 'Science', 'answer_type': 'Person', 'urls': ['https://en.wikipedia.org/wiki/Ada_Lovelace', 'https://example.org/a']}",Who wrote the first published algorithm?,Ada Lovelace`,
    `"{'topic': 'Art', 'answer_type': 'Date', 'urls': ['https://www.britannica.com/x']}",In which year was the painting finished?,1503`,
    `"['not', 'a', 'dict']",Broken row?,Nothing`,
    `"{'topic': 'Geography', 'urls': ['https://en.wikipedia.org/wiki/River_Osk']}","Which river, in the
north, floods in spring?",The Osk`,
  ].join('\n');

  it('imports the Wikipedia-grounded subset and reports bad rows with their line', async () => {
    const file = path.join(dir, 'simple_qa.csv');
    await fs.writeFile(file, `${csv}\n`);
    const out = path.join(dir, 'simplewikiqa.jsonl');
    const { code, stdout, stderr } = cliSync(['qa', '--simpleqa', file, '--wikipedia-only', '--out', out]);
    expect(code).toBe(0);
    expect(stdout).toBe(
      `imported 2 questions to ${out} (1 not Wikipedia-grounded left out, 1 rows skipped)\n`,
    );
    expect(stderr).toBe(`skipped ${file}:4: "metadata" must be a dict (got an array)\n`);
    const items = await readJsonlFile<QaItem>(out);
    expect(items.map((i) => [i.id, i.answer, i.wikipedia_titles])).toEqual([
      ['simpleqa-0', 'Ada Lovelace', ['Ada Lovelace']],
      ['simpleqa-3', 'The Osk', ['River Osk']],
    ]);
    expect(items[1]?.question).toBe('Which river, in the\nnorth, floods in spring?');

    const all = path.join(dir, 'simpleqa-all.jsonl');
    const everything = cliSync(['qa', '--simpleqa', file, '--out', all]);
    expect(everything.stdout).toBe(`imported 3 questions to ${all} (1 rows skipped)\n`);
  });

  it('imports FinanceBench JSONL', async () => {
    const file = path.join(dir, 'financebench.jsonl');
    await fs.writeFile(
      file,
      [
        JSON.stringify({
          financebench_id: 'fb1',
          question: 'What was the FY2018 capex?',
          answer: '$1,577 million',
          doc_name: '3M_2018_10K',
        }),
        JSON.stringify({ financebench_id: 'fb2', question: 'No answer?' }),
      ].join('\n') + '\n',
    );
    const out = path.join(dir, 'fb.jsonl');
    const { code, stdout, stderr } = cliSync(['qa', '--financebench', file, '--out', out]);
    expect(code).toBe(0);
    expect(stdout).toBe(`imported 1 questions to ${out} (1 rows skipped)\n`);
    expect(stderr).toMatch(new RegExp(`^skipped ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: `));
    expect((await readJsonlFile<QaItem>(out))[0]).toMatchObject({ id: 'fb1', doc_id: '3M_2018_10K' });
  });

  it('a file with no usable row is an error', async () => {
    const file = path.join(dir, 'empty.csv');
    await fs.writeFile(file, 'metadata,problem,answer\n');
    const { code, stderr } = cliSync(['qa', '--simpleqa', file, '--out', path.join(dir, 'none.jsonl')]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/no usable question/);
  });
});

describe('qa --from-corpus', () => {
  let server: ScriptedServer;
  afterAll(() => server?.close());

  /** Replies per document title: good JSON, prose (unusable), fenced JSON with a bad pair. */
  function probeResponder(body: ChatCompletionRequestBody): string {
    const user = body.messages.map((m) => m.content ?? '').join('\n');
    const doc = /<document>\n([^\n]*)/.exec(user)?.[1] ?? '';
    if (doc === 'Vellmar') {
      return JSON.stringify([
        { question: 'Who founded the town of Vellmar?', answer: 'Ada Quill' },
        { question: 'In which year was Vellmar founded?', answer: '1821' },
        { question: 'What does the document say about the river?', answer: 'It floods' },
      ]);
    }
    if (doc === 'Orla Peak') return 'Sure! Here are some questions:\n1. Who climbed Orla Peak?';
    return '```json\n[{"question": "Which river runs through Brantford?", "answer": "the Osk"}, {"question": "Why?"}]\n```';
  }

  it('writes linked probe questions, reports bad generations, resumes, and feeds gold-context eval', async () => {
    server = await startScriptedServer({ respond: probeResponder });
    const corpus = path.join(dir, 'probe-corpus.jsonl');
    const docs = [
      { id: 'v', title: 'Vellmar', text: 'Vellmar is a town founded by Ada Quill in 1821.' },
      { id: 'o', title: 'Orla Peak', text: 'Orla Peak was first climbed by Ivo Brant.' },
      { id: 'b', title: 'Brantford', text: 'The Osk runs through Brantford.' },
    ];
    await fs.writeFile(corpus, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
    const out = path.join(dir, 'probes.jsonl');
    const args = ['qa', '--from-corpus', corpus, '--model', 'writer', '--base-url', server.url, '--out', out];
    const { code, stdout, stderr } = await cli(args);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^done: 3 questions from 3 chunks to .*probes\.jsonl \(1 unusable replies, 2 pairs skipped;/,
    );
    expect(stderr).toContain('skipped v#0: pair 3: the question refers to the document');
    expect(stderr).toMatch(/skipped o#0: unusable reply: not valid JSON/);
    expect(stderr).toContain('skipped b#0: pair 2: no "answer" text');
    expect(server.requests).toBe(3);
    expect(server.log[0]?.messages[0]?.content).toContain('Write 3 question and answer pairs');

    const items = await readJsonlFile<QaItem>(out);
    expect(items).toEqual([
      {
        id: 'probe-v-0-1',
        question: 'Who founded the town of Vellmar?',
        answer: 'Ada Quill',
        doc_id: 'v',
        chunk_index: 0,
        title: 'Vellmar',
        source: 'probe',
      },
      {
        id: 'probe-v-0-2',
        question: 'In which year was Vellmar founded?',
        answer: '1821',
        doc_id: 'v',
        chunk_index: 0,
        title: 'Vellmar',
        source: 'probe',
      },
      {
        id: 'probe-b-0-1',
        question: 'Which river runs through Brantford?',
        answer: 'the Osk',
        doc_id: 'b',
        chunk_index: 0,
        title: 'Brantford',
        source: 'probe',
      },
    ]);

    // Run again: everything comes from the work log, nothing is asked.
    const again = await cli(args);
    expect(again.code).toBe(0);
    expect(server.requests).toBe(3);
    expect(await readJsonlFile<QaItem>(out)).toEqual(items);

    // The probes are linked to their chunks: a gold-context evaluation finds every context.
    const evalOut = path.join(dir, 'probe-eval');
    const evaluated = await cli([
      'eval',
      '--qa',
      out,
      '--out',
      evalOut,
      '--model',
      'writer',
      '--base-url',
      server.url,
      '--mode',
      'gold-context',
      '--corpus',
      corpus,
    ]);
    expect(evaluated.code).toBe(0);
    const summary = JSON.parse(
      await fs.readFile(path.join(evalOut, 'summary.json'), 'utf8'),
    ) as EvalSummaryFile;
    expect(summary.counts).toMatchObject({ items: 3, missing_context: 0, graded: 3 });
  });

  it('changed settings on the same output are refused, naming the difference', async () => {
    const corpus = path.join(dir, 'probe-corpus.jsonl');
    const out = path.join(dir, 'probes.jsonl');
    const { code, stderr } = await cli([
      'qa',
      '--from-corpus',
      corpus,
      '--model',
      'writer',
      '--base-url',
      server.url,
      '--out',
      out,
      '--per-chunk',
      '5',
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/holds probes made with other settings \(per_chunk: 3 -> 5\)/);
  });
});

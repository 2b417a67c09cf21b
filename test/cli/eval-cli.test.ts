import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVAL_FLAGS, EVAL_HELP } from '../../src/cli/eval.js';
import { initLlamaWeights } from '../../src/engine/init.js';
import { parseLlamaConfig, saveHfCheckpoint } from '../../src/engine/io/index.js';
import { shapeFromConfig } from '../../src/engine/llama.js';
import { trainByteLevelBpe, writeTokenizerJson } from '../../src/engine/tokenizer/index.js';
import type { AnswerRecord, GradeRecord } from '../../src/eval/records.js';
import type { EvalSummaryFile } from '../../src/eval/summary-file.js';
import * as openGenerator from '../../src/models/open-generator.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';
import { readTree, tempDir } from '../helpers/study-fixtures.js';
import { writeTinyLlamaGguf } from '../helpers/tiny-gguf.js';
import {
  CLI,
  cli,
  cliSync,
  evalResponder,
  manyAnswers,
  manyItems,
  readJsonlFile,
  requireCli,
  waitForLines,
  writeQaFile,
  type QaFixtureItem,
} from './eval-fixtures.js';

const SECRET = 'sk-eval-SECRET-0123456789abcdef';

let dir: string;
beforeAll(async () => {
  await requireCli();
  dir = await tempDir('ar-eval-cli-');
});

const readSummary = async (out: string) =>
  JSON.parse(await fs.readFile(path.join(out, 'summary.json'), 'utf8')) as EvalSummaryFile;

describe('eval --help and argument errors', () => {
  it('--help documents every flag', () => {
    const { code, stdout } = cliSync(['eval', '--help']);
    expect(code).toBe(0);
    const flags = Object.keys(EVAL_FLAGS);
    expect(flags.length).toBeGreaterThan(20);
    for (const flag of flags) expect(stdout).toContain(`--${flag}`);
    expect(stdout).toBe(EVAL_HELP);
  });

  const bad: Array<[string[], RegExp]> = [
    [
      ['eval', '--qa', 'q.jsonl', '--out', 'o', '--model', 'm.gguf', '--mode', 'open-book'],
      /--mode must be one of/,
    ],
    [
      ['eval', '--qa', 'q.jsonl', '--out', 'o', '--model', 'm.gguf', '--grader', 'simpleqa'],
      /needs --judge-model/,
    ],
    [
      ['eval', '--qa', 'q.jsonl', '--out', 'o', '--model', 'm.gguf', '--concurrency', '0'],
      /--concurrency expects/,
    ],
    [['eval', '--qa', 'q.jsonl', '--out', 'o', '--model', 'm.gguf', '--bogus'], /Unknown option '--bogus'/],
    [['eval', '--out', 'o', '--model', 'm.gguf'], /--qa FILE is required/],
    [['eval', '--qa', 'q.jsonl', '--model', 'm.gguf'], /--out DIR is required/],
    [['eval', '--qa', 'q.jsonl', '--out', 'o', '--model', 'served-model'], /--base-url is required/],
    [
      ['eval', '--qa', 'q.jsonl', '--out', 'o', '--model', 'm', '--base-url', 'http://h/v1', '--api', 'rest'],
      /--api must be one of chat, completions/,
    ],
    [
      ['eval', '--qa', 'q.jsonl', '--out', 'o', '--model', 'm.gguf', '--api', 'completions'],
      /--api is for a served model/,
    ],
    [
      ['eval', '--qa', 'q.jsonl', '--out', 'o', '--model', 'm.gguf', '--mode', 'gold-context'],
      /--mode gold-context needs --corpus/,
    ],
    [
      [
        'eval',
        '--qa',
        'q.jsonl',
        '--out',
        'o',
        '--model',
        'm.gguf',
        '--judge-model',
        'j',
        '--grader',
        'lexical',
      ],
      /--judge-model is only used with --grader simpleqa/,
    ],
    [
      ['eval', '--qa', 'q.jsonl', '--out', 'o', '--model', 'm.gguf', '--corpus', 'docs'],
      /--corpus is only used with --mode gold-context/,
    ],
    [
      ['eval', '--qa', 'q.jsonl', '--out', 'o', '--model', 'm.gguf', '--judge-base-url', 'http://j/v1'],
      /--judge-base-url goes with --judge-model/,
    ],
    [
      ['eval', '--qa', 'q.jsonl', '--out', 'o', '--model', 'm.gguf', '--base-url', 'ftp://x'],
      /--base-url must start/,
    ],
  ];
  for (const [args, message] of bad) {
    it(`rejects ${args.slice(-2).join(' ')} with one clear line`, () => {
      const { code, stderr } = cliSync(args);
      expect(code).toBe(2);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(message);
    });
  }
});

describe('eval against an OpenAI-compatible server with the SimpleQA judge', () => {
  let server: ScriptedServer;
  afterAll(() => server?.close());

  it('grades tricky judge replies and reports the metrics computed by hand', async () => {
    const items: QaFixtureItem[] = [
      ['q1', 'Who founded Vellmar?', 'Ada Quill', 'Ada Quill', 'A'],
      ['q2', 'When was Vellmar founded?', '1821', '1821', 'CORRECT'],
      ['q3', 'What river runs through Vellmar?', 'the Osk', 'the Tamm', 'Grade: B'],
      ['q4', 'What is the motto of Vellmar?', 'Onward', 'Onward!', 'a'],
      [
        'q5',
        'How many bridges does Vellmar have?',
        '7',
        'several',
        'The answer is vague, so the grade is C.',
      ],
      ['q6', 'Who designed the Vellmar bell?', 'Ivo Brant', 'Ivo Brant', 'garbage xyz'],
      ['q7', 'What colour is the Vellmar flag?', 'green', 'red', 'INCORRECT'],
      ['q8', 'What is the Vellmar anthem called?', 'Morning Hill', 'not sure', 'NOT_ATTEMPTED'],
      ['q9', 'Which saint protects Vellmar?', 'Saint Orla', '', 'A'],
      ['q10', 'What is the population of Vellmar?', '12,400', '15,000', 'B'],
    ].map(([id, question, answer], i) => ({
      id: id as string,
      question: question as string,
      answer: answer as string,
      doc_id: i < 5 ? 'vellmar-history' : 'vellmar-symbols',
    }));
    const rows = [
      ['Ada Quill', 'A'],
      ['1821', 'CORRECT'],
      ['the Tamm', 'Grade: B'],
      ['Onward!', 'a'],
      ['several', 'The answer is vague, so the grade is C.'],
      ['Ivo Brant', 'garbage xyz'],
      ['red', 'INCORRECT'],
      ['not sure', 'NOT_ATTEMPTED'],
      ['', 'A'],
      ['15,000', 'B'],
    ];
    const answers = Object.fromEntries(
      items.map((it, i) => [it.question, (rows[i] as string[])[0] as string]),
    );
    const verdicts = Object.fromEntries(
      items.map((it, i) => [it.question, (rows[i] as string[])[1] as string]),
    );
    server = await startScriptedServer({ respond: evalResponder(answers, verdicts) });
    const qa = await writeQaFile(path.join(dir, 'vellmar.jsonl'), items);
    const out = path.join(dir, 'judge-run');
    const { code, stdout, stderr } = await cli(
      ['eval', '--qa', qa, '--out', out, '--model', 'scripted', '--judge-model', 'judge-4o', '--label', 'ar'],
      { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: SECRET },
    );
    expect(stderr).not.toContain(SECRET);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^done: /);
    expect(stdout).toContain('30.0% (');

    const summary = await readSummary(out);
    expect(summary.status).toBe('complete');
    expect(summary.config.grader).toBe('simpleqa');
    expect(summary.config.judge_model).toBe('judge-4o');
    expect(summary.config.base_url).toBe(server.url);
    expect(summary.config.qa_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(summary.label).toBe('ar');
    const m = summary.metrics;
    if (!m) throw new Error('no metrics');
    expect(m.counts).toEqual({ n: 10, correct: 3, incorrect: 3, not_attempted: 3, unparsed: 1 });
    expect(m.correct.value).toBeCloseTo(0.3, 12);
    expect(m.incorrect.value).toBeCloseTo(0.3, 12);
    expect(m.not_attempted.value).toBeCloseTo(0.3, 12);
    expect(m.unparsed.value).toBeCloseTo(0.1, 12);
    expect(m.accuracy_given_attempted.value).toBeCloseTo(0.5, 12);
    expect(m.f_score.value).toBeCloseTo((2 * 0.5 * 0.3) / 0.8, 12);
    expect(m.correct.low).toBeLessThanOrEqual(0.3);
    expect(m.correct.high).toBeGreaterThanOrEqual(0.3);
    expect(Object.keys(m.by_doc)).toEqual(['vellmar-history', 'vellmar-symbols']);
    expect(m.by_doc['vellmar-history']?.counts).toEqual({
      n: 5,
      correct: 3,
      incorrect: 1,
      not_attempted: 1,
      unparsed: 0,
    });
    expect(summary.counts).toMatchObject({
      items: 10,
      answered: 10,
      graded: 10,
      unparsed: 1,
      empty_answers: 1,
    });

    // The empty answer is not attempted without asking the judge: 10 answers + 9 judge calls.
    expect(server.requests).toBe(19);
    expect(summary.ledger.answer?.requests).toBe(10);
    expect(summary.ledger.judge?.requests).toBe(9);
    const grades = await readJsonlFile<GradeRecord>(path.join(out, 'grades.jsonl'));
    const byId = new Map(grades.map((g) => [g.id, g]));
    expect(byId.get('q2')).toMatchObject({ verdict: 'correct', judge_raw: 'CORRECT', grader: 'simpleqa' });
    expect(byId.get('q6')).toMatchObject({ verdict: 'unparsed', judge_raw: 'garbage xyz' });
    expect(byId.get('q9')).toMatchObject({ verdict: 'not_attempted', rule: 'empty answer' });
    expect(byId.get('q9')?.judge_raw).toBeUndefined();
    expect(byId.get('q1')).toMatchObject({ exact_match: true, contains: true, f1: 1 });
    const recorded = await readJsonlFile<AnswerRecord>(path.join(out, 'answers.jsonl'));
    expect(recorded.find((a) => a.id === 'q4')).toMatchObject({
      question: 'What is the motto of Vellmar?',
      gold: 'Onward',
      answer: 'Onward!',
      raw: 'Onward!',
      mode: 'closed-book',
      model: 'scripted',
      doc_id: 'vellmar-history',
    });

    const html = await fs.readFile(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('Evaluation: ar');
    expect(html).toContain('garbage xyz'); // the unparsed reply is shown
    expect(html).toContain('vellmar-symbols');
    expect(html).not.toMatch(/<script|<link|\bsrc=/);
    expect(await readTree(out)).not.toContain(SECRET);

    // A second run finds everything done: no request, same summary.
    const before = server.requests;
    const again = await cli(
      ['eval', '--qa', qa, '--out', out, '--model', 'scripted', '--judge-model', 'judge-4o', '--label', 'ar'],
      {
        OPENAI_BASE_URL: server.url,
      },
    );
    expect(again.code).toBe(0);
    expect(server.requests).toBe(before);
    expect((await readSummary(out)).metrics?.counts).toEqual(m.counts);

    // Changing the grader re-grades the same answers (kept aside) and asks no model anything.
    const lexical = await cli(
      ['eval', '--qa', qa, '--out', out, '--model', 'scripted', '--grader', 'lexical', '--label', 'ar'],
      {
        OPENAI_BASE_URL: server.url,
      },
    );
    expect(lexical.code).toBe(0);
    expect(lexical.stderr).toMatch(/previous grades are kept in grades\.prev-/);
    expect(server.requests).toBe(before);
    expect((await readSummary(out)).metrics?.counts).toEqual({
      n: 10,
      correct: 4, // q1, q2, q4 ('Onward!' = 'Onward'), q6
      incorrect: 4, // q3, q5, q7, q10
      not_attempted: 2, // q8 ('not sure'), q9 (empty)
      unparsed: 0,
    } satisfies Record<string, number>);
  });
});

describe('eval resumes after kill -9 and stops on Ctrl-C', () => {
  const n = 40;
  let server: ScriptedServer;
  let qa: string;
  beforeAll(async () => {
    server = await startScriptedServer({ respond: evalResponder(manyAnswers(n)), latencyMs: 30 });
    qa = await writeQaFile(path.join(dir, 'many.jsonl'), manyItems(n));
  });
  afterAll(() => server.close());

  const args = (out: string) => [
    'eval',
    '--qa',
    qa,
    '--out',
    out,
    '--model',
    'scripted',
    '--base-url',
    server.url,
    '--judge-model',
    'judge',
    '--concurrency',
    '4',
    '--judge-concurrency',
    '4',
  ];

  it('loses no answer, writes no duplicate and repeats only requests in flight', async () => {
    const cleanOut = path.join(dir, 'clean');
    const cleanStart = server.requests;
    expect((await cli(args(cleanOut))).code).toBe(0);
    const cleanRequests = server.requests - cleanStart;
    const clean = await readJsonlFile<AnswerRecord>(path.join(cleanOut, 'answers.jsonl'));
    expect(clean).toHaveLength(n);

    const out = path.join(dir, 'killed');
    const start = server.requests;
    for (const threshold of [8, 24]) {
      const child = spawn(process.execPath, [CLI, ...args(out)], { stdio: 'ignore' });
      await waitForLines(path.join(out, 'answers.jsonl'), threshold);
      child.kill('SIGKILL');
      await once(child, 'exit');
      const partial = await readJsonlFile<AnswerRecord>(path.join(out, 'answers.jsonl'));
      expect(partial.length).toBeLessThan(n);
      expect(new Set(partial.map((a) => a.id)).size).toBe(partial.length);
    }
    const resumed = await cli(args(out));
    expect(resumed.code).toBe(0);

    const answers = await readJsonlFile<AnswerRecord>(path.join(out, 'answers.jsonl'));
    const grades = await readJsonlFile<GradeRecord>(path.join(out, 'grades.jsonl'));
    expect(answers).toHaveLength(n);
    expect(grades).toHaveLength(n);
    expect(new Set(answers.map((a) => a.id)).size).toBe(n);
    expect(new Set(grades.map((g) => g.id)).size).toBe(n);
    const content = (rs: AnswerRecord[]) => rs.map((r) => `${r.id}\n${r.answer}`).sort();
    expect(content(answers)).toEqual(content(clean));
    const summary = await readSummary(out);
    expect(summary.status).toBe('complete');
    expect(summary.metrics?.counts).toEqual((await readSummary(cleanOut)).metrics?.counts);
    // Only requests in flight at each kill may be asked twice (2 kills x (4 answer + 4 judge)).
    expect(server.requests - start).toBeLessThanOrEqual(cleanRequests + 2 * 8);
  });

  it('Ctrl-C stops with exit 130 and status interrupted; the same command finishes', async () => {
    const out = path.join(dir, 'sigint');
    const child = spawn(process.execPath, [CLI, ...args(out).map((a) => (a === '4' ? '1' : a))], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    await waitForLines(path.join(out, 'answers.jsonl'), 3);
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(130);
    expect(stdout).toMatch(/^interrupted: /);
    const summary = await readSummary(out);
    expect(summary.status).toBe('interrupted');
    expect(summary.counts.graded).toBeLessThan(n);
    await expect(fs.access(path.join(out, '.lock'))).rejects.toThrow();
    await expect(fs.access(path.join(out, 'report.html'))).resolves.toBeUndefined();

    expect((await cli(args(out))).code).toBe(0);
    expect((await readSummary(out)).status).toBe('complete');
    expect(await readJsonlFile(path.join(out, 'grades.jsonl'))).toHaveLength(n);
  });

  it('a refused API key stops at once, with the key in no output', async () => {
    server.injectFaults({ kind: 'status', status: 401, message: 'Incorrect API key provided' });
    const out = path.join(dir, 'refused');
    const { code, stderr, stdout } = await cli(
      args(out).filter((a) => a !== server.url && a !== '--base-url'),
      {
        OPENAI_BASE_URL: server.url,
        OPENAI_API_KEY: SECRET,
      },
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/refused the request/);
    expect(stderr + stdout).not.toContain(SECRET);
    expect(server.lastAuthorization).toBe(`Bearer ${SECRET}`);
    expect((await readSummary(out)).status).toBe('failed');
    expect(await readTree(out)).not.toContain(SECRET);
  });
});

describe('gold-context answering and study diagnostics', () => {
  let server: ScriptedServer;
  afterAll(() => server?.close());

  it('puts the right chunk in the prompt, reports missing documents, and diagnoses the study run', async () => {
    const corpus = path.join(dir, 'gold-corpus.jsonl');
    const docs = [
      {
        id: 'doc-a',
        title: 'Vellmar',
        text: 'Vellmar is a town founded by Ada Quill in 1821. Its river is the Osk.',
      },
      {
        id: 'doc-b',
        title: 'Orla Peak',
        text: 'Orla Peak is a mountain first climbed by Ivo Brant in 1902.',
      },
    ];
    await fs.writeFile(corpus, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
    // A study run of the repeat baseline: no model needed, and its chunks.jsonl is the gold source.
    const run = path.join(dir, 'gold-study');
    const study = await cli(['study', '--corpus', corpus, '--out', run, '--method', 'repeat', '--reps', '2']);
    expect(study.code).toBe(0);

    const items: QaFixtureItem[] = [
      { id: 'g1', question: 'Who founded Vellmar?', answer: 'Ada Quill', doc_id: 'doc-a', chunk_index: 0 },
      { id: 'g2', question: 'Who first climbed Orla Peak?', answer: 'Ivo Brant', doc_id: 'doc-b' },
      { id: 'g3', question: 'What river runs through Vellmar?', answer: 'the Osk', title: 'vellmar' },
      { id: 'g4', question: 'Who founded Atlantis?', answer: 'Poseidon', doc_id: 'doc-missing' },
      {
        id: 'g5',
        question: 'Who climbed Orla Peak in 1902?',
        answer: 'Ivo Brant',
        doc_id: 'doc-b',
        chunk_index: 5,
      },
    ];
    const qa = await writeQaFile(path.join(dir, 'gold.jsonl'), items);
    server = await startScriptedServer({
      respond: evalResponder({
        'Who founded Vellmar?': 'Ada Quill',
        'Who first climbed Orla Peak?': 'Ivo Brant',
      }),
    });
    const out = path.join(dir, 'gold-run');
    const { code, stderr } = await cli([
      'eval',
      '--qa',
      qa,
      '--out',
      out,
      '--model',
      'scripted',
      '--base-url',
      server.url,
      '--mode',
      'gold-context',
      '--study',
      run,
    ]);
    expect(code).toBe(0);
    expect(stderr).toMatch(/no gold context for g4: document doc-missing is not in the corpus/);
    expect(stderr).toMatch(/no gold context for g5: document doc-b has no chunk 5/);

    const prompts = new Map(
      server.log.map((b) => [
        /Question: ([^\n]*)\nAnswer:\s*$/.exec(b.messages[0]?.content ?? '')?.[1],
        b.messages[0]?.content ?? '',
      ]),
    );
    expect(prompts.size).toBe(3);
    expect(prompts.get('Who founded Vellmar?')).toContain(
      '<document>\nVellmar\nVellmar is a town founded by Ada Quill',
    );
    expect(prompts.get('Who founded Vellmar?')).not.toContain('Orla Peak');
    expect(prompts.get('Who first climbed Orla Peak?')).toContain(
      'Orla Peak is a mountain first climbed by Ivo Brant',
    );
    expect(prompts.get('What river runs through Vellmar?')).toContain('Its river is the Osk.');

    const summary = await readSummary(out);
    expect(summary.config.mode).toBe('gold-context');
    expect(summary.counts).toMatchObject({ items: 5, missing_context: 2, answered: 3, graded: 3 });
    expect(summary.missing_context.map((m) => m.id)).toEqual(['g4', 'g5']);
    expect(summary.metrics?.counts).toEqual({
      n: 3,
      correct: 2,
      incorrect: 0,
      not_attempted: 1,
      unparsed: 0,
    });
    const answers = await readJsonlFile<AnswerRecord>(path.join(out, 'answers.jsonl'));
    expect(answers.find((a) => a.id === 'g3')?.context).toMatchObject({ doc_id: 'doc-a', chunks: [0] });

    const d = summary.diagnostics;
    if (!d) throw new Error('no diagnostics');
    expect(d.methods).toEqual(['repeat']);
    expect(d.records).toBe(4);
    // The repeat data is the documents themselves: every resolvable answer is covered.
    expect(d.coverage).toMatchObject({ items: 4, covered: 4, share: 1, unresolved: 1 });
    // Two identical copies of each document: self-BLEU 1.
    expect(d.self_bleu.by_method.repeat?.mean).toBeCloseTo(1, 6);
    expect(d.leakage.questions_leaked).toBe(0);
    const html = await fs.readFile(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('Diagnostics of the study data');
    expect(html).toContain('Items without a gold context');
  });
});

describe('eval against a served base model (--api completions)', () => {
  it('sends plain prompts to /v1/completions and grades the text of the replies', async () => {
    const n = 6;
    const server = await startScriptedServer({ respond: evalResponder(manyAnswers(n)) });
    try {
      const qa = await writeQaFile(path.join(dir, 'completions-qa.jsonl'), manyItems(n));
      const out = path.join(dir, 'completions-eval');
      const args = ['eval', '--qa', qa, '--out', out, '--model', 'base', '--base-url', server.url];
      const { code, stderr } = await cli([...args, '--api', 'completions']);
      expect(stderr).not.toMatch(/error/i);
      expect(code).toBe(0);
      expect(server.log).toHaveLength(n);
      for (const body of server.log) {
        expect(body.messages).toBeUndefined();
        expect(body.prompt).toMatch(/Question: What is the code name of project number \d+\?\nAnswer:\s*$/);
      }
      const summary = await readSummary(out);
      expect(summary.config.model_id).toBe(`openai-completions:base@${server.url}`);
      expect(summary.metrics?.counts.n).toBe(n);
      const grades = await readJsonlFile<GradeRecord>(path.join(out, 'grades.jsonl'));
      const right = manyItems(n).filter((item) => manyAnswers(n)[item.question] === item.answer).length;
      expect(grades.filter((g) => g.verdict === 'correct')).toHaveLength(right);
    } finally {
      await server.close();
    }
  });
});

describe('eval with an embedded GGUF model (node-llama-cpp)', () => {
  it('answers, grades lexically and writes every output', async () => {
    const model = path.join(dir, 'tiny.gguf');
    await writeTinyLlamaGguf(model, { seed: 5, contextLength: 4096 });
    const qa = await writeQaFile(path.join(dir, 'tiny-qa.jsonl'), manyItems(3));
    const out = path.join(dir, 'gguf-eval');
    const { code, stdout, stderr } = await cli([
      'eval',
      '--qa',
      qa,
      '--out',
      out,
      '--model',
      model,
      '--max-tokens',
      '8',
      '--threads',
      '1',
      '--context-size',
      '4096',
    ]);
    expect(stderr).toMatch(/grading with the lexical grader/);
    expect(stderr).not.toMatch(/error/i);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^done: .*\n.*Method/);
    const summary = await readSummary(out);
    expect(summary).toMatchObject({ status: 'complete', label: 'tiny', format: 'active-reading/eval@1' });
    expect(summary.config).toMatchObject({
      grader: 'lexical',
      mode: 'closed-book',
      model,
      temperature: 0,
      max_tokens: 8,
    });
    expect(summary.config.model_id).toMatch(/^gguf:tiny\.gguf:\d+$/);
    expect(summary.counts).toMatchObject({ items: 3, answered: 3, graded: 3, failed: 0 });
    expect(summary.metrics?.counts.n).toBe(3);
    expect(summary.ledger.answer?.requests).toBe(3);
    const answers = await readJsonlFile<AnswerRecord>(path.join(out, 'answers.jsonl'));
    for (const a of answers) {
      expect(a.completion_tokens).toBeGreaterThan(0);
      expect(a.completion_tokens).toBeLessThanOrEqual(8);
      expect(a.answer).not.toContain('\n');
    }
    const grades = await readJsonlFile<GradeRecord>(path.join(out, 'grades.jsonl'));
    expect(grades.map((g) => g.grader)).toEqual(['lexical', 'lexical', 'lexical']);
    const html = await fs.readFile(path.join(out, 'report.html'), 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|<link|\bsrc=|https?:\/\/(?!www\.w3\.org)/);
  });
});

describe('a second eval on the same directory', () => {
  it('is refused when the answers would change', async () => {
    const server = await startScriptedServer({ respond: evalResponder({}) });
    try {
      const qa = await writeQaFile(path.join(dir, 'two.jsonl'), manyItems(2));
      const out = path.join(dir, 'settings-change');
      const base = ['eval', '--qa', qa, '--out', out, '--model', 'scripted', '--base-url', server.url];
      expect((await cli(base)).code).toBe(0);
      const changed = await cli([...base, '--max-tokens', '32']);
      expect(changed.code).toBe(1);
      expect(changed.stderr).toMatch(/holds answers made with other settings \(max_tokens: 64 -> 32\)/);
      const noStudy = await cli([...base, '--study', dir]);
      expect(noStudy.code).toBe(1);
      expect(noStudy.stderr).toContain(`--study ${dir}: no study records`);
    } finally {
      await server.close();
    }
  });
});

describe('eval of a tiny engine checkpoint directory', () => {
  // Model directories run on our engine once the models layer opens them (isLocalModelPath exists then).
  const engineDirs = 'isLocalModelPath' in openGenerator;

  it.skipIf(!engineDirs)('answers through the engine and writes every output', async () => {
    const model = path.join(dir, 'engine-ckpt', 'ar');
    const texts = [
      'What is the code name of project number one? Falcon one.',
      'Answer each question briefly.',
    ];
    await writeTokenizerJson(model, trainByteLevelBpe(texts, { vocabSize: 300 }).tokenizerJson);
    const config = parseLlamaConfig(
      {
        architectures: ['LlamaForCausalLM'],
        vocab_size: 300,
        hidden_size: 32,
        intermediate_size: 64,
        num_hidden_layers: 1,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        max_position_embeddings: 2048,
        rms_norm_eps: 1e-5,
        tie_word_embeddings: true,
      },
      'test config',
    );
    await saveHfCheckpoint(model, config, initLlamaWeights(shapeFromConfig(config), { seed: 3 }));
    const qa = await writeQaFile(path.join(dir, 'engine-qa.jsonl'), manyItems(2));
    const out = path.join(dir, 'engine-eval');
    const { code, stderr } = await cli([
      'eval',
      '--qa',
      qa,
      '--out',
      out,
      '--model',
      model,
      '--max-tokens',
      '6',
    ]);
    expect(stderr).not.toMatch(/error/i);
    expect(code).toBe(0);
    const summary = await readSummary(out);
    expect(summary).toMatchObject({ status: 'complete', label: 'ar' });
    expect(summary.counts).toMatchObject({ items: 2, answered: 2, graded: 2 });
    expect(summary.config.concurrency).toBe(1);
    const answers = await readJsonlFile<AnswerRecord>(path.join(out, 'answers.jsonl'));
    for (const a of answers) expect(a.completion_tokens).toBeLessThanOrEqual(6);
    await expect(fs.access(path.join(out, 'report.html'))).resolves.toBeUndefined();

    // The same weights with a 64-token context cannot take the few-shot prompt: the run says how to fix it.
    const small = path.join(dir, 'engine-ckpt', 'small');
    await writeTokenizerJson(small, trainByteLevelBpe(texts, { vocabSize: 300 }).tokenizerJson);
    const smallConfig = { ...config, maxPositionEmbeddings: 64 };
    await saveHfCheckpoint(small, smallConfig, initLlamaWeights(shapeFromConfig(smallConfig), { seed: 3 }));
    const tooLong = await cli(['eval', '--qa', qa, '--out', path.join(dir, 'small-eval'), '--model', small]);
    expect(tooLong.code).toBe(1);
    expect(tooLong.stderr).toMatch(/hint: the closed-book prompt does not fit this model: .*--prompts DIR/);
    expect(tooLong.stderr.match(/hint:/g)).toHaveLength(1);
  });
});

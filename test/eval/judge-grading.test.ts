import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gradeLexically, gradeWithJudge, type Judge } from '../../src/eval/grade.js';
import { loadJudgeTemplate } from '../../src/eval/graders/simpleqa-judge.js';
import type { AnswerRecord } from '../../src/eval/records.js';
import { runEval } from '../../src/eval/run-eval.js';
import { openTextGenerator } from '../../src/models/open-generator.js';
import type { TextGenerator } from '../../src/models/types.js';
import { ResponseCache } from '../../src/runtime/cache.js';
import { TokenLedger } from '../../src/runtime/ledger.js';
import { LlmRuntime } from '../../src/runtime/llm-runtime.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';

const quiet = { write: () => true };

/** The judge replies with whatever the predicted answer says after "reply:". */
function judgeEcho(body: { messages: Array<{ content: string | null }> }): string {
  const user = body.messages.map((m) => m.content ?? '').join('\n');
  return /Predicted answer: reply:([^\n]*)\n/.exec(user)?.[1] ?? 'B';
}

let server: ScriptedServer;
let generator: TextGenerator;
let dir: string;
beforeAll(async () => {
  server = await startScriptedServer({ respond: judgeEcho });
  generator = await openTextGenerator({ model: 'judge-model', baseUrl: server.url });
  dir = await fs.mkdtemp(path.join(tmpdir(), 'judge-'));
});
afterAll(async () => {
  await generator.close();
  await server.close();
});

const answer = (id: string, predicted: string): AnswerRecord => ({
  id,
  question: 'Who founded Vellmar?',
  gold: 'Ada Quill',
  answer: predicted,
  raw: predicted,
  mode: 'closed-book',
  model: 'm',
  prompt_tokens: 1,
  completion_tokens: 1,
});

describe('grading with the SimpleQA judge over HTTP', () => {
  const cases: Array<[string, string]> = [
    ['A', 'correct'],
    ['CORRECT', 'correct'], // the reference regex reads this as C
    ['Grade: B', 'incorrect'],
    ['a', 'correct'],
    ['**C**', 'not_attempted'],
    ['NOT_ATTEMPTED', 'not_attempted'],
    ['The answer names the founder, so the grade is A.', 'correct'],
    ['A: INCORRECT', 'unparsed'],
    ['garbage xyz', 'unparsed'],
    ['maybe A or B', 'unparsed'],
  ];

  it('reads every verdict form, records the raw reply, and never guesses', async () => {
    const cache = await ResponseCache.open(path.join(dir, 'cache'));
    const judge: Judge = {
      llm: new LlmRuntime(generator, cache, new TokenLedger()),
      template: loadJudgeTemplate(),
      model: 'judge-model',
      maxTokens: 64,
    };
    for (const [reply, verdict] of cases) {
      const grade = await gradeWithJudge(judge, answer(reply, `reply:${reply}`));
      expect([reply, grade.verdict]).toEqual([reply, verdict]);
      expect(grade).toMatchObject({ grader: 'simpleqa', judge_model: 'judge-model', judge_raw: reply });
    }
    const sent = server.log.at(-1)?.messages[0]?.content ?? '';
    expect(sent).toContain(
      'Question: Who founded Vellmar?\nGold target: Ada Quill\nPredicted answer: reply:maybe A or B\n',
    );
    expect(server.log.at(-1)?.temperature).toBe(0);

    // The same grading again comes from the cache.
    const before = server.requests;
    expect((await gradeWithJudge(judge, answer('again', 'reply:CORRECT'))).verdict).toBe('correct');
    expect(server.requests).toBe(before);
    cache.close();
  });

  it('an empty answer is not attempted without a request', async () => {
    const before = server.requests;
    const judge: Judge = {
      llm: new LlmRuntime(generator, undefined, new TokenLedger()),
      template: loadJudgeTemplate(),
      model: 'judge-model',
      maxTokens: 64,
    };
    expect(await gradeWithJudge(judge, answer('e', ''))).toMatchObject({
      verdict: 'not_attempted',
      rule: 'empty answer',
    });
    expect(server.requests).toBe(before);
  });

  it('the lexical grader needs no model', () => {
    expect(gradeLexically(answer('l', 'Ada Quill, I think'))).toEqual({
      id: 'l',
      verdict: 'correct',
      grader: 'lexical',
      exact_match: false,
      f1: expect.closeTo(2 / 3, 6), // 2 of 4 predicted tokens, 2 of 2 gold
      contains: true,
    });
  });
});

describe('runEval', () => {
  it('a request that keeps failing leaves the run incomplete; the next run retries just that item', async () => {
    const qa = path.join(dir, 'qa.jsonl');
    await fs.writeFile(
      qa,
      [
        '{"id":"a","question":"Q1?","answer":"x"}',
        '{"id":"b","question":"Q2?","answer":"y"}',
        'not json',
        '',
      ].join('\n'),
    );
    const out = path.join(dir, 'incomplete');
    const lines: string[] = [];
    const options = {
      qaFile: qa,
      out,
      generator,
      model: 'judge-model',
      concurrency: 1,
      retry: { maxAttempts: 1 },
      log: (l: string) => lines.push(l),
      progressStream: quiet,
    };
    server.injectFaults({ kind: '500' });
    const first = await runEval(options);
    expect(first.status).toBe('incomplete');
    expect(first.summary.counts).toMatchObject({
      qa_items: 2,
      qa_problems: 1,
      items: 2,
      answered: 1,
      graded: 1,
      failed: 1,
    });
    expect(first.summary.stop_reason).toMatch(/1 items failed.*run the same command again/);
    expect(lines.join('\n')).toMatch(/skipped .*qa\.jsonl:3: /);
    expect(lines.join('\n')).toMatch(/answering a failed/);

    const before = server.requests;
    const second = await runEval(options);
    expect(second.status).toBe('complete');
    expect(second.summary.counts).toMatchObject({ answered: 2, graded: 2, failed: 0 });
    expect(server.requests - before).toBe(1);
    expect(second.summary.ledger.answer?.requests).toBe(2);
  });

  it('refuses a second process on the same directory', async () => {
    const out = path.join(dir, 'locked');
    await fs.mkdir(out, { recursive: true });
    await fs.writeFile(
      path.join(out, '.lock'),
      JSON.stringify({ pid: process.ppid, host: (await import('node:os')).hostname() }),
    );
    await expect(
      runEval({
        qaFile: path.join(dir, 'qa.jsonl'),
        out,
        generator,
        model: 'm',
        progressStream: quiet,
        log: () => undefined,
      }),
    ).rejects.toThrow(/in use by another active-reading process/);
  });
});

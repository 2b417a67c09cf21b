import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  JUDGE_TEMPLATE_VERSION,
  buildJudgeMessages,
  loadJudgeTemplate,
  parseJudgeTemplate,
} from '../../../src/eval/graders/simpleqa-judge.js';

describe('SimpleQA judge prompt', () => {
  it('is one user message with the three fields filled in', () => {
    const messages = buildJudgeMessages('Who wrote Dune?', 'Frank Herbert', 'I think it was Herbert.');
    expect(messages).toHaveLength(1);
    const [m] = messages;
    expect(m?.role).toBe('user');
    expect(m?.content).toContain(
      'Question: Who wrote Dune?\nGold target: Frank Herbert\nPredicted answer: I think it was Herbert.\n',
    );
    expect(
      m?.content.startsWith('Your job is to look at a question, a gold target, and a predicted answer'),
    ).toBe(true);
    expect(m?.content.endsWith('Just return the letters "A", "B", or "C", with no text around it.')).toBe(
      true,
    );
    expect(m?.content).not.toMatch(/\{\{\w+\}\}/);
  });

  it('carries the rubric: hedging, significant figures, not attempted', () => {
    const text = buildJudgeMessages('q', 'g', 'p')[0]?.content ?? '';
    expect(text).toContain(
      'Hedging and guessing are permissible, provided that the gold target is fully included',
    );
    expect(text).toContain('correct to the last significant figure in the gold answer');
    expect(text).toContain('"around 100k" and "more than 50k" are considered NOT_ATTEMPTED');
    expect(text).toContain('A: CORRECT\nB: INCORRECT\nC: NOT_ATTEMPTED');
  });

  it('keeps the reference text as published, quirks included', () => {
    const text = buildJudgeMessages('q', 'g', 'p')[0]?.content ?? '';
    // upstream main says "1.75" here; "1.73" is an unmerged pull request (openai/simple-evals 46adc19)
    expect(text).toContain(
      'the gold target is "1.73 m". The predicted answer "1.75" would be considered CORRECT',
    );
    // the INCORRECT examples number "4" twice (plus one "4" among the NOT_ATTEMPTED ones)
    expect(text.match(/Predicted answer 4:/g)).toHaveLength(3);
    expect(text).toContain('Simply reply with either CORRECT, INCORRECT, NOT ATTEMPTED.');
  });

  it('never re-expands placeholders found in the answer', () => {
    const text = buildJudgeMessages('q', 'gold', 'see {{target}} and {{question}}')[0]?.content ?? '';
    expect(text).toContain('Predicted answer: see {{target}} and {{question}}');
  });

  it('has a version that follows the template text', () => {
    expect(JUDGE_TEMPLATE_VERSION).toMatch(/^simpleqa-grader@[0-9a-f]{12}$/);
    const builtin = loadJudgeTemplate();
    expect(builtin.version).toBe(JUDGE_TEMPLATE_VERSION);
    const edited = parseJudgeTemplate(readFileSync(builtin.file, 'utf8') + '\nBe strict.', 'x');
    expect(edited.version).not.toBe(JUDGE_TEMPLATE_VERSION);
  });

  it('takes an override folder and checks its placeholders', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'judge-'));
    writeFileSync(
      path.join(dir, 'simpleqa-grader.txt'),
      '[system]\nYou grade.\n[user]\nQ={{question}} G={{target}} P={{predicted_answer}}',
    );
    const t = loadJudgeTemplate(dir);
    expect(buildJudgeMessages('q', 'g', 'p', t)).toEqual([
      { role: 'system', content: 'You grade.' },
      { role: 'user', content: 'Q=q G=g P=p' },
    ]);
    expect(() => parseJudgeTemplate('[user]\n{{question}} {{target}}', 'bad.txt')).toThrow(
      /predicted_answer/,
    );
  });
});

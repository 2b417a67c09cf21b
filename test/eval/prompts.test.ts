import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { answerMessages } from '../../src/eval/answer.js';
import {
  ANSWER_STOP,
  extractAnswer,
  loadEvalTemplate,
  parseEvalTemplate,
  renderEvalTemplate,
} from '../../src/eval/prompts.js';

describe('answer prompts', () => {
  it('closed-book: fixed few-shot pairs, then the question and an open "Answer:", as one user message', () => {
    const template = loadEvalTemplate('answer-closed-book');
    const messages = answerMessages(
      { id: 'x', question: 'Who wrote Dune?', answer: 'Frank Herbert' },
      template,
      undefined,
    );
    expect(messages).toHaveLength(1);
    const content = messages[0]?.content ?? '';
    expect(messages[0]?.role).toBe('user');
    expect(content).toContain('Question: What is the capital city of Australia?\nAnswer: Canberra\n');
    expect(content.endsWith('Question: Who wrote Dune?\nAnswer:')).toBe(true);
    expect(content).not.toContain('Frank Herbert'); // the gold answer never reaches the model
    expect(template.version).toMatch(/^answer-closed-book@[0-9a-f]{12}$/);
  });

  it('gold-context: the document, then the question', () => {
    const template = loadEvalTemplate('answer-gold-context');
    const messages = answerMessages(
      { id: 'x', question: 'Who wrote Dune?', answer: 'Frank Herbert' },
      template,
      {
        doc_id: 'd',
        chunks: [0],
        tokens: 9,
        text: 'Dune\nDune is a novel by Frank Herbert.',
      },
    );
    const content = messages[0]?.content ?? '';
    expect(content).toContain('<document>\nDune\nDune is a novel by Frank Herbert.\n</document>');
    expect(content.endsWith('Question: Who wrote Dune?\nAnswer:')).toBe(true);
    expect(template.version).not.toBe(loadEvalTemplate('answer-closed-book').version);
  });

  it('fills placeholders once, so a question containing {{context}} stays as written', () => {
    const template = parseEvalTemplate('answer-gold-context', '[user]\n{{context}} | {{question}}', 'inline');
    expect(renderEvalTemplate(template, { context: 'C', question: 'what is {{context}}?' })[0]?.content).toBe(
      'C | what is {{context}}?',
    );
  });

  it('an override folder replaces a template, and a missing placeholder is an error naming the file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'eval-prompts-'));
    writeFileSync(
      path.join(dir, 'answer-closed-book.txt'),
      '[system]\nBe brief.\n[user]\nQ: {{question}}\nA:',
    );
    const custom = loadEvalTemplate('answer-closed-book', dir);
    expect(custom.file).toBe(path.join(dir, 'answer-closed-book.txt'));
    expect(renderEvalTemplate(custom, { question: 'Why?' })).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Q: Why?\nA:' },
    ]);
    expect(custom.version).not.toBe(loadEvalTemplate('answer-closed-book').version);
    writeFileSync(path.join(dir, 'qa-probes.txt'), 'Write {{count}} questions.');
    expect(() => loadEvalTemplate('qa-probes', dir)).toThrow(
      /qa-probes\.txt: missing the placeholder \{\{document\}\}/,
    );
    expect(() => loadEvalTemplate('qa-probes', path.join(dir, 'nope'))).toThrow(/folder not found/);
  });

  it('stops a base model before it writes the next few-shot question', () => {
    expect(ANSWER_STOP).toEqual(['\nQuestion:']);
  });
});

describe('extractAnswer', () => {
  const cases: Array<[string, string]> = [
    ['Paris', 'Paris'],
    [' Paris\nQuestion: What is next?', 'Paris'],
    ['\n\nParis\n', 'Paris'],
    ['Answer: Paris', 'Paris'],
    ['**Answer:** 1969', '1969'],
    ['answer:\nJane Austen\nmore text', 'Jane Austen'],
    ['Jane Austen wrote it.\r\nShe also wrote Emma.', 'Jane Austen wrote it.'],
    ['', ''],
    ['   \n  ', ''],
  ];
  for (const [raw, answer] of cases) {
    it(`${JSON.stringify(raw)} -> ${JSON.stringify(answer)}`, () => expect(extractAnswer(raw)).toBe(answer));
  }
});

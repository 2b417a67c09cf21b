import { describe, expect, it } from 'vitest';
import { parseProbeReply } from '../../src/eval/probe-parse.js';

describe('parseProbeReply', () => {
  it('reads a JSON array of pairs, bare or in one code fence', () => {
    const reply =
      '[{"question": "Who founded Vellmar?", "answer": "Ada Quill"}, {"question": "When?", "answer": 1821}]';
    expect(parseProbeReply(reply, { max: 3 })).toEqual({
      pairs: [
        { question: 'Who founded Vellmar?', answer: 'Ada Quill' },
        { question: 'When?', answer: '1821' },
      ],
      problems: [],
    });
    expect(parseProbeReply('```json\n' + reply + '\n```', { max: 3 })).toMatchObject({ problems: [] });
  });

  it('rejects a reply that is not a JSON array as a whole, without repairing it', () => {
    expect(
      parseProbeReply('Here are the questions:\n[{"question": "a?", "answer": "b"}]', { max: 3 }),
    ).toMatchObject({
      error: expect.stringMatching(/^not valid JSON/),
    });
    expect(parseProbeReply('{"question": "a?", "answer": "b"}', { max: 3 })).toEqual({
      error: 'expected a JSON array of {"question", "answer"}, got object',
    });
    expect(parseProbeReply('[{"question": "a?", "answer": "b"},]', { max: 3 })).toHaveProperty('error');
  });

  it('drops pairs that break a rule, with the reason', () => {
    const reply = JSON.stringify([
      { question: 'What does the document say about Osk?', answer: 'a river' },
      { question: 'Who built the bridge?' },
      {
        question: 'Describe the town.',
        answer: 'a small town with many old houses and two large bridges over the river',
      },
      'just text',
      { question: 'Who built the bridge?', answer: 'Ivo' },
      { question: 'who built the bridge', answer: 'Ivo' },
      { question: 'How long is the Osk?', answer: '40 km' },
      { question: 'How deep is the Osk?', answer: '3 m' },
    ]);
    expect(parseProbeReply(reply, { max: 2 })).toEqual({
      pairs: [
        { question: 'Who built the bridge?', answer: 'Ivo' },
        { question: 'How long is the Osk?', answer: '40 km' },
      ],
      problems: [
        'pair 1: the question refers to the document',
        'pair 2: no "answer" text',
        'pair 3: the answer has 14 words (at most 10)',
        'pair 4: not an object',
        'pair 6: repeats an earlier question',
        'pair 8: more pairs than the 2 asked for',
      ],
    });
  });
});

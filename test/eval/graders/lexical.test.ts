import { describe, expect, it } from 'vitest';
import { gradeLexical, lexicalScores, tokenF1 } from '../../../src/eval/graders/lexical.js';
import { containsTokens, normalizeAnswer } from '../../../src/eval/graders/normalize.js';

describe('normalizeAnswer', () => {
  it.each([
    ['The Eiffel Tower!', 'eiffel tower'],
    ['  An   apple,  a day ', 'apple day'],
    ['1,000', '1000'],
    ['1,234,567 people', '1234567 people'],
    ['1.73 m', '1.73 m'],
    ['It is 1.73.', 'it is 1.73'],
    ['Zoë Saldaña', 'zoe saldana'],
    ['Ｔｏｋｙｏ １２３', 'tokyo 123'],
    ["Don't", 'dont'],
    ['U.S.', 'us'],
    ['Jean-Paul Sartre', 'jean paul sartre'],
    ['Paris,London', 'paris london'],
    ['50% ($5)', '50 5'],
    ['The', ''],
  ])('%j -> %j', (input, expected) => {
    expect(normalizeAnswer(input)).toBe(expected);
  });

  it('matches whole tokens only', () => {
    expect(containsTokens('party time', 'art')).toBe(false);
    expect(containsTokens('modern art museum', 'art museum')).toBe(true);
    expect(containsTokens('anything', '')).toBe(false);
  });
});

describe('tokenF1', () => {
  it('is SQuAD F1 on normalised tokens', () => {
    // pred: {malia, obama} vs gold {malia, and, sasha}: 1 shared, P = 1/2, R = 1/3
    expect(tokenF1('Malia Obama', 'Malia and Sasha')).toBeCloseTo((2 * 0.5 * (1 / 3)) / (0.5 + 1 / 3), 12);
    expect(tokenF1('The Paris', 'paris')).toBe(1);
    expect(tokenF1('Lyon', 'Paris')).toBe(0);
    expect(tokenF1('', '')).toBe(1);
    expect(tokenF1('x', '')).toBe(0);
  });

  it('counts repeated tokens once per occurrence', () => {
    // pred: new new york; gold: new york -> 2 shared, P = 2/3, R = 1
    expect(tokenF1('new new york', 'New York')).toBeCloseTo(0.8, 12);
  });
});

describe('gradeLexical', () => {
  it.each([
    ['Paris', 'Paris', 'correct'],
    ['paris.', 'Paris', 'correct'],
    ['It is Paris, France.', 'Paris', 'correct'],
    ["I'm not sure, but I think it's Paris", 'Paris', 'correct'],
    ['1000', '1,000', 'correct'],
    ['About 1,000 people', '1000', 'correct'],
    ['Zoe Saldana', 'Zoë Saldaña', 'correct'],
    ['Lyon', 'Paris', 'incorrect'],
    ['Parisian', 'Paris', 'incorrect'],
    ['173', '1.73', 'incorrect'],
    ['', 'Paris', 'not_attempted'],
    ['   ...  ', 'Paris', 'not_attempted'],
    ["I don't know.", 'Paris', 'not_attempted'],
    ['Unknown', 'Paris', 'not_attempted'],
    ['I am not sure.', 'Paris', 'not_attempted'],
    ['I cannot answer that question.', 'Paris', 'not_attempted'],
    ['No idea', 'Paris', 'not_attempted'],
  ])('%j vs gold %j -> %s', (pred, gold, verdict) => {
    expect(gradeLexical(pred, gold).verdict).toBe(verdict);
  });

  it('accepts any of several gold aliases and reports the scores', () => {
    const g = gradeLexical('NYC', ['New York City', 'NYC']);
    expect(g).toEqual({ verdict: 'correct', exact_match: true, f1: 1, contains: true });
    expect(lexicalScores('the big apple', ['New York City'])).toEqual({
      exact_match: false,
      f1: 0,
      contains: false,
    });
  });
});

import { describe, expect, it } from 'vitest';
import { parseVerdict, type Verdict } from '../../../src/eval/graders/verdict.js';

const CASES: [string, Verdict][] = [
  // bare letters and their decorations
  ['A', 'correct'],
  ['B', 'incorrect'],
  ['C', 'not_attempted'],
  ['A.', 'correct'],
  ['(A)', 'correct'],
  ['(b)', 'incorrect'],
  ['a', 'correct'],
  ['**A**', 'correct'],
  ['`C`', 'not_attempted'],
  ['"B"', 'incorrect'],
  ['A\n', 'correct'],
  ['  B  \n\n', 'incorrect'],
  ['C\r\n', 'not_attempted'],
  // explicit labels
  ['Grade: B', 'incorrect'],
  ['grade: a', 'correct'],
  ['GRADE: C', 'not_attempted'],
  ['**Grade:** A', 'correct'],
  ['Verdict: INCORRECT', 'incorrect'],
  ['The grade is C.', 'not_attempted'],
  ['grade: not attempted', 'not_attempted'],
  // verdict words ('INCORRECT' contains 'CORRECT'; never read the C of CORRECT as a letter)
  ['CORRECT', 'correct'],
  ['Correct', 'correct'],
  ['correct.', 'correct'],
  ['INCORRECT', 'incorrect'],
  ['Incorrect', 'incorrect'],
  ['NOT_ATTEMPTED', 'not_attempted'],
  ['not attempted', 'not_attempted'],
  ['NOT ATTEMPTED', 'not_attempted'],
  ['Not-attempted', 'not_attempted'],
  ['CORRECT\n', 'correct'],
  // letter with its word
  ['A: CORRECT', 'correct'],
  ['B: INCORRECT', 'incorrect'],
  ['C: NOT_ATTEMPTED', 'not_attempted'],
  ['The answer is A: CORRECT', 'correct'],
  ['The answer is B.', 'incorrect'],
  // prose around one verdict
  ['The predicted answer matches the gold target, so it is correct.', 'correct'],
  ['The predicted answer is incorrect because it names 1990.', 'incorrect'],
  ['The predicted answer is not correct.', 'incorrect'],
  ['The model did not give an answer, so this is NOT_ATTEMPTED.', 'not_attempted'],
  ['A correct answer would name Paris; the prediction names Lyon, so INCORRECT.', 'incorrect'],
  ['The correct answer is Paris and the prediction says Paris: CORRECT', 'correct'],
  ['A\n\nThe prediction contains the gold target.', 'correct'],
  ['It is CORRECT (A).', 'correct'],
  ['A. The predicted answer is correct.', 'correct'],
  ['B: the prediction contradicts the gold target.', 'incorrect'],
  ['a: correct', 'correct'],
  // ambiguous, empty or unreadable: never guessed
  ['A or B', 'unparsed'],
  ['A and C', 'unparsed'],
  ['CORRECT or INCORRECT', 'unparsed'],
  ['A: INCORRECT', 'unparsed'],
  ['Grade: A, grade: B', 'unparsed'],
  ['A: CORRECT\nB: INCORRECT\nC: NOT_ATTEMPTED', 'unparsed'],
  ['A correct answer would name the year.', 'unparsed'],
  ['', 'unparsed'],
  ['   \n ', 'unparsed'],
  ['D', 'unparsed'],
  ['I cannot grade this', 'unparsed'],
  ['I cannot grade a reply like this one.', 'unparsed'],
  ['The answer was given in Washington D.C.', 'unparsed'],
];

describe('parseVerdict', () => {
  it.each(CASES)('%j -> %s', (reply, expected) => {
    expect(parseVerdict(reply)).toBe(expected);
  });

  it('prefers an explicit grade over verdict words in the explanation', () => {
    expect(parseVerdict('The prediction is partly correct but misses the year.\nGrade: C')).toBe(
      'not_attempted',
    );
  });

  it('prefers a line that is only a letter over words in the explanation', () => {
    expect(parseVerdict('B\nA correct answer would need the year; this one is wrong.')).toBe('incorrect');
  });
});

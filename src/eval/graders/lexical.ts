/**
 * A string-matching grader for offline runs and tests: no judge model, same three grades as SimpleQA.
 * It is an approximation: paraphrases ('the 1990s' for '1995') and numbers within the gold's precision
 * ('124k' for '120k') that a judge accepts are graded incorrect here.
 */
import { answerTokens, containsTokens, normalizeAnswer } from './normalize.js';
import type { Grade } from './verdict.js';

export interface LexicalScores {
  /** Normalised prediction equals a normalised gold answer. */
  exact_match: boolean;
  /** SQuAD token F1, best over the gold answers. */
  f1: number;
  /** A normalised gold answer occurs as whole tokens, contiguously, in the normalised prediction. */
  contains: boolean;
}

export interface LexicalGrade extends LexicalScores {
  verdict: Grade;
}

/**
 * Refusals, in normalised form (no apostrophes, no articles), matched as whole tokens anywhere in the
 * answer. Kept short on purpose: each entry must almost never occur in a real attempt.
 */
export const REFUSAL_PHRASES: readonly string[] = [
  'dont know',
  'do not know',
  'not sure',
  'unsure',
  'unknown',
  'no idea',
  'cannot answer',
  'cant answer',
  'unable to answer',
];

/** SQuAD F1 on normalised token bags: shared tokens (with multiplicity) over prediction and gold lengths. */
export function tokenF1(predicted: string, gold: string): number {
  return f1OfTokens(answerTokens(predicted), answerTokens(gold));
}

function f1OfTokens(p: string[], g: string[]): number {
  if (p.length === 0 || g.length === 0) return p.length === g.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const t of g) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of p) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      same++;
      counts.set(t, c - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / p.length;
  const recall = same / g.length;
  return (2 * precision * recall) / (precision + recall);
}

const split = (normalized: string) => (normalized ? normalized.split(' ') : []);

export function lexicalScores(predicted: string, gold: string | readonly string[]): LexicalScores {
  const golds = (typeof gold === 'string' ? [gold] : [...gold]).map(normalizeAnswer);
  const pred = normalizeAnswer(predicted);
  return {
    exact_match: golds.some((g) => g === pred),
    f1: Math.max(0, ...golds.map((g) => f1OfTokens(split(pred), split(g)))),
    contains: golds.some((g) => containsTokens(pred, g)),
  };
}

/**
 * Grade rule, in order: an empty answer is not attempted; an answer that matches or contains a gold answer
 * is correct (hedging around the gold is allowed, as in the SimpleQA rubric: "I'm not sure, but Paris"
 * counts); an answer with a refusal phrase is not attempted; anything else is incorrect.
 * Several gold strings are aliases: matching any one of them is enough.
 */
export function gradeLexical(predicted: string, gold: string | readonly string[]): LexicalGrade {
  const scores = lexicalScores(predicted, gold);
  const pred = normalizeAnswer(predicted);
  let verdict: Grade;
  if (pred === '') verdict = 'not_attempted';
  else if (scores.exact_match || scores.contains) verdict = 'correct';
  else if (REFUSAL_PHRASES.some((r) => containsTokens(pred, r))) verdict = 'not_attempted';
  else verdict = 'incorrect';
  return { ...scores, verdict };
}

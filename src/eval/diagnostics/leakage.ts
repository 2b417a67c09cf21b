/**
 * Leakage check: evaluation questions or answers that appear verbatim in training texts. Both sides are
 * normalised as the lexical grader does (normalize.ts) and compared as whole-token sequences, so "What is
 * X?" is found in "... what is x ..." but 'art' is not found in 'party'.
 *
 * Only strings of at least 3 tokens or 12 characters (normalised) are checked: short answers such as
 * '1990' or 'Paris' occur in any text on the subject and say nothing about leakage. The same floor applies
 * to questions, which practically always pass it. Note that the study data is *meant* to contain the
 * answers (that is coverage, see coverage.ts): an answer hit is a signal to look at, a question hit
 * (especially `with_answer`) is the one that means the test set was seen.
 *
 * All patterns go into one token-level Aho-Corasick automaton, so the texts are read once, streaming, in
 * time linear in their length: thousands of questions against tens of thousands of texts take seconds.
 */
import { normalizeAnswer, containsTokens } from '../graders/normalize.js';
import { TokenAutomaton } from './token-automaton.js';

export interface LeakageItem {
  question: string;
  answer: string;
  id?: string;
}

export type LeakageText = string | { id?: string; text: string };

export interface TextRef {
  /** Position of the text in the input sequence. */
  index: number;
  id?: string;
}

export interface LeakageHit {
  kind: 'question' | 'answer';
  /** Index of the evaluation item in the input. */
  item: number;
  id?: string;
  /** The normalised string that was found. */
  normalized: string;
  /** Number of texts containing it. */
  text_count: number;
  /** The first texts containing it (at most `maxTextsPerHit`). */
  texts: TextRef[];
  /** Question hits: whether the item's answer also occurs in one of the texts that contain the question. */
  with_answer?: boolean;
}

export interface LeakageReport {
  questions_checked: number;
  questions_leaked: number;
  answers_checked: number;
  answers_leaked: number;
  /** Answers below the length floor, not checked. */
  answers_too_short: number;
  texts_scanned: number;
  /** Question hits first, then answer hits, each by item index. */
  hits: LeakageHit[];
}

export interface LeakageOptions {
  /** A string is checked if it has at least this many tokens... (default 3) */
  minTokens?: number;
  /** ...or at least this many characters, normalised (default 12). */
  minChars?: number;
  /** Text references kept per hit (default 20); `text_count` still counts them all. */
  maxTextsPerHit?: number;
}

interface Owner {
  kind: 'question' | 'answer';
  item: number;
}

interface PatternState {
  normalized: string;
  owners: Owner[];
  count: number;
  texts: TextRef[];
  /** Items whose question and answer were found in the same text. */
  withAnswer: Set<number>;
}

export function findLeakage(
  items: readonly LeakageItem[],
  texts: Iterable<LeakageText>,
  options: LeakageOptions = {},
): LeakageReport {
  const { minTokens = 3, minChars = 12, maxTextsPerHit = 20 } = options;
  const longEnough = (n: string) => n.length >= minChars || n.split(' ').length >= minTokens;

  // One pattern per distinct normalised string; several items (or a question and an answer) may share it.
  const automaton = new TokenAutomaton();
  const patterns: PatternState[] = [];
  const patternOf = new Map<string, number>();
  const answers = items.map((it) => normalizeAnswer(it.answer));
  const register = (normalized: string, owner: Owner) => {
    let id = patternOf.get(normalized);
    if (id === undefined) {
      id = patterns.length;
      patternOf.set(normalized, id);
      patterns.push({ normalized, owners: [], count: 0, texts: [], withAnswer: new Set() });
      automaton.add(normalized.split(' '), id);
    }
    (patterns[id] as PatternState).owners.push(owner);
  };
  let questionsChecked = 0;
  let answersChecked = 0;
  items.forEach((it, item) => {
    const q = normalizeAnswer(it.question);
    if (q && longEnough(q)) {
      register(q, { kind: 'question', item });
      questionsChecked++;
    }
    const a = answers[item] as string;
    if (a && longEnough(a)) {
      register(a, { kind: 'answer', item });
      answersChecked++;
    }
  });

  let index = 0;
  const seen = new Set<number>();
  for (const entry of texts) {
    const text = typeof entry === 'string' ? entry : entry.text;
    const ref: TextRef =
      typeof entry === 'string' || entry.id === undefined ? { index } : { index, id: entry.id };
    const normalized = normalizeAnswer(text);
    seen.clear();
    if (normalized) automaton.search(normalized.split(' '), (id) => seen.add(id));
    for (const id of seen) {
      const p = patterns[id] as PatternState;
      p.count++;
      if (p.texts.length < maxTextsPerHit) p.texts.push(ref);
      for (const o of p.owners) {
        const answer = answers[o.item] as string;
        if (o.kind === 'question' && answer && containsTokens(normalized, answer)) p.withAnswer.add(o.item);
      }
    }
    index++;
  }

  const hits: LeakageHit[] = [];
  for (const p of patterns) {
    if (p.count === 0) continue;
    for (const o of p.owners) {
      const id = items[o.item]?.id;
      const hit: LeakageHit = {
        kind: o.kind,
        item: o.item,
        normalized: p.normalized,
        text_count: p.count,
        texts: [...p.texts],
      };
      if (id !== undefined) hit.id = id;
      if (o.kind === 'question') hit.with_answer = p.withAnswer.has(o.item);
      hits.push(hit);
    }
  }
  hits.sort((a, b) => (a.kind === b.kind ? a.item - b.item : a.kind === 'question' ? -1 : 1));
  return {
    questions_checked: questionsChecked,
    questions_leaked: hits.filter((h) => h.kind === 'question').length,
    answers_checked: answersChecked,
    answers_leaked: hits.filter((h) => h.kind === 'answer').length,
    answers_too_short: answers.filter((a) => a && !longEnough(a)).length,
    texts_scanned: index,
    hits,
  };
}

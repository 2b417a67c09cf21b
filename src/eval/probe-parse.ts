/**
 * Strict reading of a probe-generation reply: a JSON array of {"question", "answer"} objects, optionally
 * inside one markdown code fence, and nothing else. A reply that is not such an array is unusable as a
 * whole; a pair that breaks a rule (missing field, long answer, a question that needs the document to make
 * sense, a repeat) is dropped with its reason. Nothing is repaired or guessed.
 */
import { normalizeAnswer } from './graders/normalize.js';

export interface ProbePair {
  question: string;
  answer: string;
}

export type ProbeParse = { pairs: ProbePair[]; problems: string[] } | { error: string };

export interface ProbeParseOptions {
  /** Pairs kept at most (the number asked for); extras are dropped with a problem. */
  max: number;
  /** Longest answer in words (default 10, as the prompt asks). */
  maxAnswerWords?: number;
}

// A closed-book question cannot point at a text the reader does not have.
const DOCUMENT_REFERENCE =
  /\b(?:the|this|that|above|given)\s+(?:document|text|passage|article|excerpt|author|paragraph|source)\b/i;

export function parseProbeReply(reply: string, options: ProbeParseOptions): ProbeParse {
  const maxWords = options.maxAnswerWords ?? 10;
  let body = reply.trim();
  const fence = /^```[a-zA-Z]*\n([\s\S]*?)\n```$/.exec(body);
  if (fence) body = (fence[1] as string).trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    return { error: `not valid JSON (${(error as Error).message})` };
  }
  if (!Array.isArray(parsed)) {
    return {
      error: `expected a JSON array of {"question", "answer"}, got ${parsed === null ? 'null' : typeof parsed}`,
    };
  }
  const pairs: ProbePair[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  parsed.forEach((entry: unknown, i) => {
    const skip = (why: string) => void problems.push(`pair ${i + 1}: ${why}`);
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return skip('not an object');
    const { question, answer } = entry as { question?: unknown; answer?: unknown };
    const q = typeof question === 'string' ? question.trim() : '';
    const a = typeof answer === 'string' ? answer.trim() : typeof answer === 'number' ? String(answer) : '';
    if (!q) return skip(`no "question" text`);
    if (!a) return skip(`no "answer" text`);
    if (DOCUMENT_REFERENCE.test(q)) return skip(`the question refers to the document`);
    const words = a.split(/\s+/).length;
    if (words > maxWords) return skip(`the answer has ${words} words (at most ${maxWords})`);
    const key = normalizeAnswer(q);
    if (seen.has(key)) return skip(`repeats an earlier question`);
    seen.add(key);
    if (pairs.length >= options.max) return skip(`more pairs than the ${options.max} asked for`);
    pairs.push({ question: q, answer: a });
  });
  return { pairs, problems };
}

/** The lines of answers.jsonl and grades.jsonl, and how a resumed run reads them back. */
import { JsonlAppendLog, scanJsonl } from '../runtime/jsonl-log.js';
import type { Verdict } from './graders/verdict.js';

export type AnswerMode = 'closed-book' | 'gold-context';
export const ANSWER_MODES: readonly AnswerMode[] = ['closed-book', 'gold-context'];

export type GraderName = 'lexical' | 'simpleqa';
export const GRADER_NAMES: readonly GraderName[] = ['simpleqa', 'lexical'];

export interface AnswerRecord {
  id: string;
  question: string;
  gold: string;
  /** The short answer: `raw` cut at its first newline (see extractAnswer). */
  answer: string;
  /** The model's whole reply. */
  raw: string;
  mode: AnswerMode;
  /** The model as the user named it (a path or a served name; never a key). */
  model: string;
  doc_id?: string;
  chunk_index?: number;
  /** Gold-context mode: which chunks of which document were in the prompt. */
  context?: { doc_id: string; chunks: number[]; tokens: number };
  prompt_tokens: number;
  completion_tokens: number;
  finish_reason?: string;
}

export interface GradeRecord {
  id: string;
  verdict: Verdict;
  grader: GraderName;
  judge_model?: string;
  /** The judge's reply as received; the verdict is parsed from it (unreadable: `unparsed`). */
  judge_raw?: string;
  /** Why no judge was asked (an empty answer is not attempted by definition). */
  rule?: string;
  exact_match: boolean;
  f1: number;
  contains: boolean;
}

/**
 * Opens an append log (cutting a line torn by a crash), and reads the records it holds by id; the first
 * record of an id wins (a log never holds two, but a hand-edited one might).
 */
export async function openRecordLog<T extends { id: string }>(
  file: string,
): Promise<{ log: JsonlAppendLog; records: Map<string, T> }> {
  const log = JsonlAppendLog.open(file);
  const records = new Map<string, T>();
  await scanJsonl<T>(file, (record) => {
    if (typeof record?.id === 'string' && !records.has(record.id)) records.set(record.id, record);
  });
  return { log, records };
}

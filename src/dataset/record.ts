import type { ChatMessage } from '../models/types.js';

export const STUDY_METHODS = ['ar', 'ar-task', 'paraphrase', 'qa', 'entigraph', 'repeat', 'all'] as const;
export type StudyMethodName = (typeof STUDY_METHODS)[number];
/** Methods that produce records; `all` is a mix of paraphrase + qa + ar. */
export type RecordMethod = Exclude<StudyMethodName, 'all'>;

/**
 * One training document: a study record, compatible with Meta's released Active Reading data plus `method`.
 * `strategy` is the index of the strategy (or entity pair, or paraphrase style) within its stage-1 output.
 */
export interface StudyRecord {
  request: { messages: ChatMessage[] };
  response: { text: string };
  metadata: {
    doc_id: string;
    title: string;
    chunk_index: number;
    total_chunks: number;
    rep: number;
    strategy: number;
    method: RecordMethod;
  };
  stats: { prompt_tokens: number; completion_tokens: number };
}

/** Identity of a record within a run: two records with the same key are duplicates. */
export function recordKey(m: {
  method: string;
  doc_id: string;
  chunk_index: number;
  rep: number;
  strategy: number;
}): string {
  return `${m.method}\u0000${m.doc_id}\u0000${m.chunk_index}\u0000${m.rep}\u0000${m.strategy}`;
}

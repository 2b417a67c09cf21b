/**
 * OUT/summary.json: the evaluation's manifest and result in one file. It is written when a run starts
 * (status `running`, its settings) and when it stops (metrics, counts, diagnostics), so a resumed run can
 * check that it continues the same evaluation, and `compare` reads everything it needs from it.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../runtime/atomic-file.js';
import type { LedgerEntry } from '../runtime/ledger.js';
import type { StudyDiagnostics } from './study-diagnostics.js';
import type { Summary } from './metrics.js';
import type { AnswerMode, GraderName } from './records.js';

export const SUMMARY_FORMAT = 'active-reading/eval@1';

/**
 * running: in progress (or killed); complete: every item answered and graded; incomplete: some requests
 * failed (run again to retry them); interrupted: Ctrl-C; failed: stopped by an error.
 */
export type EvalStatus = 'running' | 'complete' | 'incomplete' | 'interrupted' | 'failed';

/** What determines the answers: a run directory keeps them for its whole life. */
export interface AnswerSettings {
  qa_sha256: string;
  /** The model's cache identity (no URL, no key). */
  model: string;
  mode: AnswerMode;
  template: string;
  temperature: number;
  max_tokens: number;
  context_tokens: number | null;
}

/** What determines the grades: when only these change, the answers are kept and graded again. */
export interface GradeSettings {
  grader: GraderName;
  judge: string | null;
  template: string | null;
  max_tokens: number | null;
}

export interface EvalConfig {
  label: string;
  model: string;
  model_id: string;
  base_url: string | null;
  mode: AnswerMode;
  grader: GraderName;
  judge_model: string | null;
  judge_model_id: string | null;
  judge_base_url: string | null;
  qa_file: string;
  qa_sha256: string;
  qa_format: string;
  limit: number | null;
  corpus: string | null;
  study: string | null;
  temperature: number;
  max_tokens: number;
  context_tokens: number | null;
  concurrency: number;
  judge_concurrency: number | null;
  templates: { answer: string; judge: string | null };
}

export interface EvalCounts {
  /** Good items in the QA file, and its rows skipped as problems. */
  qa_items: number;
  qa_problems: number;
  /** Items evaluated (after --limit). */
  items: number;
  /** Gold-context items whose document is not in the corpus: not asked, not graded (see missing_context). */
  missing_context: number;
  answered: number;
  graded: number;
  /** Items whose answer or grade request failed this session; a new run retries them. */
  failed: number;
  unparsed: number;
  empty_answers: number;
}

export interface EvalSummaryFile {
  format: typeof SUMMARY_FORMAT;
  tool: { name: string; version: string; node: string };
  label: string;
  status: EvalStatus;
  stop_reason?: string;
  created_at: string;
  updated_at: string;
  config: EvalConfig;
  settings: { answers: AnswerSettings; grades: GradeSettings };
  counts: EvalCounts;
  /** The first 100 items without a gold context, with the reason. */
  missing_context: Array<{ id: string; reason: string }>;
  /** summarize() over the graded items (fractions); null before anything is graded. */
  metrics: Summary | null;
  /** Requests, cache hits and tokens of the `answer` and `judge` calls, over all sessions. */
  ledger: Record<string, LedgerEntry>;
  diagnostics?: StudyDiagnostics;
}

export function summaryPath(dir: string): string {
  return path.join(dir, 'summary.json');
}

export async function readSummary(dir: string): Promise<EvalSummaryFile | undefined> {
  let text: string;
  try {
    text = await fs.readFile(summaryPath(dir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${summaryPath(dir)} is not valid JSON (${(error as Error).message})`);
  }
  const summary = parsed as Partial<EvalSummaryFile> | null;
  if (summary?.format !== SUMMARY_FORMAT) {
    throw new Error(`${summaryPath(dir)} is not an active-reading evaluation summary`);
  }
  return summary as EvalSummaryFile;
}

export async function writeSummary(dir: string, summary: EvalSummaryFile): Promise<void> {
  await writeFileAtomic(summaryPath(dir), `${JSON.stringify(summary, null, 2)}\n`);
}

/** The settings that differ, as "name: before -> after", for an error message a user can act on. */
export function settingsDifferences<T extends object>(before: T, after: T): string[] {
  return (Object.keys(after) as Array<keyof T>)
    .filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]))
    .map((key) => `${String(key)}: ${JSON.stringify(before[key])} -> ${JSON.stringify(after[key])}`);
}

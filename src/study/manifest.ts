import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { IngestSummary } from '../corpus/types.js';
import type { TokenCheckpoint } from '../dataset/checkpoints.js';
import type { LedgerEntry } from '../runtime/ledger.js';
import { writeFileAtomic } from '../runtime/atomic-file.js';

/** Settings that determine the content of the records: a run directory keeps them for its whole life. */
export interface StudyFingerprintFields {
  method: string;
  model: string;
  task: string;
  chunk_tokens: number;
  temperature: number;
  top_p: number | null;
  max_tokens: number;
  min_words: number;
  seed: number;
  pairs_per_rep: number;
  templates: Record<string, string>;
}

export type RunStatus = 'running' | 'complete' | 'interrupted' | 'failed';

export interface StudyManifest {
  format: 'active-reading/study@1';
  tool: { name: string; version: string; node: string };
  created_at: string;
  updated_at: string;
  status: RunStatus;
  /** Why the run stopped when it did not complete. */
  stop_reason?: string;
  fingerprint: string;
  config: StudyFingerprintFields & {
    corpus: string | null;
    base_url: string | null;
    budget_tokens: number | null;
    reps: number | null;
    concurrency: number;
    shard_records: number;
    prices: { input_per_million: number; output_per_million: number } | null;
  };
  corpus: Omit<IngestSummary, 'issues'> & { issues: IngestSummary['issues']; tokens: number };
  counts: {
    records: Record<string, number>;
    stage_one_entries: number;
    stage_one_without_strategies: number;
    short_outputs_dropped: number;
    failed_generations: number;
  };
  /** Generated training tokens per method (sum of completion_tokens of its records). */
  tokens: Record<string, number>;
  /** Requests actually made, cache hits, prompt/completion tokens and cost, per method, over all sessions. */
  ledger: Record<string, LedgerEntry>;
  checkpoints: Record<string, TokenCheckpoint[]>;
}

export function fingerprintOf(fields: StudyFingerprintFields): string {
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 16);
}

/** Lists the fingerprint fields that differ, for an error message a user can act on. */
export function describeDifferences(before: StudyFingerprintFields, after: StudyFingerprintFields): string[] {
  const out: string[] = [];
  for (const key of Object.keys(after) as Array<keyof StudyFingerprintFields>) {
    const a = JSON.stringify(before[key]);
    const b = JSON.stringify(after[key]);
    if (a === b) continue;
    if (key === 'templates') {
      const names = Object.keys(after.templates).filter((n) => before.templates?.[n] !== after.templates[n]);
      out.push(`prompt templates changed (${names.join(', ')})`);
    } else {
      out.push(`${key}: ${a} -> ${b}`);
    }
  }
  return out;
}

export async function readManifest(runDir: string): Promise<StudyManifest | undefined> {
  const file = path.join(runDir, 'manifest.json');
  let raw: string;
  try {
    raw = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(raw) as StudyManifest;
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message}); restore it or use a new --out`);
  }
}

export async function writeManifest(runDir: string, manifest: StudyManifest): Promise<void> {
  await writeFileAtomic(path.join(runDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

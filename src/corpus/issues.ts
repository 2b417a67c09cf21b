import { lstat } from 'node:fs/promises';
import type { IngestIssue, IngestSummary } from './types.js';

/** Receives every skipped item (file, JSONL line, duplicate document) as it is found. */
export type ReportIssue = (issue: IngestIssue) => void;

export const DEFAULT_MAX_STORED_ISSUES = 1000;

export function emptySummary(): IngestSummary {
  return { files: 0, documents: 0, chunks: 0, skipped: 0, issues: [] };
}

/**
 * A reporter that counts every issue in `summary.skipped`, stores the first `maxStored` of them in
 * `summary.issues` (so a pathological corpus cannot grow memory without bound) and forwards all to `onIssue`.
 */
export function issueCollector(
  summary: IngestSummary,
  onIssue?: ReportIssue,
  maxStored = DEFAULT_MAX_STORED_ISSUES,
): ReportIssue {
  return (issue) => {
    summary.skipped++;
    if (summary.issues.length < maxStored) summary.issues.push(issue);
    onIssue?.(issue);
  };
}

/** A short human reason for a file-system error (no stack, no errno noise). */
export async function describeReadError(path: string, err: unknown): Promise<string> {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT': {
      const link = await lstat(path).then(
        (st) => st.isSymbolicLink(),
        () => false,
      );
      return link
        ? 'cannot read: broken symbolic link (its target does not exist)'
        : 'cannot read: file not found';
    }
    case 'EACCES':
    case 'EPERM':
      return 'cannot read: permission denied';
    case 'EISDIR':
      return 'cannot read: is a directory';
    case 'ELOOP':
      return 'cannot read: too many levels of symbolic links';
    default:
      return `cannot read: ${err instanceof Error ? err.message : String(err)}`;
  }
}

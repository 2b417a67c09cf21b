import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TokenCounter } from '../../src/models/types.js';
import { readCorpus, ingestCorpus, type IngestOptions } from '../../src/corpus/index.js';
import type { Chunk, IngestIssue, SourceDocument } from '../../src/corpus/index.js';

/** A fresh temporary directory; `cleanup` removes it. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'corpus-test-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes files (string or bytes) under `dir`, creating folders as needed. */
export async function writeFiles(dir: string, files: Record<string, string | Uint8Array>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }
}

export async function readAll(path: string) {
  const issues: IngestIssue[] = [];
  const { documents, summary } = readCorpus(path, { onIssue: (issue) => issues.push(issue) });
  const docs: SourceDocument[] = [];
  for await (const doc of documents) docs.push(doc);
  return { docs, issues, summary };
}

export async function ingestAll(path: string, options: IngestOptions = {}) {
  const issues: IngestIssue[] = [];
  const { chunks, summary } = ingestCorpus(path, { ...options, onIssue: (issue) => issues.push(issue) });
  const out: Chunk[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return { chunks: out, issues, summary };
}

export function jsonl(records: unknown[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

/** A fast, exact counter for tests of the splitting logic: one token per whitespace-separated word. */
export const wordCounter: TokenCounter = {
  name: 'test:words',
  count: (text) => text.split(/\s+/).filter(Boolean).length,
};

/** One token per character (non-whitespace), for character-level splits. */
export const charCounter: TokenCounter = {
  name: 'test:chars',
  count: (text) => text.replace(/\s/g, '').length,
};

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ingestCorpus } from '../corpus/index.js';
import type { Chunk, IngestSummary } from '../corpus/types.js';
import type { TokenCounter } from '../models/types.js';
import { JsonlAppendLog } from '../runtime/jsonl-log.js';

export interface ChunksInfo {
  file: string;
  count: number;
  summary: IngestSummary & { tokens: number };
}

/**
 * Makes RUN_DIR/chunks.jsonl once: the corpus is read and chunked into a temporary file that is renamed
 * into place only when complete, so a crash never leaves a half list of chunks behind. A resumed run
 * reuses the file and does not read the corpus again.
 */
export async function ensureChunks(
  runDir: string,
  options: {
    corpus: string | undefined;
    chunkTokens: number;
    counter: TokenCounter;
    log: (line: string) => void;
    previous: (IngestSummary & { tokens: number }) | undefined;
  },
): Promise<ChunksInfo> {
  const file = path.join(runDir, 'chunks.jsonl');
  const exists = await fs.stat(file).then(
    () => true,
    () => false,
  );
  if (exists && options.previous) {
    return { file, count: options.previous.chunks, summary: options.previous };
  }
  if (!options.corpus) throw new Error(`--corpus is required (no chunks.jsonl in ${runDir} yet)`);

  const tmp = path.join(runDir, '.chunks.jsonl.tmp');
  await fs.rm(tmp, { force: true });
  const out = JsonlAppendLog.open(tmp);
  let tokens = 0;
  const ingest = ingestCorpus(options.corpus, {
    maxTokens: options.chunkTokens,
    counter: options.counter,
    onIssue: (issue) =>
      options.log(
        `skipped ${issue.source}${issue.line === undefined ? '' : `:${issue.line}`}: ${issue.reason}`,
      ),
  });
  try {
    for await (const chunk of ingest.chunks) {
      out.append(chunk satisfies Chunk);
      tokens += chunk.tokens;
    }
  } finally {
    out.close();
  }
  await fs.rename(tmp, file);
  const summary = { ...ingest.summary, issues: ingest.summary.issues.slice(0, 100), tokens };
  options.log(
    `corpus: ${summary.documents} documents from ${summary.files} files -> ${summary.chunks} chunks ` +
      `(${tokens} tokens)${summary.skipped ? `; ${summary.skipped} skipped (see messages above)` : ''}`,
  );
  return { file, count: summary.chunks, summary };
}

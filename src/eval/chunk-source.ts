/**
 * The chunks of a corpus, for gold-context answering, probe generation and diagnostics. A study run
 * directory (or its chunks.jsonl) is read as it is, so chunk indices match the study's exactly; any other
 * path is read and chunked with the study's chunker and tokenizer (same `--chunk-tokens` gives the same
 * chunks, and document ids are stable, so QA items made from a run also resolve against the raw corpus).
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { ingestCorpus } from '../corpus/index.js';
import type { Chunk } from '../corpus/types.js';
import { tiktokenCounter } from '../models/tiktoken-counter.js';
import { scanJsonl } from '../runtime/jsonl-log.js';

export interface ChunkSourceOptions {
  /** Chunk size when the source is a corpus to chunk (default 512, as `study`). */
  chunkTokens?: number;
  log?: (line: string) => void;
}

/** RUN_DIR/chunks.jsonl when `source` is a run directory or that file itself; undefined for a corpus. */
export function chunksFileOf(source: string): string | undefined {
  if (path.basename(source) === 'chunks.jsonl') return source;
  const candidate = path.join(source, 'chunks.jsonl');
  try {
    if (statSync(source).isDirectory() && statSync(candidate).isFile()) return candidate;
  } catch {
    /* not a run directory */
  }
  return undefined;
}

/** Calls `onChunk` for every chunk of `source`, in corpus order. */
export async function forEachChunk(
  source: string,
  onChunk: (chunk: Chunk) => void,
  options: ChunkSourceOptions = {},
): Promise<void> {
  const file = chunksFileOf(source);
  if (file) {
    await scanJsonl<Chunk>(file, onChunk);
    return;
  }
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { chunks } = ingestCorpus(source, {
    maxTokens: options.chunkTokens ?? 512,
    counter: tiktokenCounter(),
    onIssue: (issue) =>
      log(`skipped ${issue.source}${issue.line === undefined ? '' : `:${issue.line}`}: ${issue.reason}`),
  });
  for await (const chunk of chunks) onChunk(chunk);
}

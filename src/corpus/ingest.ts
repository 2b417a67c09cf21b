import type { TokenCounter } from '../models/types.js';
import { tiktokenCounter } from '../models/tiktoken-counter.js';
import { chunkDocument, resolveMaxTokens, type ChunkOptions } from './chunker.js';
import { DEFAULT_MAX_STORED_ISSUES, emptySummary, issueCollector, type ReportIssue } from './issues.js';
import { readFileDocuments } from './readers.js';
import type { Chunk, IngestSummary, SourceDocument } from './types.js';
import { walkCorpus } from './walk.js';

export interface ReadCorpusOptions {
  /** Called for every skipped item as soon as it is found (also beyond `maxStoredIssues`). */
  onIssue?: ReportIssue;
  /** How many issues `summary.issues` keeps (default 1000); `summary.skipped` counts them all. */
  maxStoredIssues?: number;
}

export interface IngestOptions extends ReadCorpusOptions, ChunkOptions {}

/** A lazily read corpus: nothing is read until `documents` is iterated; `summary` is updated live. */
export interface CorpusDocuments {
  documents: AsyncGenerator<SourceDocument>;
  summary: IngestSummary;
}

/** A lazily ingested corpus: nothing is read until `chunks` is iterated; `summary` is updated live. */
export interface CorpusChunks {
  chunks: AsyncGenerator<Chunk>;
  summary: IngestSummary;
}

/**
 * Streams the documents of a file or folder (see `walkCorpus` for the order), one at a time, each
 * with a unique id: a later document whose id was already seen is skipped with an issue. Bad files and
 * lines are reported and skipped; iteration throws only when `path` itself does not exist.
 * `summary.files` counts the files looked at (supported or not); `summary.chunks` stays 0 here.
 */
export function readCorpus(path: string, options: ReadCorpusOptions = {}): CorpusDocuments {
  const summary = emptySummary();
  const report = issueCollector(
    summary,
    options.onIssue,
    options.maxStoredIssues ?? DEFAULT_MAX_STORED_ISSUES,
  );
  return { summary, documents: documentsOf(path, summary, report) };
}

const LINE_SPAN = 2 ** 32;

async function* documentsOf(
  root: string,
  summary: IngestSummary,
  report: ReportIssue,
): AsyncGenerator<SourceDocument> {
  // id -> where its first document was: fileIndex * 2^32 + line (0 for whole-file documents). A number
  // rather than the source string keeps this at a few dozen bytes per document, mostly the id itself.
  const seen = new Map<string, number>();
  const files: string[] = [];
  for await (const file of walkCorpus(root, report)) {
    summary.files++;
    let fileIndex = -1;
    for await (const { document, line } of readFileDocuments(file, report)) {
      const first = seen.get(document.id);
      if (first !== undefined) {
        const firstLine = first % LINE_SPAN;
        const from = `${files[Math.floor(first / LINE_SPAN)]}${firstLine ? `:${firstLine}` : ''}`;
        report({ source: file, line, reason: `duplicate of document ${document.id} from ${from}` });
        continue;
      }
      if (fileIndex < 0) fileIndex = files.push(file) - 1;
      seen.set(document.id, fileIndex * LINE_SPAN + (line ?? 0));
      summary.documents++;
      yield document;
    }
  }
}

/**
 * Documents -> chunks: `readCorpus` then `chunkDocument` on each document, streamed, so memory stays
 * flat however large the corpus. Usage:
 *
 *   const { chunks, summary } = ingestCorpus('corpus/', { maxTokens: 512, onIssue: (i) => log(i) });
 *   for await (const chunk of chunks) write(chunk);
 *   console.log(summary); // final once the loop ends
 *
 * Throws RangeError at once for a bad maxTokens; iterating throws if `path` does not exist.
 */
export function ingestCorpus(path: string, options: IngestOptions = {}): CorpusChunks {
  const maxTokens = resolveMaxTokens(options.maxTokens);
  const counter: TokenCounter = options.counter ?? tiktokenCounter();
  const { documents, summary } = readCorpus(path, options);
  async function* chunks(): AsyncGenerator<Chunk> {
    for await (const document of documents) {
      for (const chunk of chunkDocument(document, { maxTokens, counter })) {
        summary.chunks++;
        yield chunk;
      }
    }
  }
  return { summary, chunks: chunks() };
}

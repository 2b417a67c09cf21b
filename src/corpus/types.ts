/** A source document as read from the corpus, before chunking. */
export interface SourceDocument {
  /** Stable id: the one given in the input (JSONL `id`), else a content hash. */
  id: string;
  title: string;
  text: string;
  /** Where it came from, for messages: a file path, or `path:line` for JSONL. */
  source: string;
}

/** One line of chunks.jsonl. Field names follow the study record metadata (snake_case). */
export interface Chunk {
  doc_id: string;
  title: string;
  chunk_index: number;
  total_chunks: number;
  /** The chunk text with the title prepended on its own first line. */
  text: string;
  /** Token count of `text` under the chunking tokenizer. */
  tokens: number;
}

/** Something in the corpus that was skipped, with where and why. */
export interface IngestIssue {
  source: string;
  line?: number;
  reason: string;
}

export interface IngestSummary {
  files: number;
  documents: number;
  chunks: number;
  skipped: number;
  issues: IngestIssue[];
}

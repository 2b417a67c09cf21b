export type { Chunk, IngestIssue, IngestSummary, SourceDocument } from './types.js';
export {
  ingestCorpus,
  readCorpus,
  type CorpusChunks,
  type CorpusDocuments,
  type IngestOptions,
  type ReadCorpusOptions,
} from './ingest.js';
export {
  chunkDocument,
  splitByTokens,
  splitSentences,
  DEFAULT_MAX_TOKENS,
  MIN_BODY_TOKENS,
  type ChunkOptions,
  type Segment,
} from './chunker.js';
export { readFileDocuments, SUPPORTED_EXTENSIONS, type FileDocument } from './readers.js';
export { htmlToDocument, type HtmlContent } from './html.js';
export { walkCorpus } from './walk.js';
export { readLines } from './lines.js';
export { documentId } from './ids.js';
export { normalizeText } from './text.js';
export { DEFAULT_MAX_STORED_ISSUES, type ReportIssue } from './issues.js';

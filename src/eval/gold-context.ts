/**
 * The source text put in the prompt in gold-context mode (the paper's "gold context" ceiling row).
 *
 * - An item with `doc_id` and `chunk_index` gets exactly that chunk.
 * - An item with only a document (a `doc_id`, or a title that names a document, as SimpleQA's Wikipedia
 *   pages do) gets the whole document when it fits in `contextTokens`; a longer document is cut down to
 *   the chunks that share the most words with the question, kept in document order, up to the limit (at
 *   least the best one). The gold answer is never used to choose: that would leak it.
 * - An item whose document (or chunk) is not in the corpus gets a reason instead, and is reported.
 */
import type { Chunk } from '../corpus/types.js';
import { answerTokens } from './graders/normalize.js';
import { forEachChunk, type ChunkSourceOptions } from './chunk-source.js';
import { DocIndex, titleKey, wantedDocs } from './doc-match.js';
import type { QaItem } from './qa-sets/types.js';

export interface GoldContext {
  doc_id: string;
  /** Chunk indices used, in document order. */
  chunks: number[];
  /** Their token count (the chunking tokenizer's). */
  tokens: number;
  text: string;
}

export type ContextLookup = { context: GoldContext } | { missing: string };

export const DEFAULT_CONTEXT_TOKENS = 2048;

// Question words that say nothing about which part of a document holds the answer.
const STOPWORDS = new Set(
  (
    'what which who whom whose when where why how many much is are was were be been did does do of in on ' +
    'to for by with and or from at as that this it its his her their name called year first'
  ).split(' '),
);

/** Loads the chunks of the documents the items point at (only those: memory stays small). */
export async function loadDocumentChunks(
  items: readonly QaItem[],
  source: string,
  options: ChunkSourceOptions = {},
): Promise<{ index: DocIndex; chunks: Map<string, Chunk[]> }> {
  const wanted = wantedDocs(items);
  const index = new DocIndex();
  const chunks = new Map<string, Chunk[]>();
  await forEachChunk(
    source,
    (chunk) => {
      if (!wanted.ids.has(chunk.doc_id) && !wanted.titles.has(titleKey(chunk.title))) return;
      index.add(chunk.doc_id, chunk.title);
      const list = chunks.get(chunk.doc_id);
      if (list) list.push(chunk);
      else chunks.set(chunk.doc_id, [chunk]);
    },
    options,
  );
  for (const list of chunks.values()) list.sort((a, b) => a.chunk_index - b.chunk_index);
  return { index, chunks };
}

/** The context of every item, by id. */
export async function loadGoldContexts(
  items: readonly QaItem[],
  source: string,
  options: ChunkSourceOptions & { contextTokens?: number } = {},
): Promise<Map<string, ContextLookup>> {
  const limit = options.contextTokens ?? DEFAULT_CONTEXT_TOKENS;
  const { index, chunks } = await loadDocumentChunks(items, source, options);
  const out = new Map<string, ContextLookup>();
  for (const item of items) out.set(item.id, contextFor(item, index, chunks, limit));
  return out;
}

export function contextFor(
  item: QaItem,
  index: DocIndex,
  chunks: ReadonlyMap<string, Chunk[]>,
  limit: number,
): ContextLookup {
  const docId = index.resolve(item);
  if (docId === undefined) {
    if (item.doc_id !== undefined) return { missing: `document ${item.doc_id} is not in the corpus` };
    const titles = [item.title, ...(item.wikipedia_titles ?? [])].filter(Boolean);
    return {
      missing: titles.length
        ? `no document of the corpus is titled ${titles.map((t) => JSON.stringify(t)).join(' or ')}`
        : 'the item names no document (no doc_id, title or wikipedia_titles)',
    };
  }
  const docChunks = chunks.get(docId) ?? [];
  // A chunk index only means something for the document the item names itself.
  if (item.chunk_index !== undefined && docId === item.doc_id) {
    const chunk = docChunks.find((c) => c.chunk_index === item.chunk_index);
    if (!chunk) {
      return {
        missing: `document ${docId} has no chunk ${item.chunk_index} (it has ${docChunks.length}; was it chunked with other --chunk-tokens?)`,
      };
    }
    return { context: assemble(docId, [chunk]) };
  }
  return { context: assemble(docId, selectChunks(docChunks, item.question, limit)) };
}

/** The whole document if it fits, else the chunks closest to the question up to `limit`, in document order. */
export function selectChunks(docChunks: readonly Chunk[], question: string, limit: number): Chunk[] {
  const total = docChunks.reduce((n, c) => n + c.tokens, 0);
  if (total <= limit || docChunks.length <= 1) return [...docChunks];
  const words = new Set(answerTokens(question).filter((w) => !STOPWORDS.has(w)));
  const scored = docChunks.map((chunk, order) => {
    const tokens = new Set(answerTokens(chunk.text));
    let score = 0;
    for (const w of words) if (tokens.has(w)) score++;
    return { chunk, order, score };
  });
  scored.sort((a, b) => b.score - a.score || a.order - b.order);
  const picked: typeof scored = [];
  let used = 0;
  for (const s of scored) {
    if (picked.length > 0 && used + s.chunk.tokens > limit) continue;
    picked.push(s);
    used += s.chunk.tokens;
  }
  return picked.sort((a, b) => a.order - b.order).map((s) => s.chunk);
}

/** Chunks joined; the title line each chunk starts with is kept once; a gap is marked "[...]". */
function assemble(docId: string, picked: readonly Chunk[]): GoldContext {
  const parts: string[] = [];
  let previous: number | undefined;
  for (const [i, chunk] of picked.entries()) {
    const header = chunk.title ? `${chunk.title}\n` : '';
    const body =
      i > 0 && header && chunk.text.startsWith(header) ? chunk.text.slice(header.length) : chunk.text;
    if (previous !== undefined && chunk.chunk_index !== previous + 1) parts.push('[...]');
    parts.push(body);
    previous = chunk.chunk_index;
  }
  return {
    doc_id: docId,
    chunks: picked.map((c) => c.chunk_index),
    tokens: picked.reduce((n, c) => n + c.tokens, 0),
    text: parts.join('\n\n'),
  };
}

import type { TokenCounter } from '../models/types.js';
import { tiktokenCounter } from '../models/tiktoken-counter.js';
import { normalizeText, oneLine } from './text.js';
import type { Chunk, SourceDocument } from './types.js';

export const DEFAULT_MAX_TOKENS = 512;
/** The body budget never drops below this (unless maxTokens itself is smaller), however long the title. */
export const MIN_BODY_TOKENS = 16;

export interface ChunkOptions {
  /** Upper bound on `Chunk.tokens` (title line included). Default 512. */
  maxTokens?: number;
  /** Default: tiktoken cl100k_base. */
  counter?: TokenCounter;
}

/**
 * A unit the packer places whole: a paragraph, else a sentence, line, word or token-sized slice.
 * `joiner` is the whitespace that separated it from the previous piece in the text ('' for the first);
 * `tokens` is counted once, on joiner + text, and is an estimate of what the piece adds to a chunk.
 */
interface Piece {
  text: string;
  joiner: string;
  tokens: number;
}

/**
 * Splits a document into chunks of at most `maxTokens` tokens, each `${title}\n${body}` (just the body
 * when the title is empty). Paragraphs (blank-line separated) are packed greedily; a paragraph over the
 * body budget is split at sentence ends, then at line breaks, then between words, and a word over it by
 * tokens. The body budget is maxTokens minus the title line's tokens, but at least 16, so only a title
 * longer than maxTokens - 16 can push a chunk over maxTokens (by no more than the title line).
 * Packing sums per-piece counts; each chunk is then counted exactly and trimmed if the sum was optimistic.
 */
export function chunkDocument(
  doc: Pick<SourceDocument, 'id' | 'title' | 'text'>,
  options: ChunkOptions = {},
): Chunk[] {
  const maxTokens = resolveMaxTokens(options.maxTokens);
  const counter = options.counter ?? tiktokenCounter();
  const title = oneLine(doc.title);
  const text = normalizeText(doc.text);
  if (!text) return [];

  const header = title ? `${title}\n` : '';
  const titleTokens = header ? counter.count(header) : 0;
  const budget = Math.max(Math.min(MIN_BODY_TOKENS, maxTokens), maxTokens - titleTokens);
  const limit = Math.max(maxTokens, titleTokens + budget);
  const chunk = (chunkText: string, tokens: number, index: number, total: number): Chunk => ({
    doc_id: doc.id,
    title,
    chunk_index: index,
    total_chunks: total,
    text: chunkText,
    tokens,
  });

  // Fast path for short documents (most of a typical corpus): one count of the whole chunk.
  if (text.length <= maxTokens * 4) {
    const full = header + text;
    const tokens = counter.count(full);
    if (tokens <= limit) return [chunk(full, tokens, 0, 1)];
  }

  const pieces = splitIntoPieces(text, budget, counter);

  const out: { text: string; tokens: number }[] = [];
  let i = 0;
  while (i < pieces.length) {
    let j = i + 1;
    let estimate = at(pieces, i).tokens;
    while (j < pieces.length && estimate + at(pieces, j).tokens <= budget) estimate += at(pieces, j++).tokens;
    for (;;) {
      const full = header + joinPieces(pieces, i, j);
      const tokens = counter.count(full);
      if (tokens <= limit) {
        out.push({ text: full, tokens });
        i = j;
        break;
      }
      if (j - i > 1) {
        // The estimate was optimistic (merges across joins): shrink in proportion, at least one piece.
        j = i + Math.max(1, Math.min(j - i - 1, Math.floor(((j - i) * limit) / tokens)));
        continue;
      }
      // One piece over the limit, e.g. a token merging with the title line: split it with a tighter budget.
      const piece = at(pieces, i);
      const smaller = splitByTokens(piece.text, Math.max(1, budget - (tokens - limit)), counter);
      if (smaller.length <= 1) {
        out.push({ text: full, tokens }); // cannot be split further (a single character)
        i = j;
        break;
      }
      pieces.splice(
        i,
        1,
        ...smaller.map((s, k) => {
          const joiner = k === 0 ? piece.joiner : s.joiner;
          return { text: s.text, joiner, tokens: counter.count(joiner + s.text) };
        }),
      );
      j = i + 1;
    }
  }
  return out.map((c, index) => chunk(c.text, c.tokens, index, out.length));
}

/** `maxTokens` or the default; throws RangeError unless it is a positive integer. */
export function resolveMaxTokens(maxTokens: number | undefined): number {
  const value = maxTokens ?? DEFAULT_MAX_TOKENS;
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`maxTokens must be a positive integer, got ${String(maxTokens)}`);
  }
  return value;
}

function at<T>(items: T[], index: number): T {
  return items[index] as T;
}

function joinPieces(pieces: Piece[], from: number, to: number): string {
  let body = at(pieces, from).text;
  for (let k = from + 1; k < to; k++) body += at(pieces, k).joiner + at(pieces, k).text;
  return body;
}

/** Each paragraph whole when it fits the budget, else its sentences, lines, words or token slices. */
function splitIntoPieces(text: string, budget: number, counter: TokenCounter): Piece[] {
  const pieces: Piece[] = [];
  const add = (piece: Omit<Piece, 'tokens'>, tokens = counter.count(piece.joiner + piece.text)): void => {
    pieces.push({ ...piece, tokens });
  };
  for (const paragraph of text.split(/\n\n+/)) {
    if (!paragraph.trim()) continue;
    const joiner = pieces.length > 0 ? '\n\n' : '';
    const tokens = counter.count(joiner + paragraph);
    if (tokens <= budget) {
      add({ text: paragraph, joiner }, tokens);
      continue;
    }
    splitSentences(paragraph).forEach((sentence, s) => {
      const sentenceJoiner = s === 0 ? joiner : sentence.joiner;
      const sentenceTokens = counter.count(sentenceJoiner + sentence.text);
      if (sentenceTokens <= budget)
        return add({ text: sentence.text, joiner: sentenceJoiner }, sentenceTokens);
      splitSegments(sentence.text, /\n/g).forEach((line, l) => {
        const lineJoiner = l === 0 ? sentenceJoiner : line.joiner;
        const lineTokens = counter.count(lineJoiner + line.text);
        if (lineTokens <= budget) return add({ text: line.text, joiner: lineJoiner }, lineTokens);
        splitSegments(line.text, /\s+/g).forEach((word, w) => {
          const wordJoiner = w === 0 ? lineJoiner : word.joiner;
          const wordTokens = counter.count(wordJoiner + word.text);
          if (wordTokens <= budget) return add({ text: word.text, joiner: wordJoiner }, wordTokens);
          splitByTokens(word.text, budget, counter).forEach((slice, k) =>
            add({ text: slice.text, joiner: k === 0 ? wordJoiner : slice.joiner }),
          );
        });
      });
    });
  }
  return pieces;
}

/** A piece of text and the whitespace that preceded it. */
export interface Segment {
  text: string;
  joiner: string;
}

// A sentence ends at . ! ? (plus closing quotes/brackets) followed by whitespace or the end, or at CJK
// 。！？ (plus closing quotes): CJK text puts no space after them, so nothing needs to follow those.
const SENTENCE_END =
  /[.!?]+['"\u201D\u2019)\]]*(?=\s|$)|[\u3002\uFF01\uFF1F]+[\u300D\u300F\u201D\u2019\uFF09]*/gu;

/** Splits a paragraph after each sentence end; the whitespace between sentences becomes `joiner`. */
export function splitSentences(paragraph: string): Segment[] {
  const out: Segment[] = [];
  let start = 0;
  let joiner = '';
  for (const match of paragraph.matchAll(SENTENCE_END)) {
    const end = match.index + match[0].length;
    let next = end;
    while (next < paragraph.length && /\s/.test(paragraph.charAt(next))) next++;
    out.push({ text: paragraph.slice(start, end), joiner });
    joiner = paragraph.slice(end, next);
    start = next;
  }
  if (start < paragraph.length) out.push({ text: paragraph.slice(start), joiner });
  return out;
}

/** Splits at every match of `separator` (a global pattern of whitespace), keeping it as the next joiner. */
function splitSegments(text: string, separator: RegExp): Segment[] {
  const out: Segment[] = [];
  let start = 0;
  let joiner = '';
  for (const match of text.matchAll(separator)) {
    if (match.index > start) out.push({ text: text.slice(start, match.index), joiner });
    joiner = match[0];
    start = match.index + match[0].length;
  }
  if (start < text.length) out.push({ text: text.slice(start), joiner });
  return out;
}

/**
 * Last resort: cuts `text` into slices of at most `budget` tokens, each as long as possible (found by
 * galloping then binary search on the prefix length, so every character is counted O(log n) times),
 * preferring to cut after whitespace in the slice's second half and never inside a surrogate pair.
 * Only a single code point over the budget can exceed it.
 */
export function splitByTokens(text: string, budget: number, counter: TokenCounter): Segment[] {
  const out: Segment[] = [];
  let rest = text;
  let joiner = '';
  while (rest.length > 0) {
    let fits = 0; // longest prefix length known to fit
    let over = rest.length + 1; // shortest prefix length known not to fit
    let probe = Math.min(rest.length, Math.max(1, budget));
    while (probe < over) {
      if (counter.count(rest.slice(0, probe)) <= budget) {
        fits = probe;
        if (probe === rest.length) break;
        probe = Math.min(rest.length, probe * 2);
      } else {
        over = probe;
      }
    }
    while (over - fits > 1 && fits < rest.length) {
      const mid = (fits + over) >>> 1;
      if (counter.count(rest.slice(0, mid)) <= budget) fits = mid;
      else over = mid;
    }
    let cut = Math.max(1, fits);
    if (cut < rest.length) {
      const space = lastWhitespace(rest, cut);
      if (space > cut / 2) cut = space;
      else if (isHighSurrogate(rest.charCodeAt(cut - 1))) cut = cut > 1 ? cut - 1 : cut + 1;
    }
    out.push({ text: rest.slice(0, cut), joiner });
    let next = cut;
    while (next < rest.length && /\s/.test(rest.charAt(next))) next++;
    joiner = rest.slice(cut, next);
    rest = rest.slice(next);
  }
  return out;
}

/** Index of the last whitespace character before `end` that follows a non-space, or -1. */
function lastWhitespace(text: string, end: number): number {
  for (let k = end; k > 0; k--) {
    if (/\s/.test(text.charAt(k)) && !/\s/.test(text.charAt(k - 1))) return k;
  }
  return -1;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

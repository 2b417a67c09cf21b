import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';
import type { TokenCounter } from './types.js';

/** Special-token strings in documents are ordinary text here. */
const AS_TEXT = { disallowedSpecial: new Set<string>() };

/** Longest piece handed to the BPE at once: BPE merging is superlinear in the length of a run without spaces. */
const MAX_PIECE = 2000;
const MAX_RUN = 400;

/**
 * Model-independent token counting (OpenAI cl100k_base BPE through gpt-tokenizer: pure JS, several times
 * faster and ~60 MB lighter than js-tiktoken, same counts). Used for chunking and for servers
 * that do not report usage: close to Llama 3 / Qwen counts for English text, and deterministic.
 * Text is counted in pieces cut before a single space between words (where the BPE's pre-tokenizer splits anyway,
 * so ordinary text counts exactly); a run of more than MAX_RUN characters without whitespace (CJK without
 * punctuation, base64, sequences) is cut every MAX_RUN characters, which keeps counting linear.
 */
export function tiktokenCounter(): TokenCounter {
  const encode = (piece: string) => countTokens(piece, AS_TEXT);
  return {
    name: 'tiktoken:cl100k_base',
    count(text: string): number {
      if (text.length <= MAX_RUN) return text.length === 0 ? 0 : encode(text);
      let total = 0;
      for (let start = 0; start < text.length;) {
        let end = Math.min(text.length, start + MAX_PIECE);
        if (end < text.length) {
          const cut = lastWhitespace(text, start + 1, end);
          end = cut > start ? cut : Math.min(text.length, start + MAX_RUN);
        }
        total += encode(text.slice(start, end));
        start = end;
      }
      return total;
    },
  };
}

/**
 * The last position in (from, to) of a single space between two non-space characters: cl100k's
 * pre-tokenizer always starts a new piece there (the space joins the next word), so cutting is exact.
 */
function lastWhitespace(text: string, from: number, to: number): number {
  for (let i = Math.min(to, text.length - 2); i > from; i--) {
    if (text.charCodeAt(i) === 32 && !isSpace(text.charCodeAt(i - 1)) && !isSpace(text.charCodeAt(i + 1)))
      return i;
  }
  return -1;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13;
}

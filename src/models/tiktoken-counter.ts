import { getEncoding, type Tiktoken } from 'js-tiktoken';
import type { TokenCounter } from './types.js';

let cl100k: Tiktoken | undefined;

/**
 * Model-independent token counting (OpenAI cl100k_base BPE, pure JS). Used for chunking and for
 * servers that do not report usage: close to Llama 3 / Qwen counts for English text, and deterministic.
 */
export function tiktokenCounter(): TokenCounter {
  cl100k ??= getEncoding('cl100k_base');
  const encoding = cl100k;
  return {
    name: 'tiktoken:cl100k_base',
    count: (text: string) => (text.length === 0 ? 0 : encoding.encode(text, [], []).length),
  };
}

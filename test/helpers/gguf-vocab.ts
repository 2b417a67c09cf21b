import { GgufTokenType, type GgufSpmTokenizer } from '../../src/engine/export-gguf.js';

/**
 * A synthetic SentencePiece vocab of `size` entries: `<unk>`, `<s>`, `</s>`, `<0x0A>`, `▁`, then ASCII letters,
 * digits and punctuation as pieces. llama.cpp's SPM tokenizer throws (and kills the process) on a byte it cannot
 * map, and node-llama-cpp tokenizes "some test text here" when it loads a model, so those characters must exist.
 */
export function spmTokenizer(size: number): GgufSpmTokenizer {
  const tokens = ['<unk>', '<s>', '</s>', '<0x0A>', '\u2581'];
  const types: number[] = [
    GgufTokenType.UNKNOWN,
    GgufTokenType.CONTROL,
    GgufTokenType.CONTROL,
    GgufTokenType.BYTE,
    GgufTokenType.NORMAL,
  ];
  const chars =
    'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?\'"-:;()[]{}<>/\\|@#$%^&*_+=~`';
  for (const c of chars) {
    if (tokens.length >= size) break;
    tokens.push(c);
    types.push(GgufTokenType.NORMAL);
  }
  if (tokens.length < size) throw new Error(`cannot build a ${size}-token vocab`);
  return { kind: 'spm', tokens, types, scores: tokens.map(() => 0), bos: 1, eos: 2, unk: 0 };
}

export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] as number);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp((logits[i] as number) - max);
  return out.map((v) => v / sum);
}

export type { TextTokenizer } from './types.js';
export {
  BOS_CANDIDATES,
  EOS_CANDIDATES,
  hfTokenizerFromJson,
  loadHfTokenizer,
  specialTokenContent,
} from './hf-tokenizer.js';
export {
  GPT2_SPLIT_PATTERN,
  bytesToUnicode,
  countWords,
  tokenizerConfigFor,
  trainByteLevelBpe,
  writeTokenizerJson,
} from './bpe-trainer.js';
export type {
  BpeTrainOptions,
  BpeTrainResult,
  TokenizerConfigOptions,
  TokenizerJson,
} from './bpe-trainer.js';

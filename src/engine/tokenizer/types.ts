/** What the engine needs from a tokenizer: ids for training and generation, text back for evaluation. */
export interface TextTokenizer {
  readonly vocabSize: number;
  /** End-of-sequence id: separates packed documents and stops generation. */
  readonly eosId: number;
  /** Beginning-of-sequence id, when the model uses one. */
  readonly bosId: number | undefined;
  /** Ids of `text`, without special tokens. */
  encode(text: string): number[];
  decode(ids: ArrayLike<number>): string;
}

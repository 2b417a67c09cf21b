import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import type { TextTokenizer } from './types.js';

/** End-of-sequence tokens we recognise when tokenizer_config.json names none, in order of preference. */
export const EOS_CANDIDATES = [
  '<|endoftext|>',
  '</s>',
  '<|im_end|>',
  '<|end_of_text|>',
  '<|eot_id|>',
  '<eos>',
  '<|end|>',
  '<|eos|>',
] as const;

/** Beginning-of-sequence tokens we recognise when tokenizer_config.json names none. */
export const BOS_CANDIDATES = ['<s>', '<|begin_of_text|>', '<|startoftext|>', '<bos>', '<|bos|>'] as const;

/**
 * Options of tokenizer_config.json that make @huggingface/tokenizers diverge from the Rust `tokenizers`
 * library (which ignores tokenizer_config.json): we drop them so ids stay equal to Python `tokenizers`.
 */
const DIVERGING_CONFIG_KEYS = ['remove_space', 'do_lowercase_and_remove_accent', 'additional_special_tokens'];

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `eos_token` and friends are either a string or an AddedToken-like `{ content }` object. */
export function specialTokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isObject(value) && typeof value.content === 'string') return value.content;
  return undefined;
}

async function readJsonObject(file: string, what: string): Promise<JsonObject> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? `${what} not found: ${file}`
        : `cannot read ${what} ${file}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`invalid JSON in ${what} ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!isObject(parsed)) throw new Error(`invalid ${what} ${file}: expected a JSON object`);
  return parsed;
}

/** A `TextTokenizer` backed by @huggingface/tokenizers; ids equal those of Python `tokenizers`. */
class HfTextTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  readonly eosId: number;
  readonly bosId: number | undefined;

  constructor(
    private readonly inner: Tokenizer,
    info: { vocabSize: number; eosId: number; bosId: number | undefined },
  ) {
    this.vocabSize = info.vocabSize;
    this.eosId = info.eosId;
    this.bosId = info.bosId;
  }

  encode(text: string): number[] {
    if (text.length === 0) return [];
    return this.inner.encode(text, { add_special_tokens: false }).ids;
  }

  /** Keeps special tokens (lossless), no clean-up of spaces: the same text Python `tokenizers` gives with
   * `skip_special_tokens=False`. */
  decode(ids: ArrayLike<number>): string {
    if (ids.length === 0) return '';
    return this.inner.decode(Array.from(ids), {
      skip_special_tokens: false,
      clean_up_tokenization_spaces: false,
    });
  }
}

/**
 * Builds a `TextTokenizer` from a parsed tokenizer.json (and optionally tokenizer_config.json).
 * `source` names the origin in error messages.
 */
export function hfTokenizerFromJson(
  tokenizerJson: object,
  tokenizerConfig: object = {},
  source = 'tokenizer.json',
): TextTokenizer {
  if (!isObject(tokenizerJson) || !isObject(tokenizerJson.model)) {
    throw new Error(`invalid tokenizer.json ${source}: no "model" object`);
  }
  const json: JsonObject = { added_tokens: [], normalizer: null, pre_tokenizer: null, ...tokenizerJson };
  for (const key of ['post_processor', 'decoder'] as const) json[key] ??= null;
  const config: JsonObject = { ...(tokenizerConfig as JsonObject) };
  for (const key of DIVERGING_CONFIG_KEYS) delete config[key];
  config.clean_up_tokenization_spaces = false;

  let inner: Tokenizer;
  try {
    inner = new Tokenizer(json, config);
  } catch (err) {
    throw new Error(`cannot load tokenizer ${source}: ${(err as Error).message}`, { cause: err });
  }

  const vocab = inner.get_vocab(true);
  let maxId = -1;
  for (const id of vocab.values()) if (id > maxId) maxId = id;
  const specials = new Set<string>();
  for (const token of Array.isArray(json.added_tokens) ? json.added_tokens : []) {
    if (isObject(token) && token.special === true && typeof token.content === 'string')
      specials.add(token.content);
  }
  const idOf = (token: string | undefined): number | undefined =>
    token === undefined ? undefined : inner.token_to_id(token);
  const firstPresent = (candidates: readonly string[]): number | undefined => {
    for (const candidate of candidates) {
      if (specials.has(candidate)) return idOf(candidate);
    }
    for (const candidate of candidates) {
      const id = idOf(candidate);
      if (id !== undefined) return id;
    }
    return undefined;
  };

  const eosId = idOf(specialTokenContent(config.eos_token)) ?? firstPresent(EOS_CANDIDATES);
  if (eosId === undefined) {
    throw new Error(
      `no end-of-sequence token in ${source}: set eos_token in tokenizer_config.json or add one of ${EOS_CANDIDATES.join(' ')}`,
    );
  }
  const bosId = idOf(specialTokenContent(config.bos_token)) ?? firstPresent(BOS_CANDIDATES);
  return new HfTextTokenizer(inner, { vocabSize: maxId + 1, eosId, bosId });
}

/**
 * Loads a Hugging Face tokenizer.json. The config defaults to tokenizer_config.json beside it, when present;
 * `eosId`/`bosId` come from its `eos_token`/`bos_token`, else from well-known special tokens.
 */
export async function loadHfTokenizer(
  tokenizerJsonPath: string,
  tokenizerConfigPath?: string,
): Promise<TextTokenizer> {
  const jsonPath = path.resolve(tokenizerJsonPath);
  const tokenizerJson = await readJsonObject(jsonPath, 'tokenizer.json');
  let configPath = tokenizerConfigPath === undefined ? undefined : path.resolve(tokenizerConfigPath);
  if (configPath === undefined) {
    const sibling = path.join(path.dirname(jsonPath), 'tokenizer_config.json');
    if (existsSync(sibling)) configPath = sibling;
  }
  const config = configPath === undefined ? {} : await readJsonObject(configPath, 'tokenizer_config.json');
  return hfTokenizerFromJson(tokenizerJson, config, jsonPath);
}

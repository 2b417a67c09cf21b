/**
 * Finds and loads the model behind an engine `--model DIR`: a Hugging Face Llama-family directory
 * (config.json + safetensors + tokenizer.json), or a `train --out` directory, whose final model `train` writes
 * into the directory itself (LoRA adapters merged) when the run completes. Checkpoints (`checkpoints/step-N`)
 * hold only the trained tensors and the optimizer state, without the config or, for LoRA, the base weights,
 * so they are not loadable on their own: an unfinished run is refused with what to do instead.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { loadHfCheckpoint, type HfCheckpoint } from '../engine/io/index.js';
import { loadHfTokenizer } from '../engine/tokenizer/index.js';
import type { TextTokenizer } from '../engine/tokenizer/types.js';

export type JsonObject = Record<string, unknown>;

/** A model directory that cannot be used; the message names the directory or file. */
export class EngineModelDirError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineModelDirError';
  }
}

export interface EngineModelDir {
  /** Absolute path of the directory holding config.json. */
  dir: string;
  checkpoint: HfCheckpoint;
  tokenizer: TextTokenizer;
  tokenizerJson: JsonObject;
  /** tokenizer_config.json, or {} when absent. */
  tokenizerConfig: JsonObject;
  /** config.json as written (the parsed LlamaConfig fills in defaults, e.g. eos_token_id 2). */
  rawConfig: JsonObject;
  /** generation_config.json, or {} when absent. */
  generationConfig: JsonObject;
  /** chat_template.jinja (newer transformers save the template there), when present. */
  chatTemplateFile?: string;
}

const exists = (p: string): Promise<boolean> =>
  fs.access(p).then(
    () => true,
    () => false,
  );

/** The directory holding the model for `input` (absolute), or a clear error saying why there is none. */
export async function resolveModelDir(input: string): Promise<string> {
  const dir = path.resolve(input);
  const info = await fs.stat(dir).catch(() => undefined);
  if (!info) throw new EngineModelDirError(`model directory not found: ${dir}`);
  if (!info.isDirectory()) throw new EngineModelDirError(`not a directory: ${dir}`);
  if (await exists(path.join(dir, 'config.json'))) return dir;

  const latest = await fs
    .readFile(path.join(dir, 'checkpoints', 'latest'), 'utf8')
    .then((s) => s.trim())
    .catch(() => undefined);
  if (latest !== undefined || (await exists(path.join(dir, 'checkpoints')))) {
    throw new EngineModelDirError(
      `${path.join(dir, 'config.json')} is missing: ${dir} is a \`train --out\` directory whose training has not ` +
        `completed${latest ? ` (newest checkpoint: checkpoints/${latest})` : ''}. Checkpoints hold only the trained ` +
        `tensors and optimizer state; run the same train command again to finish, which writes the model here.`,
    );
  }
  if (await exists(path.join(dir, 'trainer_state.json'))) {
    throw new EngineModelDirError(
      `${dir} is a training checkpoint (trainable tensors and optimizer state, no config.json), not a model: ` +
        `use the \`train --out\` directory once training has completed`,
    );
  }
  throw new EngineModelDirError(
    `${path.join(dir, 'config.json')} is missing: a model directory holds config.json, model.safetensors ` +
      `(or sharded safetensors) and tokenizer.json, as Hugging Face and \`train --out\` write them`,
  );
}

/** Reads an optional JSON object file: {} when absent, an error naming the file when unreadable or invalid. */
export async function readJsonObject(file: string, required = false): Promise<JsonObject> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !required) return {};
    throw new EngineModelDirError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new EngineModelDirError(`${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new EngineModelDirError(`${file} is not a JSON object`);
  }
  return parsed as JsonObject;
}

/** Resolves `input` and loads weights, config and tokenizer; every failure names the file at fault. */
export async function loadEngineModelDir(input: string): Promise<EngineModelDir> {
  const dir = await resolveModelDir(input);
  const tokenizerFile = path.join(dir, 'tokenizer.json');
  if (!(await exists(tokenizerFile))) {
    throw new EngineModelDirError(
      `${tokenizerFile} is missing: the engine needs the model's tokenizer.json (the Hugging Face fast tokenizer)`,
    );
  }
  const rawConfig = await readJsonObject(path.join(dir, 'config.json'), true);
  const tokenizerJson = await readJsonObject(tokenizerFile, true);
  const tokenizerConfigFile = path.join(dir, 'tokenizer_config.json');
  const tokenizerConfig = await readJsonObject(tokenizerConfigFile);
  const generationConfig = await readJsonObject(path.join(dir, 'generation_config.json'));

  let checkpoint: HfCheckpoint;
  try {
    checkpoint = await loadHfCheckpoint(dir);
  } catch (error) {
    // The engine's IO errors already name the file; keep them, under one error class for callers.
    throw new EngineModelDirError((error as Error).message, { cause: error });
  }
  let tokenizer: TextTokenizer;
  try {
    tokenizer = await loadHfTokenizer(
      tokenizerFile,
      (await exists(tokenizerConfigFile)) ? tokenizerConfigFile : undefined,
    );
  } catch (error) {
    throw new EngineModelDirError((error as Error).message, { cause: error });
  }
  if (tokenizer.vocabSize > checkpoint.config.vocabSize) {
    throw new EngineModelDirError(
      `${tokenizerFile} has ${tokenizer.vocabSize} tokens but ${path.join(dir, 'config.json')} has vocab_size ` +
        `${checkpoint.config.vocabSize}: they do not belong together`,
    );
  }
  const chatTemplateFile = path.join(dir, 'chat_template.jinja');
  return {
    dir,
    checkpoint,
    tokenizer,
    tokenizerJson,
    tokenizerConfig,
    rawConfig,
    generationConfig,
    ...((await exists(chatTemplateFile)) ? { chatTemplateFile } : {}),
  };
}

/**
 * Ids that end a generation: the tokenizer's EOS, and `eos_token_id` of generation_config.json and config.json
 * (chat models list their end-of-turn token there). A config id is taken only when it names a special token:
 * config.json files written from defaults carry `eos_token_id: 2`, an ordinary byte token in our BPE vocabularies.
 */
export function stopTokenIds(model: EngineModelDir): Set<number> {
  const special = new Set<number>();
  const added = model.tokenizerJson.added_tokens;
  for (const token of Array.isArray(added) ? added : []) {
    const t = token as { id?: unknown; special?: unknown };
    if (t.special === true && typeof t.id === 'number') special.add(t.id);
  }
  const ids = new Set([model.tokenizer.eosId]);
  for (const source of [model.generationConfig, model.rawConfig]) {
    const value = source.eos_token_id;
    for (const id of Array.isArray(value) ? value : [value]) {
      if (typeof id === 'number' && special.has(id)) ids.add(id);
    }
  }
  return ids;
}

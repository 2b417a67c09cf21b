/**
 * A TextGenerator over our own TypeScript engine: answers from a Hugging Face Llama-family directory or a
 * `train --out` directory directly, with no GGUF export.
 *
 * Each call renders its messages (engine-prompt.ts), prefills a fresh KV cache and samples token by token
 * (src/engine/kv-decoder.ts). Behaviour follows the GGUF provider: temperature (default 1; 0 = greedy) and top-p over
 * the full vocabulary, a random seed unless one is given, stop strings cut the text and end the generation as
 * soon as one appears, EOS ids end it too, `completionTokens` counts every sampled token (the EOS or the tokens
 * completing a stop string included). The prompt must leave room for one token in the context
 * (`max_position_embeddings`, or a smaller `contextSize`), else the call fails with CONTEXT_LENGTH_EXCEEDED;
 * the completion is capped to the room left (finishReason 'length'), as the GGUF provider caps it to its
 * context. The prompt is never cut: a question missing its start would be another question.
 *
 * Generation is synchronous CPU work on one model instance, so calls run one at a time in arrival order, and
 * each yields to the event loop between prefill chunks and between tokens: progress output, timeouts and
 * aborts keep working while it runs.
 */
import { randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadKernels, type KernelsPreference } from '../engine/kernels/index.js';
import type { Kernels } from '../engine/kernels/types.js';
import { LlamaModel, shapeFromConfig } from '../engine/llama.js';
import { Rng } from '../engine/rng.js';
import type { TextTokenizer } from '../engine/tokenizer/types.js';
import { KvDecoder, pickToken } from '../engine/kv-decoder.js';
import { modelFingerprint } from './engine-fingerprint.js';
import { loadEngineModelDir, stopTokenIds } from './engine-model-dir.js';
import { createPromptRenderer, type PromptRenderer } from './engine-prompt.js';
import { abortedError, closedError, ModelRequestError, rejectOnAbort } from './errors.js';
import type { ChatMessage, GenerationRequest, GenerationResult, TextGenerator } from './types.js';

export interface EngineGeneratorOptions {
  /** A Hugging Face Llama-family directory, or a completed `train --out` directory. */
  modelDir: string;
  /** Threads for the native kernels (default: theirs); the ts kernels are single-threaded. */
  threads?: number;
  /** Kernels to run on, or a preference for loadKernels (default 'auto'; ACTIVE_READING_KERNELS wins). */
  kernels?: Kernels | KernelsPreference;
  /** Positions per call, prompt + completion (default and upper bound: the config's max_position_embeddings). */
  contextSize?: number;
  /** Completion length when a request gives no maxTokens (default 256). */
  defaultMaxTokens?: number;
  /** Where the kernels line goes (default: stderr through console.warn). */
  log?: (line: string) => void;
}

export interface EngineGenerator extends TextGenerator {
  /** The absolute directory the model was loaded from. */
  readonly modelDir: string;
  /** Positions per call (prompt + completion): max_position_embeddings, or the smaller contextSize asked. */
  readonly contextSize: number;
  /** How messages become prompts: the model's chat template, or plain text for base models. */
  readonly promptFormat: PromptRenderer['format'];
  /** The prompt ids a request's messages render to (what `generate` feeds the model). */
  renderPrompt(messages: readonly ChatMessage[]): number[];
}

const DEFAULT_MAX_TOKENS = 256;
/** Prompt tokens fed per synchronous slice (between two yields to the event loop). */
const PREFILL_CHUNK = 64;
/** Prompt tokens decoded before the completion, so its first piece gets its spacing right. */
const DETOKENIZE_CONTEXT_TOKENS = 8;

/** Opens a model directory for generation; throws an Error naming the file at fault when it is unusable. */
export async function openEngineGenerator(options: EngineGeneratorOptions): Promise<EngineGenerator> {
  const defaultMaxTokens = options.defaultMaxTokens ?? DEFAULT_MAX_TOKENS;
  if (!Number.isInteger(defaultMaxTokens) || defaultMaxTokens < 1) {
    throw new TypeError(
      `openEngineGenerator: defaultMaxTokens must be a positive integer, got ${defaultMaxTokens}`,
    );
  }
  if (
    options.contextSize !== undefined &&
    !(Number.isInteger(options.contextSize) && options.contextSize > 1)
  ) {
    throw new TypeError(
      `openEngineGenerator: contextSize must be an integer above 1, got ${options.contextSize}`,
    );
  }
  const loaded = await loadEngineModelDir(options.modelDir);
  const dir = loaded.dir;
  const id = `engine:${dir}`;
  const renderer = createPromptRenderer({
    tokenizer: loaded.tokenizer,
    tokenizerJson: loaded.tokenizerJson,
    tokenizerConfig: loaded.tokenizerConfig,
    tokenizerConfigFile: path.join(dir, 'tokenizer_config.json'),
    ...(loaded.chatTemplateFile
      ? {
          chatTemplateFile: {
            file: loaded.chatTemplateFile,
            text: await readFile(loaded.chatTemplateFile, 'utf8'),
          },
        }
      : {}),
  });
  const cacheIdentity = `engine:${await modelFingerprint(dir, loaded.checkpoint.files)}`;
  const kernels =
    typeof options.kernels === 'object'
      ? options.kernels
      : loadKernels({
          prefer: options.kernels ?? 'auto',
          ...(options.threads === undefined ? {} : { threads: options.threads }),
          ...(options.log ? { log: options.log } : {}),
        });
  if (typeof options.kernels === 'object' && options.threads !== undefined)
    kernels.setThreads(options.threads);
  const config = loaded.checkpoint.config;
  // The model wraps the loaded Float32 arrays (no copy); tensors it does not use are dropped with `loaded`.
  let model: LlamaModel | undefined = new LlamaModel(shapeFromConfig(config), loaded.checkpoint.tensors);
  const tokenizer = loaded.tokenizer;
  const stopIds = stopTokenIds(loaded);
  const contextSize = Math.min(config.maxPositionEmbeddings, options.contextSize ?? Infinity);

  let closed = false;
  let queue: Promise<unknown> = Promise.resolve();

  const checkOpen = (signal: AbortSignal | undefined): LlamaModel => {
    if (signal?.aborted) throw abortedError(id, signal);
    if (closed || !model) throw closedError(id);
    return model;
  };

  const render = (messages: readonly ChatMessage[]): number[] => {
    if (messages.length === 0) {
      throw new ModelRequestError(`${id}: no messages`, { retryable: false, code: 'INVALID_REQUEST' });
    }
    try {
      return renderer.render(messages);
    } catch (error) {
      throw new ModelRequestError(`${id}: cannot render the prompt: ${(error as Error).message}`, {
        retryable: false,
        code: 'INVALID_REQUEST',
        cause: error,
      });
    }
  };

  const run = async (request: GenerationRequest): Promise<GenerationResult> => {
    const signal = request.signal;
    await yieldToEventLoop();
    checkOpen(signal);
    const prompt = render(request.messages);
    if (prompt.length === 0) {
      throw new ModelRequestError(`${id}: the prompt is empty`, {
        retryable: false,
        code: 'INVALID_REQUEST',
      });
    }
    const room = contextSize - prompt.length;
    if (room < 1) {
      throw new ModelRequestError(
        `${id}: the prompt has ${prompt.length} tokens, the model's context holds ${contextSize} (max_position_embeddings ${config.maxPositionEmbeddings})`,
        { retryable: false, code: 'CONTEXT_LENGTH_EXCEEDED' },
      );
    }
    const requested =
      request.maxTokens === undefined || !Number.isFinite(request.maxTokens)
        ? defaultMaxTokens
        : Math.floor(request.maxTokens);
    const maxTokens = Math.min(Math.max(0, requested), room);
    if (maxTokens === 0)
      return { text: '', promptTokens: prompt.length, completionTokens: 0, finishReason: 'length' };

    const sampling = samplingOf(request);
    const rng = new Rng(sampling.seed);
    const stops = (request.stop ?? []).filter((s) => s.length > 0);
    const detokenize = detokenizerAfter(tokenizer, prompt);
    const decoder = new KvDecoder(checkOpen(signal), kernels, prompt.length + maxTokens);
    let logits: Float32Array = new Float32Array(0);
    for (let at = 0; at < prompt.length; at += PREFILL_CHUNK) {
      if (at > 0) await yieldToEventLoop();
      checkOpen(signal);
      logits = decoder.feed(prompt.slice(at, at + PREFILL_CHUNK));
    }
    const generated: number[] = [];
    for (;;) {
      const next = pickToken(logits, sampling.temperature, sampling.topP, rng);
      generated.push(next);
      if (stopIds.has(next)) return result(detokenize(generated.slice(0, -1)), 'stop');
      if (stops.length > 0) {
        const text = detokenize(generated);
        const cut = firstStopIndex(text, stops);
        if (cut >= 0) return result(text.slice(0, cut), 'stop');
      }
      if (generated.length >= maxTokens) return result(detokenize(generated), 'length');
      await yieldToEventLoop();
      checkOpen(signal);
      logits = decoder.feed([next]);
    }

    function result(text: string, finishReason: 'stop' | 'length'): GenerationResult {
      return { text, promptTokens: prompt.length, completionTokens: generated.length, finishReason };
    }
  };

  return {
    id,
    cacheIdentity,
    modelDir: dir,
    contextSize,
    promptFormat: renderer.format,

    renderPrompt(messages) {
      checkOpen(undefined);
      return render(messages);
    },

    generate(request: GenerationRequest): Promise<GenerationResult> {
      if (closed) return Promise.reject(closedError(id));
      // One call at a time on the one model; a failed call does not stall the ones behind it.
      const turn = queue.then(() => run(request));
      queue = turn.catch(() => undefined);
      // Reject as soon as the signal aborts; the run itself stops before its next token.
      return request.signal ? rejectOnAbort(turn, request.signal, id) : turn;
    },

    async countTokens(text: string): Promise<number> {
      checkOpen(undefined);
      return tokenizer.encode(text).length;
    },

    async close(): Promise<void> {
      closed = true;
      // Calls still queued or running stop at their next check; then the weights can go.
      await queue;
      model = undefined;
    },
  };
}

/** OpenAI-style sampling settings, sanitised as the GGUF provider does. */
function samplingOf(request: GenerationRequest): { temperature: number; topP: number; seed: number } {
  const temperature = request.temperature ?? 1;
  const topP = request.topP ?? 1;
  return {
    temperature: Number.isFinite(temperature) && temperature > 0 ? temperature : 0,
    topP: Number.isFinite(topP) && topP > 0 && topP < 1 ? topP : 1,
    // No seed: a fresh one per call, so sampled calls differ as they do with any served model.
    seed:
      request.seed === undefined || !Number.isFinite(request.seed)
        ? randomInt(0, 2 ** 31)
        : ((Math.floor(request.seed) % 2 ** 32) + 2 ** 32) % 2 ** 32,
  };
}

/**
 * Decodes completion ids with the prompt's last tokens as left context (tokenizers that mark word starts
 * drop a leading space when a text is decoded alone), falling back to the ids alone when the context does not
 * decode to a prefix (a character split across the boundary).
 */
function detokenizerAfter(tokenizer: TextTokenizer, prompt: readonly number[]): (ids: number[]) => string {
  const context = prompt.slice(-DETOKENIZE_CONTEXT_TOKENS);
  const contextText = tokenizer.decode(context);
  return (ids) => {
    if (ids.length === 0) return '';
    const full = tokenizer.decode([...context, ...ids]);
    return full.startsWith(contextText) ? full.slice(contextText.length) : tokenizer.decode(ids);
  };
}

function firstStopIndex(text: string, stops: readonly string[]): number {
  let best = -1;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Embedded GGUF text generation through node-llama-cpp (llama.cpp bindings, prebuilt binaries).
 *
 * Each `generate` call renders its messages with the model's chat template (node-llama-cpp's chat wrapper,
 * resolved from `tokenizer.chat_template` or the model's name), clears one context sequence, evaluates the
 * prompt and samples token by token, so calls are independent and exact: `promptTokens` is the length of the
 * formatted prompt and `completionTokens` the number of tokens sampled (an end-of-generation token or the tokens
 * that completed a stop string included). Concurrent calls each take one of `sequences` context sequences
 * (node-llama-cpp batches them together); the rest wait in FIFO order. A sequence never serves two calls at once.
 */
import { randomInt } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import type {
  ChatHistoryItem,
  ChatWrapper,
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaModel,
  LlamaText,
  Token,
} from 'node-llama-cpp';
import { abortedError, closedError, ModelRequestError, rejectOnAbort } from './errors.js';
import type { ChatMessage, GenerationRequest, GenerationResult, TextGenerator } from './types.js';

/** Compute backend: `'auto'` picks CUDA/Vulkan/Metal when a prebuilt binary works, else the CPU. */
export type LlamaCppGpu = 'auto' | 'cuda' | 'vulkan' | 'metal' | false;

export interface LlamaCppGeneratorOptions {
  /** Path of a local `.gguf` file. */
  modelPath: string;
  /** Context window of each sequence in tokens (prompt + completion). Default: min(trained context, 4096). */
  contextSize?: number;
  /**
   * CPU threads for evaluation. Default 1: on small machines more threads spin against Node's main thread and
   * make tiny models up to 100x slower; raise it for real models on machines with spare cores.
   */
  threads?: number;
  /** Default `'auto'`. Tests use `false` (CPU only). */
  gpu?: LlamaCppGpu;
  /** Layers offloaded to the GPU (node-llama-cpp's `gpuLayers`); default `'auto'`. */
  gpuLayers?: number | 'auto' | 'max';
  /** Parallel context sequences, i.e. how many calls generate at once (default 1). */
  sequences?: number;
  /** Tokens evaluated per batch (node-llama-cpp's default: min(contextSize * sequences, 512)). */
  batchSize?: number;
}

/** A `TextGenerator` plus the resolved context layout, for schedulers sizing their concurrency. */
export interface LlamaCppGenerator extends TextGenerator {
  /** Tokens per sequence (prompt + completion). */
  readonly contextSize: number;
  /** Calls that can generate at the same time. */
  readonly sequences: number;
}

const DEFAULT_MAX_CONTEXT = 4096;
/** Prompt tokens handed to the detokenizer as left context (spacing of the first generated piece). */
const DETOKENIZE_CONTEXT_TOKENS = 16;

/** Opens a GGUF model with node-llama-cpp. Throws a clear Error naming the path when the file is unusable. */
export async function openLlamaCppGenerator(options: LlamaCppGeneratorOptions): Promise<LlamaCppGenerator> {
  const modelPath = path.resolve(options.modelPath);
  const sequenceCount = positiveInt(options.sequences ?? 1, 'sequences');
  const threads = positiveInt(options.threads ?? 1, 'threads');
  if (options.contextSize !== undefined) positiveInt(options.contextSize, 'contextSize');
  if (options.batchSize !== undefined) positiveInt(options.batchSize, 'batchSize');
  const fileSize = await checkGgufFile(modelPath);
  const id = `gguf:${path.basename(modelPath)}:${fileSize}`;

  const nlc = await import('node-llama-cpp').catch((error: unknown) => {
    const message = `Cannot load GGUF model ${modelPath}: node-llama-cpp is not available (${reason(error)})`;
    throw new Error(message, { cause: error });
  });

  let llama: Llama;
  try {
    llama = await nlc.getLlama({
      gpu: options.gpu ?? 'auto',
      // Prebuilt binaries only: never compile llama.cpp or download anything at run time.
      build: 'never',
      usePrebuiltBinaries: true,
      skipDownload: true,
      progressLogs: false,
      logLevel: nlc.LlamaLogLevel.error,
      maxThreads: threads,
    });
  } catch (error) {
    throw new Error(
      `Cannot load GGUF model ${modelPath}: no usable node-llama-cpp binary for gpu=${String(options.gpu ?? 'auto')} (${reason(error)})`,
      { cause: error },
    );
  }

  let model: LlamaModel | undefined;
  let context: LlamaContext;
  try {
    model = await llama.loadModel({
      modelPath,
      ...(options.gpuLayers !== undefined ? { gpuLayers: options.gpuLayers } : {}),
    });
    const contextSize = options.contextSize ?? Math.min(model.trainContextSize, DEFAULT_MAX_CONTEXT);
    context = await model.createContext({
      contextSize,
      sequences: sequenceCount,
      threads,
      flashAttention: false,
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    });
  } catch (error) {
    await model?.dispose().catch(() => undefined);
    await llama.dispose().catch(() => undefined);
    throw new Error(`Failed to load GGUF model ${modelPath}: ${reason(error)}`, { cause: error });
  }
  const loadedModel = model;
  const chatWrapper: ChatWrapper = nlc.resolveChatWrapper(loadedModel);
  const pool = new SequencePool(
    Array.from({ length: sequenceCount }, () => context.getSequence()),
    () => closedError(id),
    (signal) => abortedError(id, signal),
  );

  let closing: Promise<void> | undefined;
  const closeController = new AbortController();
  const inFlight = new Set<Promise<unknown>>();

  const ensureOpen = (): void => {
    if (closing) throw closedError(id);
  };

  const run = async (request: GenerationRequest): Promise<GenerationResult> => {
    const signal = request.signal;
    const checkAborted = (): void => {
      if (signal?.aborted) throw abortedError(id, signal);
      if (closeController.signal.aborted) {
        throw new ModelRequestError(`${id}: generator was closed during the request`, {
          retryable: false,
          code: 'CLOSED',
        });
      }
    };
    checkAborted();
    if (request.messages.length === 0) {
      throw new ModelRequestError(`${id}: no messages`, { retryable: false, code: 'INVALID_REQUEST' });
    }

    const state = chatWrapper.generateContextState({ chatHistory: toChatHistory(request.messages) });
    const promptTokens = state.contextText.tokenize(loadedModel.tokenizer);
    const room = context.contextSize - promptTokens.length;
    if (room < 1) {
      throw new ModelRequestError(
        `${id}: the prompt has ${promptTokens.length} tokens, the context holds ${context.contextSize}`,
        { retryable: false, code: 'CONTEXT_LENGTH_EXCEEDED' },
      );
    }
    const requested = request.maxTokens === undefined ? room : Math.floor(request.maxTokens);
    const maxTokens = Math.min(Math.max(0, requested), room);
    if (maxTokens === 0) {
      return { text: '', promptTokens: promptTokens.length, completionTokens: 0, finishReason: 'length' };
    }
    const stops = resolveStops(loadedModel, state.stopGenerationTriggers, request.stop ?? []);
    const detokenizeContext = promptTokens.slice(-DETOKENIZE_CONTEXT_TOKENS);
    const detokenize = (tokens: readonly Token[]): string =>
      loadedModel.detokenize(tokens, false, detokenizeContext);

    const sequence = await pool.acquire(signal);
    try {
      checkAborted();
      await sequence.clearHistory();
      const generated: Token[] = [];
      let text: string | undefined;
      let finishReason: 'stop' | 'length' = 'length';
      const tokens = sequence.evaluate(promptTokens, {
        ...samplingOptions(request),
        yieldEogToken: true,
      });
      for await (const token of tokens) {
        checkAborted();
        generated.push(token);
        if (loadedModel.isEogToken(token) || stops.tokens.has(token)) {
          text = detokenize(generated.slice(0, -1));
          finishReason = 'stop';
          break;
        }
        const sequenceStop = stops.tokenSequences.find((s) => endsWith(generated, s));
        if (sequenceStop) {
          text = detokenize(generated.slice(0, -sequenceStop.length));
          finishReason = 'stop';
          break;
        }
        if (stops.texts.length > 0) {
          const sofar = detokenize(generated);
          const cut = firstStopIndex(sofar, stops.texts);
          if (cut >= 0) {
            text = sofar.slice(0, cut);
            finishReason = 'stop';
            break;
          }
        }
        if (generated.length >= maxTokens) break;
      }
      checkAborted();
      return {
        text: text ?? detokenize(generated),
        promptTokens: promptTokens.length,
        completionTokens: generated.length,
        finishReason,
      };
    } finally {
      pool.release(sequence);
    }
  };

  return {
    id,
    contextSize: context.contextSize,
    sequences: sequenceCount,

    generate(request: GenerationRequest): Promise<GenerationResult> {
      try {
        ensureOpen();
      } catch (error) {
        return Promise.reject(error);
      }
      const promise = run(request);
      inFlight.add(promise);
      promise.then(
        () => inFlight.delete(promise),
        () => inFlight.delete(promise),
      );
      // Reject as soon as the signal aborts; the run itself stops before its next token and frees its sequence.
      return request.signal ? rejectOnAbort(promise, request.signal, id) : promise;
    },

    async countTokens(text: string): Promise<number> {
      ensureOpen();
      return text.length === 0 ? 0 : loadedModel.tokenize(text, false).length;
    },

    close(): Promise<void> {
      closing ??= (async () => {
        closeController.abort();
        pool.close();
        await Promise.allSettled([...inFlight]);
        await context.dispose().catch(() => undefined);
        await loadedModel.dispose().catch(() => undefined);
        await llama.dispose().catch(() => undefined);
      })();
      return closing;
    },
  };
}

/** Checks the file exists and starts with the GGUF magic; returns its size. */
async function checkGgufFile(modelPath: string): Promise<number> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(modelPath);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') {
      throw new Error(`GGUF model file not found: ${modelPath}`, { cause: error });
    }
    throw new Error(`Cannot read GGUF model file ${modelPath}: ${reason(error)}`, { cause: error });
  }
  if (!info.isFile()) throw new Error(`GGUF model path is not a file: ${modelPath}`);
  const magic = Buffer.alloc(4);
  const handle = await open(modelPath, 'r');
  try {
    await handle.read(magic, 0, 4, 0);
  } finally {
    await handle.close();
  }
  if (info.size < 4 || magic.toString('latin1') !== 'GGUF') {
    throw new Error(`Not a GGUF file (expected the magic "GGUF" at offset 0): ${modelPath}`);
  }
  return Number(info.size);
}

/** Maps our chat messages onto node-llama-cpp's chat history, ending with the model turn to generate. */
function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((m): ChatHistoryItem => {
    switch (m.role) {
      case 'system':
        return { type: 'system', text: m.content };
      case 'user':
        return { type: 'user', text: m.content };
      case 'assistant':
        return { type: 'model', response: [m.content] };
    }
  });
  // A trailing assistant message is a prefix to continue; otherwise open an empty model turn.
  if (history.at(-1)?.type !== 'model') history.push({ type: 'model', response: [] });
  return history;
}

/**
 * OpenAI-style sampling: temperature (default 1; 0 = greedy) and nucleus top-p (default 1) over the full
 * vocabulary, no top-k, min-p or repeat penalty. Without a seed we draw one: node-llama-cpp would otherwise
 * use the current second, giving identical samples to concurrent calls.
 */
function samplingOptions(request: GenerationRequest): {
  temperature: number;
  topP: number;
  topK: number;
  minP: number;
  seed: number;
} {
  const temperature = request.temperature ?? 1;
  const topP = request.topP ?? 1;
  const seed =
    request.seed === undefined || !Number.isFinite(request.seed)
      ? randomInt(0, 2 ** 31)
      : ((Math.floor(request.seed) % 2 ** 32) + 2 ** 32) % 2 ** 32;
  return {
    temperature: Number.isFinite(temperature) && temperature > 0 ? temperature : 0,
    topP: Number.isFinite(topP) && topP > 0 && topP < 1 ? topP : 1,
    topK: 0,
    minP: 0,
    seed,
  };
}

interface ResolvedStops {
  /** Single tokens that end the generation (besides the model's end-of-generation tokens). */
  tokens: Set<Token>;
  /** Special-token sequences that end the generation. */
  tokenSequences: Token[][];
  /** Plain strings that end the generation; the text is cut before them. */
  texts: string[];
}

/** Splits the chat wrapper's stop triggers into token triggers and text triggers, and adds `stop`. */
function resolveStops(
  model: LlamaModel,
  triggers: readonly LlamaText[],
  stop: readonly string[],
): ResolvedStops {
  const resolved: ResolvedStops = { tokens: new Set(), tokenSequences: [], texts: [] };
  for (const trigger of triggers) {
    if (trigger.values.every((v) => typeof v === 'string')) {
      const text = trigger.values.join('');
      if (text.length > 0) resolved.texts.push(text);
      continue;
    }
    const tokens = trigger.tokenize(model.tokenizer);
    if (tokens.length === 1) resolved.tokens.add(tokens[0] as Token);
    else if (tokens.length > 1) resolved.tokenSequences.push(tokens);
  }
  for (const s of stop) if (s.length > 0) resolved.texts.push(s);
  resolved.texts = [...new Set(resolved.texts)];
  return resolved;
}

function endsWith(tokens: readonly Token[], suffix: readonly Token[]): boolean {
  if (suffix.length > tokens.length) return false;
  const offset = tokens.length - suffix.length;
  return suffix.every((t, i) => tokens[offset + i] === t);
}

function firstStopIndex(text: string, stops: readonly string[]): number {
  let best = -1;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best;
}

/** Hands out context sequences one call at a time, FIFO; waiting calls honour their abort signal. */
class SequencePool {
  private readonly free: LlamaContextSequence[];
  private readonly waiters: {
    resolve: (s: LlamaContextSequence) => void;
    reject: (e: unknown) => void;
    cleanup: () => void;
  }[] = [];
  private closed = false;

  constructor(
    sequences: LlamaContextSequence[],
    private readonly closedError: () => Error,
    private readonly abortedError: (signal: AbortSignal) => Error,
  ) {
    this.free = [...sequences];
  }

  acquire(signal: AbortSignal | undefined): Promise<LlamaContextSequence> {
    if (this.closed) return Promise.reject(this.closedError());
    const sequence = this.free.pop();
    if (sequence) return Promise.resolve(sequence);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        if (signal) reject(this.abortedError(signal));
      };
      const waiter = {
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(sequence: LlamaContextSequence): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.cleanup();
      waiter.resolve(sequence);
    } else {
      this.free.push(sequence);
    }
  }

  close(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      waiter.cleanup();
      waiter.reject(this.closedError());
    }
  }
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`openLlamaCppGenerator: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The one text-generation interface every stage talks to (study, eval, experts). */

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** Sampling parameters. Providers ignore what they cannot honour (e.g. seed). */
export interface SamplingParams {
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  stop?: string[];
  seed?: number;
}

export interface GenerationRequest extends SamplingParams {
  messages: ChatMessage[];
  /** Aborts the request (per-request timeout, shutdown). */
  signal?: AbortSignal;
}

export interface GenerationResult {
  text: string;
  promptTokens: number;
  completionTokens: number;
  /** 'stop' | 'length' | provider-specific; undefined when unknown. */
  finishReason?: string;
}

export interface TextGenerator {
  /**
   * Stable identity of the model for cache keys and manifests, e.g. `openai:gpt-4o-mini@http://host/v1`
   * or `gguf:model.gguf:123456`. Never contains secrets.
   */
  readonly id: string;
  /**
   * What determines the outputs, for cache keys and run fingerprints when it differs from `id`: a served
   * model is identified by its name, so restarting the server on another port or moving to another host
   * serving the same model keeps the cache. Defaults to `id`.
   */
  readonly cacheIdentity?: string;
  generate(request: GenerationRequest): Promise<GenerationResult>;
  /** Number of tokens of `text` under this model's tokenizer (or a close approximation). */
  countTokens(text: string): Promise<number>;
  /** Releases sockets, native memory, worker threads. Safe to call twice. */
  close(): Promise<void>;
}

/** Synchronous token counting, used by the chunker and the budget planner. */
export interface TokenCounter {
  readonly name: string;
  count(text: string): number;
}

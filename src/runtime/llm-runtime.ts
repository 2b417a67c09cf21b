import type { GenerationRequest, GenerationResult, TextGenerator } from '../models/types.js';
import { cacheKey, type ResponseCache } from './cache.js';
import type { TokenLedger } from './ledger.js';
import { withRetries, type RetryOptions } from './retry.js';

export interface LlmCall extends Omit<GenerationRequest, 'signal'> {
  /** Prompt-template version: part of the cache key. */
  templateVersion: string;
  /** Ledger account (the study method). */
  method: string;
}

export interface LlmOutcome extends GenerationResult {
  cached: boolean;
}

/**
 * The middleware every stage calls models through: cache lookup, then retries with backoff and a
 * per-request timeout, then the token ledger and a cache write (one append). The cache is written before
 * the caller persists anything, so a crash between the two costs no second request on resume.
 */
export class LlmRuntime {
  private inFlightRequests = 0;

  constructor(
    readonly generator: TextGenerator,
    private readonly cache: ResponseCache | undefined,
    readonly ledger: TokenLedger,
    private readonly retry: Omit<RetryOptions, 'signal'> = {},
    private readonly signal?: AbortSignal,
  ) {}

  get activeRequests(): number {
    return this.inFlightRequests;
  }

  async generate(call: LlmCall): Promise<LlmOutcome> {
    const { templateVersion, method, ...request } = call;
    const key = this.cache
      ? cacheKey({ ...request, model: this.generator.cacheIdentity ?? this.generator.id, templateVersion })
      : undefined;
    if (this.cache && key) {
      const hit = await this.cache.get(key);
      if (hit) {
        this.ledger.recordCacheHit(method);
        return { ...hit, cached: true };
      }
    }
    this.inFlightRequests++;
    let result: GenerationResult;
    try {
      result = await withRetries((signal) => this.generator.generate({ ...request, signal }), {
        ...this.retry,
        signal: this.signal,
      });
    } finally {
      this.inFlightRequests--;
    }
    this.ledger.recordRequest(method, result.promptTokens, result.completionTokens);
    if (this.cache && key) {
      await this.cache.put(key, {
        text: result.text,
        promptTokens: result.promptTokens,
        completionTokens: result.completionTokens,
        ...(result.finishReason === undefined ? {} : { finishReason: result.finishReason }),
      });
    }
    return { ...result, cached: false };
  }
}

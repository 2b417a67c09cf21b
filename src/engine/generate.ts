import type { Kernels } from './kernels/types.js';
import { LlamaModel } from './llama.js';
import { KvDecoder, pickToken } from './kv-decoder.js';
import { Rng } from './rng.js';

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 (default) is greedy. */
  temperature?: number;
  topP?: number;
  seed?: number;
  /** Generation stops after producing one of these ids (not included in the output). */
  stopIds?: number[];
}

/**
 * Text generation from the engine itself: the prompt is fed into a KV cache in one chunk, then each new
 * token costs one row through every layer and attention over the cache (kv-decoder.ts).
 */
export function generate(
  trained: LlamaModel,
  kernels: Kernels,
  prompt: ArrayLike<number>,
  options: GenerateOptions,
): number[] {
  if (prompt.length === 0) throw new RangeError('generate needs at least one prompt token');
  // Adapters are folded into the weights first: one matrix per projection at decode time.
  const model = trained.lora ? new LlamaModel(trained.shape, trained.mergedWeights()) : trained;
  const decoder = new KvDecoder(model, kernels, prompt.length + options.maxNewTokens);
  const rng = new Rng(options.seed ?? 0);
  const stop = new Set(options.stopIds ?? []);
  let logits = decoder.feed(prompt);
  const out: number[] = [];
  for (let n = 0; n < options.maxNewTokens; n++) {
    const next = pickToken(logits, options.temperature ?? 0, options.topP ?? 1, rng);
    if (stop.has(next)) break;
    out.push(next);
    if (n + 1 < options.maxNewTokens) logits = decoder.feed([next]);
  }
  return out;
}

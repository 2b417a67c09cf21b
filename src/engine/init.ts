import { llamaParameterShapes, type LlamaShape } from './llama.js';
import { Rng } from './rng.js';

/**
 * Fresh weights for training from scratch, as transformers initialises Llama: projections and embeddings
 * from N(0, std²), biases 0, RMSNorm gains 1.
 */
export function initLlamaWeights(
  shape: LlamaShape,
  options: { seed?: number; std?: number } = {},
): Map<string, { shape: number[]; data: Float32Array }> {
  const rng = new Rng(options.seed ?? 0);
  const std = options.std ?? 0.02;
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, dims] of llamaParameterShapes(shape)) {
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    if (name.endsWith('norm.weight')) data.fill(1);
    else if (!name.endsWith('.bias')) for (let i = 0; i < data.length; i++) data[i] = rng.normal() * std;
    out.set(name, { shape: dims, data });
  }
  return out;
}

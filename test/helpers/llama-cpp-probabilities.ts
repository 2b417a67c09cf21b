import type { Llama, Token } from 'node-llama-cpp';

/** node-llama-cpp on the CPU with prebuilt binaries only, one thread, quiet: for exact comparisons. */
export async function openTestLlama(): Promise<Llama> {
  const nlc = await import('node-llama-cpp');
  return nlc.getLlama({
    gpu: false,
    build: 'never',
    usePrebuiltBinaries: true,
    skipDownload: true,
    progressLogs: false,
    logLevel: nlc.LlamaLogLevel.error,
    maxThreads: 1,
  });
}

/**
 * node-llama-cpp's next-token distribution after each position of `ids` (flash attention off, F32 KV cache),
 * optionally with a LoRA adapter GGUF applied.
 */
export async function llamaCppProbabilities(
  llama: Llama,
  file: string,
  ids: number[],
  vocabSize: number,
  adapter?: string,
): Promise<Float64Array[]> {
  const model = await llama.loadModel({ modelPath: file });
  try {
    const context = await model.createContext({
      contextSize: 64,
      threads: 1,
      flashAttention: false,
      experimentalKvCacheKeyType: 'F32',
      experimentalKvCacheValueType: 'F32',
      ...(adapter ? { lora: { adapters: [{ filePath: adapter, scale: 1 }] } } : {}),
    });
    const sequence = context.getSequence();
    const options = { temperature: 1, topK: 0, topP: 1, minP: 0 };
    const result = await sequence.controlledEvaluate(
      ids.map((id) => [id as Token, { generateNext: { probabilities: true, options } }]),
    );
    return result.map((r) => {
      const p = new Float64Array(vocabSize);
      for (const [token, prob] of r?.next.probabilities ?? []) p[token] = prob;
      return p;
    });
  } finally {
    await model.dispose();
  }
}

/** Largest absolute difference between two equally long arrays. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

/**
 * Benchmark: prompt prefill on the engine's KV decoder, the way the engine TextGenerator feeds a long prompt
 * (64-token chunks, so it can yield to the event loop in between) against the whole prompt in one chunk, which
 * is plain causal attention over batched GEMMs (the gap is what the later chunks cost over the first); then
 * decoding one token at a time after that prompt.
 *
 * Usage: npx tsx bench/prefill.ts [--tokens 1024] [--chunk 64] [--decode 64] [--threads 2] [--kernels native|ts]
 */
import { parseArgs } from 'node:util';
import { initLlamaWeights } from '../src/engine/init.js';
import { loadKernels } from '../src/engine/kernels/index.js';
import { KvDecoder } from '../src/engine/kv-decoder.js';
import { LlamaModel, type LlamaShape } from '../src/engine/llama.js';

const { values } = parseArgs({
  options: {
    tokens: { type: 'string', default: '1024' },
    chunk: { type: 'string', default: '64' },
    decode: { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
    kernels: { type: 'string', default: 'native' },
  },
});

// The 30M shape of bench/train-throughput.ts.
const shape: LlamaShape = {
  vocabSize: 8192,
  hiddenSize: 512,
  intermediateSize: 1408,
  numLayers: 8,
  numHeads: 8,
  numKvHeads: 8,
  headDim: 64,
  rmsNormEps: 1e-6,
  ropeTheta: 10000,
  tieWordEmbeddings: true,
  attentionBias: false,
};

const kernels = loadKernels({ prefer: values.kernels === 'ts' ? 'ts' : 'native', log: () => undefined });
kernels.setThreads(Number(values.threads));
const model = new LlamaModel(shape, initLlamaWeights(shape, { seed: 1 }));
const n = Number(values.tokens);
const decodeTokens = Number(values.decode);
const chunk = Number(values.chunk);
const prompt = Array.from({ length: n }, (_, i) => (i * 31 + 7) % shape.vocabSize);

function prefill(size: number): number {
  const started = performance.now();
  const decoder = new KvDecoder(model, kernels, n + decodeTokens);
  for (let at = 0; at < n; at += size) decoder.feed(prompt.slice(at, at + size));
  return performance.now() - started;
}

prefill(n); // warm-up
const runs = 3;
const whole = Array.from({ length: runs }, () => prefill(n));
const chunked = Array.from({ length: runs }, () => prefill(chunk));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `${kernels.name} kernels, ${values.threads} threads, ${n} prompt tokens: one chunk ${median(whole).toFixed(0)} ms, ` +
    `chunks of ${chunk} ${median(chunked).toFixed(0)} ms (${(median(chunked) / median(whole)).toFixed(2)}x)`,
);

const decoder = new KvDecoder(model, kernels, n + decodeTokens);
decoder.feed(prompt);
const started = performance.now();
for (let i = 0; i < decodeTokens; i++) decoder.feed([(i * 17) % shape.vocabSize]);
const perToken = (performance.now() - started) / decodeTokens;
console.log(`decoding ${decodeTokens} tokens after the prompt: ${perToken.toFixed(1)} ms per token`);

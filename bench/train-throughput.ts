/**
 * Benchmark: training tokens/s of the TypeScript engine (native and ts kernels) against PyTorch CPU
 * (bench/torch_train.py) on the same Llama shape, sequence length, batch, optimizer and thread count,
 * in the same run. Prints a markdown table; peak RSS of our 30M run is measured in a child process.
 *
 * Usage: npx tsx bench/train-throughput.ts [--threads 2] [--steps 5] [--configs 1m,demo,30m] [--skip-ts | --ts-only]
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { initLlamaWeights } from '../src/engine/init.js';
import { loadKernels, tsKernels } from '../src/engine/kernels/index.js';
import type { Kernels } from '../src/engine/kernels/types.js';
import { LlamaModel, type LlamaShape } from '../src/engine/llama.js';
import { AdamW, clipGradNorm } from '../src/engine/optim.js';
import { accumulateGradients } from '../src/train/engine-trainer.js';
import { autoMicroBatchRows } from '../src/train/micro-batch.js';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    steps: { type: 'string', default: '5' },
    configs: { type: 'string', default: '1m,30m' },
    'skip-ts': { type: 'boolean', default: false },
    'ts-only': { type: 'boolean', default: false },
    'child-run': { type: 'string' },
  },
});

interface BenchConfig extends LlamaShape {
  name: string;
  seqLen: number;
  batch: number;
}

const base = { rmsNormEps: 1e-6, ropeTheta: 10000, attentionBias: false };
const CONFIGS: Record<string, BenchConfig> = {
  '1m': {
    name: '~1.3M params',
    vocabSize: 2048,
    hiddenSize: 128,
    intermediateSize: 352,
    numLayers: 4,
    numHeads: 4,
    numKvHeads: 4,
    headDim: 32,
    tieWordEmbeddings: false,
    seqLen: 128,
    batch: 16,
    ...base,
  },
  // The demo's model (src/demo/sizes.ts, medium): what `active-reading demo` trains four times.
  demo: {
    name: 'demo model (hidden 128, 3 layers, vocab 1024)',
    vocabSize: 1024,
    hiddenSize: 128,
    intermediateSize: 352,
    numLayers: 3,
    numHeads: 4,
    numKvHeads: 4,
    headDim: 32,
    tieWordEmbeddings: true,
    seqLen: 128,
    batch: 16,
    ...base,
  },
  '30m': {
    name: '~30M params',
    vocabSize: 8192,
    hiddenSize: 512,
    intermediateSize: 1408,
    numLayers: 8,
    numHeads: 8,
    numKvHeads: 8,
    headDim: 64,
    tieWordEmbeddings: true,
    seqLen: 256,
    batch: 8,
    ...base,
  },
};

function ours(config: BenchConfig, kernels: Kernels, steps: number, warmup: number) {
  const model = new LlamaModel(config, initLlamaWeights(config, { seed: 0 }));
  const opt = new AdamW(model.params, kernels, { lr: 1e-3, weightDecay: 0.1 });
  const ids = new Int32Array(config.batch * config.seqLen);
  let s = 1;
  for (let i = 0; i < ids.length; i++)
    ids[i] = (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % config.vocabSize;
  // Next-token targets, as the trainer builds them (the last position of each row has none).
  const targets = ids.map((_, i) => ((i + 1) % config.seqLen === 0 ? -100 : (ids[i + 1] as number)));
  // The trainer's default: passes of as many rows as fit the activation budget (micro-batch.ts).
  let trainable = 0;
  for (const p of model.params.values()) trainable += p.size;
  const microRows = autoMicroBatchRows(config, {
    seqLen: config.seqLen,
    batchRows: config.batch,
    trainableParams: trainable,
  });
  const batch = { ids, targets, batch: config.batch, seqLen: config.seqLen };
  const step = () => {
    opt.zeroGrad();
    const loss = accumulateGradients(model, kernels, batch, microRows);
    clipGradNorm(model.params.values(), 1);
    opt.step();
    return loss;
  };
  for (let i = 0; i < warmup; i++) step();
  const start = performance.now();
  let loss = 0;
  for (let i = 0; i < steps; i++) loss = step();
  const seconds = (performance.now() - start) / 1000;
  let params = 0;
  for (const p of model.params.values()) params += p.size;
  return { tokensPerS: (config.batch * config.seqLen * steps) / seconds, loss, params, microRows };
}

const threads = Number(values.threads);
const steps = Number(values.steps);

if (values['child-run']) {
  // Child mode: one run of our engine (native kernels), reporting peak RSS.
  const config = CONFIGS[values['child-run']] as BenchConfig;
  const kernels = loadKernels({ prefer: 'native', threads, log: () => undefined });
  const result = ours(config, kernels, steps, 1);
  console.log(JSON.stringify({ ...result, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
  process.exit(0);
}

const native = loadKernels({ threads, log: (l) => console.log(l) });
console.log(`threads ${threads}; steps ${steps} (after 1 warm-up step); node ${process.version}`);
console.log(
  '| config | params | seq x batch | torch tok/s | native tok/s | native / torch | ts tok/s | ts / torch |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const key of String(values.configs).split(',')) {
  const config = CONFIGS[key];
  if (!config) throw new Error(`unknown config ${key}`);
  if (values['ts-only']) {
    // The ts kernels alone (one thread), e.g. several copies at once to see how they share the cores.
    console.log(
      `| ${config.name} | ts only | ${ours(config, tsKernels, steps, 1).tokensPerS.toFixed(0)} tok/s |`,
    );
    continue;
  }
  const torchRun = spawnSync(
    'python3',
    [
      path.join(import.meta.dirname, 'torch_train.py'),
      JSON.stringify({ ...config, threads, steps, warmup: 1 }),
    ],
    { encoding: 'utf8' },
  );
  if (torchRun.status !== 0) throw new Error(`torch run failed: ${torchRun.stderr}`);
  const torch = JSON.parse(torchRun.stdout.trim().split('\n').at(-1) as string) as {
    tokens_per_s: number;
    params: number;
    peak_rss_mb: number;
  };
  const nat = native.name === 'native' ? ours(config, native, steps, 1) : undefined;
  const ts = values['skip-ts'] ? undefined : ours(config, tsKernels, Math.max(1, Math.floor(steps / 2)), 1);
  const fmt = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(0));
  const ratio = (x: number | undefined) => (x === undefined ? 'n/a' : (x / torch.tokens_per_s).toFixed(2));
  console.log(
    `| ${config.name} | ${(torch.params / 1e6).toFixed(2)}M | ${config.seqLen} x ${config.batch} | ${fmt(torch.tokens_per_s)} | ${fmt(nat?.tokensPerS)} | ${ratio(nat?.tokensPerS)} | ${fmt(ts?.tokensPerS)} | ${ratio(ts?.tokensPerS)} |`,
  );
  if (key === '30m') {
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        import.meta.filename,
        '--child-run',
        key,
        '--threads',
        String(threads),
        '--steps',
        '2',
      ],
      { encoding: 'utf8' },
    );
    const run = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as {
      peakRssMb?: number;
      params?: number;
      microRows?: number;
    };
    // Everything in MiB (maxRSS is in KiB on Linux, as is Python's ru_maxrss).
    const stateMib = ((run.params ?? 0) * 4 * 4) / 2 ** 20; // weights + grads + Adam m and v, float32
    console.log(
      `peak RSS (ours, 30M, native, passes of ${run.microRows} of ${config.batch} rows): ${run.peakRssMb?.toFixed(0)} MiB; weights+grads+optimizer state ${stateMib.toFixed(0)} MiB; ratio ${((run.peakRssMb ?? 0) / stateMib).toFixed(2)} (torch peak RSS ${torch.peak_rss_mb.toFixed(0)} MiB)`,
    );
  }
}

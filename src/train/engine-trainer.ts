import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { batchAt, batchPlan } from '../dataset/batches.js';
import { deriveSeed, mixFingerprint, mixSources, type MixInput } from '../dataset/mixing.js';
import { packSequences } from '../dataset/packing.js';
import { openSource } from '../dataset/sources.js';
import { exportGguf, gpt2TokenizerFromHf } from '../engine/export-gguf.js';
import { initLlamaWeights } from '../engine/init.js';
import {
  loadHfCheckpoint,
  parseLlamaConfig,
  readSafetensors,
  saveHfCheckpoint,
  writeSafetensors,
} from '../engine/io/index.js';
import type { LlamaConfig } from '../engine/io/hf-config.js';
import { loadKernels } from '../engine/kernels/index.js';
import type { Kernels } from '../engine/kernels/types.js';
import { DEFAULT_LORA_TARGETS, LlamaModel, shapeFromConfig, type LoraSettings } from '../engine/llama.js';
import { AdamW, clipGradNorm, learningRate, type Schedule } from '../engine/optim.js';
import { autoMicroBatchRows } from './micro-batch.js';
import { loadHfTokenizer, trainByteLevelBpe, writeTokenizerJson } from '../engine/tokenizer/index.js';
import type { TextTokenizer } from '../engine/tokenizer/types.js';
import { writeFileAtomic } from '../runtime/atomic-file.js';
import { Progress, fmt } from '../runtime/progress.js';

/** deriveSeed purpose of the document order (any constant unlike the mix's own). */
const DOC_ORDER_STREAM = 0x646f6373;

export interface EngineTrainOptions {
  /** A study run directory, a .jsonl file or a .txt/.md file. */
  data: string;
  /**
   * For a study run directory: train on the generated documents only ('response', default: what Active
   * Reading does), or on prompt + response with the loss on the response only ('chat').
   */
  trainOn?: 'response' | 'chat';
  /** A Hugging Face Llama-family directory to finetune. */
  model?: string;
  /** A config.json (Hugging Face format) to train a new model from scratch. */
  fromScratch?: string;
  out: string;
  lora?: Omit<LoraSettings, 'targets'> & { targets?: string[] };
  lr?: number;
  steps?: number;
  epochs?: number;
  seqLen?: number;
  batchTokens?: number;
  /**
   * Tokens per forward/backward pass; a step's batch is accumulated over ceil(batch/micro) passes. Default:
   * as many as keep the activations within max(256 MiB, a quarter of the training state) (micro-batch.ts).
   */
  microBatchTokens?: number;
  replay?: { file: string; ratio: number };
  /**
   * Pack the documents in their source order (default false: in an order shuffled with the seed, so that
   * the restatements a study run lists side by side do not share a context window; see packing.ts).
   */
  keepOrder?: boolean;
  exportGguf?: 'f32' | 'f16' | 'q8_0';
  threads?: number;
  seed?: number;
  warmup?: number;
  schedule?: Schedule;
  weightDecay?: number;
  clip?: number;
  /**
   * Intermediate models to keep: this many evenly spaced snapshots, each a loadable Hugging Face directory
   * `OUT/snapshots/step-N/` (with `snapshot.json`: step and tokens trained), for accuracy-vs-tokens curves.
   */
  snapshots?: number;
  /** Save a resumable checkpoint every N steps (default: 10 checkpoints over the run, at least every 200 steps). */
  checkpointEvery?: number;
  kernels?: 'auto' | 'ts' | 'native';
  signal?: AbortSignal;
  log?: (line: string) => void;
  progressStream?: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean };
}

export interface EngineTrainResult {
  status: 'complete' | 'interrupted';
  steps: number;
  finalLoss: number;
  out: string;
  /** The kernels that ran: 'native' or 'ts' (after the automatic choice and any fallback). */
  kernels: Kernels['name'];
}

/** What a checkpoint records so a restarted run continues exactly where it was. */
interface TrainerState {
  format: 'active-reading/train@1';
  step: number;
  totalSteps: number;
  fingerprint: string;
  losses: Array<[number, number]>;
}

/**
 * `train` on the TypeScript engine: data -> packed, mixed batches -> AdamW steps with warmup and decay,
 * periodic checkpoints (model + optimizer + trainer state, written whole or not at all), resume after a
 * crash from the newest one, and the final model as a Hugging Face directory (plus GGUF on request).
 */
export async function trainWithEngine(options: EngineTrainOptions): Promise<EngineTrainResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (!options.model === !options.fromScratch)
    throw new Error('give exactly one of --model DIR or --from-scratch CONFIG.json');
  const out = path.resolve(options.out);
  await fs.mkdir(out, { recursive: true });
  const kernels = loadKernels({ prefer: options.kernels ?? 'auto', threads: options.threads, log });
  const seed = options.seed ?? 0;

  // Model and tokenizer.
  let config: LlamaConfig;
  let weights: Map<string, { shape: readonly number[]; data: Float32Array }>;
  let tokenizer: TextTokenizer;
  let tokenizerFiles: { tokenizerFile: string; tokenizerConfigFile?: string };
  if (options.model) {
    const checkpoint = await loadHfCheckpoint(options.model);
    config = checkpoint.config;
    weights = checkpoint.tensors;
    if (!checkpoint.tokenizerFile)
      throw new Error(`${options.model} has no tokenizer.json: the engine needs it to read the data`);
    tokenizerFiles = {
      tokenizerFile: checkpoint.tokenizerFile,
      tokenizerConfigFile: checkpoint.tokenizerConfigFile,
    };
    tokenizer = await loadHfTokenizer(checkpoint.tokenizerFile, checkpoint.tokenizerConfigFile);
  } else {
    const file = options.fromScratch as string;
    const raw = await fs.readFile(file, 'utf8').catch(() => {
      throw new Error(`--from-scratch ${file}: file not found`);
    });
    config = parseLlamaConfig(JSON.parse(raw), file);
    weights = initLlamaWeights(shapeFromConfig(config), { seed });
    const own = path.join(path.dirname(file), 'tokenizer.json');
    if (existsSync(own)) {
      tokenizerFiles = { tokenizerFile: own };
      tokenizer = await loadHfTokenizer(own);
    } else {
      log(`training a byte-level BPE tokenizer (vocab ${config.vocabSize}) on ${options.data}`);
      const texts: string[] = [];
      for await (const doc of await openSource(options.data)) texts.push(`${doc.prompt ?? ''}${doc.text}`);
      const trained = trainByteLevelBpe(texts, { vocabSize: config.vocabSize });
      const written = await writeTokenizerJson(out, trained.tokenizerJson);
      tokenizerFiles = {
        tokenizerFile: written.tokenizerJsonPath,
        tokenizerConfigFile: written.tokenizerConfigPath,
      };
      tokenizer = trained.tokenizer;
    }
    // A new model's special ids are the tokenizer's (documents are packed with its EOS between them), not
    // the config defaults (1 and 2), which would make transformers stop on whatever tokens those are.
    config = { ...config, bosTokenId: tokenizer.bosId ?? null, eosTokenId: tokenizer.eosId };
  }
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new Error(
      `the tokenizer has ${tokenizer.vocabSize} tokens but the model's vocabulary is ${config.vocabSize}: they do not belong together`,
    );
  }

  // Data: packed windows, mixed with replay text by token share, in resumable batches.
  const seqLen = options.seqLen ?? Math.min(512, config.maxPositionEmbeddings);
  const batchSize = Math.max(1, Math.floor((options.batchTokens ?? 8192) / seqLen));
  const study = await openSource(options.data, {
    include: options.trainOn ?? 'response',
    onIssue: (i) => log(`skipped ${i.source}${i.line ? `:${i.line}` : ''}: ${i.reason}`),
  });
  const inputs: MixInput[] = [];
  const shuffle = (source: number) =>
    options.keepOrder ? {} : { shuffleSeed: deriveSeed(seed, DOC_ORDER_STREAM, source) };
  const mainWindows = await packSequences(study, tokenizer, { seqLen, ...shuffle(0) });
  if (mainWindows.count === 0) throw new Error(`${options.data}: no training text found`);
  const replayRatio = options.replay?.ratio ?? 0;
  inputs.push({ name: 'data', windows: mainWindows, share: 1 - replayRatio });
  if (options.replay && replayRatio > 0) {
    if (!(replayRatio < 1)) throw new Error('--replay-ratio must be below 1');
    const wanted = Math.ceil((mainWindows.count * replayRatio) / (1 - replayRatio));
    const replay = await packSequences(await openSource(options.replay.file), tokenizer, {
      seqLen,
      maxWindows: wanted,
      ...shuffle(1),
    });
    inputs.push({ name: 'replay', windows: replay, share: replayRatio });
  }
  const mix = mixSources(inputs, { seed });
  const stepsPerEpoch = Math.ceil(mix.length / batchSize);
  const totalSteps = options.steps ?? stepsPerEpoch * (options.epochs ?? 1);
  // Windows flow across epoch boundaries, so enough epochs to serve totalSteps full batches.
  const plan = batchPlan(mix, {
    batchSize,
    epochs: Math.max(1, Math.ceil((totalSteps * batchSize) / mix.length)),
  });
  const fingerprint = JSON.stringify({
    mix: mixFingerprint(mix),
    batchSize,
    seqLen,
    totalSteps,
    lora: options.lora ?? null,
  });

  const lora = options.lora
    ? { ...options.lora, targets: options.lora.targets ?? DEFAULT_LORA_TARGETS }
    : undefined;
  const model = new LlamaModel(shapeFromConfig(config), weights, lora ? { lora } : {});
  const optimizer = new AdamW(model.params, kernels, {
    lr: options.lr ?? 3e-4,
    weightDecay: options.weightDecay ?? 0.1,
  });
  let step = 0;
  const losses: Array<[number, number]> = [];

  const resumed = await loadLatestCheckpoint(out, model, optimizer, fingerprint, log);
  if (resumed) {
    step = resumed.step;
    losses.push(...resumed.losses);
  }
  // Gradient accumulation: a step's batch runs in micro-batches whose activations fit in memory.
  const microRows = options.microBatchTokens
    ? Math.max(1, Math.min(batchSize, Math.floor(options.microBatchTokens / seqLen)))
    : autoMicroBatchRows(model.shape, {
        seqLen,
        batchRows: batchSize,
        trainableParams: countParams(model, true),
      });
  log(
    `training ${fmt(countParams(model, true))} of ${fmt(countParams(model, false))} parameters on ${fmt(mainWindows.count)} windows of ${seqLen} tokens ` +
      `(batch ${batchSize}${microRows < batchSize ? ` in passes of ${microRows}` : ''}, ${totalSteps} steps${replayRatio ? `, ${Math.round(replayRatio * 100)}% replay` : ''})`,
  );

  const every = options.checkpointEvery ?? Math.max(1, Math.min(200, Math.ceil(totalSteps / 10)));
  const warmup = options.warmup ?? Math.min(100, Math.floor(totalSteps / 10));
  let tokensDone = 0;
  const snapshotSteps = new Set<number>();
  for (let i = 1; i <= (options.snapshots ?? 0); i++) {
    const at = Math.round((i * totalSteps) / ((options.snapshots ?? 0) + 1));
    if (at > 0 && at < totalSteps) snapshotSteps.add(at);
  }
  const progress = new Progress({
    label: 'train',
    unit: 'steps',
    total: totalSteps,
    stream: options.progressStream ?? process.stderr,
    detail: () =>
      `| loss ${(losses.at(-1)?.[1] ?? NaN).toFixed(4)} | ${fmt(tokensDone / Math.max(1e-3, (Date.now() - started) / 1000))} tok/s`,
  });
  const started = Date.now();
  progress.update(step);
  let status: EngineTrainResult['status'] = 'complete';
  try {
    for (; step < totalSteps; step++) {
      if (options.signal?.aborted) {
        status = 'interrupted';
        break;
      }
      const batch = batchAt(plan, step);
      optimizer.zeroGrad();
      // Dropout masks depend on (seed, step) only, so a resumed run repeats them exactly.
      model.reseedDropout(Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) + step * 0x9e3779b1);
      const loss = accumulateGradients(model, kernels, batch, microRows);
      if (!Number.isFinite(loss)) {
        throw new Error(
          `the loss became ${loss} at step ${step + 1}: lower --lr (now ${options.lr ?? 3e-4}); earlier checkpoints in ${out} are intact`,
        );
      }
      clipGradNorm(model.params.values(), options.clip ?? 1);
      optimizer.step(
        learningRate(step, {
          base: options.lr ?? 3e-4,
          warmup,
          total: totalSteps,
          schedule: options.schedule ?? 'cosine',
          minRatio: 0.1,
        }),
      );
      losses.push([step + 1, loss]);
      tokensDone += batch.batch * batch.seqLen;
      progress.update(step + 1);
      if (snapshotSteps.has(step + 1)) {
        await saveSnapshot(out, step + 1, (step + 1) * batchSize * seqLen, (dir) =>
          saveFinalModel(dir, model, config, tokenizerFiles),
        );
      }
      if ((step + 1) % every === 0 && step + 1 < totalSteps) {
        await saveCheckpoint(out, model, optimizer, {
          format: 'active-reading/train@1',
          step: step + 1,
          totalSteps,
          fingerprint,
          losses,
        });
      }
    }
  } finally {
    progress.finish();
  }
  await saveCheckpoint(out, model, optimizer, {
    format: 'active-reading/train@1',
    step,
    totalSteps,
    fingerprint,
    losses,
  });
  if (status === 'complete') {
    await saveFinalModel(out, model, config, tokenizerFiles);
    if (options.exportGguf) {
      const file = path.join(out, `model-${options.exportGguf}.gguf`);
      const tokenizerJson = JSON.parse(await fs.readFile(tokenizerFiles.tokenizerFile, 'utf8'));
      const merged = lora ? new LlamaModel(model.shape, model.mergedWeights()) : model;
      await exportGguf(merged, file, {
        type: options.exportGguf,
        tokenizer: gpt2TokenizerFromHf(tokenizerJson, {
          eos: tokenizer.eosId,
          ...(tokenizer.bosId === undefined ? {} : { bos: tokenizer.bosId }),
        }),
      });
      log(`exported ${file}`);
    }
  }
  return { status, steps: step, finalLoss: losses.at(-1)?.[1] ?? NaN, out, kernels: kernels.name };
}

/**
 * Forward and backward over the batch in micro-batches of `microRows` rows, each weighted by its share of
 * the trained targets, so the accumulated gradient is that of the whole batch's mean loss. Returns that loss.
 */
export function accumulateGradients(
  model: LlamaModel,
  kernels: Kernels,
  batch: { ids: Int32Array; targets: Int32Array; batch: number; seqLen: number },
  microRows: number,
): number {
  const { seqLen } = batch;
  let total = 0;
  for (let i = 0; i < batch.targets.length; i++) if (batch.targets[i] !== -100) total++;
  if (total === 0) return 0;
  let loss = 0;
  for (let row = 0; row < batch.batch; row += microRows) {
    const rows = Math.min(microRows, batch.batch - row);
    const ids = batch.ids.subarray(row * seqLen, (row + rows) * seqLen);
    const targets = batch.targets.subarray(row * seqLen, (row + rows) * seqLen);
    let counted = 0;
    for (let i = 0; i < targets.length; i++) if (targets[i] !== -100) counted++;
    if (counted === 0) continue;
    const weight = counted / total;
    loss += weight * model.lossAndGradTargets(kernels, ids, targets, rows, seqLen, weight);
  }
  return loss;
}

function countParams(model: LlamaModel, trainableOnly: boolean): number {
  let n = 0;
  for (const p of model.params.values()) if (!trainableOnly || p.requiresGrad) n += p.size;
  return n;
}

/** The final model in `out/` as a Hugging Face directory (LoRA merged), with the tokenizer files. */
async function saveFinalModel(
  out: string,
  model: LlamaModel,
  config: LlamaConfig,
  tokenizer: { tokenizerFile: string; tokenizerConfigFile?: string },
): Promise<void> {
  const tensors = model.lora
    ? model.mergedWeights()
    : new Map([...model.params].map(([name, t]) => [name, { shape: [...t.shape], data: t.data }]));
  await saveHfCheckpoint(out, config, tensors, {
    ...(path.dirname(tokenizer.tokenizerFile) === out ? {} : { tokenizerFile: tokenizer.tokenizerFile }),
    ...(tokenizer.tokenizerConfigFile && path.dirname(tokenizer.tokenizerConfigFile) !== out
      ? { tokenizerConfigFile: tokenizer.tokenizerConfigFile }
      : {}),
  });
}

const CHECKPOINTS = 'checkpoints';

/** `step-00000042`: step folders sort by name in step order. */
function stepName(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

/**
 * Writes the folder `root/name` whole or not at all: `write` fills a temporary sibling, which then replaces
 * any folder of that name. A crash leaves at most a `.name.tmp` that the next write clears.
 */
async function writeFolderAtomic(
  root: string,
  name: string,
  write: (dir: string) => Promise<void>,
): Promise<void> {
  const tmp = path.join(root, `.${name}.tmp`);
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp, { recursive: true });
  await write(tmp);
  const final = path.join(root, name);
  await fs.rm(final, { recursive: true, force: true });
  await fs.rename(tmp, final);
}

/** One intermediate model, a loadable HF folder `snapshots/step-N/` with its step and tokens trained. */
async function saveSnapshot(
  out: string,
  step: number,
  tokens: number,
  write: (dir: string) => Promise<void>,
): Promise<void> {
  await writeFolderAtomic(path.join(out, 'snapshots'), stepName(step), async (dir) => {
    await write(dir);
    await fs.writeFile(path.join(dir, 'snapshot.json'), `${JSON.stringify({ step, tokens })}\n`);
  });
}

/**
 * A checkpoint is a folder `checkpoints/step-N/` with the trainable tensors, the optimizer moments and the
 * trainer state. It is written under a temporary name and renamed into place, then `latest` is replaced
 * atomically; the two newest are kept, so a crash at any moment leaves at least one whole checkpoint.
 */
async function saveCheckpoint(
  out: string,
  model: LlamaModel,
  optimizer: AdamW,
  state: TrainerState,
): Promise<void> {
  const root = path.join(out, CHECKPOINTS);
  const name = stepName(state.step);
  await writeFolderAtomic(root, name, async (dir) => {
    const trainable = [...model.params].filter(([, t]) => t.requiresGrad);
    await writeSafetensors(
      path.join(dir, 'trainable.safetensors'),
      new Map(trainable.map(([n, t]) => [n, { shape: [...t.shape], data: t.data }])),
    );
    const moments = optimizer.exportState().moments;
    const opt = new Map<string, { shape: number[]; data: Float32Array }>();
    trainable.forEach(([n], i) => {
      opt.set(`${n}.exp_avg`, { shape: [moments[i]!.m.length], data: moments[i]!.m });
      opt.set(`${n}.exp_avg_sq`, { shape: [moments[i]!.v.length], data: moments[i]!.v });
    });
    await writeSafetensors(path.join(dir, 'optimizer.safetensors'), opt, {
      step: String(optimizer.stepCount),
    });
    await fs.writeFile(path.join(dir, 'trainer_state.json'), `${JSON.stringify(state)}\n`);
  });
  await writeFileAtomic(path.join(root, 'latest'), `${name}\n`);
  const all = (await fs.readdir(root)).filter((n) => /^step-\d+$/.test(n)).sort();
  for (const old of all.slice(0, -2)) await fs.rm(path.join(root, old), { recursive: true, force: true });
}

async function loadLatestCheckpoint(
  out: string,
  model: LlamaModel,
  optimizer: AdamW,
  fingerprint: string,
  log: (line: string) => void,
): Promise<TrainerState | undefined> {
  const root = path.join(out, CHECKPOINTS);
  const latest = await fs.readFile(path.join(root, 'latest'), 'utf8').catch(() => undefined);
  if (!latest) return undefined;
  const dir = path.join(root, latest.trim());
  const state = JSON.parse(await fs.readFile(path.join(dir, 'trainer_state.json'), 'utf8')) as TrainerState;
  if (state.fingerprint !== fingerprint) {
    throw new Error(
      `${out} holds checkpoints of a run with other data or settings; use a new --out (or delete ${root})`,
    );
  }
  const trainable = await readSafetensors(path.join(dir, 'trainable.safetensors'));
  const entries = [...model.params].filter(([, t]) => t.requiresGrad);
  for (const [name, t] of entries) {
    const saved = trainable.tensors.get(name);
    if (!saved || saved.data.length !== t.size) throw new Error(`${dir}: checkpoint lacks ${name}`);
    t.data.set(saved.data);
  }
  const opt = await readSafetensors(path.join(dir, 'optimizer.safetensors'));
  optimizer.importState({
    step: Number(opt.metadata.step ?? state.step),
    moments: entries.map(([name]) => ({
      m: opt.tensors.get(`${name}.exp_avg`)?.data ?? new Float32Array(0),
      v: opt.tensors.get(`${name}.exp_avg_sq`)?.data ?? new Float32Array(0),
    })),
  });
  log(`resuming from ${path.relative(out, dir)} (step ${state.step} of ${state.totalSteps})`);
  return state;
}

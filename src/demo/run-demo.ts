/**
 * `active-reading demo`: the whole loop on a fictional world, offline. Builds a seeded world of people and their
 * biographies; runs the real study engine for each method (repeat, paraphrase, qa, ar) against the simulated
 * reader under the same token budget; trains one from-scratch model per method with the TypeScript engine on
 * that method's data plus the QA examples of the train-split people; evaluates closed-book, lexically, on the
 * held-out people (and on the train people for reference), at several training budgets; writes report.html.
 * Every stage is the product's own (runStudy, trainWithEngine, runEval) and resumable, so re-running the same
 * command after Ctrl-C picks up where it stopped.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { trainByteLevelBpe, writeTokenizerJson } from '../engine/tokenizer/index.js';
import type { MetricWithCi } from '../eval/metrics.js';
import { writeQaJsonl } from '../eval/qa-sets/index.js';
import { runEval } from '../eval/run-eval.js';
import { openTextGenerator } from '../models/open-generator.js';
import { writeFileAtomic } from '../runtime/atomic-file.js';
import { runStudy } from '../study/run-study.js';
import { trainWithEngine } from '../train/engine-trainer.js';
import { renderDocument, writeWorldCorpus } from '../world/documents.js';
import { buildQaSet, trainingQaText } from '../world/qa.js';
import { createSimulatedReader, SIMULATION_NOTICE } from '../world/simulated-reader.js';
import { buildWorld } from '../world/world.js';
import { demoModelConfig, type DemoSize } from './sizes.js';
import { tokenizerTexts } from './tokenizer-texts.js';

export const DEMO_METHODS = ['repeat', 'paraphrase', 'qa', 'ar'] as const;
export type DemoMethod = (typeof DEMO_METHODS)[number];

export interface DemoOptions {
  out: string;
  size: DemoSize;
  seed?: number;
  methods?: readonly DemoMethod[];
  kernels?: 'auto' | 'ts' | 'native';
  threads?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
  progressStream?: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean };
}

/** Accuracy of one model on one split. */
export interface DemoPoint {
  trainTokens: number;
  heldout: MetricWithCi;
}

export interface DemoRow {
  method: DemoMethod;
  studyTokens: number;
  studyRecords: number;
  trainTokens: number;
  heldout: MetricWithCi;
  train: MetricWithCi;
  /** Held-out accuracy of the intermediate snapshots and the final model, by tokens trained. */
  curve: DemoPoint[];
  seconds: { study: number; train: number; eval: number };
}

export interface DemoResult {
  status: 'complete' | 'interrupted';
  rows: DemoRow[];
  settings: DemoSettings;
  seconds: number;
  kernels: string;
}

export interface DemoSettings {
  format: 'active-reading/demo@1';
  size: DemoSize;
  seed: number;
  methods: DemoMethod[];
  simulation: string;
}

/** A short prompt in the format of the training QA examples: what a from-scratch model can follow. */
const ANSWER_PROMPT = '[user]\nQuestion: {{question}}\nAnswer:\n';

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const out = path.resolve(options.out);
  const seed = options.seed ?? 0;
  const size = options.size;
  const methods = [...(options.methods ?? DEMO_METHODS)];
  const started = Date.now();
  const settings: DemoSettings = {
    format: 'active-reading/demo@1',
    size,
    seed,
    methods,
    simulation: SIMULATION_NOTICE,
  };
  await claimOutDir(out, settings);

  // 1. The world, its corpus and the QA set.
  const world = buildWorld({ people: size.people, seed });
  const worldDir = path.join(out, 'world');
  const corpus = await writeWorldCorpus(worldDir, world);
  const qa = buildQaSet(world, { seed });
  const heldoutFile = path.join(worldDir, 'qa-heldout.jsonl');
  const trainQaFile = path.join(worldDir, 'qa-train.jsonl');
  await writeQaJsonl(
    heldoutFile,
    qa.filter((i) => i.split === 'heldout'),
  );
  await writeQaJsonl(
    trainQaFile,
    qa.filter((i) => i.split === 'train'),
  );
  const qaTexts = trainingQaText(qa);
  const qaTrainingFile = path.join(worldDir, 'qa-training-examples.jsonl');
  await writeFileAtomic(qaTrainingFile, qaTexts.map((text) => JSON.stringify({ text })).join('\n') + '\n');
  const promptsDir = path.join(out, 'prompts');
  await fs.mkdir(promptsDir, { recursive: true });
  await writeFileAtomic(path.join(promptsDir, 'answer-closed-book.txt'), ANSWER_PROMPT);
  log(
    `demo: a simulated world of ${size.people} people (seed ${seed}); ${qa.filter((i) => i.split === 'heldout').length} held-out questions; methods ${methods.join(', ')}`,
  );
  log(`demo: ${SIMULATION_NOTICE}`);

  const reader = createSimulatedReader(world, { seed });
  const budget = size.people * size.studyTokensPerPerson;
  const batchRows = Math.max(1, Math.floor(size.batchTokens / size.seqLen));
  // Every method's model trains for the same number of steps (the budget plus the QA share, in batches): the
  // same compute, whatever its tokenizer makes of each method's text; a method with fewer tokens is repeated.
  const steps = Math.ceil(budget / (1 - size.qaShare) / (batchRows * size.seqLen));
  const rows: DemoRow[] = [];
  /** The kernels that ran, for the report: the trainer's answer once a model has trained. */
  let kernels: string = options.kernels ?? 'auto';

  // 2. Study: the real engine against the simulated reader, the same budget for every method. Every method
  // (not only those asked for) and before any training, because the tokenizer is trained on every method's
  // text: a run of some methods then gives the numbers a run of all would.
  const studies = new Map<DemoMethod, { dir: string; seconds: number; tokens: number; records: number }>();
  for (const [index, method] of DEMO_METHODS.entries()) {
    log(`demo study [${index + 1}/${DEMO_METHODS.length}] ${method} (budget ${budget} tokens)`);
    const t = Date.now();
    const studyDir = path.join(out, 'study', method);
    const study = await runStudy({
      corpus,
      out: studyDir,
      method,
      ...(method === 'repeat' ? {} : { generator: reader }),
      budgetTokens: budget,
      seed,
      concurrency: 8,
      ...(options.signal ? { signal: options.signal } : {}),
      log,
      ...(options.progressStream ? { progressStream: options.progressStream } : {}),
    });
    if (study.status !== 'complete') return interrupted(rows, settings, started, kernels);
    studies.set(method, {
      dir: studyDir,
      seconds: (Date.now() - t) / 1000,
      tokens: study.manifest.tokens[method] ?? 0,
      records: study.manifest.counts.records[method] ?? 0,
    });
  }

  // 3. One tokenizer and model config for every method's model.
  const modelDir = path.join(out, 'model-config');
  if (!existsSync(path.join(modelDir, 'tokenizer.json'))) {
    const docs = world.people.map((p) => renderDocument(p, world).text);
    const texts = await tokenizerTexts(
      [...docs, ...qaTexts],
      [...studies.values()].map((st) => st.dir),
    );
    const trained = trainByteLevelBpe(texts, { vocabSize: size.model.vocabSize });
    await writeTokenizerJson(modelDir, trained.tokenizerJson);
  }
  await writeFileAtomic(
    path.join(modelDir, 'config.json'),
    `${JSON.stringify(demoModelConfig(size), null, 2)}\n`,
  );

  for (const [index, method] of methods.entries()) {
    if (options.signal?.aborted) break;
    const stage = `[${index + 1}/${methods.length}] ${method}`;
    const {
      dir: studyDir,
      seconds: studySeconds,
      tokens: studyTokens,
      records: studyRecords,
    } = studies.get(method)!;

    // 4. Train a from-scratch model on the study data + the train people's QA examples.
    log(`demo ${stage}: train`);
    let t = Date.now();
    const modelOut = path.join(out, 'models', method);
    const trained = await trainWithEngine({
      data: studyDir,
      fromScratch: path.join(modelDir, 'config.json'),
      out: modelOut,
      replay: { file: qaTrainingFile, ratio: size.qaShare },
      seqLen: size.seqLen,
      batchTokens: size.batchTokens,
      lr: size.lr,
      steps,
      seed,
      snapshots: size.snapshots,
      kernels: options.kernels ?? 'auto',
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      ...(options.signal ? { signal: options.signal } : {}),
      log,
      ...(options.progressStream ? { progressStream: options.progressStream } : {}),
    });
    kernels = trained.kernels;
    if (trained.status !== 'complete') return interrupted(rows, settings, started, kernels);
    const trainSeconds = (Date.now() - t) / 1000;
    const trainTokens = trained.steps * batchRows * size.seqLen;

    // 5. Closed-book evaluation: held-out people (the measure), train people (for reference), and the
    // held-out accuracy of each intermediate snapshot for the accuracy-vs-tokens curve.
    log(`demo ${stage}: evaluate`);
    t = Date.now();
    const evalDir = path.join(out, 'eval', method);
    const evaluate = async (model: string, qaFile: string, dir: string) =>
      evaluateModel(model, qaFile, dir, { method, promptsDir, options, log });
    const heldout = await evaluate(modelOut, heldoutFile, path.join(evalDir, 'heldout'));
    const train = await evaluate(modelOut, trainQaFile, path.join(evalDir, 'train'));
    const curve: DemoPoint[] = [];
    for (const snapshot of await listSnapshots(modelOut)) {
      const metric = await evaluate(
        snapshot.dir,
        heldoutFile,
        path.join(evalDir, 'snapshots', path.basename(snapshot.dir)),
      );
      curve.push({ trainTokens: snapshot.tokens, heldout: metric });
    }
    curve.push({ trainTokens, heldout });
    rows.push({
      method,
      studyTokens,
      studyRecords,
      trainTokens,
      heldout,
      train,
      curve,
      seconds: { study: studySeconds, train: trainSeconds, eval: (Date.now() - t) / 1000 },
    });
    log(
      `demo ${stage}: held-out ${pct(heldout.value)} correct, train people ${pct(train.value)} (${trainTokens} tokens trained)`,
    );
  }
  const result: DemoResult = {
    status: rows.length === methods.length ? 'complete' : 'interrupted',
    rows,
    settings,
    seconds: (Date.now() - started) / 1000,
    kernels,
  };
  await writeFileAtomic(path.join(out, 'demo.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

/** One evaluation with the product's eval pipeline; returns the share correct with its interval. */
async function evaluateModel(
  model: string,
  qaFile: string,
  dir: string,
  context: {
    method: string;
    promptsDir: string;
    options: DemoOptions;
    log: (line: string) => void;
  },
): Promise<MetricWithCi> {
  const { options } = context;
  const generator = await openTextGenerator({
    model,
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.kernels ? { kernels: options.kernels } : {}),
    log: () => {}, // the kernels line was printed once by training
  });
  try {
    const result = await runEval({
      qaFile,
      out: dir,
      generator,
      model,
      label: context.method,
      grader: 'lexical',
      promptsDir: context.promptsDir,
      maxTokens: 16,
      concurrency: 1,
      ...(options.signal ? { signal: options.signal } : {}),
      log: context.log,
      ...(options.progressStream ? { progressStream: options.progressStream } : {}),
    });
    const metric = result.summary.metrics?.correct;
    if (result.status !== 'complete' || !metric) throw new Error(`evaluation in ${dir} did not complete`);
    return metric;
  } finally {
    await generator.close();
  }
}

async function listSnapshots(modelOut: string): Promise<Array<{ dir: string; tokens: number }>> {
  const root = path.join(modelOut, 'snapshots');
  if (!existsSync(root)) return [];
  const names = (await fs.readdir(root)).filter((n) => /^step-\d+$/.test(n)).sort();
  const snapshots: Array<{ dir: string; tokens: number }> = [];
  for (const name of names) {
    const info = JSON.parse(await fs.readFile(path.join(root, name, 'snapshot.json'), 'utf8')) as {
      tokens: number;
    };
    snapshots.push({ dir: path.join(root, name), tokens: info.tokens });
  }
  return snapshots;
}

/**
 * The output folder is this demo's: a new one, or one holding a demo of the same settings (then every stage
 * resumes). Anything else is refused rather than mixed.
 */
async function claimOutDir(out: string, settings: DemoSettings): Promise<void> {
  const file = path.join(out, 'demo-settings.json');
  const text = `${JSON.stringify(settings, null, 2)}\n`;
  if (existsSync(file)) {
    if ((await fs.readFile(file, 'utf8')) !== text) {
      throw new Error(
        `${out} holds a demo with other settings (size, seed or methods): use another --out, or delete it`,
      );
    }
    return;
  }
  if (existsSync(out) && (await fs.readdir(out)).length > 0) {
    throw new Error(`${out} exists and is not a demo output folder: use another --out`);
  }
  await fs.mkdir(out, { recursive: true });
  await writeFileAtomic(file, text);
}

function interrupted(rows: DemoRow[], settings: DemoSettings, started: number, kernels: string): DemoResult {
  return { status: 'interrupted', rows, settings, seconds: (Date.now() - started) / 1000, kernels };
}

function pct(x: number | null): string {
  return x === null ? '–' : `${(100 * x).toFixed(1)}%`;
}

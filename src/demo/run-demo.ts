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
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { trainByteLevelBpe, writeTokenizerJson } from '../engine/tokenizer/index.js';
import { writeQaJsonl } from '../eval/qa-sets/index.js';
import { writeFileAtomic } from '../runtime/atomic-file.js';
import { runStudy } from '../study/run-study.js';
import { renderDocument, writeWorldCorpus } from '../world/documents.js';
import { buildQaSet, guessingAccuracy, trainingQaText } from '../world/qa.js';
import { createSimulatedReader, SIMULATION_NOTICE } from '../world/simulated-reader.js';
import { buildWorld } from '../world/world.js';
import {
  DEMO_METHODS,
  type DemoMethod,
  type DemoResult,
  type DemoRow,
  type DemoSettings,
} from './demo-types.js';
import { demoModelConfig, type DemoSize } from './sizes.js';
import type { MethodJob } from './method-job.js';
import { runMethodJobs } from './run-method-jobs.js';
import { tokenizerTexts } from './tokenizer-texts.js';

export { DEMO_METHODS } from './demo-types.js';
export type { DemoMethod, DemoPoint, DemoResult, DemoRow, DemoSettings } from './demo-types.js';

export interface DemoOptions {
  out: string;
  size: DemoSize;
  seed?: number;
  methods?: readonly DemoMethod[];
  kernels?: 'auto' | 'ts' | 'native';
  threads?: number;
  /** Methods trained at once, each in a child process (default 1: one after the other, in this process). */
  parallel?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
  progressStream?: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean };
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
  const guessing = guessingAccuracy(qa);
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
    if (study.status !== 'complete') return interrupted(rows, settings, started, kernels, guessing);
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

  // 4-5. Per method: train a from-scratch model, then evaluate it (method-job.ts); in child processes side by
  // side when `parallel` > 1.
  const parallel = Math.max(1, Math.min(options.parallel ?? 1, methods.length));
  // Side by side, the cores are shared out among the methods.
  const threads =
    options.threads ??
    (parallel > 1 ? Math.max(1, Math.floor(availableParallelism() / parallel)) : undefined);
  const jobs: MethodJob[] = methods.map((method, index) => ({
    method,
    stage: `[${index + 1}/${methods.length}] ${method}`,
    size,
    seed,
    steps,
    kernels: options.kernels ?? 'auto',
    ...(threads === undefined ? {} : { threads }),
    files: {
      studyDir: studies.get(method)!.dir,
      modelConfig: path.join(modelDir, 'config.json'),
      modelOut: path.join(out, 'models', method),
      evalDir: path.join(out, 'eval', method),
      qaTraining: qaTrainingFile,
      heldout: heldoutFile,
      trainQa: trainQaFile,
      promptsDir,
    },
    study: studies.get(method)!,
  }));
  const outcomes = await runMethodJobs(jobs, {
    parallel,
    log,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.progressStream ? { progressStream: options.progressStream } : {}),
  });
  kernels = outcomes.find((o) => o.kernels)?.kernels ?? kernels;
  // Rows in method order, up to the first method that did not finish.
  for (const outcome of outcomes) {
    if (!outcome.row) break;
    rows.push(outcome.row);
  }
  const result: DemoResult = {
    status: rows.length === methods.length ? 'complete' : 'interrupted',
    rows,
    settings,
    seconds: (Date.now() - started) / 1000,
    kernels,
    guessing,
  };
  await writeFileAtomic(path.join(out, 'demo.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
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

function interrupted(
  rows: DemoRow[],
  settings: DemoSettings,
  started: number,
  kernels: string,
  guessing: number,
): DemoResult {
  return { status: 'interrupted', rows, settings, seconds: (Date.now() - started) / 1000, kernels, guessing };
}

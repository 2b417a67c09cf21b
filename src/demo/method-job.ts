/**
 * One method of the demo after its study: train a from-scratch model on the study data plus the train people's
 * QA examples, then evaluate it closed-book. A job is plain data, so it runs the same in this process or in a
 * child process (method-worker.ts) beside the other methods.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { MetricWithCi } from '../eval/metrics.js';
import { runEval } from '../eval/run-eval.js';
import { openTextGenerator } from '../models/open-generator.js';
import { trainWithEngine } from '../train/engine-trainer.js';
import type { DemoMethod, DemoPoint, DemoRow } from './demo-types.js';
import type { DemoSize } from './sizes.js';

export interface MethodJob {
  method: DemoMethod;
  /** "[2/4] paraphrase": how log lines name the job. */
  stage: string;
  size: DemoSize;
  seed: number;
  steps: number;
  kernels: 'auto' | 'ts' | 'native';
  threads?: number;
  files: {
    studyDir: string;
    modelConfig: string;
    modelOut: string;
    evalDir: string;
    qaTraining: string;
    heldout: string;
    trainQa: string;
    promptsDir: string;
  };
  study: { seconds: number; tokens: number; records: number };
}

export interface MethodIo {
  signal?: AbortSignal;
  log: (line: string) => void;
  progressStream?: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean };
}

export interface MethodOutcome {
  /** Absent when the job was interrupted (its checkpoints let the same command resume it). */
  row?: DemoRow;
  /** The kernels that ran ('native' or 'ts'), once training started. */
  kernels?: string;
}

export async function runMethodJob(job: MethodJob, io: MethodIo): Promise<MethodOutcome> {
  const { files, size, method } = job;
  const passIo = {
    ...(io.signal ? { signal: io.signal } : {}),
    log: io.log,
    ...(io.progressStream ? { progressStream: io.progressStream } : {}),
  };
  io.log(`demo ${job.stage}: train`);
  let t = Date.now();
  const trained = await trainWithEngine({
    data: files.studyDir,
    fromScratch: files.modelConfig,
    out: files.modelOut,
    replay: { file: files.qaTraining, ratio: size.qaShare },
    seqLen: size.seqLen,
    batchTokens: size.batchTokens,
    lr: size.lr,
    steps: job.steps,
    seed: job.seed,
    snapshots: size.snapshots,
    kernels: job.kernels,
    ...(job.threads === undefined ? {} : { threads: job.threads }),
    ...passIo,
  });
  if (trained.status !== 'complete') return { kernels: trained.kernels };
  const trainSeconds = (Date.now() - t) / 1000;
  const batchRows = Math.max(1, Math.floor(size.batchTokens / size.seqLen));
  const trainTokens = trained.steps * batchRows * size.seqLen;

  // Closed-book evaluation: held-out people (the measure), train people (for reference), and the held-out
  // accuracy of each intermediate snapshot for the accuracy-vs-tokens curve.
  io.log(`demo ${job.stage}: evaluate`);
  t = Date.now();
  const evaluate = (model: string, qaFile: string, dir: string) =>
    evaluateModel(model, qaFile, dir, job, passIo);
  const heldout = await evaluate(files.modelOut, files.heldout, path.join(files.evalDir, 'heldout'));
  const train = await evaluate(files.modelOut, files.trainQa, path.join(files.evalDir, 'train'));
  const curve: DemoPoint[] = [];
  for (const snapshot of await listSnapshots(files.modelOut)) {
    const metric = await evaluate(
      snapshot.dir,
      files.heldout,
      path.join(files.evalDir, 'snapshots', path.basename(snapshot.dir)),
    );
    curve.push({ trainTokens: snapshot.tokens, heldout: metric });
  }
  curve.push({ trainTokens, heldout });
  io.log(
    `demo ${job.stage}: held-out ${pct(heldout.value)} correct, train people ${pct(train.value)} (${trainTokens} tokens trained)`,
  );
  return {
    kernels: trained.kernels,
    row: {
      method,
      studyTokens: job.study.tokens,
      studyRecords: job.study.records,
      trainTokens,
      heldout,
      train,
      curve,
      seconds: { study: job.study.seconds, train: trainSeconds, eval: (Date.now() - t) / 1000 },
    },
  };
}

/** One evaluation with the product's eval pipeline; returns the share correct with its interval. */
async function evaluateModel(
  model: string,
  qaFile: string,
  dir: string,
  job: MethodJob,
  io: MethodIo,
): Promise<MetricWithCi> {
  const generator = await openTextGenerator({
    model,
    ...(job.threads === undefined ? {} : { threads: job.threads }),
    kernels: job.kernels,
    log: () => {}, // the kernels line was printed once by training
  });
  try {
    const result = await runEval({
      qaFile,
      out: dir,
      generator,
      model,
      label: job.method,
      grader: 'lexical',
      promptsDir: job.files.promptsDir,
      maxTokens: 16,
      concurrency: 1,
      ...io,
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

export function pct(x: number | null): string {
  return x === null ? '–' : `${(100 * x).toFixed(1)}%`;
}

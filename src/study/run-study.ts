import { setMaxListeners } from 'node:events';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Chunk } from '../corpus/types.js';
import { computeCheckpoints } from '../dataset/checkpoints.js';
import { recordKey, type RecordMethod, type StudyMethodName, type StudyRecord } from '../dataset/record.js';
import { StudyShardWriter } from '../dataset/shards.js';
import { tiktokenCounter } from '../models/tiktoken-counter.js';
import type { TextGenerator, TokenCounter } from '../models/types.js';
import { ResponseCache } from '../runtime/cache.js';
import { TokenLedger, type TokenPrices } from '../runtime/ledger.js';
import { LlmRuntime } from '../runtime/llm-runtime.js';
import { TaskPool } from '../runtime/pool.js';
import { RunLock } from '../runtime/run-lock.js';
import { Progress, fmt } from '../runtime/progress.js';
import { toolVersion } from '../runtime/tool-version.js';
import { ChunkTable } from './chunk-table.js';
import { ensureChunks } from './chunks-file.js';
import {
  describeDifferences,
  fingerprintOf,
  readManifest,
  writeManifest,
  type RunStatus,
  type StudyFingerprintFields,
  type StudyManifest,
} from './manifest.js';
import { METHOD_SPECS, type MethodContext, type StageOneEntry, type WorkUnit } from './methods.js';
import { hasWords, requestSeed } from './seeds.js';
import { StrategyStore } from './strategy-store.js';
import { FailurePolicy } from '../runtime/failure-policy.js';
import { loadTemplates } from './templates.js';

export interface StudyOptions {
  /** Folder or file of documents; optional when the run directory already holds chunks.jsonl. */
  corpus?: string;
  out: string;
  method: StudyMethodName;
  /** Required for every method but `repeat`. */
  generator?: TextGenerator;
  /** Base URL for the manifest (credentials stripped by the caller). */
  baseUrl?: string;
  task?: string;
  budgetTokens?: number;
  reps?: number;
  concurrency?: number;
  chunkTokens?: number;
  /** Tokenizer for chunking and the budget of `repeat` (default: cl100k_base). */
  chunkCounter?: TokenCounter;
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  minWords?: number;
  seed?: number;
  pairsPerRep?: number;
  promptsDir?: string;
  prices?: TokenPrices;
  /** `2`: re-run stage 2 only, from strategies.jsonl (the previous study/ is kept as study.prev-*). */
  stage?: 'all' | '2';
  shardRecords?: number;
  retry?: { maxAttempts?: number; timeoutMs?: number; baseDelayMs?: number; maxDelayMs?: number };
  /** Disables the response cache (it is on by default). */
  noCache?: boolean;
  /** Aborting stops scheduling, lets in-flight requests finish or abort, and leaves a resumable run. */
  signal?: AbortSignal;
  log?: (line: string) => void;
  progressStream?: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean };
}

export interface StudyResult {
  status: RunStatus;
  manifest: StudyManifest;
}

const DEFAULTS = {
  task: 'trivia',
  concurrency: 16,
  chunkTokens: 512,
  temperature: 0.7,
  maxTokens: 2048,
  minWords: 20,
  seed: 0,
  pairsPerRep: 8,
  shardRecords: 100_000,
};

/** A method's share of the run: its own budget and counters. */
interface Stream {
  method: RecordMethod;
  budget: number | undefined;
  doneTokens: number;
  doneRecords: number;
  unitsInFlight: number;
  plansInFlight: number;
  plansDone: number;
  unitsPlanned: number;
}

/**
 * `study`: chunks the corpus, then in rounds (rep 0 over every chunk, rep 1, ...) runs stage 1 and stage 2
 * (or a baseline) through a bounded pool, appending one record per generation. Everything is resumable:
 * records already in study/ are skipped, stage-1 outputs come from strategies.jsonl, and responses come
 * from the cache, so a restart after kill -9 makes no request twice and writes no duplicate.
 */
export async function runStudy(options: StudyOptions): Promise<StudyResult> {
  await fs.mkdir(path.resolve(options.out), { recursive: true });
  const lock = RunLock.acquire(path.resolve(options.out));
  try {
    return await runStudyLocked(options);
  } finally {
    lock.release();
  }
}

async function runStudyLocked(options: StudyOptions): Promise<StudyResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const settings = { ...DEFAULTS, ...stripUndefined(options) };
  const runDir = path.resolve(options.out);
  const subMethods: RecordMethod[] = options.method === 'all' ? ['paraphrase', 'qa', 'ar'] : [options.method];
  const needsModel = subMethods.some((m) => m !== 'repeat');
  if (needsModel && !options.generator) throw new Error(`--model is required for --method ${options.method}`);
  if (options.budgetTokens !== undefined && !(options.budgetTokens > 0))
    throw new Error('--budget-tokens must be > 0');
  if (options.reps !== undefined && !(Number.isInteger(options.reps) && options.reps > 0)) {
    throw new Error('--reps must be a positive integer');
  }

  if (settings.temperature === 0 && (options.reps ?? 1) > 1) {
    log('warning: --temperature 0 with --reps > 1: greedy decoding repeats the same strategies in every rep');
  }
  const templates = loadTemplates(options.promptsDir);
  const fields: StudyFingerprintFields = {
    method: options.method,
    model: needsModel ? modelIdentity(options.generator as TextGenerator) : 'none',
    task: settings.task,
    chunk_tokens: settings.chunkTokens,
    temperature: settings.temperature,
    top_p: options.topP ?? null,
    max_tokens: settings.maxTokens,
    min_words: settings.minWords,
    seed: settings.seed,
    pairs_per_rep: settings.pairsPerRep,
    templates: Object.fromEntries(Object.values(templates).map((t) => [t.name, t.version])),
  };
  const fingerprint = fingerprintOf(fields);

  const previous = await readManifest(runDir);
  if (previous && previous.fingerprint !== fingerprint) {
    const onlyTemplates = describeDifferences(previous.config, fields).every((d) =>
      d.startsWith('prompt templates'),
    );
    if (!(options.stage === '2' && onlyTemplates)) {
      throw new Error(
        `${runDir} was made with other settings (${describeDifferences(previous.config, fields).join('; ')}); ` +
          'use a new --out, or the original settings to resume',
      );
    }
  }

  const chunksInfo = await ensureChunks(runDir, {
    corpus: options.corpus,
    chunkTokens: settings.chunkTokens,
    counter: options.chunkCounter ?? tiktokenCounter(),
    log,
    previous: previous?.corpus,
  });
  if (chunksInfo.count === 0)
    throw new Error(`no chunks: the corpus ${options.corpus ?? ''} has no readable document`);

  const studyDir = path.join(runDir, 'study');
  if (options.stage === '2') {
    if (!previous) throw new Error(`--stage 2 needs an existing run in ${runDir} (strategies.jsonl)`);
    const backup = `${studyDir}.prev-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await fs.rename(studyDir, backup).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    log(`stage 2 only: previous records kept in ${path.basename(backup)}/`);
  }

  const chunkTable = await ChunkTable.open(chunksInfo.file);
  const shards = await StudyShardWriter.open(studyDir, settings.shardRecords);
  const strategies = await StrategyStore.open(path.join(runDir, 'strategies.jsonl'));
  const ledger = new TokenLedger(options.prices, previous?.ledger);
  const cache = options.noCache ? undefined : await ResponseCache.open(path.join(runDir, 'cache'));
  const stopController = new AbortController();
  const stopSignal = options.signal
    ? AbortSignal.any([options.signal, stopController.signal])
    : stopController.signal;
  setMaxListeners(0, stopSignal); // every request in flight listens to it
  const llm = new LlmRuntime(
    options.generator ?? nullGenerator,
    cache,
    ledger,
    { ...options.retry },
    stopSignal,
  );
  const ctx: MethodContext = {
    templates,
    task: settings.task,
    llm,
    sampling: { temperature: settings.temperature, topP: options.topP, maxTokens: settings.maxTokens },
    seed: settings.seed,
    pairsPerRep: settings.pairsPerRep,
  };

  const share = options.budgetTokens === undefined ? undefined : options.budgetTokens / subMethods.length;
  const streams: Stream[] = subMethods.map((method) => ({
    method,
    budget: share,
    doneTokens: shards.totals.get(method)?.completionTokens ?? 0,
    doneRecords: shards.totals.get(method)?.records ?? 0,
    unitsInFlight: 0,
    plansInFlight: 0,
    plansDone: 0,
    unitsPlanned: 0,
  }));
  const maxReps = options.reps ?? (options.budgetTokens === undefined ? 1 : Number.POSITIVE_INFINITY);
  const failures = new FailurePolicy(log);
  const counts = {
    stage_one_without_strategies: previous?.counts.stage_one_without_strategies ?? 0,
    short_outputs_dropped: 0,
  };

  const manifest: StudyManifest = {
    format: 'active-reading/study@1',
    tool: { name: 'active-reading', version: toolVersion(), node: process.version },
    created_at: previous?.created_at ?? new Date().toISOString(),
    updated_at: new Date().toISOString(),
    status: 'running',
    fingerprint,
    config: {
      ...fields,
      corpus: options.corpus ? path.resolve(options.corpus) : (previous?.config.corpus ?? null),
      base_url: options.baseUrl ?? null,
      budget_tokens: options.budgetTokens ?? null,
      reps: options.reps ?? null,
      concurrency: settings.concurrency,
      shard_records: settings.shardRecords,
      prices: options.prices
        ? {
            input_per_million: options.prices.inputPerMillion,
            output_per_million: options.prices.outputPerMillion,
          }
        : null,
    },
    corpus: chunksInfo.summary,
    counts: { records: {}, stage_one_entries: 0, ...counts, failed_generations: 0 },
    tokens: {},
    ledger: {},
    checkpoints: previous?.checkpoints ?? {},
  };
  const refreshManifest = (status: RunStatus) => {
    manifest.status = status;
    manifest.updated_at = new Date().toISOString();
    manifest.counts = {
      records: Object.fromEntries(streams.map((s) => [s.method, s.doneRecords])),
      stage_one_entries: strategies.size,
      ...counts,
      failed_generations: failures.failures,
    };
    manifest.tokens = Object.fromEntries(streams.map((s) => [s.method, s.doneTokens]));
    manifest.ledger = ledger.toJSON();
  };
  let manifestWrite: Promise<void> = Promise.resolve();
  const saveManifest = (status: RunStatus) => {
    refreshManifest(status);
    const snapshot = JSON.parse(JSON.stringify(manifest)) as StudyManifest;
    manifestWrite = manifestWrite.then(() => writeManifest(runDir, snapshot));
    return manifestWrite;
  };
  await saveManifest('running');
  const manifestTimer = setInterval(() => void saveManifest('running').catch(() => undefined), 5_000);
  manifestTimer.unref();

  const reportFailure = (error: unknown, where: string) => {
    if (stopSignal.aborted && (error as { code?: string }).code === 'ABORTED') return;
    if (failures.record(error, where)) stopController.abort();
  };
  const pool = new TaskPool(settings.concurrency, (error) => reportFailure(error, 'a task'));

  const budgetReached = (s: Stream) => {
    if (s.budget === undefined) return false;
    const avgTokens = s.doneRecords > 0 ? s.doneTokens / s.doneRecords : 0;
    const avgUnits = s.plansDone > 0 ? s.unitsPlanned / s.plansDone : 1;
    const expected = (s.unitsInFlight + s.plansInFlight * avgUnits) * avgTokens;
    return s.doneTokens + expected >= s.budget;
  };

  const runUnit = async (s: Stream, chunk: Chunk, rep: number, unit: WorkUnit): Promise<void> => {
    const metadata = {
      doc_id: chunk.doc_id,
      title: chunk.title,
      chunk_index: chunk.chunk_index,
      total_chunks: chunk.total_chunks,
      rep,
      strategy: unit.strategy,
      method: s.method,
    };
    let text: string | undefined;
    let stats = { prompt_tokens: 0, completion_tokens: 0 };
    if (unit.literal) {
      text = unit.literal.text;
      stats = { prompt_tokens: 0, completion_tokens: unit.literal.tokens };
    } else {
      for (let attempt = 0; attempt < 3 && text === undefined; attempt++) {
        const outcome = await llm.generate({
          method: s.method,
          templateVersion: unit.templateVersion,
          messages: unit.messages,
          temperature: settings.temperature,
          topP: options.topP,
          maxTokens: settings.maxTokens,
          seed: requestSeed(
            settings.seed,
            s.method,
            'gen',
            chunk.doc_id,
            chunk.chunk_index,
            rep,
            unit.strategy,
            attempt,
          ),
        });
        if (hasWords(outcome.text, settings.minWords)) {
          text = outcome.text;
          stats = { prompt_tokens: outcome.promptTokens, completion_tokens: outcome.completionTokens };
        }
      }
      if (text === undefined) {
        counts.short_outputs_dropped++;
        return;
      }
    }
    const record: StudyRecord = {
      request: { messages: unit.messages },
      response: { text },
      metadata,
      stats,
    };
    if (shards.append(record)) {
      s.doneRecords++;
      s.doneTokens += stats.completion_tokens;
      failures.successes++;
    }
  };

  // Units of finished plans wait here; the producer feeds them to the pool before planning more.
  const pending: Array<() => Promise<void>> = [];
  const unitTasks = (s: Stream, chunk: Chunk, rep: number, units: WorkUnit[]): Array<() => Promise<void>> =>
    units
      .filter(
        (unit) =>
          !shards.has(
            recordKey({
              method: s.method,
              doc_id: chunk.doc_id,
              chunk_index: chunk.chunk_index,
              rep,
              strategy: unit.strategy,
            }),
          ),
      )
      .map((unit) => async () => {
        if (stopSignal.aborted || budgetReached(s)) return;
        s.unitsInFlight++;
        try {
          await runUnit(s, chunk, rep, unit);
        } catch (error) {
          reportFailure(
            error,
            `${s.method} ${chunk.doc_id}#${chunk.chunk_index} rep ${rep} strategy ${unit.strategy}`,
          );
        } finally {
          s.unitsInFlight--;
        }
      });

  const planChunk = async (s: Stream, chunk: Chunk, rep: number): Promise<number> => {
    const spec = METHOD_SPECS[s.method];
    let entry: StageOneEntry | undefined;
    if (spec.stageOne) {
      const coords = { method: s.method, doc_id: chunk.doc_id, chunk_index: chunk.chunk_index, rep };
      entry = await strategies.get(coords);
      if (!entry) {
        if (options.stage === '2') return 0; // stage 2 only: no stage-1 output, nothing to apply
        s.plansInFlight++;
        try {
          entry = await spec.stageOne(chunk, rep, ctx);
        } catch (error) {
          reportFailure(error, `${s.method} stage 1 ${chunk.doc_id}#${chunk.chunk_index} rep ${rep}`);
          return 0;
        } finally {
          s.plansInFlight--;
        }
        if (entry.strategies.length === 0) counts.stage_one_without_strategies++;
        strategies.put(entry);
      }
    }
    const units = spec.units(chunk, rep, entry, ctx);
    s.plansDone++;
    s.unitsPlanned += units.length;
    // The planning task keeps its pool slot for the first unit (one hand-off fewer per chunk); the rest queue.
    const [first, ...rest] = unitTasks(s, chunk, rep, units);
    pending.push(...rest);
    await first?.();
    return units.length;
  };

  const progress = new Progress({
    label: `study ${options.method}`,
    unit: options.budgetTokens === undefined ? 'chunk-reps' : 'tokens',
    total:
      options.budgetTokens ??
      (Number.isFinite(maxReps) ? chunksInfo.count * maxReps * streams.length : undefined),
    stream: options.progressStream ?? process.stderr,
    detail: () => {
      const tokens = streams.reduce((n, s) => n + s.doneTokens, 0);
      return `| ${fmt(tokens)} tok | ${fmt(ledger.totalRequests)} req | ${llm.activeRequests} active`;
    },
  });
  let chunkRepsDone = 0;
  const flushPending = async () => {
    while (pending.length > 0 && !stopSignal.aborted)
      await pool.submit(pending.shift() as () => Promise<void>);
  };

  let status: RunStatus = 'complete';
  try {
    for (let rep = 0; rep < maxReps; rep++) {
      const active = streams.filter((s) => !budgetReached(s));
      if (active.length === 0 || stopSignal.aborted) break;
      let unitsThisRound = 0;
      // Each round visits the blocks of chunks in its own seeded order: a budget that ends mid-round has
      // then studied a sample spread over the whole corpus, not its first files.
      const chunksOfRound = function* () {
        for (const block of chunkTable.blockOrder(settings.seed, rep)) yield* chunkTable.readBlock(block);
      };
      for (const chunk of chunksOfRound()) {
        if (stopSignal.aborted) break;
        for (const s of active) {
          await flushPending();
          if (stopSignal.aborted || budgetReached(s)) continue;
          await pool.submit(async () => {
            unitsThisRound += await planChunk(s, chunk, rep);
            chunkRepsDone++;
          });
        }
        progress.update(
          options.budgetTokens === undefined ? chunkRepsDone : streams.reduce((n, s) => n + s.doneTokens, 0),
        );
      }
      do {
        await flushPending();
        await pool.drain();
      } while (pending.length > 0 && !stopSignal.aborted);
      progress.update(
        options.budgetTokens === undefined ? chunkRepsDone : streams.reduce((n, s) => n + s.doneTokens, 0),
      );
      if (unitsThisRound === 0) break; // nothing could be planned (e.g. no strategies anywhere): stop looping
    }
    await pool.drain();
    if (failures.fatal) throw failures.fatal;
    if (options.signal?.aborted) status = 'interrupted';
  } catch (error) {
    status = options.signal?.aborted && !failures.fatal ? 'interrupted' : 'failed';
    manifest.stop_reason = error instanceof Error ? error.message : String(error);
    if (status === 'failed') {
      await finish('failed');
      throw error;
    }
  }
  if (status === 'interrupted') manifest.stop_reason ??= 'interrupted by the user';
  await finish(status);
  return { status, manifest };

  async function finish(final: RunStatus): Promise<void> {
    clearInterval(manifestTimer);
    progress.finish();
    cache?.close();
    shards.close();
    strategies.close();
    chunkTable.close();
    manifest.checkpoints = await computeCheckpoints(
      studyDir,
      new Map(streams.map((s) => [s.method, s.budget])),
    );
    await saveManifest(final);
  }
}

function modelIdentity(generator: TextGenerator): string {
  return generator.cacheIdentity ?? generator.id;
}

const nullGenerator: TextGenerator = {
  id: 'none',
  generate: () => Promise.reject(new Error('no model configured')),
  countTokens: () => Promise.resolve(0),
  close: () => Promise.resolve(),
};

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

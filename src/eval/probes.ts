/**
 * `qa --from-corpus`: probe questions for users without a benchmark. For every chunk of a corpus an LLM
 * writes a few question/answer pairs (prompts/qa-probes.txt: one fact each, a short answer, self-contained
 * questions), parsed strictly (probe-parse.ts); each kept pair becomes a QA item linked to its doc_id and
 * chunk_index, so gold-context evaluation and per-document breakdowns work on it.
 *
 * Resumable through the shared runtime, in `OUT.work/`: the response cache, a log of one line per chunk
 * (its reply, pairs and problems, unusable replies included, so they are not asked again), the settings
 * the log was made with, and a run lock. The QA file itself is rewritten from the log, in corpus order,
 * at the end of every run.
 */
import { setMaxListeners } from 'node:events';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Chunk } from '../corpus/types.js';
import type { TextGenerator } from '../models/types.js';
import { writeFileAtomic } from '../runtime/atomic-file.js';
import { ResponseCache } from '../runtime/cache.js';
import { TokenLedger } from '../runtime/ledger.js';
import { LlmRuntime } from '../runtime/llm-runtime.js';
import { TaskPool } from '../runtime/pool.js';
import { Progress } from '../runtime/progress.js';
import type { RetryOptions } from '../runtime/retry.js';
import { RunLock } from '../runtime/run-lock.js';
import { FailurePolicy } from '../runtime/failure-policy.js';
import { forEachChunk } from './chunk-source.js';
import { normalizeAnswer } from './graders/normalize.js';
import { parseProbeReply, type ProbePair } from './probe-parse.js';
import { loadEvalTemplate, renderEvalTemplate } from './prompts.js';
import type { QaItem } from './qa-sets/types.js';
import { writeQaJsonl } from './qa-sets/write.js';
import { openRecordLog } from './records.js';
import { settingsDifferences } from './summary-file.js';

export interface ProbeOptions {
  /** A corpus (file or folder) or a study run directory (its chunks.jsonl). */
  source: string;
  /** The QA JSONL file to write. */
  out: string;
  generator: TextGenerator;
  /** Pairs asked for per chunk (default 3). */
  perChunk?: number;
  chunkTokens?: number;
  /** Only the first N chunks. */
  limit?: number;
  concurrency?: number;
  temperature?: number;
  maxTokens?: number;
  promptsDir?: string;
  retry?: Pick<RetryOptions, 'maxAttempts' | 'timeoutMs' | 'baseDelayMs' | 'maxDelayMs'>;
  noCache?: boolean;
  signal?: AbortSignal;
  log?: (line: string) => void;
  progressStream?: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean };
}

export interface ProbeResult {
  status: 'complete' | 'incomplete' | 'interrupted';
  /** Questions written to `out`. */
  items: number;
  chunks: number;
  /** Chunks whose reply was unusable as a whole (not a JSON array). */
  unusable: number;
  /** Pairs dropped by a rule (including repeats across chunks). */
  skippedPairs: number;
  /** Chunks whose request failed this run (a new run retries them). */
  failed: number;
  workDir: string;
}

/** One line of the work log per chunk. */
interface ChunkProbes {
  id: string;
  doc_id: string;
  chunk_index: number;
  title: string;
  raw: string;
  pairs: ProbePair[];
  problems: string[];
  error?: string;
}

const DEFAULTS = { perChunk: 3, concurrency: 16, temperature: 0, maxTokens: 1024 };

export function probeWorkDir(out: string): string {
  return `${path.resolve(out)}.work`;
}

export async function generateProbes(options: ProbeOptions): Promise<ProbeResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // Read first: a wrong corpus path fails before anything is written.
  const chunks: Chunk[] = [];
  await forEachChunk(
    options.source,
    (chunk) => {
      if (options.limit === undefined || chunks.length < options.limit) chunks.push(chunk);
    },
    { chunkTokens: options.chunkTokens, log },
  );
  if (chunks.length === 0) throw new Error(`${options.source}: no readable document`);
  const work = probeWorkDir(options.out);
  await fs.mkdir(work, { recursive: true });
  const lock = RunLock.acquire(work);
  try {
    return await generateLocked(options, chunks, work, log);
  } finally {
    lock.release();
  }
}

async function generateLocked(
  options: ProbeOptions,
  chunks: readonly Chunk[],
  work: string,
  log: (line: string) => void,
): Promise<ProbeResult> {
  const perChunk = options.perChunk ?? DEFAULTS.perChunk;
  const temperature = options.temperature ?? DEFAULTS.temperature;
  const maxTokens = options.maxTokens ?? DEFAULTS.maxTokens;
  const template = loadEvalTemplate('qa-probes', options.promptsDir);

  const settings = {
    model: options.generator.cacheIdentity ?? options.generator.id,
    template: template.version,
    per_chunk: perChunk,
    temperature,
    max_tokens: maxTokens,
    chunk_tokens: options.chunkTokens ?? 512,
  };
  const settingsFile = path.join(work, 'settings.json');
  const before = await fs.readFile(settingsFile, 'utf8').then(
    (t) => JSON.parse(t) as typeof settings,
    () => undefined,
  );
  if (before && settingsDifferences(before, settings).length > 0) {
    throw new Error(
      `${work} holds probes made with other settings (${settingsDifferences(before, settings).join('; ')}); ` +
        'use another --out, or delete that folder to start over',
    );
  }
  await writeFileAtomic(settingsFile, `${JSON.stringify(settings, null, 2)}\n`);

  const done = await openRecordLog<ChunkProbes>(path.join(work, 'generations.jsonl'));
  const cache = options.noCache ? undefined : await ResponseCache.open(path.join(work, 'cache'));
  const stopController = new AbortController();
  const stopSignal = options.signal
    ? AbortSignal.any([options.signal, stopController.signal])
    : stopController.signal;
  setMaxListeners(0, stopSignal);
  const llm = new LlmRuntime(options.generator, cache, new TokenLedger(), { ...options.retry }, stopSignal);
  const failures = new FailurePolicy(log);
  let failed = 0;
  const pool = new TaskPool(options.concurrency ?? DEFAULTS.concurrency, (error) => {
    failures.fatal ??= error instanceof Error ? error : new Error(String(error));
    stopController.abort();
  });
  const keyOf = (c: Chunk) => `${c.doc_id}#${c.chunk_index}`;
  const progress = new Progress({
    label: 'qa probes',
    unit: 'chunks',
    total: chunks.length,
    stream: options.progressStream ?? process.stderr,
  });
  let finished = chunks.filter((c) => done.records.has(keyOf(c))).length;
  progress.update(finished);

  try {
    for (const chunk of chunks) {
      if (stopSignal.aborted) break;
      if (done.records.has(keyOf(chunk))) continue;
      await pool.submit(async () => {
        if (stopSignal.aborted) return;
        let raw: string;
        try {
          const outcome = await llm.generate({
            method: 'probes',
            templateVersion: template.version,
            messages: renderEvalTemplate(template, { document: chunk.text, count: String(perChunk) }),
            temperature,
            maxTokens,
          });
          raw = outcome.text;
        } catch (error) {
          if (stopSignal.aborted && (error as { code?: string }).code === 'ABORTED') return;
          failed++;
          if (failures.record(error, `chunk ${keyOf(chunk)}`)) stopController.abort();
          return;
        }
        const parsed = parseProbeReply(raw, { max: perChunk });
        const record: ChunkProbes = {
          id: keyOf(chunk),
          doc_id: chunk.doc_id,
          chunk_index: chunk.chunk_index,
          title: chunk.title,
          raw,
          pairs: 'pairs' in parsed ? parsed.pairs : [],
          problems: 'pairs' in parsed ? parsed.problems : [],
          ...('error' in parsed ? { error: parsed.error } : {}),
        };
        done.log.append(record);
        done.records.set(record.id, record);
        failures.successes++;
        progress.update(++finished);
      });
    }
    await pool.drain();
  } finally {
    progress.finish();
    done.log.close();
    cache?.close();
  }
  if (failures.fatal) throw failures.fatal;

  // The QA file, in corpus order, from everything in the log; repeats across chunks are dropped.
  const items: QaItem[] = [];
  const seen = new Set<string>();
  let unusable = 0;
  let skippedPairs = 0;
  const problems: string[] = [];
  for (const chunk of chunks) {
    const record = done.records.get(keyOf(chunk));
    if (!record) continue;
    if (record.error) {
      unusable++;
      problems.push(`${record.id}: unusable reply: ${record.error}`);
    }
    for (const p of record.problems) problems.push(`${record.id}: ${p}`);
    skippedPairs += record.problems.length;
    record.pairs.forEach((pair, k) => {
      const key = normalizeAnswer(pair.question);
      if (seen.has(key)) {
        skippedPairs++;
        problems.push(`${record.id}: pair ${k + 1}: the same question was already asked about another chunk`);
        return;
      }
      seen.add(key);
      items.push({
        id: `probe-${record.doc_id}-${record.chunk_index}-${k + 1}`,
        question: pair.question,
        answer: pair.answer,
        doc_id: record.doc_id,
        chunk_index: record.chunk_index,
        ...(record.title ? { title: record.title } : {}),
        source: 'probe',
      });
    });
  }
  for (const p of problems.slice(0, 50)) log(`skipped ${p}`);
  if (problems.length > 50)
    log(`... and ${problems.length - 50} more (see ${path.join(work, 'generations.jsonl')})`);
  if (items.length > 0) await writeQaJsonl(options.out, items);
  else log(`no usable question was generated: ${options.out} not written`);
  return {
    status: options.signal?.aborted ? 'interrupted' : failed > 0 ? 'incomplete' : 'complete',
    items: items.length,
    chunks: chunks.length,
    unusable,
    skippedPairs,
    failed,
    workDir: work,
  };
}

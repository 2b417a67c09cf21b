/**
 * Everything an evaluation decides before it writes anything: the QA items (bad rows reported), the
 * prompt templates, the gold contexts, and the settings and configuration recorded in summary.json. A
 * mistake (a missing QA file or corpus, no item with a context) fails here, before OUT is created.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { TextGenerator } from '../models/types.js';
import type { RetryOptions } from '../runtime/retry.js';
import { DEFAULT_CONTEXT_TOKENS, loadGoldContexts, type ContextLookup } from './gold-context.js';
import { loadJudgeTemplate, type JudgeTemplate } from './graders/simpleqa-judge.js';
import { loadEvalTemplate, type EvalTemplate } from './prompts.js';
import { loadQaSet, type LoadedQaSet } from './qa-sets/load.js';
import type { QaItem } from './qa-sets/types.js';
import type { AnswerMode, GraderName } from './records.js';
import { checkStudyDir } from './study-diagnostics.js';
import type { AnswerSettings, EvalConfig, GradeSettings } from './summary-file.js';

export type RetrySettings = Pick<RetryOptions, 'maxAttempts' | 'timeoutMs' | 'baseDelayMs' | 'maxDelayMs'>;

export interface JudgeOptions {
  generator: TextGenerator;
  /** As the user named it (a served name or a path); never a key. */
  model: string;
  /** Without credentials. */
  baseUrl?: string;
  /** Default 64. */
  maxTokens?: number;
  /** Judge requests in flight (default 16). */
  concurrency?: number;
  retry?: RetrySettings;
}

export interface EvalOptions {
  qaFile: string;
  out: string;
  generator: TextGenerator;
  /** As the user named it (a served name or a path); never a key. */
  model: string;
  /** Without credentials. */
  baseUrl?: string;
  mode?: AnswerMode;
  /** Default: simpleqa when a judge is given, lexical otherwise. */
  grader?: GraderName;
  judge?: JudgeOptions;
  /** Gold-context mode: a study run directory or a corpus (default: `studyDir`). */
  corpus?: string;
  /** A study run directory: diagnostics of its data against the QA set. */
  studyDir?: string;
  chunkTokens?: number;
  contextTokens?: number;
  /** The method name shown by `compare` (default: derived from the model). */
  label?: string;
  concurrency?: number;
  limit?: number;
  temperature?: number;
  maxTokens?: number;
  promptsDir?: string;
  retry?: RetrySettings;
  noCache?: boolean;
  signal?: AbortSignal;
  log?: (line: string) => void;
  progressStream?: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean };
}

export interface EvalPlan {
  qa: LoadedQaSet;
  /** The items evaluated (after --limit), and those of them that have what they need to be asked. */
  items: QaItem[];
  active: QaItem[];
  /** Gold-context items without a context, with the reason. */
  missing: Array<{ id: string; reason: string }>;
  contexts: Map<string, ContextLookup>;
  answerTemplate: EvalTemplate;
  judgeTemplate: JudgeTemplate | undefined;
  settings: { answers: AnswerSettings; grades: GradeSettings };
  config: EvalConfig;
}

const DEFAULTS = { concurrency: 16, judgeConcurrency: 16, temperature: 0, maxTokens: 64, judgeMaxTokens: 64 };

/** "ckpt/ar" -> "ar", "models/llama-8b.Q4_K_M.gguf" -> "llama-8b.Q4_K_M", "meta-llama/Llama-3.1-8B" -> "Llama-3.1-8B". */
export function defaultLabel(model: string): string {
  const base =
    model
      .replace(/[/\\]+$/, '')
      .split(/[/\\]/)
      .pop() ?? model;
  return base.replace(/\.gguf$/i, '') || model;
}

export async function planEval(options: EvalOptions, log: (line: string) => void): Promise<EvalPlan> {
  const mode = options.mode ?? 'closed-book';
  const grader = options.grader ?? (options.judge ? 'simpleqa' : 'lexical');
  if (grader === 'simpleqa' && !options.judge)
    throw new Error('--grader simpleqa needs a judge (--judge-model)');
  const judge = grader === 'simpleqa' ? options.judge : undefined;

  // Bad rows are reported with their line, never dropped silently.
  const qa = await loadQaSet(options.qaFile);
  for (const p of qa.problems.slice(0, 20)) log(`skipped ${options.qaFile}:${p.line}: ${p.message}`);
  if (qa.problems.length > 20) log(`... and ${qa.problems.length - 20} more skipped rows`);
  if (qa.items.length === 0) throw new Error(`${options.qaFile}: no usable question`);
  const items = options.limit === undefined ? qa.items : qa.items.slice(0, options.limit);
  const qaSha256 = createHash('sha256')
    .update(await fs.readFile(options.qaFile))
    .digest('hex');

  if (options.studyDir) await checkStudyDir(options.studyDir);
  const answerTemplate = loadEvalTemplate(
    mode === 'gold-context' ? 'answer-gold-context' : 'answer-closed-book',
    options.promptsDir,
  );
  const judgeTemplate = judge ? loadJudgeTemplate(options.promptsDir) : undefined;

  const contextSource = options.corpus ?? options.studyDir;
  const contextTokens = options.contextTokens ?? DEFAULT_CONTEXT_TOKENS;
  let contexts = new Map<string, ContextLookup>();
  if (mode === 'gold-context') {
    if (!contextSource) throw new Error('--mode gold-context needs --corpus PATH (or --study RUN_DIR)');
    contexts = await loadGoldContexts(items, contextSource, {
      chunkTokens: options.chunkTokens,
      contextTokens,
      log,
    });
  }
  const missing = items.flatMap((item) => {
    const c = contexts.get(item.id);
    return c && 'missing' in c ? [{ id: item.id, reason: c.missing }] : [];
  });
  for (const m of missing.slice(0, 10)) log(`no gold context for ${m.id}: ${m.reason}`);
  if (missing.length > 10) log(`... ${missing.length} items in all have no gold context (see summary.json)`);
  if (missing.length === items.length) {
    throw new Error(
      `no item has a gold context in ${contextSource ?? ''}: check --corpus and the items' doc_id`,
    );
  }
  const missingIds = new Set(missing.map((m) => m.id));

  const temperature = options.temperature ?? DEFAULTS.temperature;
  const maxTokens = options.maxTokens ?? DEFAULTS.maxTokens;
  const judgeMaxTokens = judge?.maxTokens ?? DEFAULTS.judgeMaxTokens;
  const label = options.label ?? defaultLabel(options.model);
  const identity = (g: TextGenerator) => g.cacheIdentity ?? g.id;
  const settings = {
    answers: {
      qa_sha256: qaSha256,
      model: identity(options.generator),
      mode,
      template: answerTemplate.version,
      temperature,
      max_tokens: maxTokens,
      context_tokens: mode === 'gold-context' ? contextTokens : null,
    },
    grades: {
      grader,
      judge: judge ? identity(judge.generator) : null,
      template: judgeTemplate?.version ?? null,
      max_tokens: judge ? judgeMaxTokens : null,
    },
  };
  const config: EvalConfig = {
    label,
    model: options.model,
    model_id: options.generator.id,
    base_url: options.baseUrl ?? null,
    mode,
    grader,
    judge_model: judge?.model ?? null,
    judge_model_id: judge?.generator.id ?? null,
    judge_base_url: judge?.baseUrl ?? null,
    qa_file: path.resolve(options.qaFile),
    qa_sha256: qaSha256,
    qa_format: qa.format,
    limit: options.limit ?? null,
    corpus: mode === 'gold-context' && contextSource ? path.resolve(contextSource) : null,
    study: options.studyDir ? path.resolve(options.studyDir) : null,
    temperature,
    max_tokens: maxTokens,
    context_tokens: settings.answers.context_tokens,
    concurrency: options.concurrency ?? DEFAULTS.concurrency,
    judge_concurrency: judge ? (judge.concurrency ?? DEFAULTS.judgeConcurrency) : null,
    templates: { answer: answerTemplate.version, judge: judgeTemplate?.version ?? null },
  };
  return {
    qa,
    items,
    active: items.filter((item) => !missingIds.has(item.id)),
    missing,
    contexts,
    answerTemplate,
    judgeTemplate,
    settings,
    config,
  };
}

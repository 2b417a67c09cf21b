/**
 * `eval`: asks a model every question of a QA set (closed-book, or with the gold context), grades each
 * answer (lexical, or the SimpleQA judge), and writes OUT/answers.jsonl, grades.jsonl, summary.json and
 * report.html.
 *
 * Everything goes through the shared runtime: bounded pools, LlmRuntime (cache in OUT/cache, retries,
 * ledger), append-only logs that survive kill -9, and a run lock. A restarted run skips the ids already
 * answered and graded, and gets every response that reached the cache from there, so only requests in
 * flight at a crash are asked twice. Aborting the signal stops scheduling and leaves a resumable run.
 */
import { setMaxListeners } from 'node:events';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ResponseCache } from '../runtime/cache.js';
import { TokenLedger } from '../runtime/ledger.js';
import { LlmRuntime } from '../runtime/llm-runtime.js';
import { TaskPool } from '../runtime/pool.js';
import { Progress, fmt } from '../runtime/progress.js';
import { RunLock } from '../runtime/run-lock.js';
import { FailurePolicy } from '../runtime/failure-policy.js';
import { toolVersion } from '../runtime/tool-version.js';
import { answerItem } from './answer.js';
import { planEval, type EvalOptions, type EvalPlan } from './eval-plan.js';
import { writeEvalReport } from './eval-report.js';
import { gradeLexically, gradeWithJudge, type Judge } from './grade.js';
import { summarize, type GradedItem } from './metrics.js';
import type { QaItem } from './qa-sets/types.js';
import { openRecordLog, type AnswerRecord, type GradeRecord } from './records.js';
import { diagnoseStudy } from './study-diagnostics.js';
import {
  readSummary,
  settingsDifferences,
  SUMMARY_FORMAT,
  writeSummary,
  type EvalStatus,
  type EvalSummaryFile,
} from './summary-file.js';

export { defaultLabel, type EvalOptions, type JudgeOptions } from './eval-plan.js';

export interface EvalResult {
  status: EvalStatus;
  summary: EvalSummaryFile;
}

export async function runEval(options: EvalOptions): Promise<EvalResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const plan = await planEval(options, log);
  const out = path.resolve(options.out);
  await fs.mkdir(out, { recursive: true });
  const lock = RunLock.acquire(out);
  try {
    return await execute(plan, options, out, log);
  } finally {
    lock.release();
  }
}

async function execute(
  plan: EvalPlan,
  options: EvalOptions,
  out: string,
  log: (line: string) => void,
): Promise<EvalResult> {
  const { config, settings, active, contexts } = plan;
  const answersFile = path.join(out, 'answers.jsonl');
  const gradesFile = path.join(out, 'grades.jsonl');
  const previous = await readSummary(out);
  if (previous) {
    const answerDiff = settingsDifferences(previous.settings.answers, settings.answers);
    if (answerDiff.length > 0 && (await nonEmpty(answersFile))) {
      throw new Error(
        `${out} holds answers made with other settings (${answerDiff.join('; ')}); ` +
          'use a new --out, or the original settings to resume',
      );
    }
    const gradeDiff = settingsDifferences(previous.settings.grades, settings.grades);
    if (gradeDiff.length > 0 && (await nonEmpty(gradesFile))) {
      const kept = path.join(out, `grades.prev-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
      await fs.rename(gradesFile, kept);
      log(
        `grading changed: the answers are graded again; the previous grades are kept in ${path.basename(kept)}`,
      );
    }
  }

  const answers = await openRecordLog<AnswerRecord>(answersFile);
  const grades = await openRecordLog<GradeRecord>(gradesFile);
  const cache = options.noCache ? undefined : await ResponseCache.open(path.join(out, 'cache'));
  const ledger = new TokenLedger(undefined, previous?.ledger);
  const stopController = new AbortController();
  const stopSignal = options.signal
    ? AbortSignal.any([options.signal, stopController.signal])
    : stopController.signal;
  setMaxListeners(0, stopSignal); // every request in flight listens to it
  const llm = new LlmRuntime(options.generator, cache, ledger, { ...options.retry }, stopSignal);
  const judge: Judge | undefined =
    options.judge && plan.judgeTemplate
      ? {
          llm: new LlmRuntime(options.judge.generator, cache, ledger, { ...options.judge.retry }, stopSignal),
          template: plan.judgeTemplate,
          model: options.judge.model,
          maxTokens: settings.grades.max_tokens ?? 64,
        }
      : undefined;

  const now = new Date().toISOString();
  const summary: EvalSummaryFile = {
    format: SUMMARY_FORMAT,
    tool: { name: 'active-reading', version: toolVersion(), node: process.version },
    label: config.label,
    status: 'running',
    created_at: previous?.created_at ?? now,
    updated_at: now,
    config,
    settings,
    counts: {
      qa_items: plan.qa.items.length,
      qa_problems: plan.qa.problems.length,
      items: plan.items.length,
      missing_context: plan.missing.length,
      answered: 0,
      graded: 0,
      failed: 0,
      unparsed: 0,
      empty_answers: 0,
    },
    missing_context: plan.missing.slice(0, 100),
    metrics: null,
    ledger: ledger.toJSON(),
  };
  await writeSummary(out, summary);

  const failures = new FailurePolicy(log);
  const failedIds = new Set<string>();
  let contextHinted = false;
  const reportFailure = (error: unknown, id: string, what: string) => {
    const code = (error as { code?: string }).code;
    if (stopSignal.aborted && code === 'ABORTED') return;
    failedIds.add(id);
    if (code === 'CONTEXT_LENGTH_EXCEEDED' && !contextHinted) {
      contextHinted = true; // small models (e.g. trained from scratch) may not fit the few-shot prompt
      log(
        config.mode === 'closed-book'
          ? 'hint: the closed-book prompt does not fit this model: give a shorter one with --prompts DIR (DIR/answer-closed-book.txt, see prompts/README.md)'
          : 'hint: lower --context-tokens, or give a shorter prompt with --prompts DIR (DIR/answer-gold-context.txt)',
      );
    }
    if (failures.record(error, `${what} ${id}`)) stopController.abort();
  };
  // Tasks catch their request errors; anything else (a failed write) stops the run.
  const onTaskError = (error: unknown) => {
    failures.fatal ??= error instanceof Error ? error : new Error(String(error));
    stopController.abort();
  };
  // Two pools: an embedded model answering one at a time must not hold back a remote judge, or the reverse.
  const answerPool = new TaskPool(config.concurrency, onTaskError);
  const judgePool = new TaskPool(config.judge_concurrency ?? 1, onTaskError);

  const isGraded = (item: QaItem) => grades.records.has(item.id);
  let graded = active.filter(isGraded).length;
  const progress = new Progress({
    label: `eval ${config.label}`,
    unit: 'items',
    total: active.length,
    stream: options.progressStream ?? process.stderr,
    detail: () =>
      `| ${fmt(ledger.totalRequests)} req | ${llm.activeRequests + (judge?.llm.activeRequests ?? 0)} active`,
  });
  progress.update(graded);

  const saveGrade = (record: GradeRecord) => {
    grades.log.append(record);
    grades.records.set(record.id, record);
    failures.successes++;
    progress.update(++graded);
  };
  const gradeStep = async (answer: AnswerRecord): Promise<void> => {
    if (!judge) {
      saveGrade(gradeLexically(answer));
      return;
    }
    await judgePool.submit(async () => {
      if (stopSignal.aborted) return;
      try {
        saveGrade(await gradeWithJudge(judge, answer));
      } catch (error) {
        reportFailure(error, answer.id, 'grading');
      }
    });
  };

  let status: EvalStatus = 'complete';
  try {
    for (const item of active) {
      if (stopSignal.aborted) break;
      if (isGraded(item)) continue;
      const answered = answers.records.get(item.id);
      if (answered) {
        await gradeStep(answered);
        continue;
      }
      await answerPool.submit(async () => {
        if (stopSignal.aborted) return;
        let record: AnswerRecord;
        try {
          const lookup = contexts.get(item.id);
          record = await answerItem(llm, item, lookup && 'context' in lookup ? lookup.context : undefined, {
            mode: config.mode,
            template: plan.answerTemplate,
            temperature: config.temperature,
            maxTokens: config.max_tokens,
            model: options.model,
          });
        } catch (error) {
          reportFailure(error, item.id, 'answering');
          return;
        }
        answers.log.append(record);
        answers.records.set(record.id, record);
        await gradeStep(record);
      });
    }
    await answerPool.drain();
    await judgePool.drain();
    if (failures.fatal) throw failures.fatal;
    if (options.signal?.aborted) status = 'interrupted';
    else if (failedIds.size > 0) status = 'incomplete';
  } catch (error) {
    status = options.signal?.aborted && !failures.fatal ? 'interrupted' : 'failed';
    summary.stop_reason = error instanceof Error ? error.message : String(error);
    if (status === 'failed') {
      await finish();
      throw error;
    }
  }
  if (status === 'interrupted') summary.stop_reason ??= 'interrupted by the user';
  if (status === 'incomplete') {
    summary.stop_reason = `${failedIds.size} items failed (see the messages above); run the same command again to retry them`;
  }
  await finish();
  return { status, summary };

  async function finish(): Promise<void> {
    progress.finish();
    answers.log.close();
    grades.log.close();
    cache?.close();
    const gradedItems: GradedItem[] = [];
    let unparsed = 0;
    let empty = 0;
    for (const item of active) {
      const grade = grades.records.get(item.id);
      if (!grade) continue;
      if (grade.verdict === 'unparsed') unparsed++;
      if (answers.records.get(item.id)?.answer === '') empty++;
      const lookup = contexts.get(item.id);
      const doc = lookup && 'context' in lookup ? lookup.context.doc_id : item.doc_id;
      gradedItems.push({ verdict: grade.verdict, ...(doc === undefined ? {} : { doc_id: doc }) });
    }
    summary.status = status;
    summary.updated_at = new Date().toISOString();
    summary.counts = {
      ...summary.counts,
      answered: active.filter((item) => answers.records.has(item.id)).length,
      graded: gradedItems.length,
      failed: failedIds.size,
      unparsed,
      empty_answers: empty,
    };
    summary.metrics = gradedItems.length > 0 ? summarize(gradedItems) : null;
    summary.ledger = ledger.toJSON();
    if (options.studyDir && (status === 'complete' || status === 'incomplete')) {
      summary.diagnostics = await diagnoseStudy(options.studyDir, plan.items);
    }
    await writeSummary(out, summary);
    if (status !== 'failed') {
      await writeEvalReport(path.join(out, 'report.html'), summary, {
        answers: active.flatMap((item) => {
          const a = answers.records.get(item.id);
          return a ? [a] : [];
        }),
        grades: grades.records,
      });
    }
  }
}

async function nonEmpty(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).size > 0;
  } catch {
    return false;
  }
}

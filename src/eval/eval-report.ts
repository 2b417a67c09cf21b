/** OUT/report.html of one evaluation: results with intervals, a chart, breakdowns, diagnostics, metadata. */
import { writeReport, type BarGroup, type Cell, type Report, type Section } from '../report/index.js';
import type { Verdict } from './graders/verdict.js';
import { metricCell, resultColumns, resultRow } from './result-table.js';
import type { AnswerRecord, GradeRecord } from './records.js';
import type { EvalSummaryFile } from './summary-file.js';

export interface EvalReportData {
  /** Answers of the evaluated items, in QA-set order. */
  answers: readonly AnswerRecord[];
  grades: ReadonlyMap<string, GradeRecord>;
}

const MAX_DOC_ROWS = 100;
const SAMPLES_PER_VERDICT = 8;

const VERDICT_LABEL: Record<Verdict, string> = {
  correct: 'Correct',
  incorrect: 'Incorrect',
  not_attempted: 'Not attempted',
  unparsed: 'Unparsed',
};

export function buildEvalReport(summary: EvalSummaryFile, data: EvalReportData): Report {
  const m = summary.metrics;
  const c = summary.counts;
  const sections: Section[] = [];
  const unparsed = (m?.counts.unparsed ?? 0) > 0;
  sections.push({
    kind: 'table',
    title: 'Results',
    columns: resultColumns({ unparsed, best: false }),
    rows: [resultRow(summary)],
    note:
      'Rates are over all graded items with 95% bootstrap intervals; accuracy given attempted = correct / ' +
      '(correct + incorrect); F is their harmonic mean with % correct (SimpleQA).' +
      (summary.config.grader === 'lexical'
        ? ' Lexical grader: normalised string matching, an approximation of the SimpleQA judge.'
        : ''),
  });
  if (m) {
    const verdicts: Verdict[] = [
      'correct',
      'incorrect',
      'not_attempted',
      ...(unparsed ? ['unparsed' as const] : []),
    ];
    const groups: BarGroup[] = verdicts.map((v) => ({
      label: VERDICT_LABEL[v],
      bars: [
        {
          series: summary.label,
          value: m[v].value ?? NaN,
          ...(m[v].low === null ? {} : { low: m[v].low }),
          ...(m[v].high === null ? {} : { high: m[v].high }),
        },
      ],
    }));
    sections.push({
      kind: 'bar-chart',
      title: 'Grades',
      yLabel: 'share of items',
      unit: '%',
      groups,
      yMin: 0,
    });
  }
  sections.push(...documentSection(summary));
  sections.push(...diagnosticsSections(summary));
  if (summary.missing_context.length > 0) {
    sections.push({
      kind: 'table',
      title: `Items without a gold context (${c.missing_context}; not asked, not graded)`,
      columns: [
        { key: 'id', label: 'id' },
        { key: 'reason', label: 'reason' },
      ],
      rows: summary.missing_context.slice(0, 20),
      ...(c.missing_context > 20 ? { note: 'The first 20; summary.json lists up to 100.' } : {}),
    });
  }
  sections.push(...unparsedSection(data));
  sections.push(samplesSection(data));
  sections.push({ kind: 'key-values', title: 'Run', entries: metadata(summary) });
  return {
    title: `Evaluation: ${summary.label}`,
    subtitle: `${summary.config.model} · ${summary.config.mode} · ${summary.config.grader} grader`,
    generatedAt: summary.updated_at,
    ...(summary.status === 'complete' ? {} : { notice: statusNotice(summary) }),
    seriesOrder: [summary.label],
    sections,
  };
}

export async function writeEvalReport(
  file: string,
  summary: EvalSummaryFile,
  data: EvalReportData,
): Promise<void> {
  await writeReport(file, buildEvalReport(summary, data));
}

function statusNotice(summary: EvalSummaryFile): string {
  const c = summary.counts;
  const done = `${c.graded} of ${c.items - c.missing_context} items graded`;
  return `Status ${summary.status}: ${done}.${summary.stop_reason ? ` ${summary.stop_reason}.` : ''}`;
}

function documentSection(summary: EvalSummaryFile): Section[] {
  const byDoc = Object.entries(summary.metrics?.by_doc ?? {});
  if (byDoc.length === 0) return [];
  byDoc.sort(([a, x], [b, y]) => y.counts.n - x.counts.n || (a < b ? -1 : a > b ? 1 : 0));
  return [
    {
      kind: 'table',
      title: 'By document',
      columns: [
        { key: 'doc', label: 'document' },
        { key: 'n', label: 'n' },
        { key: 'correct', label: '% correct', format: 'percent' },
        { key: 'incorrect', label: '% incorrect', format: 'percent' },
        { key: 'not_attempted', label: '% not attempted', format: 'percent' },
        { key: 'accuracy_given_attempted', label: 'accuracy given attempted', format: 'percent' },
      ],
      rows: byDoc.slice(0, MAX_DOC_ROWS).map(([doc, g]) => ({
        doc,
        n: g.counts.n,
        correct: metricCell(g.correct),
        incorrect: metricCell(g.incorrect),
        not_attempted: metricCell(g.not_attempted),
        accuracy_given_attempted: metricCell(g.accuracy_given_attempted),
      })),
      ...(byDoc.length > MAX_DOC_ROWS
        ? {
            note: `The ${MAX_DOC_ROWS} documents with the most items of ${byDoc.length}; summary.json has all.`,
          }
        : {}),
    },
  ];
}

function diagnosticsSections(summary: EvalSummaryFile): Section[] {
  const d = summary.diagnostics;
  if (!d) return [];
  const sections: Section[] = [
    {
      kind: 'key-values',
      title: 'Diagnostics of the study data',
      entries: [
        ['study run', d.study],
        ['study records', d.records],
        ['methods', d.methods.join(', ')],
        ['answer coverage', d.coverage.share === null ? null : `${(d.coverage.share * 100).toFixed(1)}%`],
        ['items checked for coverage', d.coverage.items],
        ['items naming no document of the run', d.coverage.unresolved],
        [
          'questions found verbatim in the data',
          `${d.leakage.questions_leaked} of ${d.leakage.questions_checked}`,
        ],
        ['  of which with their answer', d.leakage.questions_leaked_with_answer],
        [
          'answers found verbatim (long answers only)',
          `${d.leakage.answers_leaked} of ${d.leakage.answers_checked}`,
        ],
      ],
    },
    {
      kind: 'table',
      title: 'Per study method',
      columns: [
        { key: 'method', label: 'method' },
        { key: 'coverage', label: 'answer coverage', format: 'percent' },
        { key: 'self_bleu', label: 'self-BLEU (lower = more diverse)' },
        { key: 'documents', label: 'documents scored' },
      ],
      rows: d.methods.map((method) => ({
        method,
        coverage: d.coverage.by_method[method]?.share ?? null,
        self_bleu: d.self_bleu.by_method[method]?.mean ?? null,
        documents: d.self_bleu.by_method[method]?.scored ?? 0,
      })),
      note: `Answer coverage: share of items whose gold answer occurs in the study data of their document. Self-BLEU over the ${d.self_bleu.scope}.`,
    },
  ];
  if (d.leakage.hits.length > 0) {
    sections.push({
      kind: 'table',
      title: 'Leakage: evaluation text found verbatim in the study data',
      columns: [
        { key: 'kind', label: 'kind' },
        { key: 'id', label: 'item' },
        { key: 'text', label: 'text (normalised)' },
        { key: 'count', label: 'study texts' },
        { key: 'with_answer', label: 'with its answer' },
      ],
      rows: d.leakage.hits.slice(0, 20).map((h) => ({
        kind: h.kind,
        id: h.id ?? String(h.item),
        text: h.normalized,
        count: h.text_count,
        with_answer: h.with_answer === undefined ? '' : h.with_answer ? 'yes' : 'no',
      })),
      note: 'An answer hit is expected (that is coverage); a question hit, above all with its answer, means the test set was in the training data.',
    });
  }
  return sections;
}

function unparsedSection(data: EvalReportData): Section[] {
  const rows: Record<string, Cell>[] = [];
  for (const answer of data.answers) {
    const grade = data.grades.get(answer.id);
    if (grade?.verdict === 'unparsed' && rows.length < 20)
      rows.push({ id: answer.id, reply: grade.judge_raw ?? '' });
  }
  if (rows.length === 0) return [];
  return [
    {
      kind: 'table',
      title: 'Judge replies that could not be read (unparsed, never guessed)',
      columns: [
        { key: 'id', label: 'id' },
        { key: 'reply', label: 'judge reply' },
      ],
      rows,
    },
  ];
}

/** A few answers of each grade, in QA-set order, to see what the numbers mean. */
function samplesSection(data: EvalReportData): Section {
  const taken = new Map<Verdict, number>();
  const rows: Record<string, Cell>[] = [];
  for (const answer of data.answers) {
    const grade = data.grades.get(answer.id);
    if (!grade) continue;
    const n = taken.get(grade.verdict) ?? 0;
    if (n >= SAMPLES_PER_VERDICT) continue;
    taken.set(grade.verdict, n + 1);
    rows.push({
      id: answer.id,
      question: answer.question,
      gold: answer.gold,
      answer: answer.answer,
      verdict: VERDICT_LABEL[grade.verdict],
    });
  }
  return {
    kind: 'table',
    title: 'Sample answers',
    columns: ['id', 'question', 'gold', 'answer', 'verdict'].map((key) => ({
      key,
      label: key,
      align: 'left' as const,
    })),
    rows,
    note: `Up to ${SAMPLES_PER_VERDICT} of each grade; answers.jsonl and grades.jsonl have them all.`,
  };
}

function metadata(summary: EvalSummaryFile): [string, string | number | boolean | null][] {
  const c = summary.config;
  const n = summary.counts;
  const ledger = (name: string) => {
    const e = summary.ledger[name];
    return e
      ? `${e.requests} requests, ${e.cacheHits} cache hits, ${e.promptTokens} + ${e.completionTokens} tokens`
      : null;
  };
  return [
    ['status', summary.status],
    ['label', c.label],
    ['model', c.model],
    ['model id', c.model_id],
    ['base URL', c.base_url],
    ['mode', c.mode],
    ['grader', c.grader],
    ['judge', c.judge_model],
    ['judge base URL', c.judge_base_url],
    ['QA set', c.qa_file],
    ['QA set sha256', c.qa_sha256],
    ['QA format', c.qa_format],
    ['QA items (rows skipped)', `${n.qa_items} (${n.qa_problems})`],
    ['items evaluated', n.items],
    ['without gold context', n.missing_context],
    ['answered', n.answered],
    ['graded', n.graded],
    ['empty answers', n.empty_answers],
    ['unparsed verdicts', n.unparsed],
    ['failed this session', n.failed],
    ['corpus', c.corpus],
    ['temperature', c.temperature],
    ['max tokens', c.max_tokens],
    ['context tokens', c.context_tokens],
    ['answer prompt', c.templates.answer],
    ['judge prompt', c.templates.judge],
    ['answer calls', ledger('answer')],
    ['judge calls', ledger('judge')],
    ['started', summary.created_at],
    ['updated', summary.updated_at],
    ['tool', `${summary.tool.name} ${summary.tool.version} (node ${summary.tool.node})`],
  ];
}

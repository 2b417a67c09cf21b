/** The one results table that `eval`'s report and `compare` both show: one row per evaluation. */
import type { Cell, IntervalValue, TableColumn } from '../report/index.js';
import type { MetricWithCi } from './metrics.js';
import type { EvalSummaryFile } from './summary-file.js';

/** A metric as a report cell: its value and 95% interval, or '–' when it is undefined. */
export function metricCell(metric: MetricWithCi | undefined): Cell {
  if (!metric || metric.value === null) return null;
  const cell: IntervalValue = { value: metric.value, low: metric.low ?? NaN, high: metric.high ?? NaN };
  return cell;
}

export function resultColumns(options: { unparsed: boolean; best: boolean }): TableColumn[] {
  const best = options.best ? ('max' as const) : undefined;
  const columns: TableColumn[] = [
    { key: 'label', label: 'Method' },
    { key: 'mode', label: 'Mode' },
    { key: 'grader', label: 'Grader' },
    { key: 'n', label: 'n' },
    { key: 'correct', label: '% correct', format: 'percent', best },
    { key: 'incorrect', label: '% incorrect', format: 'percent' },
    { key: 'not_attempted', label: '% not attempted', format: 'percent' },
  ];
  if (options.unparsed) columns.push({ key: 'unparsed', label: '% unparsed', format: 'percent' });
  columns.push(
    { key: 'accuracy_given_attempted', label: 'accuracy given attempted', format: 'percent', best },
    { key: 'f_score', label: 'F', format: 'percent', best },
  );
  return columns;
}

export function resultRow(summary: EvalSummaryFile, label = summary.label): Record<string, Cell> {
  const m = summary.metrics;
  return {
    label,
    mode: summary.config.mode,
    grader:
      summary.config.grader === 'simpleqa' ? `simpleqa (${summary.config.judge_model ?? '?'})` : 'lexical',
    n: m?.counts.n ?? 0,
    correct: metricCell(m?.correct),
    incorrect: metricCell(m?.incorrect),
    not_attempted: metricCell(m?.not_attempted),
    unparsed: metricCell(m?.unparsed),
    accuracy_given_attempted: metricCell(m?.accuracy_given_attempted),
    f_score: metricCell(m?.f_score),
  };
}

/** Whether any of the evaluations has an unparsed judge verdict (only then is the column shown). */
export function anyUnparsed(summaries: readonly EvalSummaryFile[]): boolean {
  return summaries.some((s) => (s.metrics?.counts.unparsed ?? 0) > 0);
}

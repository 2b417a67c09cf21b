/**
 * `compare`: several evaluations side by side (the paper's Table 1 layout: base vs repeat vs paraphrase vs
 * qa vs ar, and a gold-context row), read from their summary.json, in the order given. Rows are only
 * comparable on the same QA set and grader; differences are reported as warnings, not refused, since a
 * gold-context row on a subset is still informative.
 */
import path from 'node:path';
import { formatCell, type BarGroup, type Report } from '../report/index.js';
import type { MetricName } from './metrics.js';
import { anyUnparsed, resultColumns, resultRow } from './result-table.js';
import { readSummary, summaryPath, type EvalSummaryFile } from './summary-file.js';

export interface CompareEntry {
  dir: string;
  /** The evaluation's label, made unique among the entries (the folder name is added to repeats). */
  label: string;
  summary: EvalSummaryFile;
}

export interface Comparison {
  entries: CompareEntry[];
  warnings: string[];
}

export async function loadComparison(dirs: readonly string[]): Promise<Comparison> {
  const entries: CompareEntry[] = [];
  for (const dir of dirs) {
    const summary = await readSummary(dir);
    if (!summary) throw new Error(`${summaryPath(dir)} not found: is ${dir} an eval --out directory?`);
    entries.push({ dir, label: summary.label, summary });
  }
  const counts = new Map<string, number>();
  for (const e of entries) counts.set(e.label, (counts.get(e.label) ?? 0) + 1);
  for (const e of entries)
    if ((counts.get(e.label) ?? 0) > 1) e.label = `${e.label} (${path.basename(path.resolve(e.dir))})`;

  const warnings: string[] = [];
  const distinct = (f: (s: EvalSummaryFile) => string) => new Set(entries.map((e) => f(e.summary))).size > 1;
  if (distinct((s) => s.config.qa_sha256)) {
    warnings.push(
      `the evaluations used different QA sets (${entries.map((e) => `${e.label}: ${path.basename(e.summary.config.qa_file)}`).join(', ')})`,
    );
  }
  if (distinct((s) => `${s.config.grader}|${s.settings.grades.judge ?? ''}`)) {
    warnings.push('the evaluations were graded differently (grader or judge model): compare with care');
  }
  if (distinct((s) => String(s.metrics?.counts.n ?? 0))) {
    warnings.push('the evaluations graded different numbers of items (see n)');
  }
  for (const e of entries) {
    if (e.summary.status !== 'complete')
      warnings.push(`${e.label} is ${e.summary.status}: run its eval again to finish it`);
  }
  return { entries, warnings };
}

/** The comparison as a plain-text table for a terminal. */
export function comparisonText(comparison: Comparison): string {
  const columns = resultColumns({
    unparsed: anyUnparsed(comparison.entries.map((e) => e.summary)),
    best: false,
  });
  const rows = comparison.entries.map((e) => resultRow(e.summary, e.label));
  const cells = [
    columns.map((c) => c.label),
    ...rows.map((row) => columns.map((c) => formatCell(row[c.key], c.format))),
  ];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => (r[i] as string).length)));
  const line = (r: string[]) =>
    r
      .map((cell, i) => (i < 3 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(cells[0] as string[]), rule, ...cells.slice(1).map(line)].join('\n') + '\n';
}

const CHART_METRICS: Array<[MetricName, string]> = [
  ['correct', '% correct'],
  ['not_attempted', '% not attempted'],
  ['incorrect', '% incorrect'],
];

export function buildComparisonReport(comparison: Comparison): Report {
  const summaries = comparison.entries.map((e) => e.summary);
  const groups: BarGroup[] = CHART_METRICS.map(([metric, label]) => ({
    label,
    bars: comparison.entries.map((e) => {
      const m = e.summary.metrics?.[metric];
      return {
        series: e.label,
        value: m?.value ?? NaN,
        ...(m?.low == null ? {} : { low: m.low }),
        ...(m?.high == null ? {} : { high: m.high }),
      };
    }),
  }));
  return {
    title: 'Evaluations compared',
    subtitle: comparison.entries.map((e) => e.label).join(' · '),
    ...(comparison.warnings.length > 0 ? { notice: `Note: ${comparison.warnings.join('; ')}.` } : {}),
    seriesOrder: comparison.entries.map((e) => e.label),
    sections: [
      {
        kind: 'table',
        title: 'Results',
        columns: resultColumns({ unparsed: anyUnparsed(summaries), best: true }),
        rows: comparison.entries.map((e) => resultRow(e.summary, e.label)),
        note: 'Rates over the graded items of each evaluation, with 95% bootstrap intervals.',
      },
      { kind: 'bar-chart', title: 'Grades by method', yLabel: 'share of items', unit: '%', groups, yMin: 0 },
      {
        kind: 'table',
        title: 'Evaluations',
        columns: ['label', 'directory', 'model', 'qa', 'status', 'updated'].map((key) => ({
          key,
          label: key,
        })),
        rows: comparison.entries.map((e) => ({
          label: e.label,
          directory: path.resolve(e.dir),
          model: e.summary.config.model,
          qa: `${path.basename(e.summary.config.qa_file)} (${e.summary.config.qa_sha256.slice(0, 12)})`,
          status: e.summary.status,
          updated: e.summary.updated_at,
        })),
      },
    ],
  };
}

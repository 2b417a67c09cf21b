import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildComparisonReport, comparisonText, loadComparison } from '../../src/eval/compare.js';
import type { Verdict } from '../../src/eval/graders/verdict.js';
import { summarize } from '../../src/eval/metrics.js';
import { writeSummary, type EvalSummaryFile } from '../../src/eval/summary-file.js';
import { renderReport } from '../../src/report/index.js';

function summaryOf(
  label: string,
  verdicts: Partial<Record<Verdict, number>>,
  qaSha = 'a'.repeat(64),
): EvalSummaryFile {
  const items = (Object.entries(verdicts) as [Verdict, number][]).flatMap(([verdict, k]) =>
    Array.from({ length: k }, () => ({ verdict })),
  );
  return {
    format: 'active-reading/eval@1',
    tool: { name: 'active-reading', version: '0', node: 'v20' },
    label,
    status: 'complete',
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    config: {
      label,
      model: `ckpt/${label}`,
      model_id: `engine:${label}`,
      base_url: null,
      mode: label === 'gold' ? 'gold-context' : 'closed-book',
      grader: 'simpleqa',
      judge_model: 'gpt-4o',
      judge_model_id: 'openai:gpt-4o@x',
      judge_base_url: null,
      qa_file: '/data/simplewikiqa.jsonl',
      qa_sha256: qaSha,
      qa_format: 'jsonl',
      limit: null,
      corpus: null,
      study: null,
      temperature: 0,
      max_tokens: 64,
      context_tokens: null,
      concurrency: 1,
      judge_concurrency: 16,
      templates: { answer: 'answer-closed-book@x', judge: 'simpleqa-grader@y' },
    },
    settings: {
      answers: {
        qa_sha256: qaSha,
        model: label,
        mode: 'closed-book',
        template: 'x',
        temperature: 0,
        max_tokens: 64,
        context_tokens: null,
      },
      grades: { grader: 'simpleqa', judge: 'openai:gpt-4o', template: 'y', max_tokens: 64 },
    },
    counts: {
      qa_items: items.length,
      qa_problems: 0,
      items: items.length,
      missing_context: 0,
      answered: items.length,
      graded: items.length,
      failed: 0,
      unparsed: verdicts.unparsed ?? 0,
      empty_answers: 0,
    },
    missing_context: [],
    metrics: summarize(items, { resamples: 200 }),
    ledger: {},
  };
}

async function evalDir(root: string, name: string, summary: EvalSummaryFile): Promise<string> {
  const dir = path.join(root, name);
  await fs.mkdir(dir, { recursive: true });
  await writeSummary(dir, summary);
  return dir;
}

describe('compare', () => {
  it('one row per evaluation in the order given, as text and as a report', async () => {
    const root = await fs.mkdtemp(path.join(tmpdir(), 'compare-'));
    const dirs = [
      await evalDir(root, 'base', summaryOf('base', { correct: 1, incorrect: 7, not_attempted: 2 })),
      await evalDir(root, 'repeat', summaryOf('repeat', { correct: 2, incorrect: 6, not_attempted: 2 })),
      await evalDir(root, 'ar', summaryOf('ar', { correct: 6, incorrect: 3, not_attempted: 1 })),
      await evalDir(root, 'gold', summaryOf('gold', { correct: 7, incorrect: 2, not_attempted: 1 })),
    ];
    const comparison = await loadComparison(dirs);
    expect(comparison.warnings).toEqual([]);
    const text = comparisonText(comparison);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^Method\s+Mode\s+Grader\s+n\s+% correct\s+% incorrect\s+% not attempted\s+accuracy given attempted\s+F$/,
    );
    expect(lines.slice(2).map((l) => l.split(/\s+/)[0])).toEqual(['base', 'repeat', 'ar', 'gold']);
    expect(lines[4]).toMatch(/^ar\s+closed-book\s+simpleqa \(gpt-4o\)\s+10\s+60\.0% \(/);
    expect(lines[5]).toContain('gold-context');
    expect(text).not.toContain('unparsed');

    const report = buildComparisonReport(comparison);
    expect(report.seriesOrder).toEqual(['base', 'repeat', 'ar', 'gold']);
    const chart = report.sections.find((s) => s.kind === 'bar-chart');
    expect(chart?.kind === 'bar-chart' && chart.groups.map((g) => g.label)).toEqual([
      '% correct',
      '% not attempted',
      '% incorrect',
    ]);
    expect(chart?.kind === 'bar-chart' && chart.groups[0]?.bars.map((b) => [b.series, b.value])).toEqual([
      ['base', 0.1],
      ['repeat', 0.2],
      ['ar', 0.6],
      ['gold', 0.7],
    ]);
    const html = renderReport(report);
    expect(html).toContain('<strong>70.0% (');
  });

  it('warns about different QA sets, graders and unfinished runs, and tells repeated labels apart', async () => {
    const root = await fs.mkdtemp(path.join(tmpdir(), 'compare-'));
    const other = summaryOf('ar', { correct: 1, unparsed: 1 }, 'b'.repeat(64));
    other.status = 'incomplete';
    other.config.grader = 'lexical';
    other.settings.grades = { grader: 'lexical', judge: null, template: null, max_tokens: null };
    const comparison = await loadComparison([
      await evalDir(root, 'one', summaryOf('ar', { correct: 2 })),
      await evalDir(root, 'two', other),
    ]);
    expect(comparison.entries.map((e) => e.label)).toEqual(['ar (one)', 'ar (two)']);
    expect(comparison.warnings.join('\n')).toMatch(/different QA sets/);
    expect(comparison.warnings.join('\n')).toMatch(/graded differently/);
    expect(comparison.warnings.join('\n')).toMatch(/ar \(two\) is incomplete/);
    expect(comparisonText(comparison)).toContain('% unparsed');
    expect(buildComparisonReport(comparison).notice).toMatch(/^Note: /);
  });

  it('names a directory that is not an evaluation', async () => {
    const root = await fs.mkdtemp(path.join(tmpdir(), 'compare-'));
    await expect(loadComparison([root])).rejects.toThrow(`${path.join(root, 'summary.json')} not found`);
    await fs.writeFile(path.join(root, 'summary.json'), '{"format": "something else"}');
    await expect(loadComparison([root])).rejects.toThrow(/not an active-reading evaluation summary/);
  });
});

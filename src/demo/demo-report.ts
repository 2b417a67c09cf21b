/**
 * The demo's report: the results table, a bar chart of held-out and train-people accuracy per method, the
 * accuracy-vs-training-tokens curve, and how the numbers were made. Also the plain-text table for the terminal.
 */
import type { MetricWithCi } from '../eval/metrics.js';
import { renderSection, type Cell, type IntervalValue, type Report } from '../report/index.js';
import type { DemoResult } from './run-demo.js';

function interval(m: MetricWithCi): IntervalValue | null {
  return m.value === null || m.low === null || m.high === null
    ? null
    : { value: m.value, low: m.low, high: m.high, format: 'percent' };
}

export function buildDemoReport(result: DemoResult): Report {
  const { settings } = result;
  const size = settings.size;
  const rows: Record<string, Cell>[] = result.rows.map((r) => ({
    method: r.method,
    study: r.studyTokens,
    records: r.studyRecords,
    trained: r.trainTokens,
    heldout: interval(r.heldout),
    train: interval(r.train),
  }));
  const params =
    size.model.vocabSize * size.model.hiddenSize +
    size.model.numLayers *
      (4 * size.model.hiddenSize ** 2 + 3 * size.model.hiddenSize * size.model.intermediateSize);
  return {
    title: 'active-reading demo: does study data make a model learn facts?',
    subtitle: `A fictional world of ${size.people} people; one model trained from scratch per method; closed-book questions about people whose questions were never trained on.`,
    notice: settings.simulation,
    seriesOrder: result.rows.map((r) => r.method),
    sections: [
      {
        kind: 'table',
        title: 'Results',
        columns: [
          { key: 'method', label: 'method' },
          { key: 'study', label: 'study tokens' },
          { key: 'records', label: 'study documents' },
          { key: 'trained', label: 'tokens trained' },
          { key: 'heldout', label: 'held-out people: % correct (95% CI)', best: 'max' },
          { key: 'train', label: 'train people: % correct' },
        ],
        rows,
        note: `Held-out people: their facts appear only in the study data; their questions were never trained on. Train people: their question-answer pairs were part of the training mix (as in Physics of Language Models 3.1). ${guessingLine(result)}`,
      },
      {
        kind: 'bar-chart',
        title: 'Closed-book accuracy by method',
        yLabel: '% correct',
        unit: '%',
        yMin: 0,
        yMax: 1,
        groups: result.rows.map((r) => ({
          label: r.method,
          bars: [
            {
              series: 'held-out people',
              value: r.heldout.value ?? NaN,
              ...(r.heldout.low === null ? {} : { low: r.heldout.low }),
              ...(r.heldout.high === null ? {} : { high: r.heldout.high }),
            },
            {
              series: 'train people',
              value: r.train.value ?? NaN,
              ...(r.train.low === null ? {} : { low: r.train.low }),
              ...(r.train.high === null ? {} : { high: r.train.high }),
            },
          ],
        })),
      },
      {
        kind: 'line-chart',
        title: 'Held-out accuracy against tokens trained',
        xLabel: 'tokens trained',
        yLabel: '% correct (held-out people)',
        unit: '%',
        yMin: 0,
        yMax: 1,
        series: result.rows.map((r) => ({
          name: r.method,
          points: r.curve.map((p) => ({
            x: p.trainTokens,
            y: p.heldout.value ?? NaN,
            ...(p.heldout.low === null ? {} : { low: p.heldout.low }),
            ...(p.heldout.high === null ? {} : { high: p.heldout.high }),
          })),
        })),
      },
      {
        kind: 'key-values',
        title: 'How these numbers were made',
        entries: [
          [
            'size',
            `${size.name}: ${size.people} people, ${size.studyTokensPerPerson} study tokens per person per method`,
          ],
          ['seed', settings.seed],
          ['study budget per method', `${size.people * size.studyTokensPerPerson} tokens (cl100k)`],
          ['study data writer', 'the simulated reader (see the notice above), through the real study engine'],
          [
            'model',
            `Llama, from scratch: hidden ${size.model.hiddenSize}, ${size.model.numLayers} layers, ${size.model.numHeads} heads, MLP ${size.model.intermediateSize}, vocabulary ${size.model.vocabSize} (byte-level BPE trained on the world), ~${Math.round(params / 1000)}k parameters`,
          ],
          [
            'training',
            `the same number of steps for every method (its study data, repeated as needed, with ${Math.round(size.qaShare * 100)}% of tokens from the train people's QA examples); sequences of ${size.seqLen}, ${size.batchTokens} tokens per step, AdamW lr ${size.lr}, cosine`,
          ],
          ['kernels', result.kernels],
          ['guessing floor', guessingLine(result)],
          ['grading', 'lexical (normalised exact match or containment of the gold answer), greedy answers'],
          ['time', `${Math.round(result.seconds)} s in all`],
        ],
      },
    ],
  };
}

/** What knowing nothing scores: people share cities, universities and companies, so guessing is not 0%. */
export function guessingLine(result: DemoResult): string {
  return `Guessing, for every question, the answer most common among the train people scores ${(100 * result.guessing).toFixed(1)}% on the held-out people.`;
}

/** The results as a plain table for the terminal. */
export function demoTable(result: DemoResult): string {
  const fmt = (m: MetricWithCi) =>
    m.value === null
      ? '–'
      : `${(100 * m.value).toFixed(1)}% (${(100 * (m.low ?? 0)).toFixed(1)}–${(100 * (m.high ?? 0)).toFixed(1)})`;
  const header = ['method', 'study tokens', 'tokens trained', 'held-out % correct', 'train people % correct'];
  const lines = result.rows.map((r) => [
    r.method,
    String(r.studyTokens),
    String(r.trainTokens),
    fmt(r.heldout),
    fmt(r.train),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const row = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  return [
    row(header),
    row(widths.map((w) => '-'.repeat(w))),
    ...lines.map(row),
    '',
    guessingLine(result),
  ].join('\n');
}

/**
 * The report's two charts as standalone SVG files (for a README or slides): `accuracy.svg` (held-out and
 * train-people accuracy by method) and `curve.svg` (held-out accuracy against tokens trained).
 */
export function demoCharts(report: Report): Array<{ file: string; svg: string }> {
  const files = ['accuracy.svg', 'curve.svg'];
  const charts = report.sections.filter((s) => s.kind === 'bar-chart' || s.kind === 'line-chart');
  return charts.flatMap((section, i) => {
    const svg = /<svg[\s\S]*<\/svg>/.exec(renderSection(section))?.[0];
    return svg ? [{ file: files[i] ?? `chart-${i}.svg`, svg: `${svg}\n` }] : [];
  });
}

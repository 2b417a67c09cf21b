import { describe, expect, it } from 'vitest';
import { renderBarChart } from '../../src/report/bar-chart.js';
import { SeriesColors } from '../../src/report/palette.js';
import type { BarChartSection, BarGroup } from '../../src/report/types.js';
import { n, tagProblem, tags, withClass } from './helpers.js';

function chart(groups: BarGroup[], extra: Partial<BarChartSection> = {}): string {
  return renderBarChart({ kind: 'bar-chart', title: 'Accuracy', yLabel: 'Accuracy', groups, ...extra });
}

const one = (label: string, value: number, low?: number, high?: number): BarGroup => ({
  label,
  bars: [{ series: 'ar', value, low, high }],
});

describe('bar chart', () => {
  it('draws bars whose heights are proportional to their values, on one baseline', () => {
    const svg = chart([one('a', 0.2), one('b', 0.4), one('c', 0.8)], { unit: '%' });
    const bars = withClass(svg, 'rect', 'bar');
    expect(bars).toHaveLength(3);
    const [a, b, c] = bars.map((r) => n(r, 'height'));
    expect((b as number) / (a as number)).toBeCloseTo(2, 2);
    expect((c as number) / (a as number)).toBeCloseTo(4, 2);
    const baselines = bars.map((r) => n(r, 'y') + n(r, 'height'));
    for (const y of baselines) expect(y).toBeCloseTo(baselines[0] as number, 1);
    // Left to right in group order.
    expect(bars.map((r) => n(r, 'x'))).toEqual([...bars.map((r) => n(r, 'x'))].sort((p, q) => p - q));
    expect(tagProblem(svg)).toBeUndefined();
  });

  it('draws error bars that span low..high on the bar scale', () => {
    const svg = chart([one('a', 0.5, 0.4, 0.6), one('b', 0.25, 0.2, 0.3)], { unit: '%' });
    const bars = withClass(svg, 'rect', 'bar');
    const errs = withClass(svg, 'line', 'err');
    expect(errs).toHaveLength(2);
    const first = bars[0];
    const perUnit = n(first, 'height') / 0.5;
    const baseline = n(first, 'y') + n(first, 'height');
    const spans: [number, number][] = [
      [0.4, 0.6],
      [0.2, 0.3],
    ];
    errs.forEach((err, i) => {
      const [low, high] = spans[i] as [number, number];
      expect(n(err, 'y1')).toBeCloseTo(baseline - high * perUnit, 1);
      expect(n(err, 'y2')).toBeCloseTo(baseline - low * perUnit, 1);
      // Centred on its bar.
      const bar = bars[i];
      expect(n(err, 'x1')).toBeCloseTo(n(bar, 'x') + n(bar, 'width') / 2, 1);
    });
  });

  it('labels values as percentages and gives the y axis percent ticks up to 100%', () => {
    const svg = chart([one('a', 0.662, 0.641, 0.683), one('b', 0.91)], { unit: '%' });
    expect(svg).toContain('>66.2%</text>');
    expect(svg).toContain('>91.0%</text>');
    expect(svg).toContain('>100%</text>');
    expect(svg).not.toContain('>120%</text>');
    expect(svg).toContain('66.2% (64.1–68.3)'); // the bar's tooltip
  });

  it('keeps one colour per series and one slot per series across groups', () => {
    const groups: BarGroup[] = [
      {
        label: 'SimpleQA',
        bars: [
          { series: 'repeat', value: 0.1 },
          { series: 'paraphrase', value: 0.2 },
          { series: 'ar', value: 0.3 },
        ],
      },
      {
        label: 'FinanceBench',
        bars: [
          { series: 'ar', value: 0.35 },
          { series: 'repeat', value: 0.15 },
        ],
      },
    ];
    const svg = chart(groups);
    const bars = withClass(svg, 'rect', 'bar');
    const fill = (series: string) =>
      new Set(bars.filter((b) => b['data-series'] === series).map((b) => b.fill));
    expect(fill('ar').size).toBe(1);
    expect(fill('repeat').size).toBe(1);
    expect(new Set(bars.map((b) => b.fill)).size).toBe(3);
    // "ar" sits in the same slot of each group although the second group lists it first and lacks "paraphrase".
    const offset = (series: string, group: string) => {
      const inGroup = bars.filter((b) => b['data-group'] === group);
      const start = Math.min(
        ...withClass(svg, 'rect', 'bar')
          .filter((b) => b['data-group'] === group)
          .map((b) => n(b, 'x')),
      );
      return (
        n(
          inGroup.find((b) => b['data-series'] === series),
          'x',
        ) - start
      );
    };
    expect(offset('ar', 'FinanceBench')).toBeCloseTo(offset('ar', 'SimpleQA'), 1);
    // A legend names every series.
    for (const s of ['repeat', 'paraphrase', 'ar']) expect(svg).toContain(`>${s}</text>`);
  });

  it('takes its colours from a shared registry', () => {
    const colors = new SeriesColors(['ar', 'qa']);
    const svg = renderBarChart(
      {
        kind: 'bar-chart',
        title: 't',
        yLabel: 'y',
        groups: [{ label: 'g', bars: [{ series: 'qa', value: 1 }] }],
      },
      colors,
    );
    expect(withClass(svg, 'rect', 'bar')[0]?.fill).toBe(colors.color('qa'));
    expect(colors.color('qa')).not.toBe(colors.color('ar'));
  });

  it("shows '–' for a missing value and never writes NaN", () => {
    const svg = chart([one('a', NaN, NaN, NaN), one('b', 0.5, NaN, 0.6), one('c', 0.3, 0.2, Infinity)]);
    expect(withClass(svg, 'rect', 'bar')).toHaveLength(2);
    expect(withClass(svg, 'line', 'err')).toHaveLength(0);
    expect(svg).toContain('>–</text>');
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(tagProblem(svg)).toBeUndefined();
  });

  it('says "No data" when there is nothing to draw', () => {
    expect(chart([])).toContain('No data');
    expect(chart([{ label: 'a', bars: [] }])).toContain('No data');
    expect(chart([one('a', NaN)])).toContain('No data');
  });

  it('draws negative values below the baseline', () => {
    const svg = chart([one('a', 1), one('b', -0.5)]);
    const [pos, neg] = withClass(svg, 'rect', 'bar');
    const baseline = n(pos, 'y') + n(pos, 'height');
    expect(n(neg, 'y')).toBeCloseTo(baseline, 1);
    expect(n(neg, 'height') / n(pos, 'height')).toBeCloseTo(0.5, 2);
  });

  it('clips bars to a fixed y range', () => {
    const svg = chart([one('a', 0.5), one('b', 2)], { yMin: 0, yMax: 1 });
    const [half, full] = withClass(svg, 'rect', 'bar');
    expect(n(full, 'height') / n(half, 'height')).toBeCloseTo(2, 2);
  });

  it('stays well formed with 12 groups of 6 series and long labels', () => {
    const series = ['repeat', 'paraphrase', 'qa', 'entigraph', 'ar', 'ar-task'];
    const groups: BarGroup[] = Array.from({ length: 12 }, (_, g) => ({
      label: `checkpoint number ${g + 1} after a rather long label`,
      bars: series.map((s, i) => ({
        series: s,
        value: 0.05 * (i + 1) + 0.01 * g,
        low: 0.05 * i,
        high: 0.05 * (i + 2),
      })),
    }));
    const svg = chart(groups, { unit: '%' });
    expect(withClass(svg, 'rect', 'bar')).toHaveLength(72);
    expect(tagProblem(svg)).toBeUndefined();
    expect(svg).not.toMatch(/NaN|Infinity/);
    // Cut labels keep their full text in a tooltip.
    expect(svg).toContain('<title>checkpoint number 1 after a rather long label</title>');
    // Every bar stays inside the drawing.
    const root = tags(svg, 'svg')[0];
    const width = n(root, 'width');
    for (const bar of withClass(svg, 'rect', 'bar'))
      expect(n(bar, 'x') + n(bar, 'width')).toBeLessThanOrEqual(width);
  });

  it('wraps mid-length group labels onto two lines and turns values upright on narrow bars', () => {
    const series = ['repeat', 'paraphrase', 'qa', 'entigraph', 'ar', 'ar-task'];
    const groups: BarGroup[] = Array.from({ length: 8 }, (_, g) => ({
      label: `paraphrase and qa ${g}`,
      bars: series.map((s, i) => ({ series: s, value: 0.1 * i + 0.01 * g })),
    }));
    const svg = chart(groups, { unit: '%' });
    expect(svg).toContain('dy="0">paraphrase</tspan><tspan x="');
    expect(svg).toContain('dy="13">and qa 0</tspan>');
    expect(svg).not.toContain('rotate(-35');
    expect(svg).toMatch(/rotate\(-90 [\d.]+ [\d.]+\)"[^>]*>\d+\.\d%<\/text>/);
  });

  it('shortens a very long series name in the legend and keeps it whole in a tooltip', () => {
    const long = 'a'.repeat(80);
    const svg = chart([
      {
        label: 'g',
        bars: [
          { series: long, value: 1 },
          { series: 'b', value: 2 },
        ],
      },
    ]);
    expect(svg).toContain(`${'a'.repeat(47)}…<title>${long}</title>`);
  });
});

import { describe, expect, it } from 'vitest';
import { renderLineChart } from '../../src/report/line-chart.js';
import type { LineChartSection, LineSeries } from '../../src/report/types.js';
import { n, tagProblem, tags, translate, withClass } from './helpers.js';

function chart(series: LineSeries[], extra: Partial<LineChartSection> = {}): string {
  return renderLineChart({
    kind: 'line-chart',
    title: 'Accuracy vs tokens',
    xLabel: 'training tokens',
    yLabel: 'accuracy',
    series,
    ...extra,
  });
}

/** The x, y pairs of a path's d attribute, per subpath. */
function subpaths(d: string): [number, number][][] {
  return d
    .split('M')
    .filter(Boolean)
    .map((part) => part.split('L').map((xy) => xy.trim().split(/\s+/).map(Number) as [number, number]));
}

const curve: LineSeries = {
  name: 'ar',
  points: [
    { x: 1e6, y: 0.1, low: 0.08, high: 0.12 },
    { x: 1e7, y: 0.3, low: 0.27, high: 0.33 },
    { x: 1e8, y: 0.5, low: 0.46, high: 0.54 },
    { x: 1e9, y: 0.6, low: 0.56, high: 0.64 },
  ],
};

describe('line chart', () => {
  it('draws points monotone in x, higher values higher up', () => {
    const svg = chart([curve], { unit: '%' });
    const [path] = withClass(svg, 'path', 'line');
    const [points] = subpaths(path?.d ?? '');
    expect(points).toHaveLength(4);
    const xs = (points ?? []).map((p) => p[0]);
    const ys = (points ?? []).map((p) => p[1]);
    for (let i = 1; i < xs.length; i++) {
      expect(xs[i]).toBeGreaterThan(xs[i - 1] as number);
      expect(ys[i]).toBeLessThan(ys[i - 1] as number);
    }
    expect(tagProblem(svg)).toBeUndefined();
  });

  it('sorts unsorted input by x without touching the caller’s array', () => {
    const points = [
      { x: 30, y: 3 },
      { x: 10, y: 1 },
      { x: 20, y: 2 },
    ];
    const svg = chart([{ name: 's', points }]);
    const xs = withClass(svg, 'g', 'marker').map((m) => translate(m)[0]);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    expect(points.map((p) => p.x)).toEqual([30, 10, 20]);
  });

  it('spaces decades evenly on a log axis and labels them 1M, 10M, 100M, 1B', () => {
    const svg = chart([curve], { xScale: 'log' });
    const xs = withClass(svg, 'g', 'marker').map((m) => translate(m)[0]);
    const gaps = xs.slice(1).map((x, i) => x - (xs[i] as number));
    for (const gap of gaps) expect(gap).toBeCloseTo(gaps[0] as number, 1);
    for (const label of ['1M', '10M', '100M', '1B']) expect(svg).toContain(`>${label}</text>`);
  });

  it('drops x ≤ 0 on a log axis and says how many', () => {
    const svg = chart([{ name: 's', points: [{ x: 0, y: 0.1 }, ...curve.points] }], { xScale: 'log' });
    expect(withClass(svg, 'g', 'marker')).toHaveLength(4);
    expect(svg).toContain('1 point with x ≤ 0 is not shown on the log scale.');
  });

  it('labels large linear x values compactly', () => {
    const svg = chart([{ name: 's', points: [0, 5e5, 1e6, 2e6].map((x, i) => ({ x, y: i })) }]);
    for (const label of ['500k', '1M', '2M']) expect(svg).toContain(`>${label}</text>`);
  });

  it('draws an error bar spanning low..high for each point with an interval', () => {
    const svg = chart([curve], { unit: '%' });
    const errs = withClass(svg, 'line', 'err');
    expect(errs).toHaveLength(4);
    const markers = withClass(svg, 'g', 'marker').map(translate);
    errs.forEach((err, i) => {
      const [mx, my] = markers[i] as [number, number];
      expect(n(err, 'x1')).toBeCloseTo(mx, 1);
      expect(n(err, 'y1')).toBeLessThan(my); // high is above the point
      expect(n(err, 'y2')).toBeGreaterThan(my); // low below
    });
  });

  it('breaks the line at a missing y and never writes NaN', () => {
    const svg = chart(
      [
        {
          name: 's',
          points: [
            { x: 1, y: 0.1 },
            { x: 2, y: 0.2, low: NaN, high: 0.3 },
            { x: 3, y: NaN },
            { x: NaN, y: 0.5 },
            { x: 4, y: 0.4 },
            { x: 5, y: 0.5 },
          ],
        },
      ],
      { unit: '%' },
    );
    const [path] = withClass(svg, 'path', 'line');
    expect(subpaths(path?.d ?? '').map((s) => s.length)).toEqual([2, 2]);
    expect(withClass(svg, 'g', 'marker')).toHaveLength(4);
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(tagProblem(svg)).toBeUndefined();
  });

  it('gives each series its own colour, marker and legend entry', () => {
    const svg = chart(
      [curve, { name: 'paraphrase', points: curve.points.map((p) => ({ ...p, y: p.y / 2 })) }],
      {
        xScale: 'log',
      },
    );
    const lines = withClass(svg, 'path', 'line');
    expect(new Set(lines.map((l) => l.stroke)).size).toBe(2);
    expect(svg).toContain('>paraphrase</text>');
    expect(tags(svg, 'circle').length).toBeGreaterThan(0);
    expect(tags(svg, 'rect').length).toBeGreaterThan(0); // the second series' square markers
  });

  it('says "No data" when no point can be drawn', () => {
    expect(chart([])).toContain('No data');
    expect(chart([{ name: 's', points: [] }])).toContain('No data');
    expect(chart([{ name: 's', points: [{ x: 1, y: NaN }] }])).toContain('No data');
  });

  it('draws a single point without a line', () => {
    const svg = chart([{ name: 's', points: [{ x: 5, y: 0.5 }] }]);
    expect(withClass(svg, 'path', 'line')).toHaveLength(0);
    expect(withClass(svg, 'g', 'marker')).toHaveLength(1);
    expect(svg).not.toMatch(/NaN|Infinity/);
  });
});

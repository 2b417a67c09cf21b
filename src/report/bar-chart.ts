import { escapeHtml } from './escape.js';
import { errorBar, yAxis, type Plot } from './axis.js';
import { DASH, formatChartValue, formatInterval, isFiniteNumber } from './format.js';
import { SeriesColors } from './palette.js';
import { linearScale, tickLabeler, valueTicks } from './scale.js';
import { NO_DATA, el, legend, num, svgRoot, text, textWidth, tooltip, truncate, wrapLabel } from './svg.js';
import type { Bar, BarChartSection } from './types.js';

const WIDTH = 720;
const PLOT_HEIGHT = 240;
const LABEL_FONT = 10;
const GROUP_FONT = 11;
const SLANT = 35;
const COS = Math.cos((SLANT * Math.PI) / 180);
const SIN = Math.sin((SLANT * Math.PI) / 180);
const MAX_SLANT_CHARS = 32;

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/**
 * Grouped vertical bars: one group per label, one bar per series in a fixed slot (a series missing from a
 * group leaves its slot empty, so positions line up across groups), error bars for the intervals, values
 * written above the bars (turned upright when bars are narrow, left out when bars are too thin to carry them).
 */
export function renderBarChart(section: BarChartSection, colors = new SeriesColors()): string {
  const groups = section.groups ?? [];
  const series = unique(groups.flatMap((g) => g.bars.map((b) => b.series)));
  for (const name of series) colors.index(name);
  const numbers = groups
    .flatMap((g) => g.bars.flatMap((b) => [b.value, b.low, b.high]))
    .filter(isFiniteNumber);
  if (groups.length === 0 || series.length === 0 || numbers.length === 0) return NO_DATA;

  const unit = section.unit;
  const ticks = valueTicks(numbers, { unit, min: section.yMin, max: section.yMax, includeZero: true });
  const tickLabel = tickLabeler(ticks, unit);
  const axisLeft = 28 + Math.max(...ticks.values.map((v) => textWidth(tickLabel(v), 11))) + 8;
  const labelsOf = layoutGroupLabels(
    groups.map((g) => g.label),
    (WIDTH - axisLeft - 16) / groups.length,
  );
  // Slanted labels hang to the left of their group: widen the margin so that the first one stays in view.
  const firstReach = labelsOf.slant ? textWidth(labelsOf.lines[0]?.[0] ?? '', GROUP_FONT) * COS : 0;
  const left = Math.max(axisLeft, firstReach - (WIDTH - axisLeft - 16) / groups.length / 2 + 8);
  const plotWidth = WIDTH - left - 16;
  const groupWidth = plotWidth / groups.length;
  const slot = Math.min((groupWidth * 0.8) / series.length, 64);
  const barWidth = slot * 0.86;

  const valueLabels = groups.flatMap((g) => g.bars.map((b) => formatChartValue(b.value, unit)));
  const longest = Math.max(...valueLabels.map((s) => textWidth(s, LABEL_FONT)));
  const labelMode = barWidth >= longest + 2 ? 'flat' : barWidth >= 9 ? 'upright' : 'none';

  const legendBox =
    series.length > 1
      ? legend(
          series.map((name) => ({ name, color: colors.color(name) })),
          left,
          12,
          plotWidth,
        )
      : { svg: '', height: 0 };
  const headroom = labelMode === 'upright' ? longest + 8 : labelMode === 'flat' ? 16 : 6;
  const top = 6 + legendBox.height + headroom;
  const height = top + PLOT_HEIGHT + labelsOf.depth;
  const plot: Plot = { left, top, width: plotWidth, height: PLOT_HEIGHT };

  const scale = linearScale([ticks.min, ticks.max], [top + PLOT_HEIGHT, top]);
  const y = (v: number) => scale(clamp(v, ticks.min, ticks.max));
  const baseline = y(0);

  const bars: string[] = [];
  const whiskers: string[] = [];
  const labels: string[] = [];
  groups.forEach((group, gi) => {
    const groupLeft = left + gi * groupWidth + (groupWidth - slot * series.length) / 2;
    series.forEach((name, si) => {
      const bar = group.bars.find((b) => b.series === name);
      if (!bar) return;
      const x = groupLeft + si * slot + (slot - barWidth) / 2;
      const cx = x + barWidth / 2;
      if (!isFiniteNumber(bar.value)) {
        labels.push(
          text(cx, baseline - 4, DASH, { 'text-anchor': 'middle', 'font-size': LABEL_FONT, fill: '#666' }),
        );
        return;
      }
      const barTop = Math.min(y(bar.value), baseline);
      const barHeight = Math.abs(y(bar.value) - baseline);
      const color = colors.color(name);
      bars.push(
        el(
          'rect',
          {
            class: 'bar',
            x,
            y: barTop,
            width: barWidth,
            height: barHeight,
            fill: color,
            'data-series': name,
            'data-group': group.label,
          },
          tooltip(`${group.label} — ${name}: ${describe(bar, unit)}`),
        ),
      );
      let reachUp = barTop;
      let reachDown = barTop + barHeight;
      if (isFiniteNumber(bar.low) && isFiniteNumber(bar.high)) {
        const yLow = y(Math.min(bar.low, bar.high));
        const yHigh = y(Math.max(bar.low, bar.high));
        whiskers.push(errorBar(cx, yLow, yHigh, Math.min(barWidth * 0.5, 10), '#222'));
        reachUp = Math.min(reachUp, yHigh);
        reachDown = Math.max(reachDown, yLow);
      }
      if (labelMode !== 'none')
        labels.push(
          valueLabel(formatChartValue(bar.value, unit), cx, bar.value >= 0, reachUp, reachDown, labelMode),
        );
    });
  });

  const groupLabels = groups.map((group, gi) =>
    groupLabel(group.label, labelsOf, gi, left + (gi + 0.5) * groupWidth, top + PLOT_HEIGHT),
  );

  const body = [
    yAxis(plot, ticks.values, y, tickLabel, section.yLabel),
    el('g', { class: 'bars' }, bars.join('')),
    el('line', { x1: left, y1: baseline, x2: left + plotWidth, y2: baseline, stroke: '#444' }),
    el('g', { class: 'error-bars' }, whiskers.join('')),
    el('g', { class: 'values' }, labels.join('')),
    el('g', { class: 'groups' }, groupLabels.join('')),
    legendBox.svg,
  ].join('');
  return svgRoot(WIDTH, height, section.title, body);
}

function describe(bar: Bar, unit?: '%'): string {
  return formatInterval(
    { value: bar.value, low: bar.low ?? NaN, high: bar.high ?? NaN },
    unit === '%' ? 'percent' : 'number',
  );
}

/** A value above a positive bar (below a negative one), clear of its error bar. */
function valueLabel(
  label: string,
  cx: number,
  positive: boolean,
  reachUp: number,
  reachDown: number,
  mode: 'flat' | 'upright',
): string {
  const paint = { 'font-size': LABEL_FONT, fill: '#222' };
  if (mode === 'flat') {
    const ty = positive ? reachUp - 4 : reachDown + 11;
    return text(cx, ty, label, { 'text-anchor': 'middle', ...paint });
  }
  const ty = positive ? reachUp - 4 : reachDown + 4;
  const tx = cx + LABEL_FONT * 0.35;
  return text(tx, ty, label, {
    'text-anchor': positive ? 'start' : 'end',
    transform: `rotate(-90 ${num(tx)} ${num(ty)})`,
    ...paint,
  });
}

interface GroupLabels {
  /** Too long to wrap into two lines under their group: written on a slant instead. */
  slant: boolean;
  lines: string[][];
  cut: boolean[];
  /** Room they need under the plot. */
  depth: number;
}

function layoutGroupLabels(labels: string[], groupWidth: number): GroupLabels {
  const wrapped = labels.map((l) => wrapLabel(l, groupWidth / (GROUP_FONT * 0.58) - 1));
  if (wrapped.every((w) => !w.cut && !w.split)) {
    const lines = wrapped.map((w) => w.lines);
    return {
      slant: false,
      lines,
      cut: labels.map(() => false),
      depth: 18 + Math.max(1, ...lines.map((l) => l.length)) * 13,
    };
  }
  const lines = labels.map((l) => [truncate(l, MAX_SLANT_CHARS)]);
  const widest = Math.max(...lines.map((l) => textWidth(l[0] ?? '', GROUP_FONT)));
  return {
    slant: true,
    lines,
    cut: labels.map((l) => l.length > MAX_SLANT_CHARS),
    depth: 14 + widest * SIN + GROUP_FONT * COS + 6,
  };
}

/** A group's label under its bars; the full text goes in a tooltip when it had to be shortened. */
function groupLabel(
  label: string,
  layout: GroupLabels,
  index: number,
  cx: number,
  plotBottom: number,
): string {
  const lines = layout.lines[index] ?? [];
  const full = layout.cut[index] ? tooltip(label) : '';
  const paint = { 'font-size': GROUP_FONT, fill: '#222' };
  if (layout.slant) {
    const y = plotBottom + 14;
    return el(
      'text',
      { x: cx, y, 'text-anchor': 'end', transform: `rotate(-${SLANT} ${num(cx)} ${num(y)})`, ...paint },
      escapeHtml(lines[0] ?? '') + full,
    );
  }
  const spans = lines
    .map((line, i) => el('tspan', { x: cx, dy: i === 0 ? 0 : 13 }, escapeHtml(line)))
    .join('');
  return el('text', { x: cx, y: plotBottom + 17, 'text-anchor': 'middle', ...paint }, spans + full);
}

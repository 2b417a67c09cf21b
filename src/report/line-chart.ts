import { errorBar, xAxis, yAxis, type Plot } from './axis.js';
import { formatChartValue, formatInterval, isFiniteNumber } from './format.js';
import { SeriesColors } from './palette.js';
import {
  linearScale,
  logScale,
  logTickLabel,
  logTicks,
  niceTicks,
  tickLabeler,
  valueTicks,
} from './scale.js';
import { NO_DATA, el, legend, marker, num, svgRoot, textWidth, tooltip } from './svg.js';
import type { LineChartSection, LinePoint } from './types.js';

const WIDTH = 720;
const PLOT_HEIGHT = 260;

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/**
 * One line per series through its points sorted by x, a marker (shape and colour per series) at each point,
 * error bars where a point has an interval. A point whose y is missing breaks the line instead of being
 * bridged, so a gap in the data shows as a gap.
 */
export function renderLineChart(section: LineChartSection, colors = new SeriesColors()): string {
  const log = section.xScale === 'log';
  let dropped = 0;
  const series = (section.series ?? []).map((s) => {
    colors.index(s.name);
    const points = (s.points ?? []).filter((p) => {
      if (!isFiniteNumber(p.x)) return false;
      if (log && p.x <= 0) dropped++;
      return !(log && p.x <= 0);
    });
    // filter made a copy: sorting it leaves the caller's array alone.
    return { name: s.name, points: points.sort((a, b) => a.x - b.x) };
  });
  const droppedNote =
    dropped > 0
      ? `<p class="note">${dropped} point${dropped === 1 ? '' : 's'} with x ≤ 0 ${dropped === 1 ? 'is' : 'are'} not shown on the log scale.</p>`
      : '';
  const ys = series.flatMap((s) => s.points.flatMap((p) => [p.y, p.low, p.high])).filter(isFiniteNumber);
  const xs = series.flatMap((s) => s.points.filter((p) => isFiniteNumber(p.y)).map((p) => p.x));
  if (xs.length === 0) return NO_DATA + droppedNote;

  const unit = section.unit;
  const yTicks = valueTicks(ys, { unit, min: section.yMin, max: section.yMax });
  const yLabel = tickLabeler(yTicks, unit);
  const xTicks = log
    ? logTicks(Math.min(...xs), Math.max(...xs))
    : niceTicks(Math.min(...xs), Math.max(...xs));
  const xLabel = log ? logTickLabel : tickLabeler(xTicks);

  const left = 28 + Math.max(...yTicks.values.map((v) => textWidth(yLabel(v), 11))) + 8;
  const lastX = xTicks.values[xTicks.values.length - 1] ?? xTicks.max;
  const right = Math.max(16, textWidth(xLabel(lastX), 11) / 2 + 4);
  const plotWidth = WIDTH - left - right;
  const legendBox =
    series.length > 1
      ? legend(
          series.map((s) => ({ name: s.name, color: colors.color(s.name), marker: colors.marker(s.name) })),
          left,
          12,
          plotWidth,
        )
      : { svg: '', height: 0 };
  const top = 6 + legendBox.height + 10;
  const plot: Plot = { left, top, width: plotWidth, height: PLOT_HEIGHT };
  const height = top + PLOT_HEIGHT + 46;

  const xRaw = (log ? logScale : linearScale)([xTicks.min, xTicks.max], [left, left + plotWidth]);
  const yRaw = linearScale([yTicks.min, yTicks.max], [top + PLOT_HEIGHT, top]);
  const x = (v: number) => xRaw(clamp(v, xTicks.min, xTicks.max));
  const y = (v: number) => yRaw(clamp(v, yTicks.min, yTicks.max));

  const whiskers: string[] = [];
  const lines: string[] = [];
  const markers: string[] = [];
  for (const s of series) {
    const color = colors.color(s.name);
    const shape = colors.marker(s.name);
    const segments: LinePoint[][] = [[]];
    for (const p of s.points) {
      if (isFiniteNumber(p.y)) (segments[segments.length - 1] as LinePoint[]).push(p);
      else if ((segments[segments.length - 1] as LinePoint[]).length > 0) segments.push([]);
    }
    const d = segments
      .filter((seg) => seg.length > 1)
      .map((seg) => `M${seg.map((p) => `${num(x(p.x))} ${num(y(p.y))}`).join('L')}`)
      .join('');
    if (d) {
      lines.push(
        el('path', {
          class: 'line',
          d,
          fill: 'none',
          stroke: color,
          'stroke-width': 2,
          'data-series': s.name,
        }),
      );
    }
    for (const p of s.points) {
      if (!isFiniteNumber(p.y)) continue;
      if (isFiniteNumber(p.low) && isFiniteNumber(p.high)) {
        whiskers.push(errorBar(x(p.x), y(Math.min(p.low, p.high)), y(Math.max(p.low, p.high)), 7, color));
      }
      const value = formatInterval(
        { value: p.y, low: p.low ?? NaN, high: p.high ?? NaN },
        unit === '%' ? 'percent' : 'number',
      );
      markers.push(
        el(
          'g',
          { class: 'marker', transform: `translate(${num(x(p.x))} ${num(y(p.y))})`, 'data-series': s.name },
          marker(shape, color) +
            tooltip(`${s.name} — ${section.xLabel}: ${formatChartValue(p.x)}, ${section.yLabel}: ${value}`),
        ),
      );
    }
  }

  const body = [
    yAxis(plot, yTicks.values, y, yLabel, section.yLabel),
    xAxis(plot, xTicks.values, x, xLabel, section.xLabel),
    el('g', { class: 'error-bars', opacity: 0.75 }, whiskers.join('')),
    el('g', { class: 'lines' }, lines.join('')),
    el('g', { class: 'markers' }, markers.join('')),
    legendBox.svg,
  ].join('');
  return svgRoot(WIDTH, height, section.title, body) + droppedNote;
}

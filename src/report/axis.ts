import type { ScaleFn } from './scale.js';
import { el, num, text, textWidth } from './svg.js';

/** The plotting area inside a chart's margins. */
export interface Plot {
  left: number;
  top: number;
  width: number;
  height: number;
}

const GRID = '#e2e2e2';
const INK = '#444';

/** Horizontal grid lines with tick labels on the left and the axis title turned upright along them. */
export function yAxis(
  plot: Plot,
  ticks: number[],
  y: ScaleFn,
  label: (v: number) => string,
  title: string,
): string {
  const parts: string[] = [];
  for (const t of ticks) {
    const ty = y(t);
    parts.push(el('line', { x1: plot.left, y1: ty, x2: plot.left + plot.width, y2: ty, stroke: GRID }));
    parts.push(text(plot.left - 6, ty + 4, label(t), { 'text-anchor': 'end', 'font-size': 11, fill: INK }));
  }
  // The title sits just left of the widest tick label, wherever the margin put the plot.
  const widest = Math.max(0, ...ticks.map((t) => textWidth(label(t), 11)));
  const cx = Math.max(14, plot.left - widest - 18);
  const cy = plot.top + plot.height / 2;
  parts.push(
    text(cx, cy, title, {
      'text-anchor': 'middle',
      'font-size': 12,
      fill: '#222',
      transform: `rotate(-90 ${num(cx)} ${num(cy)})`,
    }),
  );
  return el('g', { class: 'y-axis' }, parts.join(''));
}

/** Tick marks and labels under the plot, light vertical grid lines, and the axis title below them. */
export function xAxis(
  plot: Plot,
  ticks: number[],
  x: ScaleFn,
  label: (v: number) => string,
  title: string,
): string {
  const bottom = plot.top + plot.height;
  const parts: string[] = [];
  for (const t of ticks) {
    const tx = x(t);
    parts.push(el('line', { x1: tx, y1: plot.top, x2: tx, y2: bottom, stroke: GRID }));
    parts.push(el('line', { x1: tx, y1: bottom, x2: tx, y2: bottom + 4, stroke: INK }));
    parts.push(text(tx, bottom + 17, label(t), { 'text-anchor': 'middle', 'font-size': 11, fill: INK }));
  }
  parts.push(el('line', { x1: plot.left, y1: bottom, x2: plot.left + plot.width, y2: bottom, stroke: INK }));
  parts.push(
    text(plot.left + plot.width / 2, bottom + 36, title, {
      'text-anchor': 'middle',
      'font-size': 12,
      fill: '#222',
    }),
  );
  return el('g', { class: 'x-axis' }, parts.join(''));
}

/** A vertical error bar from y(low) to y(high) with short caps; `class="err"` marks the span for tests. */
export function errorBar(cx: number, yLow: number, yHigh: number, capWidth: number, color: string): string {
  const half = capWidth / 2;
  const paint = { stroke: color, 'stroke-width': 1.3 };
  return el(
    'g',
    { class: 'err-bar' },
    el('line', { class: 'err', x1: cx, y1: yHigh, x2: cx, y2: yLow, ...paint }) +
      el('line', { x1: cx - half, y1: yHigh, x2: cx + half, y2: yHigh, ...paint }) +
      el('line', { x1: cx - half, y1: yLow, x2: cx + half, y2: yLow, ...paint }),
  );
}

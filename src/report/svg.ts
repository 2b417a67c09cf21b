import { escapeHtml } from './escape.js';
import type { MarkerShape } from './palette.js';

export type Attrs = Record<string, string | number | undefined>;

/** A coordinate for an attribute: two decimals, and never "NaN" or "Infinity" (those would break the SVG). */
export function num(value: number): string {
  if (!Number.isFinite(value)) return '0';
  const rounded = Math.round(value * 100) / 100;
  return String(rounded === 0 ? 0 : rounded);
}

/** One element; numbers go through num, strings are escaped, undefined attributes are left out. */
export function el(name: string, attrs: Attrs, content?: string): string {
  let out = `<${name}`;
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    out += ` ${key}="${typeof value === 'number' ? num(value) : escapeHtml(value)}"`;
  }
  return content === undefined ? `${out}/>` : `${out}>${content}</${name}>`;
}

/** A text element with escaped content. */
export function text(x: number, y: number, content: string, attrs: Attrs = {}): string {
  return el('text', { x, y, ...attrs }, escapeHtml(content));
}

/** A tooltip (shown on hover by browsers, read by screen readers; no script involved). */
export function tooltip(content: string): string {
  return el('title', {}, escapeHtml(content));
}

/** Rough width of a label in the charts' sans-serif font; enough to lay labels out without measuring. */
export function textWidth(s: string, fontSize: number): number {
  return s.length * fontSize * 0.58;
}

export const FONT = 'system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif';

/** The outer svg: scales to its container, keeps its own font so that it also reads well when copied out. */
export function svgRoot(width: number, height: number, label: string, body: string): string {
  return el(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      class: 'chart',
      viewBox: `0 0 ${num(width)} ${num(height)}`,
      width,
      height,
      role: 'img',
      'aria-label': label,
      'font-family': FONT,
    },
    tooltip(label) + body,
  );
}

/** A marker centred on (0, 0), to be placed with a translate. */
export function marker(shape: MarkerShape, color: string, size = 4): string {
  const s = size;
  const paint = { fill: color, stroke: '#fff', 'stroke-width': 1 };
  switch (shape) {
    case 'circle':
      return el('circle', { cx: 0, cy: 0, r: s, ...paint });
    case 'square':
      return el('rect', { x: -s * 0.9, y: -s * 0.9, width: s * 1.8, height: s * 1.8, ...paint });
    case 'triangle':
      return el('path', {
        d: `M0 ${num(-s * 1.15)}L${num(s * 1.1)} ${num(s * 0.8)}H${num(-s * 1.1)}Z`,
        ...paint,
      });
    case 'triangle-down':
      return el('path', {
        d: `M0 ${num(s * 1.15)}L${num(s * 1.1)} ${num(-s * 0.8)}H${num(-s * 1.1)}Z`,
        ...paint,
      });
    case 'diamond':
      return el('path', {
        d: `M0 ${num(-s * 1.3)}L${num(s * 1.1)} 0L0 ${num(s * 1.3)}L${num(-s * 1.1)} 0Z`,
        ...paint,
      });
    case 'cross':
      return el('path', {
        d: `M${num(-s)} ${num(-s)}L${num(s)} ${num(s)}M${num(-s)} ${num(s)}L${num(s)} ${num(-s)}`,
        stroke: color,
        'stroke-width': 2.2,
        fill: 'none',
      });
  }
}

export interface LegendItem {
  name: string;
  color: string;
  /** Line charts show a line with the series' marker; bar charts a filled square. */
  marker?: MarkerShape;
}

const LEGEND_ROW = 18;

/** A legend laid out in rows from (x, y), wrapping at maxWidth. */
export function legend(
  items: LegendItem[],
  x: number,
  y: number,
  maxWidth: number,
): { svg: string; height: number } {
  let cx = x;
  let row = 0;
  const parts: string[] = [];
  for (const item of items) {
    const swatch = item.marker ? 22 : 12;
    // A very long name would run off the chart: shorten it, the full name stays in a tooltip.
    const name = truncate(item.name, 48);
    const width = swatch + 6 + textWidth(name, 12) + 18;
    if (cx > x && cx + width - 18 > x + maxWidth) {
      cx = x;
      row++;
    }
    const cy = y + row * LEGEND_ROW;
    if (item.marker) {
      parts.push(
        el('line', { x1: cx, y1: cy, x2: cx + swatch, y2: cy, stroke: item.color, 'stroke-width': 2 }),
      );
      parts.push(
        el(
          'g',
          { transform: `translate(${num(cx + swatch / 2)} ${num(cy)})` },
          marker(item.marker, item.color),
        ),
      );
    } else {
      parts.push(el('rect', { x: cx, y: cy - 6, width: 12, height: 12, fill: item.color }));
    }
    const full = name === item.name ? '' : tooltip(item.name);
    parts.push(
      el('text', { x: cx + swatch + 6, y: cy + 4, 'font-size': 12, fill: '#222' }, escapeHtml(name) + full),
    );
    cx += width;
  }
  return {
    svg: el('g', { class: 'legend' }, parts.join('')),
    height: items.length ? (row + 1) * LEGEND_ROW : 0,
  };
}

/**
 * Splits a label into at most `maxLines` lines of `maxChars`, ending in '…' when it had to be cut; `split`
 * says a word longer than a line had to be broken.
 */
export function wrapLabel(
  label: string,
  maxChars: number,
  maxLines = 2,
): { lines: string[]; cut: boolean; split: boolean } {
  const width = Math.max(3, Math.floor(maxChars));
  const lines: string[] = [];
  let line = '';
  let split = false;
  for (const word of label.split(/\s+/).filter(Boolean)) {
    let rest = word;
    while (rest.length > 0) {
      const candidate = line ? `${line} ${rest}` : rest;
      if (candidate.length <= width) {
        line = candidate;
        rest = '';
      } else if (line) {
        lines.push(line);
        line = '';
      } else {
        split = true;
        lines.push(rest.slice(0, width));
        rest = rest.slice(width);
      }
    }
  }
  if (line) lines.push(line);
  if (lines.length <= maxLines) return { lines, cut: false, split };
  const kept = lines.slice(0, maxLines);
  const last = kept[maxLines - 1] ?? '';
  kept[maxLines - 1] = `${last.slice(0, width - 1)}…`;
  return { lines: kept, cut: true, split };
}

/** What an empty chart or table shows instead. */
export const NO_DATA = '<p class="no-data">No data.</p>';

/** At most `maxChars` characters, the last one '…' when cut. */
export function truncate(label: string, maxChars: number): string {
  return label.length <= maxChars ? label : `${label.slice(0, Math.max(1, maxChars - 1)).trimEnd()}…`;
}

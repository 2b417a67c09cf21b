import { escapeHtml } from './escape.js';
import { DASH, formatNumber, isFiniteNumber } from './format.js';
import { NO_DATA } from './svg.js';
import type { KeyValuesSection, TextSection } from './types.js';

export function renderText(section: TextSection): string {
  return (section.paragraphs ?? []).map((p) => `<p>${escapeHtml(p)}</p>`).join('\n');
}

function valueText(value: KeyValuesSection['entries'][number][1]): string {
  if (value === null || value === undefined) return DASH;
  if (typeof value === 'number') return isFiniteNumber(value) ? formatNumber(value) : DASH;
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return value;
}

/** Run metadata as a two-column list of terms and values. */
export function renderKeyValues(section: KeyValuesSection): string {
  const entries = section.entries ?? [];
  if (entries.length === 0) return NO_DATA;
  const items = entries.map(
    ([key, value]) => `<dt>${escapeHtml(key)}</dt><dd>${escapeHtml(valueText(value))}</dd>`,
  );
  return `<dl class="kv">\n${items.join('\n')}\n</dl>`;
}

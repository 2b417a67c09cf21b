import { escapeHtml } from './escape.js';
import { cellNumber, formatCell, isInterval } from './format.js';
import { NO_DATA } from './svg.js';
import type { Cell, TableColumn, TableSection } from './types.js';

function isNumeric(cell: Cell): boolean {
  return typeof cell === 'number' || isInterval(cell);
}

/** Right-aligned when every present cell is a number or an interval, so digits line up. */
function alignOf(column: TableColumn, rows: Record<string, Cell>[]): 'left' | 'right' {
  if (column.align) return column.align;
  const present = rows.map((r) => r[column.key]).filter((c) => c !== null && c !== undefined);
  return present.length > 0 && present.every(isNumeric) ? 'right' : 'left';
}

/** The best value of a column, when it asks for one and at least two rows can compete. */
function bestOf(column: TableColumn, rows: Record<string, Cell>[]): number | undefined {
  if (!column.best) return undefined;
  const values = rows.map((r) => cellNumber(r[column.key])).filter((v): v is number => v !== undefined);
  if (values.length < 2) return undefined;
  return column.best === 'max' ? Math.max(...values) : Math.min(...values);
}

export function renderTable(section: TableSection): string {
  const { columns, rows } = section;
  if (!columns?.length || !rows?.length) return NO_DATA;
  const align = columns.map((c) => alignOf(c, rows));
  const best = columns.map((c) => bestOf(c, rows));
  const cls = (i: number) => (align[i] === 'right' ? 'r' : 'l');

  const head = columns
    .map((c, i) => `<th class="${cls(i)}" scope="col">${escapeHtml(c.label)}</th>`)
    .join('');
  const body = rows
    .map((row) => {
      const cells = columns.map((column, i) => {
        const cell = row[column.key];
        const shown = escapeHtml(formatCell(cell, column.format, column.digits));
        const value = cellNumber(cell);
        const classes = [cls(i)];
        if (value === undefined && typeof cell !== 'string') classes.push('missing');
        const target = best[i];
        if (
          target !== undefined &&
          value !== undefined &&
          Math.abs(value - target) <= 1e-12 * Math.max(1, Math.abs(target))
        ) {
          classes.push('best');
          return `<td class="${classes.join(' ')}"><strong>${shown}</strong></td>`;
        }
        return `<td class="${classes.join(' ')}">${shown}</td>`;
      });
      return `<tr>${cells.join('')}</tr>`;
    })
    .join('\n');
  const bold = best.some((b) => b !== undefined)
    ? '<p class="note">Bold: the best value in its column.</p>'
    : '';
  return `<div class="table-wrap"><table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table></div>${bold}`;
}

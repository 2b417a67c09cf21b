import { describe, expect, it } from 'vitest';
import { renderKeyValues, renderText } from '../../src/report/blocks.js';
import { renderTable } from '../../src/report/table.js';
import type { TableSection } from '../../src/report/types.js';
import { tagProblem, tags } from './helpers.js';

const results: TableSection = {
  kind: 'table',
  title: 'Results',
  columns: [
    { key: 'method', label: 'Method' },
    { key: 'acc', label: 'Accuracy', format: 'percent', best: 'max' },
    { key: 'tokens', label: 'Tokens', best: 'min' },
  ],
  rows: [
    { method: 'repeat', acc: { value: 0.231, low: 0.212, high: 0.25 }, tokens: 2_000_000 },
    { method: 'ar', acc: { value: 0.662, low: 0.641, high: 0.683 }, tokens: 1_500_000 },
    { method: 'qa', acc: { value: NaN, low: NaN, high: NaN }, tokens: undefined },
  ],
};

/** Rows of cells as [class, text] with tags stripped. */
function cells(html: string): [string, string][][] {
  return [...html.matchAll(/<tr>([\s\S]*?)<\/tr>/g)]
    .slice(1)
    .map((row) =>
      [...(row[1] ?? '').matchAll(/<td class="([^"]*)">([\s\S]*?)<\/td>/g)].map(
        (m) => [m[1] ?? '', (m[2] ?? '').replace(/<[^>]+>/g, '')] as [string, string],
      ),
    );
}

describe('table', () => {
  it('formats intervals, numbers and missing cells', () => {
    const rows = cells(renderTable(results));
    expect(rows.map((r) => r.map((c) => c[1]))).toEqual([
      ['repeat', '23.1% (21.2–25.0)', '2,000,000'],
      ['ar', '66.2% (64.1–68.3)', '1,500,000'],
      ['qa', '–', '–'],
    ]);
    expect(rows[2]?.[1]?.[0]).toContain('missing');
  });

  it('sets the best value of a column in bold', () => {
    const html = renderTable(results);
    const rows = cells(html);
    expect(rows[1]?.[1]?.[0]).toContain('best'); // highest accuracy
    expect(rows[1]?.[2]?.[0]).toContain('best'); // fewest tokens
    expect(rows[0]?.[1]?.[0]).not.toContain('best');
    expect(html).toContain('<strong>66.2% (64.1–68.3)</strong>');
    expect(html).toContain('Bold: the best value in its column.');
  });

  it('marks ties and skips a column with a single value', () => {
    const html = renderTable({
      kind: 'table',
      title: 't',
      columns: [
        { key: 'a', label: 'A', best: 'max' },
        { key: 'b', label: 'B', best: 'max' },
      ],
      rows: [{ a: 1, b: 3 }, { a: 1 }, { a: 0.5 }],
    });
    const rows = cells(html);
    expect(rows.map((r) => r[0]?.[0].includes('best'))).toEqual([true, true, false]);
    expect(rows[0]?.[1]?.[0]).not.toContain('best');
  });

  it('right-aligns numeric columns and left-aligns text', () => {
    const html = renderTable(results);
    expect(tags(html, 'th').map((t) => t.class)).toEqual(['l', 'r', 'r']);
    const explicit = renderTable({ ...results, columns: [{ key: 'acc', label: 'A', align: 'left' }] });
    expect(tags(explicit, 'th')[0]?.class).toBe('l');
  });

  it('escapes labels and cells and stays well formed', () => {
    const html = renderTable({
      kind: 'table',
      title: 't',
      columns: [{ key: 'x', label: '<script>alert(1)</script>' }],
      rows: [{ x: '<img src=x onerror=alert(1)>' }],
    });
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;');
    expect(tagProblem(html)).toBeUndefined();
  });

  it('says "No data" for a table without rows', () => {
    expect(renderTable({ ...results, rows: [] })).toContain('No data');
  });
});

describe('text and key-values', () => {
  it('writes paragraphs, escaped', () => {
    expect(renderText({ kind: 'text', paragraphs: ['a < b', 'c'] })).toBe('<p>a &lt; b</p>\n<p>c</p>');
  });

  it('writes entries as a definition list with readable values', () => {
    const html = renderKeyValues({
      kind: 'key-values',
      entries: [
        ['model', 'SmolLM2-135M'],
        ['questions', 1234],
        ['simulation', true],
        ['grader', null],
        ['score', NaN],
      ],
    });
    expect(html).toContain('<dt>model</dt><dd>SmolLM2-135M</dd>');
    expect(html).toContain('<dd>1,234</dd>');
    expect(html).toContain('<dt>simulation</dt><dd>yes</dd>');
    expect(html).toContain('<dt>grader</dt><dd>–</dd>');
    expect(html).toContain('<dt>score</dt><dd>–</dd>');
    expect(renderKeyValues({ kind: 'key-values', entries: [] })).toContain('No data');
  });
});

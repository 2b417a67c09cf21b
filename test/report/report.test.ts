import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderReport, writeReport, type Report, type Section } from '../../src/report/index.js';
import { svgs, tagProblem, tags, withClass } from './helpers.js';

const HOSTILE = `<script>alert("x")</script>" onload="alert(1)`;

function fullReport(text: string, value: number): Report {
  return {
    title: `Report ${text}`,
    subtitle: `subtitle ${text}`,
    generatedAt: `2025-01-01 ${text}`,
    notice: `Simulation ${text}`,
    sections: [
      {
        kind: 'key-values',
        title: `Run ${text}`,
        entries: [
          [`model ${text}`, `m ${text}`],
          ['n', value],
        ],
      },
      { kind: 'text', title: `About ${text}`, paragraphs: [`para ${text}`] },
      {
        kind: 'table',
        title: `Table ${text}`,
        columns: [
          { key: 'm', label: `Method ${text}` },
          { key: 'a', label: `Acc ${text}`, format: 'percent', best: 'max' },
        ],
        rows: [
          { m: `ar ${text}`, a: { value, low: value, high: value } },
          { m: 'qa', a: value },
        ],
        note: `note ${text}`,
      },
      {
        kind: 'bar-chart',
        title: `Bars ${text}`,
        yLabel: `y ${text}`,
        unit: '%',
        groups: [
          {
            label: `group ${text}`,
            bars: [
              { series: `ar ${text}`, value, low: value, high: value },
              { series: 'qa', value: 0.3, low: value, high: 0.4 },
            ],
          },
        ],
        note: `bar note ${text}`,
      },
      {
        kind: 'line-chart',
        title: `Lines ${text}`,
        xLabel: `x ${text}`,
        yLabel: `y ${text}`,
        xScale: 'log',
        series: [
          {
            name: `ar ${text}`,
            points: [
              { x: value, y: value, low: value, high: value },
              { x: 1e6, y: 0.2 },
              { x: 1e7, y: value },
              { x: 1e8, y: 0.4, low: 0.35, high: value },
            ],
          },
          { name: 'qa', points: [{ x: 1e6, y: 0.1 }] },
        ],
      },
    ],
  };
}

describe('renderReport', () => {
  it('is one self-contained, well-formed document', () => {
    const html = renderReport(fullReport('ok', 0.5));
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.match(/<html/g)).toHaveLength(1);
    for (const banned of [
      '<script',
      'src="http',
      "src='http",
      'href="http',
      '<link',
      '@import',
      'url(',
      '<iframe',
    ]) {
      expect(html).not.toContain(banned);
    }
    expect(html).toContain('<style>');
    expect(svgs(html)).toHaveLength(2);
    for (const svg of svgs(html)) expect(tagProblem(svg)).toBeUndefined();
    expect(tagProblem(html)).toBeUndefined();
    expect(html.match(/<section /g)).toHaveLength(5);
  });

  it('escapes every user-provided string', () => {
    const html = renderReport(fullReport(HOSTILE, 0.5));
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;');
    // The quote cannot end an attribute and start a new one.
    expect(html).not.toMatch(/\sonload="/);
    for (const name of ['rect', 'path', 'g', 'text', 'line', 'svg']) {
      for (const attrs of tags(html, name)) expect(attrs).not.toHaveProperty('onload');
    }
    expect(tagProblem(html)).toBeUndefined();
  });

  it('never writes NaN or Infinity, whatever the numbers', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const html = renderReport(fullReport('x', bad));
      expect(html).not.toMatch(/NaN|Infinity/);
      expect(html).toContain('–');
      expect(tagProblem(html)).toBeUndefined();
    }
  });

  it('gives a series the same colour in every chart of the report', () => {
    const bar: Section = {
      kind: 'bar-chart',
      title: 'b',
      yLabel: 'y',
      groups: [
        {
          label: 'g',
          bars: [
            { series: 'paraphrase', value: 1 },
            { series: 'ar', value: 2 },
          ],
        },
      ],
    };
    const line: Section = {
      kind: 'line-chart',
      title: 'l',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          name: 'ar',
          points: [
            { x: 1, y: 1 },
            { x: 2, y: 2 },
          ],
        },
        {
          name: 'paraphrase',
          points: [
            { x: 1, y: 0 },
            { x: 2, y: 1 },
          ],
        },
      ],
    };
    const html = renderReport({ title: 't', sections: [bar, line] });
    const barFill = (s: string) => withClass(html, 'rect', 'bar').find((r) => r['data-series'] === s)?.fill;
    const lineStroke = (s: string) =>
      withClass(html, 'path', 'line').find((p) => p['data-series'] === s)?.stroke;
    expect(barFill('ar')).toBe(lineStroke('ar'));
    expect(barFill('paraphrase')).toBe(lineStroke('paraphrase'));
    expect(barFill('ar')).not.toBe(barFill('paraphrase'));

    // seriesOrder pins colours across reports whatever order the data comes in.
    const pinned = renderReport({ title: 't', seriesOrder: ['ar', 'paraphrase'], sections: [bar] });
    const alone = renderReport({ title: 't', seriesOrder: ['ar', 'paraphrase'], sections: [line] });
    expect(withClass(pinned, 'rect', 'bar').find((r) => r['data-series'] === 'ar')?.fill).toBe(
      withClass(alone, 'path', 'line').find((p) => p['data-series'] === 'ar')?.stroke,
    );
  });

  it('renders empty charts and reports as short notes', () => {
    const html = renderReport({
      title: 'empty',
      sections: [
        { kind: 'bar-chart', title: 'b', yLabel: 'y', groups: [] },
        { kind: 'line-chart', title: 'l', xLabel: 'x', yLabel: 'y', series: [] },
      ],
    });
    expect(html.match(/No data\./g)).toHaveLength(2);
    expect(renderReport({ title: 'none', sections: [] })).toContain('<h1>none</h1>');
  });

  it('refuses an unknown section kind by name', () => {
    const bad = { kind: 'pie-chart', title: 'p' } as unknown as Section;
    expect(() => renderReport({ title: 't', sections: [bad] })).toThrow('"pie-chart"');
  });
});

describe('writeReport', () => {
  it('writes the rendered report atomically, creating the folder', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ar-report-'));
    try {
      const file = path.join(dir, 'run', 'report.html');
      const report = fullReport('file', 0.5);
      await writeReport(file, report);
      expect(await fs.readFile(file, 'utf8')).toBe(renderReport(report));
      await writeReport(file, { ...report, title: 'second' });
      expect(await fs.readFile(file, 'utf8')).toContain('<h1>second</h1>');
      expect(await fs.readdir(path.join(dir, 'run'))).toEqual(['report.html']);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

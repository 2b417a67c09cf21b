import { renderBarChart } from './bar-chart.js';
import { renderKeyValues, renderText } from './blocks.js';
import { escapeHtml } from './escape.js';
import { renderLineChart } from './line-chart.js';
import { SeriesColors } from './palette.js';
import { STYLE } from './style.js';
import { renderTable } from './table.js';
import type { Report, Section } from './types.js';

/** The series a section draws, in drawing order: they claim colours before anything later in the report. */
function seriesOf(section: Section): string[] {
  if (section.kind === 'bar-chart') return (section.groups ?? []).flatMap((g) => g.bars.map((b) => b.series));
  if (section.kind === 'line-chart') return (section.series ?? []).map((s) => s.name);
  return [];
}

function body(section: Section, colors: SeriesColors): string {
  switch (section.kind) {
    case 'table':
      return renderTable(section);
    case 'bar-chart':
      return renderBarChart(section, colors);
    case 'line-chart':
      return renderLineChart(section, colors);
    case 'text':
      return renderText(section);
    case 'key-values':
      return renderKeyValues(section);
    default: {
      // A caller outside TypeScript passed something else: say what, rather than drop it silently.
      const kind = (section as { kind?: unknown }).kind;
      throw new Error(`renderSection: unknown section kind ${JSON.stringify(kind)}`);
    }
  }
}

/** One section as an HTML <section>: its title, its content, its note. */
export function renderSection(section: Section, colors = new SeriesColors(seriesOf(section))): string {
  const title = section.title ? `<h2>${escapeHtml(section.title)}</h2>\n` : '';
  const note = 'note' in section && section.note ? `\n<p class="note">${escapeHtml(section.note)}</p>` : '';
  return `<section class="${section.kind}">\n${title}${body(section, colors)}${note}\n</section>`;
}

/** The whole report as one self-contained HTML document: inline CSS and SVG, no script, nothing fetched. */
export function renderReport(report: Report): string {
  const sections = report.sections ?? [];
  const colors = new SeriesColors([...(report.seriesOrder ?? []), ...sections.flatMap(seriesOf)]);
  const header = [
    `<h1>${escapeHtml(report.title)}</h1>`,
    report.subtitle ? `<p class="subtitle">${escapeHtml(report.subtitle)}</p>` : '',
    report.generatedAt ? `<p class="meta">Generated ${escapeHtml(report.generatedAt)}</p>` : '',
  ]
    .filter(Boolean)
    .join('\n');
  const notice = report.notice ? `<p class="notice">${escapeHtml(report.notice)}</p>\n` : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="active-reading">
<title>${escapeHtml(report.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header>
${header}
</header>
${notice}${sections.map((s) => renderSection(s, colors)).join('\n')}
</main>
</body>
</html>
`;
}

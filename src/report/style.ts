/**
 * The report's only stylesheet, inlined in <head>: system fonts (nothing to download), black on white,
 * thin booktabs-style table rules, and print rules that keep sections whole and chart colours on paper.
 */
export const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: #1b1b1b;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 960px; margin: 0 auto; padding: 32px 24px 48px; }
header { border-bottom: 2px solid #1b1b1b; margin-bottom: 24px; padding-bottom: 12px; }
h1 { font-size: 26px; line-height: 1.25; margin: 0 0 4px; }
h2 { font-size: 18px; line-height: 1.3; margin: 0 0 10px; }
.subtitle { margin: 0; color: #444; font-size: 16px; }
.meta { margin: 6px 0 0; color: #666; font-size: 13px; }
.notice { margin: 0 0 24px; padding: 8px 12px; border: 1px solid #b07d00; border-left-width: 5px;
  background: #fff6dc; font-weight: 600; }
section { margin: 0 0 36px; break-inside: avoid; page-break-inside: avoid; }
p { margin: 0 0 8px; }
.note { color: #555; font-size: 13px; margin: 8px 0 0; }
.no-data { color: #666; font-style: italic; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 14px; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 12px; vertical-align: top; }
th { font-weight: 600; }
.l { text-align: left; }
.r { text-align: right; white-space: nowrap; }
thead th { border-top: 2px solid #1b1b1b; border-bottom: 1px solid #1b1b1b; }
tbody tr:last-child td { border-bottom: 2px solid #1b1b1b; }
tbody tr:nth-child(even) td { background: #f5f5f5; }
td.missing { color: #888; }
tbody td.best { background: #e4eff9; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 4px 20px; margin: 0; font-size: 14px; }
dl.kv dt { color: #555; }
dl.kv dd { margin: 0; overflow-wrap: anywhere; }
svg.chart { display: block; width: 100%; max-width: 720px; height: auto; }
@media print {
  @page { margin: 15mm; }
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;

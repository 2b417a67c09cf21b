import path from 'node:path';
import { buildComparisonReport, comparisonText, loadComparison } from '../eval/compare.js';
import { writeReport } from '../report/index.js';
import { UsageError, parseFlags } from './args.js';

export const COMPARE_HELP = `Usage: active-reading compare DIR... [--out FILE]

Puts several evaluations side by side: one row per "active-reading eval" output directory, in the order
given (e.g. base repeat paraphrase qa ar gold-context), printed as a table and written as an HTML report
with the table and a grouped bar chart.

  DIR...                 eval output directories (each holds summary.json)
  --out FILE             the HTML report (default compare.html)
  -h, --help             show this help
`;

/** The command's flags (parseArgs specs); --help documents every one. */
export const COMPARE_FLAGS = {
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function compareCommand(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, COMPARE_FLAGS, true);
  if (parsed.values.help) {
    process.stdout.write(COMPARE_HELP);
    return 0;
  }
  const dirs = parsed.positionals;
  if (dirs.length === 0) throw new UsageError('give one or more eval output directories');
  const out = parsed.values.out ?? 'compare.html';
  const comparison = await loadComparison(dirs);
  for (const warning of comparison.warnings) process.stderr.write(`warning: ${warning}\n`);
  await writeReport(out, buildComparisonReport(comparison));
  process.stdout.write(`${comparisonText(comparison)}report: ${path.resolve(out)}\n`);
  return 0;
}

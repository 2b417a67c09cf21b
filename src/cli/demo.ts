import { availableParallelism } from 'node:os';
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { buildDemoReport, demoCharts, demoTable } from '../demo/demo-report.js';
import { DEMO_METHODS, runDemo, type DemoMethod } from '../demo/run-demo.js';
import { DEMO_SIZE_NAMES, DEMO_SIZES } from '../demo/sizes.js';
import { BUILD_HINT, loadKernels } from '../engine/kernels/index.js';
import { writeReport } from '../report/index.js';
import { writeFileAtomic } from '../runtime/atomic-file.js';
import { UsageError, parseFlags, parseChoice, parseNumber, withInterrupts } from './args.js';

export const DEMO_HELP = `Usage: active-reading demo [--size small|medium|large] [--seed N] [--out DIR]

The whole pipeline offline, with no model file and no network: a seeded fictional world of people and their
biographies; study data for repeat, paraphrase, qa and ar under the same token budget, written by the real
study engine against a SIMULATED reader (a world-grounded stand-in for an LLM, labelled as such everywhere);
one small model trained from scratch per method on the TypeScript engine; closed-book questions about people
whose questions were never trained on. Prints the table and writes DIR/report.html (and its charts as
DIR/charts/*.svg). Interrupted, the same command resumes.

Options
  --size S               small (50 people), medium (default, 80 people) or large (200 people, a deeper model)
  --seed N               seed of the world, the study and the training (default 0)
  --out DIR              output folder (default ./active-reading-demo)
  --methods LIST         comma-separated subset of ${DEMO_METHODS.join(',')} (default: all)
  --kernels K            auto (default), native or ts
  --parallel N           methods trained at once, each in its own process, sharing out the cores (default:
                         one per core, at most 4; 1 trains them one after the other in this process)
  --threads N            kernel threads per method (default: the cores / --parallel)
  -h, --help             show this help
`;

const OPTIONS = {
  size: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  methods: { type: 'string' },
  kernels: { type: 'string' },
  threads: { type: 'string' },
  parallel: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, OPTIONS);
  if (values.help) {
    process.stdout.write(DEMO_HELP);
    return 0;
  }
  const size = DEMO_SIZES[parseChoice('--size', values.size, DEMO_SIZE_NAMES) ?? 'medium'];
  const methods = values.methods?.split(',').map((m) => m.trim());
  for (const m of methods ?? []) {
    if (!(DEMO_METHODS as readonly string[]).includes(m))
      throw new UsageError(`--methods: unknown method "${m}" (known: ${DEMO_METHODS.join(', ')})`);
  }
  const out = values.out ?? 'active-reading-demo';
  const seed = parseNumber('--seed', values.seed, { min: 0, integer: true }) ?? 0;
  const kernels = parseChoice('--kernels', values.kernels, ['auto', 'native', 'ts'] as const);
  const threads = parseNumber('--threads', values.threads, { min: 1, max: 1024, integer: true });
  // One method per core, the cores shared out: on the 2-core machine two methods side by side on one thread
  // each took 488 s where one after the other on two threads took 586 s (the small GEMMs split poorly), and
  // the TypeScript kernels use one thread anyway (bench/RESULTS.md).
  const tsKernels = loadKernels({ prefer: kernels ?? 'auto', log: () => {} }).name === 'ts';
  const parallel =
    parseNumber('--parallel', values.parallel, { min: 1, max: 64, integer: true }) ??
    Math.min(availableParallelism(), DEMO_METHODS.length);
  if (tsKernels) {
    process.stderr.write(
      `demo: warning: without the native kernels this demo trains about 2 times slower (16 minutes at --size medium on 2 cores; bench/RESULTS.md). For the run of about 7 minutes: ${BUILD_HINT}.\n`,
    );
  }
  return withInterrupts('stopping after the current step; run the same command to resume', async (signal) => {
    const result = await runDemo({
      out,
      size,
      seed,
      ...(methods ? { methods: methods as DemoMethod[] } : {}),
      ...(kernels ? { kernels } : {}),
      ...(threads === undefined ? {} : { threads }),
      parallel,
      signal,
    });
    if (result.rows.length > 0) {
      const report = path.join(out, 'report.html');
      const built = buildDemoReport(result);
      await writeReport(report, built);
      await mkdir(path.join(out, 'charts'), { recursive: true });
      for (const chart of demoCharts(built))
        await writeFileAtomic(path.join(out, 'charts', chart.file), chart.svg);
      process.stdout.write(`\n${demoTable(result)}\n\n(${result.settings.simulation})\nreport: ${report}\n`);
    }
    if (result.status !== 'complete') {
      process.stdout.write('interrupted: run the same command again to resume\n');
      return 130;
    }
    process.stdout.write(`done in ${Math.round(result.seconds)} s\n`);
    return 0;
  });
}

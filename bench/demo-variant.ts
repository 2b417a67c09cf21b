/**
 * The offline demo with a variant of a size preset, for exploring what the demo's defaults should be (the
 * figures in bench/RESULTS.md). Prints held-out and train-people accuracy per method and the held-out curve.
 *
 * Usage: npx tsx bench/demo-variant.ts OUT_DIR JSON [METHODS] [PRESET] [--seed N] [--kernels auto|native|ts] [--parallel N]
 * The JSON is merged into the preset (e.g. '{"people":60,"qaShare":0.5,"model":{...}}').
 */
import { parseArgs } from 'node:util';
import { runDemo, type DemoMethod } from '../src/demo/run-demo.js';
import { DEMO_SIZES, type DemoSizeName } from '../src/demo/sizes.js';

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      seed: { type: 'string', default: '0' },
      kernels: { type: 'string', default: 'auto' },
      parallel: { type: 'string', default: '1' },
    },
  });
  const [out, json = '{}', methods = 'repeat,paraphrase,qa,ar', preset = 'medium'] = positionals;
  if (!out)
    throw new Error(
      'usage: demo-variant.ts OUT_DIR JSON [METHODS] [PRESET] [--seed N] [--kernels K] [--parallel N]',
    );
  const size = { ...DEMO_SIZES[preset as DemoSizeName], ...(JSON.parse(json) as object) };
  const started = Date.now();
  const result = await runDemo({
    out,
    size,
    seed: Number(values.seed),
    kernels: values.kernels as 'auto' | 'native' | 'ts',
    parallel: Number(values.parallel),
    methods: methods.split(',') as DemoMethod[],
    log: () => {},
    progressStream: { write: () => true },
  });
  const pct = (x: number | null) => (x === null ? '-' : (100 * x).toFixed(1));
  for (const row of result.rows) {
    const curve = row.curve.map((p) => pct(p.heldout.value)).join(' / ');
    console.log(
      `${row.method}: held-out ${pct(row.heldout.value)}%, train people ${pct(row.train.value)}%, curve ${curve}`,
    );
  }
  console.log(`${Math.round((Date.now() - started) / 1000)} s, kernels ${result.kernels}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

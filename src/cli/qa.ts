import { generateProbes } from '../eval/probes.js';
import {
  importFinanceBenchJsonl,
  importSimpleQaCsv,
  writeQaJsonl,
  type QaImport,
} from '../eval/qa-sets/index.js';
import type { TextGenerator } from '../models/types.js';
import { UsageError, parseFlags, parseNumber, withInterrupts } from './args.js';
import { MODEL_FLAG_OPTIONS, openModelFromFlags, readModelFlags } from './model-flags.js';

export const QA_HELP = `Usage: active-reading qa (--simpleqa CSV | --financebench JSONL | --from-corpus PATH --model MODEL) --out FILE [options]

Makes a QA set for "active-reading eval": imports a benchmark, or generates probe questions from your own
corpus with an LLM. Rows that cannot be used are reported (with their line) and skipped.

Import
  --simpleqa CSV         OpenAI's SimpleQA test set (simple_qa_test_set.csv)
  --wikipedia-only       with --simpleqa: only the questions whose reference URLs are English Wikipedia pages
                         (the paper's SimpleWikiQA subset; the page titles are kept in wikipedia_titles)
  --financebench JSONL   FinanceBench's JSONL (financebench_open_source.jsonl)

Generate
  --from-corpus PATH     a corpus (folder or file, as for study) or a study run directory (its chunks.jsonl):
                         each chunk gets --per-chunk questions, one fact each with a short answer, linked to
                         its doc_id and chunk_index; work files (cache, log) go to FILE.work/, so a rerun
                         resumes
  --model MODEL          the LLM writing the questions: a .gguf file or a served model name
  --base-url URL         OpenAI-compatible endpoint (default $OPENAI_BASE_URL)
  --api-key-env NAME     environment variable holding the API key (default OPENAI_API_KEY)
  --api API              the server's API: chat (default; /chat/completions, the model's chat template) or
                         completions (/completions, the messages as one plain prompt: base models)
  --per-chunk N          questions asked for per chunk (default 3)
  --chunk-tokens N       chunk size when PATH is a corpus (default 512, as study)
  --limit N              only the first N chunks
  --temperature T        sampling temperature (default 0)
  --max-tokens N         longest reply (default 1024)
  --prompts DIR          override prompts/qa-probes.txt with DIR/qa-probes.txt
  --threads N            CPU threads for an embedded model
  --context-size N       context size for an embedded model
  --concurrency N        requests in flight (default 16; 1 for an embedded model)
  --timeout SECONDS      per-request timeout, 0 for none (default 120; none for an embedded model)
  --max-retries N        retries on 429/5xx/timeouts/resets (default 5)
  --no-cache             do not read or write the response cache

Output
  --out FILE             the QA set, JSONL: {"id", "question", "answer", "doc_id"?, "chunk_index"?, ...}
  -h, --help             show this help
`;

/** The command's flags (parseArgs specs); --help documents every one. */
export const QA_FLAGS = {
  simpleqa: { type: 'string' },
  'wikipedia-only': { type: 'boolean' },
  financebench: { type: 'string' },
  'from-corpus': { type: 'string' },
  ...MODEL_FLAG_OPTIONS,
  'per-chunk': { type: 'string' },
  'chunk-tokens': { type: 'string' },
  limit: { type: 'string' },
  temperature: { type: 'string' },
  'max-tokens': { type: 'string' },
  prompts: { type: 'string' },
  'no-cache': { type: 'boolean' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseFlags<typeof QA_FLAGS>>['values'];

const GENERATION_FLAGS = [
  ...(Object.keys(MODEL_FLAG_OPTIONS) as Array<keyof typeof MODEL_FLAG_OPTIONS>),
  'per-chunk',
  'chunk-tokens',
  'limit',
  'temperature',
  'max-tokens',
  'prompts',
  'no-cache',
] as const;

export async function qaCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values } = parseFlags(argv, QA_FLAGS);
  if (values.help) {
    process.stdout.write(QA_HELP);
    return 0;
  }
  const sources = (['simpleqa', 'financebench', 'from-corpus'] as const).filter(
    (s) => values[s] !== undefined,
  );
  if (sources.length !== 1) {
    throw new UsageError(
      sources.length === 0
        ? 'give one of --simpleqa CSV, --financebench JSONL or --from-corpus PATH'
        : `--${sources[0]} and --${sources[1]} cannot be used together`,
    );
  }
  if (!values.out) throw new UsageError('--out FILE is required');
  if (values['wikipedia-only'] && !values.simpleqa)
    throw new UsageError('--wikipedia-only goes with --simpleqa');
  if (!values['from-corpus']) {
    const extra = GENERATION_FLAGS.find((flag) => values[flag] !== undefined);
    if (extra) throw new UsageError(`--${extra} is only used with --from-corpus`);
    return importSet(values, values.out);
  }
  return generate(values, values['from-corpus'], values.out, env);
}

async function importSet(values: Values, out: string): Promise<number> {
  const file = (values.simpleqa ?? values.financebench) as string;
  let result: QaImport;
  let excluded = 0;
  if (values.simpleqa) {
    const imported = await importSimpleQaCsv(values.simpleqa, { wikipediaOnly: values['wikipedia-only'] });
    result = imported;
    excluded = imported.excluded;
  } else {
    result = await importFinanceBenchJsonl(file);
  }
  for (const p of result.problems.slice(0, 50))
    process.stderr.write(`skipped ${file}:${p.line}: ${p.message}\n`);
  if (result.problems.length > 50)
    process.stderr.write(`... and ${result.problems.length - 50} more skipped rows\n`);
  if (result.items.length === 0) throw new Error(`${file}: no usable question`);
  await writeQaJsonl(out, result.items);
  const notes = [
    values['wikipedia-only'] ? `${excluded} not Wikipedia-grounded left out` : '',
    `${result.problems.length} rows skipped`,
  ].filter(Boolean);
  process.stdout.write(`imported ${result.items.length} questions to ${out} (${notes.join(', ')})\n`);
  return 0;
}

async function generate(
  values: Values,
  source: string,
  out: string,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  if (!values.model) throw new UsageError('--model is required with --from-corpus');
  const flags = readModelFlags(values, values.model, env, 16);
  const settings = {
    source,
    out,
    perChunk: parseNumber('--per-chunk', values['per-chunk'], { min: 1, max: 100, integer: true }),
    chunkTokens: parseNumber('--chunk-tokens', values['chunk-tokens'], {
      min: 32,
      max: 1_000_000,
      integer: true,
    }),
    limit: parseNumber('--limit', values.limit, { min: 1, integer: true }),
    concurrency: flags.concurrency,
    temperature: parseNumber('--temperature', values.temperature, { min: 0, max: 5 }),
    maxTokens: parseNumber('--max-tokens', values['max-tokens'], { min: 1, integer: true }),
    promptsDir: values.prompts,
    noCache: values['no-cache'],
    retry: flags.retry,
  };
  let generator: TextGenerator | undefined;
  try {
    generator = await openModelFromFlags(flags);
    const model = generator;
    return await withInterrupts('stopping: finishing requests in flight', async (signal) => {
      const r = await generateProbes({ ...settings, generator: model, signal });
      process.stdout.write(
        `${r.status === 'complete' ? 'done' : r.status}: ${r.items} questions from ${r.chunks} chunks to ${out}` +
          ` (${r.unusable} unusable replies, ${r.skippedPairs} pairs skipped${r.failed ? `, ${r.failed} chunks failed` : ''}; work files in ${r.workDir})\n`,
      );
      return r.status === 'complete' ? 0 : r.status === 'interrupted' ? 130 : 1;
    });
  } finally {
    await generator?.close();
  }
}

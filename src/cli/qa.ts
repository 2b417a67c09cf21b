import { parseArgs } from 'node:util';
import { generateProbes } from '../eval/probes.js';
import {
  importFinanceBenchJsonl,
  importSimpleQaCsv,
  writeQaJsonl,
  type QaImport,
} from '../eval/qa-sets/index.js';
import { isGgufPath, openTextGenerator, publicBaseUrl } from '../models/open-generator.js';
import type { TextGenerator } from '../models/types.js';
import { UsageError, parseNumber, withInterrupts } from './args.js';

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

const OPTIONS = {
  simpleqa: { type: 'string' },
  'wikipedia-only': { type: 'boolean' },
  financebench: { type: 'string' },
  'from-corpus': { type: 'string' },
  model: { type: 'string' },
  'base-url': { type: 'string' },
  'api-key-env': { type: 'string' },
  'per-chunk': { type: 'string' },
  'chunk-tokens': { type: 'string' },
  limit: { type: 'string' },
  temperature: { type: 'string' },
  'max-tokens': { type: 'string' },
  prompts: { type: 'string' },
  threads: { type: 'string' },
  'context-size': { type: 'string' },
  concurrency: { type: 'string' },
  timeout: { type: 'string' },
  'max-retries': { type: 'string' },
  'no-cache': { type: 'boolean' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parse>['values'];

const GENERATION_FLAGS = [
  'model',
  'base-url',
  'api-key-env',
  'per-chunk',
  'chunk-tokens',
  'limit',
  'temperature',
  'max-tokens',
  'prompts',
  'threads',
  'context-size',
  'concurrency',
  'timeout',
  'max-retries',
  'no-cache',
] as const;

export async function qaCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values: Values;
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0] ?? 'bad arguments');
  }
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
  if (values['base-url'] !== undefined && !/^https?:\/\//.test(values['base-url'])) {
    throw new UsageError(
      `--base-url must start with http:// or https://, got "${publicBaseUrl(values['base-url'])}"`,
    );
  }
  const baseUrl = values['base-url'] ?? env.OPENAI_BASE_URL;
  const embedded = isGgufPath(values.model);
  if (!embedded && !baseUrl) {
    throw new UsageError(
      `--base-url is required (or set OPENAI_BASE_URL) for the served model "${values.model}"`,
    );
  }
  const concurrency =
    parseNumber('--concurrency', values.concurrency, { min: 1, max: 4096, integer: true }) ??
    (embedded ? 1 : 16);
  const timeout = parseNumber('--timeout', values.timeout, { min: 0 }) ?? (embedded ? 0 : undefined);
  const maxRetries = parseNumber('--max-retries', values['max-retries'], { min: 0, max: 100, integer: true });
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
    concurrency,
    temperature: parseNumber('--temperature', values.temperature, { min: 0, max: 5 }),
    maxTokens: parseNumber('--max-tokens', values['max-tokens'], { min: 1, integer: true }),
    promptsDir: values.prompts,
    noCache: values['no-cache'],
    retry: {
      ...(timeout === undefined ? {} : { timeoutMs: timeout * 1000 }),
      ...(maxRetries === undefined ? {} : { maxAttempts: maxRetries + 1 }),
    },
  };
  const threads = parseNumber('--threads', values.threads, { min: 1, max: 1024, integer: true });
  const contextSize = parseNumber('--context-size', values['context-size'], { min: 64, integer: true });
  let generator: TextGenerator | undefined;
  try {
    generator = await openTextGenerator({
      model: values.model,
      baseUrl,
      apiKey: env[values['api-key-env'] ?? 'OPENAI_API_KEY'],
      concurrency,
      threads,
      contextSize,
    });
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

function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true });
}

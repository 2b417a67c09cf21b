import { STUDY_METHODS } from '../dataset/record.js';
import { tiktokenCounter } from '../models/tiktoken-counter.js';
import type { TextGenerator } from '../models/types.js';
import { fmt } from '../runtime/progress.js';
import { runStudy, type StudyOptions } from '../study/run-study.js';
import { UsageError, parseFlags, parseChoice, parseCount, parseNumber, withInterrupts } from './args.js';
import {
  checkBaseUrlFlag,
  MODEL_FLAG_OPTIONS,
  openModelFromFlags,
  readModelFlags,
  retryFlags,
} from './model-flags.js';

export const STUDY_HELP = `Usage: active-reading study --corpus PATH --out RUN_DIR --method METHOD --model MODEL [options]

Turns a corpus into training data with Active Reading (or a baseline), resumably: run the same command
again after a crash or Ctrl-C and it continues where it stopped, without paying twice for a generation.

Input and output
  --corpus PATH          folder or file of documents: .txt, .md, .html, .jsonl ({"text", "title"?, "id"?})
                         (optional when RUN_DIR already holds chunks.jsonl)
  --out RUN_DIR          run directory: chunks.jsonl, strategies.jsonl, study/*.jsonl, manifest.json, cache/
  --chunk-tokens N       chunk size in tokens (default 512)
  --shard-records N      records per study/shard-*.jsonl file (default 100000)

Method
  --method METHOD        ar        Active Reading, task-agnostic strategies (default)
                         ar-task   Active Reading, task-specific (see --task)
                         paraphrase | qa | entigraph | repeat   baselines of the paper
                         all       paraphrase + qa + ar, sharing the budget equally
  --task TASK            for ar-task: trivia (default), finance, or any text describing the task
  --budget-tokens N      generated tokens per method (e.g. 2M); rounds over all chunks until reached
  --reps N               stage-1 repetitions per chunk (default 1 without a budget, unlimited with one)
  --stage 2              re-run stage 2 only, from an edited strategies.jsonl (old records kept aside)
  --prompts DIR          override prompt templates with DIR/NAME.txt (see prompts/README.md)
  --pairs-per-rep N      entigraph: entity pairs written about per chunk and rep (default 8)

Model
  --model MODEL          path to a .gguf file (runs embedded through node-llama-cpp), or a model name
                         served by an OpenAI-compatible server at --base-url
  --base-url URL         OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1 (default $OPENAI_BASE_URL)
  --api-key-env NAME     environment variable holding the API key (default OPENAI_API_KEY); keys are never
                         written to logs, caches or outputs
  --api API              the server's API: chat (default; /chat/completions, the model's chat template) or
                         completions (/completions, the messages as one plain prompt: base models)
  --temperature T        sampling temperature (default 0.7)
  --top-p P              nucleus sampling (default: the server's)
  --max-tokens N         maximum tokens per generation (default 2048)
  --min-words N          retry (new seed, up to 3 times) a generation shorter than N words (default 20)
  --seed N               base seed; each request gets a seed derived from it (default 0)
  --threads N            CPU threads for an embedded GGUF model
  --context-size N       context size for an embedded GGUF model (default: fits the model)

Runtime
  --concurrency N        requests in flight (default 16; 1 for an embedded GGUF model, where each one is a
                         context sequence of its own)
  --timeout SECONDS      per-request timeout, 0 for none (default 120; none for an embedded GGUF model)
  --max-retries N        retries on 429/5xx/timeouts/resets, with backoff and Retry-After (default 5)
  --no-cache             do not read or write the response cache
  --price-input USD      price per million prompt tokens, for the cost ledger
  --price-output USD     price per million completion tokens
  -h, --help             show this help
`;

/** The command's flags (parseArgs specs); --help documents every one. */
export const STUDY_FLAGS = {
  corpus: { type: 'string' },
  out: { type: 'string' },
  method: { type: 'string' },
  ...MODEL_FLAG_OPTIONS,
  task: { type: 'string' },
  'budget-tokens': { type: 'string' },
  reps: { type: 'string' },
  'chunk-tokens': { type: 'string' },
  temperature: { type: 'string' },
  'top-p': { type: 'string' },
  'max-tokens': { type: 'string' },
  'min-words': { type: 'string' },
  seed: { type: 'string' },
  stage: { type: 'string' },
  prompts: { type: 'string' },
  'pairs-per-rep': { type: 'string' },
  'shard-records': { type: 'string' },
  'no-cache': { type: 'boolean' },
  'price-input': { type: 'string' },
  'price-output': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function studyCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values } = parseFlags(argv, STUDY_FLAGS);
  if (values.help) {
    process.stdout.write(STUDY_HELP);
    return 0;
  }
  if (!values.out) throw new UsageError('--out RUN_DIR is required');
  const method = parseChoice('--method', values.method, STUDY_METHODS) ?? 'ar';
  const stage = parseChoice('--stage', values.stage, ['2'] as const);
  const budgetTokens = parseCount('--budget-tokens', values['budget-tokens']);
  const reps = parseNumber('--reps', values.reps, { min: 1, integer: true });
  checkBaseUrlFlag('--base-url', values['base-url']);
  if (method !== 'repeat' && !values.model)
    throw new UsageError(`--model is required for --method ${method}`);
  // repeat needs no model, but still takes the runtime flags.
  const flags = values.model ? readModelFlags(values, values.model, env) : undefined;
  const concurrency =
    flags?.concurrency ??
    parseNumber('--concurrency', values.concurrency, { min: 1, max: 4096, integer: true });
  const priceInput = parseNumber('--price-input', values['price-input'], { min: 0 });
  const priceOutput = parseNumber('--price-output', values['price-output'], { min: 0 });
  if ((priceInput === undefined) !== (priceOutput === undefined)) {
    throw new UsageError('--price-input and --price-output go together');
  }

  const options: StudyOptions = {
    corpus: values.corpus,
    out: values.out,
    method,
    task: values.task,
    budgetTokens,
    reps,
    concurrency,
    chunkTokens: parseNumber('--chunk-tokens', values['chunk-tokens'], {
      min: 32,
      max: 1_000_000,
      integer: true,
    }),
    chunkCounter: tiktokenCounter(),
    temperature: parseNumber('--temperature', values.temperature, { min: 0, max: 5 }),
    topP: parseNumber('--top-p', values['top-p'], { min: 0, max: 1 }),
    maxTokens: parseNumber('--max-tokens', values['max-tokens'], { min: 1, integer: true }),
    minWords: parseNumber('--min-words', values['min-words'], { min: 0, integer: true }),
    seed: parseNumber('--seed', values.seed, { min: 0, max: 2 ** 31 - 1, integer: true }),
    pairsPerRep: parseNumber('--pairs-per-rep', values['pairs-per-rep'], { min: 1, integer: true }),
    shardRecords: parseNumber('--shard-records', values['shard-records'], { min: 1, integer: true }),
    promptsDir: values.prompts,
    stage,
    noCache: values['no-cache'],
    prices:
      priceInput !== undefined && priceOutput !== undefined
        ? { inputPerMillion: priceInput, outputPerMillion: priceOutput }
        : undefined,
    retry: flags?.retry ?? retryFlags(values, false),
    baseUrl: flags?.publicBaseUrl,
  };

  const generator: TextGenerator | undefined = flags ? await openModelFromFlags(flags) : undefined;

  try {
    return await withInterrupts('stopping: finishing requests in flight', async (signal) => {
      const { status, manifest } = await runStudy({ ...options, generator, signal });
      const lines = Object.keys(manifest.tokens).map((m) => {
        const ledger = manifest.ledger[m];
        const cost = ledger?.costUsd === undefined ? '' : `, $${ledger.costUsd.toFixed(4)}`;
        return `  ${m}: ${fmt(manifest.counts.records[m] ?? 0)} records, ${fmt(manifest.tokens[m] ?? 0)} tokens (${fmt(ledger?.requests ?? 0)} requests, ${fmt(ledger?.cacheHits ?? 0)} cache hits${cost})`;
      });
      process.stdout.write(
        `${status === 'complete' ? 'done' : status}: ${options.out}\n${lines.join('\n')}\n`,
      );
      return status === 'complete' ? 0 : 130;
    });
  } finally {
    await generator?.close();
  }
}

import { comparisonText } from '../eval/compare.js';
import { ANSWER_MODES, GRADER_NAMES } from '../eval/records.js';
import { runEval, type EvalOptions, type JudgeOptions } from '../eval/run-eval.js';
import { isGgufPath, openTextGenerator, publicBaseUrl } from '../models/open-generator.js';
import type { TextGenerator } from '../models/types.js';
import { UsageError, parseFlags, parseChoice, parseNumber, withInterrupts } from './args.js';
import {
  checkBaseUrlFlag,
  MODEL_FLAG_OPTIONS,
  openModelFromFlags,
  readModelFlags,
  retryFlags,
} from './model-flags.js';

export const EVAL_HELP = `Usage: active-reading eval --qa FILE --model MODEL --out DIR [options]

Asks a model every question of a QA set, closed-book (or with the source text in the prompt), grades the
answers and writes DIR/answers.jsonl, grades.jsonl, summary.json and report.html. Resumable: run the same
command again after a crash or Ctrl-C and it continues, without asking any question twice.

Questions
  --qa FILE              QA set: JSONL {"id", "question", "answer", "doc_id"?, "chunk_index"?} (see
                         "active-reading qa"), a SimpleQA .csv, or FinanceBench .jsonl
  --limit N              only the first N questions
  --out DIR              output directory
  --label NAME           method name shown by "compare" (default: from the model, e.g. ckpt/ar -> ar)

Answering
  --model MODEL          the model evaluated: a .gguf file or an engine checkpoint directory (run embedded),
                         or a model name served by an OpenAI-compatible server at --base-url
  --base-url URL         OpenAI-compatible endpoint (default $OPENAI_BASE_URL)
  --api-key-env NAME     environment variable holding the API key (default OPENAI_API_KEY); keys are never
                         written to outputs, caches or messages
  --api API              the server's API: chat (default; /chat/completions, the model's chat template) or
                         completions (/completions, the messages as one plain prompt: base models)
  --mode MODE            closed-book (default): the question alone, in a few-shot short-answer prompt that
                         works for base and chat models; gold-context: the question with its source text
  --corpus PATH          gold-context: a study run directory (its chunks.jsonl) or the corpus itself
                         (default: --study)
  --chunk-tokens N       gold-context, when --corpus is a corpus: chunk size, as for study (default 512)
  --context-tokens N     gold-context: most tokens of source text for an item with a document but no
                         chunk_index (default 2048; longer documents keep the chunks closest to the question)
  --temperature T        sampling temperature (default 0)
  --max-tokens N         longest answer in tokens (default 64); the answer is cut at its first newline
  --prompts DIR          override prompts (answer-closed-book.txt, answer-gold-context.txt,
                         simpleqa-grader.txt; see prompts/README.md)
  --threads N            CPU threads for an embedded model
  --context-size N       context size for an embedded model (default: fits the model)

Grading
  --grader GRADER        simpleqa: the SimpleQA LLM judge (the paper's protocol; needs --judge-model);
                         lexical: normalised string matching, offline. Default: simpleqa when
                         --judge-model is given, lexical otherwise
  --judge-model MODEL    the judge: a served model name (e.g. gpt-4o, as in the paper) or a .gguf file
  --judge-base-url URL   the judge's endpoint (default: --base-url, then $OPENAI_BASE_URL)
  --judge-api-key-env NAME  environment variable with the judge's API key (default: as --api-key-env)
  --judge-concurrency N  judge requests in flight (default 16; 1 for an embedded judge)
  --judge-max-tokens N   longest judge reply (default 64)

Diagnostics
  --study RUN_DIR        the study run the model was trained on: answer coverage, self-BLEU and leakage of
                         its data against the questions, in summary.json and the report

Runtime
  --concurrency N        answer requests in flight (default 16; 1 for an embedded model)
  --timeout SECONDS      per-request timeout, 0 for none (default 120; none for an embedded model)
  --max-retries N        retries on 429/5xx/timeouts/resets, with backoff and Retry-After (default 5)
  --no-cache             do not read or write the response cache (DIR/cache)
  -h, --help             show this help
`;

/** The command's flags (parseArgs specs); --help documents every one. */
export const EVAL_FLAGS = {
  qa: { type: 'string' },
  limit: { type: 'string' },
  out: { type: 'string' },
  label: { type: 'string' },
  ...MODEL_FLAG_OPTIONS,
  mode: { type: 'string' },
  corpus: { type: 'string' },
  'chunk-tokens': { type: 'string' },
  'context-tokens': { type: 'string' },
  temperature: { type: 'string' },
  'max-tokens': { type: 'string' },
  prompts: { type: 'string' },
  grader: { type: 'string' },
  'judge-model': { type: 'string' },
  'judge-base-url': { type: 'string' },
  'judge-api-key-env': { type: 'string' },
  'judge-concurrency': { type: 'string' },
  'judge-max-tokens': { type: 'string' },
  study: { type: 'string' },
  'no-cache': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const JUDGE_FLAGS = ['judge-base-url', 'judge-api-key-env', 'judge-concurrency', 'judge-max-tokens'] as const;

export async function evalCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values } = parseFlags(argv, EVAL_FLAGS);
  if (values.help) {
    process.stdout.write(EVAL_HELP);
    return 0;
  }
  if (!values.qa) throw new UsageError('--qa FILE is required');
  if (!values.out) throw new UsageError('--out DIR is required');
  if (!values.model) throw new UsageError('--model is required');
  const mode = parseChoice('--mode', values.mode, ANSWER_MODES) ?? 'closed-book';
  const judgeModel = values['judge-model'];
  const grader =
    parseChoice('--grader', values.grader, GRADER_NAMES) ?? (judgeModel ? 'simpleqa' : 'lexical');
  if (grader === 'simpleqa' && !judgeModel) {
    throw new UsageError('--grader simpleqa needs --judge-model (or use --grader lexical)');
  }
  if (grader === 'lexical' && judgeModel)
    throw new UsageError('--judge-model is only used with --grader simpleqa');
  if (mode === 'closed-book') {
    const flag = (['corpus', 'chunk-tokens', 'context-tokens'] as const).find((f) => values[f] !== undefined);
    if (flag) throw new UsageError(`--${flag} is only used with --mode gold-context`);
  }
  if (!judgeModel) {
    const flag = JUDGE_FLAGS.find((f) => values[f] !== undefined);
    if (flag) throw new UsageError(`--${flag} goes with --judge-model`);
  }
  if (mode === 'gold-context' && !values.corpus && !values.study) {
    throw new UsageError('--mode gold-context needs --corpus PATH (or --study RUN_DIR)');
  }
  checkBaseUrlFlag('--judge-base-url', values['judge-base-url']);
  // An embedded model generates `concurrency` sequences at once in this process: one at a time by default.
  const flags = readModelFlags(values, values.model, env, 16);
  const judgeBaseUrl = values['judge-base-url'] ?? flags.baseUrl;
  const judgeEmbedded = judgeModel !== undefined && isGgufPath(judgeModel);
  if (judgeModel && !judgeEmbedded && !judgeBaseUrl) {
    throw new UsageError(
      `--judge-base-url is required (or --base-url, or OPENAI_BASE_URL) for the judge "${judgeModel}"`,
    );
  }

  const judgeConcurrency =
    parseNumber('--judge-concurrency', values['judge-concurrency'], { min: 1, max: 4096, integer: true }) ??
    (judgeEmbedded ? 1 : 16);
  const options: Omit<EvalOptions, 'generator'> = {
    qaFile: values.qa,
    out: values.out,
    model: values.model,
    baseUrl: flags.publicBaseUrl,
    mode,
    grader,
    corpus: values.corpus,
    studyDir: values.study,
    chunkTokens: parseNumber('--chunk-tokens', values['chunk-tokens'], {
      min: 32,
      max: 1_000_000,
      integer: true,
    }),
    contextTokens: parseNumber('--context-tokens', values['context-tokens'], { min: 16, integer: true }),
    label: values.label,
    concurrency: flags.concurrency,
    limit: parseNumber('--limit', values.limit, { min: 1, integer: true }),
    temperature: parseNumber('--temperature', values.temperature, { min: 0, max: 5 }),
    maxTokens: parseNumber('--max-tokens', values['max-tokens'], { min: 1, integer: true }),
    promptsDir: values.prompts,
    retry: flags.retry,
    noCache: values['no-cache'],
  };
  const judgeMaxTokens = parseNumber('--judge-max-tokens', values['judge-max-tokens'], {
    min: 1,
    integer: true,
  });
  if (values.label !== undefined && !values.label.trim()) throw new UsageError('--label must not be empty');
  if (values.grader === undefined && grader === 'lexical') {
    process.stderr.write(
      "grading with the lexical grader (normalised string matching); for the paper's protocol add --judge-model MODEL\n",
    );
  }

  const judgeKeyVariable = values['judge-api-key-env'] ?? values['api-key-env'] ?? 'OPENAI_API_KEY';
  let generator: TextGenerator | undefined;
  let judgeGenerator: TextGenerator | undefined;
  try {
    generator = await openModelFromFlags(flags);
    let judge: JudgeOptions | undefined;
    if (judgeModel) {
      judgeGenerator = await openTextGenerator({
        model: judgeModel,
        baseUrl: judgeBaseUrl,
        apiKey: env[judgeKeyVariable],
        concurrency: judgeConcurrency,
        threads: flags.threads,
      });
      judge = {
        generator: judgeGenerator,
        model: judgeModel,
        baseUrl: judgeEmbedded || !judgeBaseUrl ? undefined : publicBaseUrl(judgeBaseUrl),
        maxTokens: judgeMaxTokens,
        concurrency: judgeConcurrency,
        retry: retryFlags(values, judgeEmbedded),
      };
    }
    const answering = generator;
    return await withInterrupts('stopping: finishing requests in flight', async (signal) => {
      const { status, summary } = await runEval({ ...options, generator: answering, judge, signal });
      const table = comparisonText({
        entries: [{ dir: options.out, label: summary.label, summary }],
        warnings: [],
      });
      process.stdout.write(`${status === 'complete' ? 'done' : status}: ${options.out}\n${table}`);
      if (status === 'incomplete')
        process.stderr.write(`active-reading: ${summary.stop_reason ?? 'incomplete'}\n`);
      return status === 'complete' ? 0 : status === 'interrupted' ? 130 : 1;
    });
  } finally {
    await generator?.close();
    await judgeGenerator?.close();
  }
}

/**
 * The flags that choose a model and how to reach it (a GGUF file or engine checkpoint in this process, or a
 * model served by an OpenAI-compatible server), read the same way by `study`, `qa` and `eval`.
 */
import { isGgufPath, openTextGenerator, publicBaseUrl } from '../models/open-generator.js';
import { OPENAI_APIS, type OpenAIApi } from '../models/openai-compatible.js';
import type { TextGenerator } from '../models/types.js';
import { UsageError, parseChoice, parseNumber } from './args.js';

/** parseArgs specs of the model flags, spread into a command's own. */
export const MODEL_FLAG_OPTIONS = {
  model: { type: 'string' },
  'base-url': { type: 'string' },
  'api-key-env': { type: 'string' },
  api: { type: 'string' },
  threads: { type: 'string' },
  'context-size': { type: 'string' },
  concurrency: { type: 'string' },
  timeout: { type: 'string' },
  'max-retries': { type: 'string' },
} as const;

export type ModelFlagValues = { [K in keyof typeof MODEL_FLAG_OPTIONS]?: string | undefined };

/** Timeout and retries of requests, as the request runners take them. */
export interface RetryFlags {
  timeoutMs?: number;
  maxAttempts?: number;
}

export interface ModelFlags {
  model: string;
  /** Loaded in this process (a GGUF file or an engine checkpoint) rather than served. */
  embedded: boolean;
  /** --base-url, else OPENAI_BASE_URL: may hold credentials, so only for the connection itself. */
  baseUrl: string | undefined;
  /** The server URL to write into outputs (credentials removed); undefined for an embedded model. */
  publicBaseUrl: string | undefined;
  apiKey: string | undefined;
  api: OpenAIApi | undefined;
  concurrency: number | undefined;
  threads: number | undefined;
  contextSize: number | undefined;
  retry: RetryFlags;
}

/** A URL flag must name an http(s) server; the message never shows credentials inside it. */
export function checkBaseUrlFlag(flag: string, url: string | undefined): void {
  if (url !== undefined && !/^https?:\/\//.test(url)) {
    throw new UsageError(`${flag} must start with http:// or https://, got "${publicBaseUrl(url)}"`);
  }
}

/** `--timeout` and `--max-retries`; an embedded model has no timeout unless given (a CPU may take minutes). */
export function retryFlags(values: ModelFlagValues, embedded: boolean): RetryFlags {
  const seconds = parseNumber('--timeout', values.timeout, { min: 0 }) ?? (embedded ? 0 : undefined);
  const maxRetries = parseNumber('--max-retries', values['max-retries'], { min: 0, max: 100, integer: true });
  return {
    ...(seconds === undefined ? {} : { timeoutMs: seconds * 1000 }), // 0: no timeout
    ...(maxRetries === undefined ? {} : { maxAttempts: maxRetries + 1 }),
  };
}

/**
 * Reads and checks the model flags. `servedConcurrency` is the default for a served model; an embedded one
 * generates every sequence in this process, each with its own KV cache, so it defaults to one at a time.
 */
export function readModelFlags(
  values: ModelFlagValues,
  model: string,
  env: NodeJS.ProcessEnv,
  servedConcurrency?: number,
): ModelFlags {
  checkBaseUrlFlag('--base-url', values['base-url']);
  const embedded = isGgufPath(model);
  const baseUrl = values['base-url'] ?? env.OPENAI_BASE_URL;
  if (!embedded && !baseUrl) {
    throw new UsageError(`--base-url is required (or set OPENAI_BASE_URL) for the served model "${model}"`);
  }
  const api = parseChoice('--api', values.api, OPENAI_APIS);
  if (api !== undefined && embedded) {
    throw new UsageError(`--api is for a served model; "${model}" runs in this process`);
  }
  return {
    model,
    embedded,
    baseUrl,
    publicBaseUrl: embedded || !baseUrl ? undefined : publicBaseUrl(baseUrl),
    apiKey: env[values['api-key-env'] ?? 'OPENAI_API_KEY'],
    api,
    concurrency:
      parseNumber('--concurrency', values.concurrency, { min: 1, max: 4096, integer: true }) ??
      (embedded ? 1 : servedConcurrency),
    threads: parseNumber('--threads', values.threads, { min: 1, max: 1024, integer: true }),
    contextSize: parseNumber('--context-size', values['context-size'], { min: 64, integer: true }),
    retry: retryFlags(values, embedded),
  };
}

export function openModelFromFlags(flags: ModelFlags): Promise<TextGenerator> {
  return openTextGenerator({
    model: flags.model,
    baseUrl: flags.baseUrl,
    apiKey: flags.apiKey,
    api: flags.api,
    concurrency: flags.concurrency,
    threads: flags.threads,
    contextSize: flags.contextSize,
  });
}

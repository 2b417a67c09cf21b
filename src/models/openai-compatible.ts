import { STATUS_CODES } from 'node:http';
import { Pool } from 'undici';
import { completionPrompt } from './completion-prompt.js';
import { ModelRequestError, RETRYABLE_NETWORK_CODES } from './errors.js';
import { tiktokenCounter } from './tiktoken-counter.js';
import type {
  ChatMessage,
  GenerationRequest,
  GenerationResult,
  TextGenerator,
  TokenCounter,
} from './types.js';

/**
 * A `TextGenerator` for any server that speaks the OpenAI chat-completions API (vLLM, SGLang,
 * llama.cpp server, Ollama, OpenAI, Together, ...), over a keep-alive undici connection pool; or its
 * (legacy) completions API, which base models served without a chat template need.
 */
export interface OpenAICompatibleOptions {
  model: string;
  /** Base URL including the API prefix, e.g. `http://127.0.0.1:8000/v1`. A trailing slash is fine. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`; never appears in ids or error messages. */
  apiKey?: string;
  /** Upper bound on concurrent sockets to the server (default 256). */
  maxConnections?: number;
  /** Used by `countTokens` and when the server does not report usage (default: tiktoken cl100k_base). */
  counter?: TokenCounter;
  /** Extra request headers (e.g. `OpenAI-Organization`). Long values are redacted from error messages. */
  extraHeaders?: Record<string, string>;
  /**
   * `chat` (default): POST /chat/completions with the messages, which the server renders with the model's
   * chat template. `completions`: POST /completions with the messages as one plain prompt
   * (completionPrompt), for base models, which have no chat template.
   */
  api?: OpenAIApi;
}

export const OPENAI_APIS = ['chat', 'completions'] as const;
export type OpenAIApi = (typeof OPENAI_APIS)[number];

const DEFAULT_MAX_CONNECTIONS = 256;
/** Non-streaming generations can take minutes before the first header byte arrives. */
const SERVER_SILENCE_TIMEOUT_MS = 600_000;
const EXCERPT_MAX_CHARS = 300;
/** Transport errors beyond the shared set that are worth retrying. */
const EXTRA_RETRYABLE_CODES = new Set([
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
]);

export function createOpenAICompatibleGenerator(options: OpenAICompatibleOptions): TextGenerator {
  const endpoint = parseBaseUrl(options.baseUrl);
  const api = options.api ?? 'chat';
  // The API changes the prompt the model sees, so it is part of the identity (and of cache keys).
  const scheme = api === 'chat' ? 'openai' : 'openai-completions';
  const id = `${scheme}:${options.model}@${endpoint.publicUrl}`;
  const secrets = collectSecrets(options, endpoint);
  const redact = (text: string): string => redactSecrets(text, secrets);

  const headers = buildHeaders(options, endpoint);
  const path = `${endpoint.pathname}/${api === 'chat' ? 'chat/completions' : 'completions'}${endpoint.search}`;
  const pool = new Pool(endpoint.origin, {
    connections: Math.max(1, Math.floor(options.maxConnections ?? DEFAULT_MAX_CONNECTIONS)),
    pipelining: 1,
    // Shorter than the 5 s idle timeout of common servers (uvicorn), so we rarely reuse a socket the server is closing.
    keepAliveTimeout: 4_000,
    headersTimeout: SERVER_SILENCE_TIMEOUT_MS,
    bodyTimeout: SERVER_SILENCE_TIMEOUT_MS,
  });

  let counter = options.counter;
  const getCounter = (): TokenCounter => (counter ??= tiktokenCounter());
  let closed = false;
  let closing: Promise<void> | undefined;

  const abortedError = (signal: AbortSignal): ModelRequestError =>
    new ModelRequestError(`${id}: request aborted`, {
      retryable: false,
      code: 'ABORTED',
      cause: signal.reason,
    });

  const transportError = (error: unknown, signal: AbortSignal | undefined): ModelRequestError => {
    if (signal?.aborted) return abortedError(signal);
    if (error instanceof ModelRequestError) return error;
    if (closed) {
      return new ModelRequestError(`${id}: generator was closed during the request`, {
        retryable: false,
        code: 'CLOSED',
      });
    }
    const code = errorCode(error);
    const retryable =
      code !== undefined && (RETRYABLE_NETWORK_CODES.has(code) || EXTRA_RETRYABLE_CODES.has(code));
    const detail = error instanceof Error ? error.message : String(error);
    const excerpt = truncate(oneLine(redact(detail)), EXCERPT_MAX_CHARS);
    return new ModelRequestError(`${id}: request failed (${code ?? 'UNKNOWN'}): ${excerpt}`, {
      retryable,
      code: code ?? 'NETWORK_ERROR',
      cause: error,
    });
  };

  const httpError = (status: number, responseHeaders: ResponseHeaders, body: string): ModelRequestError => {
    const retryable = status === 408 || status === 429 || status >= 500;
    const reason = STATUS_CODES[status] ?? 'Unknown Status';
    const excerpt = truncate(oneLine(redact(serverErrorMessage(body))), EXCERPT_MAX_CHARS);
    const message = `${id}: HTTP ${status} ${reason}${excerpt ? `: ${excerpt}` : ''}`;
    return new ModelRequestError(message, {
      retryable,
      status,
      code: `HTTP_${status}`,
      retryAfterMs: retryable ? parseRetryAfter(responseHeaders) : undefined,
    });
  };

  const malformed = (why: string, body: string, cause?: unknown): ModelRequestError => {
    const excerpt = truncate(oneLine(redact(body)), 200);
    return new ModelRequestError(`${id}: malformed response (${why}): ${excerpt}`, {
      retryable: true,
      status: 200,
      code: 'MALFORMED_RESPONSE',
      cause,
    });
  };

  const parseCompletion = (body: string, messages: ChatMessage[]): GenerationResult => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      throw malformed('invalid JSON', body, error);
    }
    const completion = parsed as ChatCompletionResponse | null;
    const choice = Array.isArray(completion?.choices) ? completion.choices[0] : undefined;
    const message = choice?.message;
    const serverError = completion && typeof completion === 'object' && 'error' in completion;
    let text: string;
    if (api === 'completions') {
      if (typeof choice?.text !== 'string')
        throw malformed(serverError ? 'error object instead of choices' : 'no choices[0].text', body);
      text = choice.text;
    } else {
      if (message === null || typeof message !== 'object')
        throw malformed(serverError ? 'error object instead of choices' : 'no choices[0].message', body);
      text = contentText(message.content);
    }
    const usage = completion?.usage;
    const promptTokens = nonNegativeInteger(usage?.prompt_tokens) ?? getCounter().count(promptText(messages));
    const completionTokens = nonNegativeInteger(usage?.completion_tokens) ?? getCounter().count(text);
    const finishReason = typeof choice?.finish_reason === 'string' ? choice.finish_reason : undefined;
    return finishReason === undefined
      ? { text, promptTokens, completionTokens }
      : { text, promptTokens, completionTokens, finishReason };
  };

  return {
    id,
    cacheIdentity: `${scheme}:${options.model}`,

    async generate(request: GenerationRequest): Promise<GenerationResult> {
      if (closed)
        throw new ModelRequestError(`${id}: generator is closed`, { retryable: false, code: 'CLOSED' });
      const signal = request.signal;
      if (signal?.aborted) throw abortedError(signal);

      const payload = JSON.stringify(buildRequestBody(options.model, request, api));
      let status: number;
      let responseHeaders: ResponseHeaders;
      let body: string;
      try {
        const response = await pool.request({ path, method: 'POST', headers, body: payload, signal });
        status = response.statusCode;
        responseHeaders = response.headers;
        body = await response.body.text();
      } catch (error) {
        throw transportError(error, signal);
      }
      if (status < 200 || status >= 300) throw httpError(status, responseHeaders, body);
      return parseCompletion(body, request.messages);
    },

    async countTokens(text: string): Promise<number> {
      return getCounter().count(text);
    },

    close(): Promise<void> {
      closed = true;
      closing ??= pool.close().catch(() => undefined);
      return closing;
    },
  };
}

type ResponseHeaders = Record<string, string | string[] | undefined>;

interface ChatCompletionResponse {
  choices?: Array<
    { message?: { content?: unknown } | null; text?: unknown; finish_reason?: unknown } | undefined
  >;
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
}

interface Endpoint {
  origin: string;
  /** Path prefix without trailing slash, e.g. `/v1`. */
  pathname: string;
  /** Query string kept for requests (e.g. `?api-version=...`), never shown. */
  search: string;
  /** `protocol//host/path`: no credentials, no query. */
  publicUrl: string;
  username: string;
  password: string;
}

function parseBaseUrl(baseUrl: string): Endpoint {
  let url: URL;
  try {
    url = new URL(baseUrl.trim());
  } catch {
    // Do not echo the input: it may carry credentials.
    throw new TypeError('createOpenAICompatibleGenerator: baseUrl is not a valid absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`createOpenAICompatibleGenerator: baseUrl must be http(s), got ${url.protocol}`);
  }
  const pathname = url.pathname.replace(/\/+$/, '');
  return {
    origin: url.origin,
    pathname,
    search: url.search,
    publicUrl: `${url.protocol}//${url.host}${pathname}`,
    username: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
  };
}

function buildHeaders(options: OpenAICompatibleOptions, endpoint: Endpoint): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  for (const [name, value] of Object.entries(options.extraHeaders ?? {})) headers[name.toLowerCase()] = value;
  if (options.apiKey) {
    headers.authorization = `Bearer ${options.apiKey}`;
  } else if ((endpoint.username || endpoint.password) && headers.authorization === undefined) {
    // Credentials embedded in the base URL (user:pass@host) become Basic auth.
    const basic = Buffer.from(`${endpoint.username}:${endpoint.password}`).toString('base64');
    headers.authorization = `Basic ${basic}`;
  }
  return headers;
}

function collectSecrets(options: OpenAICompatibleOptions, endpoint: Endpoint): string[] {
  const secrets = new Set<string>();
  const add = (value: string | undefined): void => {
    if (value && value.length >= 4) secrets.add(value);
  };
  add(options.apiKey);
  add(endpoint.password);
  for (const [name, value] of Object.entries(options.extraHeaders ?? {})) {
    if (value.length >= 8 || /auth|key|token|secret/i.test(name)) add(value);
  }
  // Longest first, so a secret containing another is removed whole.
  return [...secrets].sort((a, b) => b.length - a.length);
}

function redactSecrets(text: string, secrets: string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (result.includes(secret)) result = result.split(secret).join('[REDACTED]');
  }
  return result;
}

function buildRequestBody(
  model: string,
  request: GenerationRequest,
  api: OpenAIApi,
): Record<string, unknown> {
  const body: Record<string, unknown> =
    api === 'chat'
      ? { model, messages: request.messages }
      : { model, prompt: completionPrompt(request.messages) };
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.maxTokens !== undefined) body.max_tokens = request.maxTokens;
  if (request.stop !== undefined && request.stop.length > 0) body.stop = request.stop;
  if (request.seed !== undefined) body.seed = request.seed;
  return body;
}

function promptText(messages: ChatMessage[]): string {
  return messages.map((message) => message.content).join('\n');
}

/** `content` is a string, null (tool calls, refusals) or, on some servers, an array of content parts. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) =>
        typeof part === 'string'
          ? part
          : typeof (part as { text?: unknown })?.text === 'string'
            ? (part as { text: string }).text
            : '',
      )
      .join('');
  }
  return '';
}

function nonNegativeInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 3 && current !== null && typeof current === 'object'; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `retry-after-ms` (OpenAI), else `Retry-After` in seconds or as an HTTP-date. */
export function parseRetryAfter(headers: ResponseHeaders, now: number = Date.now()): number | undefined {
  const ms = headerValue(headers, 'retry-after-ms')?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.ceil(Number(ms));
  const retryAfter = headerValue(headers, 'retry-after')?.trim();
  if (!retryAfter) return undefined;
  if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.ceil(Number(retryAfter) * 1000);
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The human part of an error body: OpenAI `{error:{message}}`, vLLM `{message}`, FastAPI `{detail}`, or raw text. */
function serverErrorMessage(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body;
  }
  if (parsed === null || typeof parsed !== 'object') return body;
  const record = parsed as { error?: unknown; message?: unknown; detail?: unknown };
  const error = record.error;
  if (typeof error === 'string') return error;
  if (error !== null && typeof error === 'object') {
    const nested = (error as { message?: unknown }).message;
    if (typeof nested === 'string') return nested;
  }
  if (typeof record.message === 'string') return record.message;
  if (typeof record.detail === 'string') return record.detail;
  if (record.detail !== undefined) return JSON.stringify(record.detail);
  return body;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

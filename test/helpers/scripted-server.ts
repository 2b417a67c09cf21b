import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real OpenAI-compatible HTTP server on 127.0.0.1 whose replies come from a script, with injectable
 * faults. Used by tests and by the throughput benchmark, so the per-request path is kept lean. It serves
 * /v1/chat/completions and /v1/completions; `respond` sees a completions prompt as one user message, and
 * the log keeps the body as it came (with `prompt`, not `messages`).
 */

export interface ChatCompletionRequestBody {
  model: string;
  messages: Array<{ role: string; content: string | null }>;
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  stop?: string | string[];
  seed?: number;
  [field: string]: unknown;
}

export interface ScriptedReply {
  text: string;
  promptTokens?: number;
  completionTokens?: number;
  finishReason?: string;
}

export type Fault =
  | { kind: '429'; retryAfterSeconds?: number }
  | { kind: '500' }
  | { kind: '503' }
  /** Responds correctly, but only after `delayMs`. */
  | { kind: 'slow'; delayMs: number }
  /** Destroys the socket without responding. */
  | { kind: 'drop' }
  /** 200 with a body that is not valid JSON. */
  | { kind: 'malformed' }
  /** 200 with `choices: []`. */
  | { kind: 'empty-choices' }
  /** Any status with an OpenAI-style `{error: {message}}` body (or a raw `body`), plus extra headers. */
  | { kind: 'status'; status: number; message?: string; body?: string; headers?: Record<string, string> };

export interface ScriptedServerOptions {
  respond: (body: ChatCompletionRequestBody) => string | ScriptedReply | Promise<string | ScriptedReply>;
  /** Added before every chat-completion response (simulates generation time). */
  latencyMs?: number;
  /** Include `usage` in responses (default true). Counts are whitespace-split words unless the reply gives them. */
  reportUsage?: boolean;
  /** Keep received bodies in `log` (default true; turn off for benchmarks). */
  keepLog?: boolean;
  /** Model id reported by GET /v1/models and in responses when the request names none (default 'scripted'). */
  modelId?: string;
}

export interface ScriptedServer {
  /** Base URL ending in `/v1`. */
  readonly url: string;
  /** Chat-completion requests received (including faulted ones). */
  readonly requests: number;
  /** Received chat-completion bodies, in arrival order (empty when `keepLog: false`). */
  readonly log: ChatCompletionRequestBody[];
  /** The Authorization header of the latest chat-completion request. */
  readonly lastAuthorization: string | undefined;
  /** Faults not yet consumed. */
  readonly pendingFaults: number;
  /** Queues faults; each incoming chat-completion request consumes one, first in first out. */
  injectFaults(...faults: Fault[]): void;
  close(): Promise<void>;
}

const JSON_HEADERS = { 'content-type': 'application/json' } as const;

export async function startScriptedServer(options: ScriptedServerOptions): Promise<ScriptedServer> {
  const latencyMs = options.latencyMs ?? 0;
  const reportUsage = options.reportUsage ?? true;
  const keepLog = options.keepLog ?? true;
  const modelId = options.modelId ?? 'scripted';

  const faults: Fault[] = [];
  let faultHead = 0;
  const log: ChatCompletionRequestBody[] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let requests = 0;
  let completionId = 0;
  let lastAuthorization: string | undefined;
  let closed = false;

  const later = (ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!closed) fn();
    }, ms);
    timers.add(timer);
  };

  const send = (
    res: ServerResponse,
    status: number,
    payload: string,
    headers?: Record<string, string>,
  ): void => {
    if (res.destroyed) return;
    res.writeHead(status, {
      ...JSON_HEADERS,
      ...headers,
      'content-length': Buffer.byteLength(payload),
    });
    res.end(payload);
  };

  const sendError = (
    res: ServerResponse,
    status: number,
    message: string,
    headers?: Record<string, string>,
  ) =>
    send(res, status, JSON.stringify({ error: { message, type: 'scripted_error', code: status } }), headers);

  const complete = async (
    res: ServerResponse,
    body: ChatCompletionRequestBody,
    api: 'chat' | 'completions',
  ): Promise<void> => {
    let reply: string | ScriptedReply;
    try {
      reply = await options.respond(body);
    } catch (error) {
      sendError(res, 500, `respond() threw: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    const text = typeof reply === 'string' ? reply : reply.text;
    const finishReason = (typeof reply === 'string' ? undefined : reply.finishReason) ?? 'stop';
    const completion: Record<string, unknown> = {
      id: `${api === 'chat' ? 'chatcmpl' : 'cmpl'}-${++completionId}`,
      object: api === 'chat' ? 'chat.completion' : 'text_completion',
      created: Math.floor(Date.now() / 1000),
      model: typeof body.model === 'string' ? body.model : modelId,
      choices: [
        api === 'chat'
          ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: finishReason }
          : { index: 0, text, logprobs: null, finish_reason: finishReason },
      ],
    };
    if (reportUsage) {
      const promptTokens = (typeof reply === 'string' ? undefined : reply.promptTokens) ?? promptWords(body);
      const completionTokens =
        (typeof reply === 'string' ? undefined : reply.completionTokens) ?? countWords(text);
      completion.usage = {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      };
    }
    send(res, 200, JSON.stringify(completion));
  };

  const handleCompletion = (
    req: IncomingMessage,
    res: ServerResponse,
    raw: string,
    api: 'chat' | 'completions',
  ): void => {
    requests += 1;
    lastAuthorization = req.headers.authorization;
    let received: ChatCompletionRequestBody;
    try {
      received = JSON.parse(raw) as ChatCompletionRequestBody;
    } catch {
      sendError(res, 400, 'request body is not valid JSON');
      return;
    }
    if (keepLog) log.push(received);
    if (received === null || typeof received !== 'object') {
      sendError(res, 400, 'request body is not a JSON object');
      return;
    }
    if (api === 'chat' && !Array.isArray(received.messages)) {
      sendError(res, 400, "'messages' is required");
      return;
    }
    if (api === 'completions' && typeof received.prompt !== 'string') {
      sendError(res, 400, "'prompt' is required (a string)");
      return;
    }
    const body: ChatCompletionRequestBody =
      api === 'chat'
        ? received
        : { ...received, messages: [{ role: 'user', content: received.prompt as string }] };

    const fault = faultHead < faults.length ? faults[faultHead++] : undefined;
    if (faultHead === faults.length && faultHead > 0) {
      faults.length = 0;
      faultHead = 0;
    }
    const respond = (): void => {
      if (fault === undefined) {
        void complete(res, body, api);
        return;
      }
      switch (fault.kind) {
        case '429':
          sendError(
            res,
            429,
            'Rate limit reached (scripted)',
            fault.retryAfterSeconds === undefined
              ? undefined
              : { 'retry-after': String(fault.retryAfterSeconds) },
          );
          return;
        case '500':
          sendError(res, 500, 'Internal server error (scripted)');
          return;
        case '503':
          sendError(res, 503, 'Service unavailable (scripted)');
          return;
        case 'slow':
          later(fault.delayMs, () => void complete(res, body, api));
          return;
        case 'drop':
          req.socket.destroy();
          return;
        case 'malformed':
          send(res, 200, '{"id":"chatcmpl-broken","object":"chat.completion","choices":[{"index":0,"mess');
          return;
        case 'empty-choices':
          send(res, 200, JSON.stringify({ id: 'chatcmpl-empty', object: 'chat.completion', choices: [] }));
          return;
        case 'status':
          if (fault.body !== undefined) send(res, fault.status, fault.body, fault.headers);
          else
            sendError(res, fault.status, fault.message ?? `scripted status ${fault.status}`, fault.headers);
          return;
      }
    };
    if (latencyMs > 0 && fault?.kind !== 'drop') later(latencyMs, respond);
    else respond();
  };

  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const route = url.split('?')[0];
    const api =
      route === '/v1/chat/completions' ? 'chat' : route === '/v1/completions' ? 'completions' : undefined;
    if (req.method === 'POST' && api) {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw =
          chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
        handleCompletion(req, res, raw, api);
      });
      return;
    }
    req.resume();
    if (req.method === 'GET' && (url === '/v1/models' || url.startsWith('/v1/models?'))) {
      send(
        res,
        200,
        JSON.stringify({
          object: 'list',
          data: [{ id: modelId, object: 'model', created: 0, owned_by: 'scripted' }],
        }),
      );
      return;
    }
    sendError(res, 404, `no route for ${req.method ?? '?'} ${url}`);
  });
  // Long keep-alive so benchmark clients do not race the server's idle close.
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return requests;
    },
    log,
    get lastAuthorization() {
      return lastAuthorization;
    },
    get pendingFaults() {
      return faults.length - faultHead;
    },
    injectFaults(...newFaults: Fault[]) {
      faults.push(...newFaults);
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function countWords(text: string | null | undefined): number {
  if (!text) return 0;
  let count = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    const space = code === 32 || (code >= 9 && code <= 13) || code === 160;
    if (space) inWord = false;
    else if (!inWord) {
      inWord = true;
      count += 1;
    }
  }
  return count;
}

function promptWords(body: ChatCompletionRequestBody): number {
  let count = 0;
  for (const message of body.messages) count += countWords(message.content);
  return count;
}

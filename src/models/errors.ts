/**
 * Errors raised by model providers. `retryable` tells the runtime whether a retry may succeed
 * (429, 5xx, timeouts, connection resets, malformed bodies); `retryAfterMs` carries the server's Retry-After.
 * Messages never include request headers or API keys.
 */
export class ModelRequestError extends Error {
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly code: string | undefined;

  constructor(
    message: string,
    options: { retryable: boolean; status?: number; retryAfterMs?: number; code?: string; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ModelRequestError';
    this.retryable = options.retryable;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.code = options.code;
  }
}

export function isRetryable(error: unknown): boolean {
  if (error instanceof ModelRequestError) return error.retryable;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE_NETWORK_CODES.has(code);
}

export const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Rejects with `abortedError` as soon as `signal` aborts, whether or not `promise` has settled by then. */
export function rejectOnAbort<T>(promise: Promise<T>, signal: AbortSignal, id: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortedError(id, signal));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The error of a request its caller aborted (timeout, shutdown): never retried. */
export function abortedError(id: string, signal: AbortSignal): ModelRequestError {
  return new ModelRequestError(`${id}: request aborted`, {
    retryable: false,
    code: 'ABORTED',
    cause: signal.reason,
  });
}

/** The error of a request to a generator that was closed. */
export function closedError(id: string): ModelRequestError {
  return new ModelRequestError(`${id}: generator is closed`, { retryable: false, code: 'CLOSED' });
}

import { isRetryable, ModelRequestError } from '../models/errors.js';

export interface RetryInfo {
  /** The attempt that just failed (1-based). */
  attempt: number;
  /** How long we wait before the next attempt. */
  delayMs: number;
  error: unknown;
}

export interface RetryOptions {
  /** Total attempts including the first (default 6). */
  maxAttempts?: number;
  /** Backoff base: the n-th retry waits up to `baseDelayMs * 2^(n-1)` (default 500). */
  baseDelayMs?: number;
  /** Cap on the exponential backoff (default 60 000). A longer server Retry-After is still honoured. */
  maxDelayMs?: number;
  /** Cap on a server's Retry-After (default 600 000 = 10 minutes). */
  maxRetryAfterMs?: number;
  /** Per-attempt timeout; 0 or Infinity disables it (default 120 000). */
  timeoutMs?: number;
  /** Outer cancellation: stops the current attempt and all further retries. */
  signal?: AbortSignal;
  /** Uniform [0, 1) source for jitter (default Math.random). */
  random?: () => number;
  /** Waits between attempts (default: an abortable setTimeout). */
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (info: RetryInfo) => void;
}

/** Thrown when every attempt failed with a retryable error; `cause` is the last attempt's error. */
export class RetriesExhaustedError extends ModelRequestError {
  readonly attempts: number;

  constructor(lastError: unknown, attempts: number) {
    const last = lastError instanceof ModelRequestError ? lastError : undefined;
    const message = lastError instanceof Error ? lastError.message : String(lastError);
    const code = last?.code ?? (lastError as { code?: unknown } | null)?.code;
    super(`${message} (gave up after ${attempts} attempt${attempts === 1 ? '' : 's'})`, {
      retryable: false,
      status: last?.status,
      retryAfterMs: last?.retryAfterMs,
      code: typeof code === 'string' ? code : undefined,
      cause: lastError,
    });
    this.name = 'RetriesExhaustedError';
    this.attempts = attempts;
  }
}

const DEFAULT_MAX_ATTEMPTS = 6;
const DEFAULT_BASE_DELAY_MS = 500;
const DEFAULT_MAX_DELAY_MS = 60_000;
const DEFAULT_MAX_RETRY_AFTER_MS = 600_000;
const DEFAULT_TIMEOUT_MS = 120_000;

/**
 * Runs `attempt` until it succeeds, retrying errors for which `isRetryable` holds, with exponential
 * backoff and full jitter (at least the server's Retry-After). Each attempt gets its own AbortSignal,
 * aborted on the per-attempt timeout (reported as a retryable `TIMEOUT`) or when `options.signal` aborts
 * (reported as a non-retryable `ABORTED`, immediately, without further attempts).
 * Non-retryable errors are rethrown unchanged; exhaustion throws `RetriesExhaustedError`.
 */
export async function withRetries<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS));
  const baseDelayMs = options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
  const maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const random = options.random ?? Math.random;
  const outer = options.signal;

  for (let attemptNumber = 1; ; attemptNumber += 1) {
    if (outer?.aborted) throw abortedError(outer);
    let error: unknown;
    try {
      return await runAttempt(attempt, timeoutMs, outer);
    } catch (caught) {
      error = caught;
    }
    if (outer?.aborted) throw abortedError(outer);
    if (!isRetryable(error)) throw error;
    if (attemptNumber >= maxAttempts) throw new RetriesExhaustedError(error, attemptNumber);

    const delayMs = retryDelay(attemptNumber, error, { baseDelayMs, maxDelayMs, maxRetryAfterMs, random });
    options.onRetry?.({ attempt: attemptNumber, delayMs, error });
    await sleepUnlessAborted(delayMs, options.sleep, outer);
  }
}

/** Full-jitter exponential backoff for retry number `attemptNumber` (1-based), raised to the server's Retry-After. */
export function retryDelay(
  attemptNumber: number,
  error: unknown,
  options: { baseDelayMs: number; maxDelayMs: number; maxRetryAfterMs: number; random: () => number },
): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attemptNumber - 1));
  const jitter = Math.min(Math.max(options.random(), 0), 1);
  let delay = Math.max(0, Math.floor(jitter * ceiling));
  const retryAfterMs = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  if (typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) && retryAfterMs > 0) {
    delay = Math.max(delay, Math.min(Math.ceil(retryAfterMs), options.maxRetryAfterMs));
  }
  return delay;
}

async function runAttempt<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  outer: AbortSignal | undefined,
): Promise<T> {
  const controller = new AbortController();
  let timedOut: ModelRequestError | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
    timer = setTimeout(() => {
      timedOut = new ModelRequestError(`attempt timed out after ${timeoutMs} ms`, {
        retryable: true,
        code: 'TIMEOUT',
      });
      controller.abort(timedOut);
    }, timeoutMs);
  }
  // Forward the outer abort by hand rather than AbortSignal.any: no composite signals kept alive per attempt.
  const onOuterAbort = (): void => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onOuterAbort, { once: true });

  // Settle as soon as the attempt's signal aborts, even if `attempt` ignores its signal.
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(timedOut ?? controller.signal.reason);
    controller.signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    const pending = attempt(controller.signal);
    pending.catch(() => undefined); // a late rejection after a timeout must not go unhandled
    return await Promise.race([pending, aborted]);
  } catch (error) {
    if (timedOut && !outer?.aborted) {
      throw error === timedOut
        ? timedOut
        : new ModelRequestError(timedOut.message, { retryable: true, code: 'TIMEOUT', cause: error });
    }
    throw error;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    outer?.removeEventListener('abort', onOuterAbort);
    if (onAbort) controller.signal.removeEventListener('abort', onAbort);
  }
}

function abortedError(signal: AbortSignal): ModelRequestError {
  return new ModelRequestError('operation aborted', {
    retryable: false,
    code: 'ABORTED',
    cause: signal.reason,
  });
}

async function sleepUnlessAborted(
  ms: number,
  sleep: ((ms: number) => Promise<void>) | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (signal?.aborted) throw abortedError(signal);
  let onAbort: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const slept =
    sleep !== undefined
      ? sleep(ms)
      : new Promise<void>((resolve) => {
          timer = setTimeout(resolve, ms);
        });
  if (!signal) return slept;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortedError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    await Promise.race([slept, aborted]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

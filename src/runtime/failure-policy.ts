import { ModelRequestError } from '../models/errors.js';

/** A file of the run directory holds something the run cannot use: stop and let the user fix it. */
export class InvalidRunDataError extends Error {
  override readonly name = 'InvalidRunDataError';
}

/**
 * Decides what a failed generation means for the run: a refused request (401/403/404: wrong key, model or
 * URL) or unusable run data stops it at once; otherwise failures are counted and logged (the first few,
 * then every 100th), and the run stops only when failures reach 10 and outnumber successes.
 */
export class FailurePolicy {
  failures = 0;
  successes = 0;
  fatal: Error | undefined;

  constructor(private readonly log: (line: string) => void) {}

  /** Records a failure; returns true when the run must stop (see `fatal`). */
  record(error: unknown, where: string): boolean {
    this.failures++;
    const status = error instanceof ModelRequestError ? error.status : undefined;
    const message = error instanceof Error ? error.message : String(error);
    if (this.failures <= 5 || this.failures % 100 === 0) this.log(`warning: ${where} failed: ${message}`);
    if (error instanceof InvalidRunDataError) {
      this.fatal ??= error;
    } else if (status === 401 || status === 403 || status === 404) {
      this.fatal ??= new Error(
        `the model server refused the request (${message}); check --model, --base-url and the API key`,
      );
    } else if (this.failures >= 10 && this.failures > this.successes) {
      this.fatal ??= new Error(`too many failed generations (${this.failures}); last: ${message}`);
    }
    return this.fatal !== undefined;
  }
}

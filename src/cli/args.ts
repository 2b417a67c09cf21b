/** Shared argument helpers: every bad value becomes a UsageError whose message is one clear line. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type FlagSpecs = NonNullable<ParseArgsConfig['options']>;
type ParsedFlags<O extends FlagSpecs, P extends boolean> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: P; strict: true }>
>;

/** Strict parseArgs over `options`; an unknown flag or a missing value becomes a one-line UsageError. */
export function parseFlags<const O extends FlagSpecs, const P extends boolean = false>(
  argv: string[],
  options: O,
  allowPositionals?: P,
): ParsedFlags<O, P> {
  try {
    return parseArgs({
      args: argv,
      options,
      allowPositionals: (allowPositionals ?? false) as P,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0] ?? 'bad arguments');
  }
}

const SUFFIXES: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, b: 1e9 };

/** Parses a count such as `5000`, `200k`, `1.5M`, `2G`. */
export function parseCount(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)([kKmMgGbB]?)$/.exec(value.trim().replace(/_/g, ''));
  if (!match) throw new UsageError(`${flag} expects a whole number such as 5000 or 2M, got "${value}"`);
  const n = Number(match[1]) * (SUFFIXES[(match[2] ?? '').toLowerCase()] ?? 1);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`${flag} must be a positive whole number, got "${value}"`);
  return n;
}

export function parseNumber(
  flag: string,
  value: string | undefined,
  range: { min?: number; max?: number; integer?: boolean } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const bad =
    value.trim() === '' ||
    !Number.isFinite(n) ||
    (range.integer && !Number.isInteger(n)) ||
    (range.min !== undefined && n < range.min) ||
    (range.max !== undefined && n > range.max);
  if (bad) {
    const kind = range.integer ? 'a whole number' : 'a number';
    const bounds = [
      range.min !== undefined ? `>= ${range.min}` : '',
      range.max !== undefined ? `<= ${range.max}` : '',
    ]
      .filter(Boolean)
      .join(' and ');
    throw new UsageError(`${flag} expects ${kind}${bounds ? ` ${bounds}` : ''}, got "${value}"`);
  }
  return n;
}

export function parseChoice<T extends string>(
  flag: string,
  value: string | undefined,
  choices: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`${flag} must be one of ${choices.join(', ')}, got "${value}"`);
  }
  return value as T;
}

/**
 * Runs `work` with an AbortSignal that the first Ctrl-C (or SIGTERM) aborts, after printing `stopping`;
 * a second Ctrl-C exits at once with 130.
 */
export async function withInterrupts<T>(
  stopping: string,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    if (++interrupts > 1) process.exit(130);
    process.stderr.write(`\n${stopping} (press Ctrl-C again to stop at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

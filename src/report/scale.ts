import { compactNumber, fixed, formatNumber, isFiniteNumber } from './format.js';

/** Axis ticks and the domain they span (the first and last tick). */
export interface Ticks {
  min: number;
  max: number;
  values: number[];
  /** Distance between linear ticks; 0 for log ticks. */
  step: number;
}

/** 10^exponent without the rounding of Math.pow for negative exponents (10 ** -3 is not exactly 0.001). */
function pow10(exponent: number): number {
  return Number(`1e${exponent}`);
}

/** The 1, 2 or 5 × 10^k closest to `raw`: steps people read easily. */
export function niceStep(raw: number): number {
  if (!isFiniteNumber(raw) || raw <= 0) return 1;
  const exponent = Math.floor(Math.log10(raw));
  const fraction = raw / pow10(exponent);
  const nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  return exponent < 0 ? nice / pow10(-exponent) : nice * pow10(exponent);
}

/** Decimals needed to tell ticks `step` apart: 0.05 → 2, 5 → 0. */
export function stepDigits(step: number): number {
  if (!isFiniteNumber(step) || step <= 0) return 0;
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

/** About `target` evenly spaced nice ticks covering [lo, hi]. A zero-width range is widened. */
export function niceTicks(lo: number, hi: number, target = 5): Ticks {
  if (!isFiniteNumber(lo) || !isFiniteNumber(hi)) [lo, hi] = [0, 1];
  if (lo > hi) [lo, hi] = [hi, lo];
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    [lo, hi] = [lo - pad, hi + pad];
  }
  const step = niceStep((hi - lo) / Math.max(1, target));
  const start = Math.floor(lo / step + 1e-9);
  const end = Math.ceil(hi / step - 1e-9);
  const digits = stepDigits(step) + 1;
  // Multiples of the step, rounded so that 0.1 * 3 reads 0.3.
  const values: number[] = [];
  for (let i = start; i <= end; i++) values.push(Number((i * step).toFixed(digits)));
  return { min: values[0] ?? lo, max: values[values.length - 1] ?? hi, values, step };
}

/**
 * Ticks for a log axis over [lo, hi] (both > 0): whole decades, every other one or sparser past eight decades,
 * with 2× and 5× added when the range spans two decades or less.
 */
export function logTicks(lo: number, hi: number): Ticks {
  if (!isFiniteNumber(lo) || lo <= 0) lo = 1;
  if (!isFiniteNumber(hi) || hi <= 0) hi = lo * 10;
  if (lo > hi) [lo, hi] = [hi, lo];
  let e0 = Math.floor(Math.log10(lo) + 1e-9);
  let e1 = Math.ceil(Math.log10(hi) - 1e-9);
  if (e0 === e1) [e0, e1] = [e0 - 1, e1 + 1];
  const every = Math.ceil((e1 - e0) / 8);
  e1 = e0 + Math.ceil((e1 - e0) / every) * every;
  const values: number[] = [];
  for (let e = e0; e <= e1; e += every) {
    values.push(pow10(e));
    if (e1 - e0 <= 2 && e < e1) values.push(2 * pow10(e), 5 * pow10(e));
  }
  values.sort((a, b) => a - b);
  return { min: pow10(e0), max: pow10(e1), values, step: 0 };
}

export type ScaleFn = (value: number) => number;

/** Maps [d0, d1] onto [r0, r1]; a zero-width domain maps to the middle of the range. */
export function linearScale([d0, d1]: [number, number], [r0, r1]: [number, number]): ScaleFn {
  const span = d1 - d0;
  if (!isFiniteNumber(span) || span === 0) return () => (r0 + r1) / 2;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

/** Maps [d0, d1] (both > 0) onto [r0, r1] in log10 space. */
export function logScale([d0, d1]: [number, number], [r0, r1]: [number, number]): ScaleFn {
  const inner = linearScale([Math.log10(d0), Math.log10(d1)], [r0, r1]);
  return (v) => inner(Math.log10(v));
}

/** Labels for linear ticks: percent from fractions, compact (1k, 1M, 1B) for large values. */
export function tickLabeler(ticks: Ticks, unit?: '%'): (value: number) => string {
  if (unit === '%') {
    const digits = stepDigits(ticks.step * 100);
    return (v) => `${fixed(v * 100, digits)}%`;
  }
  const large = ticks.values.some((v) => Math.abs(v) >= 1000);
  if (large) return (v) => compactNumber(v);
  const digits = stepDigits(ticks.step);
  return (v) => fixed(v, digits);
}

/** Labels for log ticks: 1, 10, 100, 1k, 10k, ... 1M, 1B. */
export function logTickLabel(value: number): string {
  return Math.abs(value) >= 1000 ? compactNumber(value) : formatNumber(value);
}

export interface ValueRange {
  unit?: '%';
  /** Fixed ends chosen by the caller; otherwise fitted to the data with nice ticks. */
  min?: number;
  max?: number;
  /** Bars start at zero, so their axis must show it. */
  includeZero?: boolean;
}

/**
 * Ticks for a value axis holding `values` (at least one finite). Percent axes fitted to fractions stop at 0%
 * and 100% instead of running past them.
 */
export function valueTicks(values: number[], range: ValueRange = {}): Ticks {
  const finite = values.filter(isFiniteNumber);
  let lo = finite.length ? Math.min(...finite) : 0;
  let hi = finite.length ? Math.max(...finite) : 1;
  if (range.includeZero) [lo, hi] = [Math.min(lo, 0), Math.max(hi, 0)];
  const fixedLo = isFiniteNumber(range.min) ? range.min : undefined;
  const fixedHi = isFiniteNumber(range.max) ? range.max : undefined;
  if (fixedLo !== undefined) lo = fixedLo;
  if (fixedHi !== undefined) hi = fixedHi;
  if (lo > hi) [lo, hi] = [hi, lo];
  if (lo === hi && range.includeZero && lo === 0) hi = 1;
  const dataLo = lo;
  const dataHi = hi;
  const ticks = niceTicks(lo, hi);
  let { min, max } = ticks;
  if (fixedLo !== undefined) min = Math.min(fixedLo, fixedHi ?? fixedLo);
  if (fixedHi !== undefined) max = Math.max(fixedHi, fixedLo ?? fixedHi);
  if (range.unit === '%') {
    if (dataHi <= 1 && max > 1) max = 1;
    if (dataLo >= 0 && min < 0) min = 0;
  }
  const eps = ticks.step * 1e-6;
  return { min, max, step: ticks.step, values: ticks.values.filter((v) => v >= min - eps && v <= max + eps) };
}

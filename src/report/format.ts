import type { Cell, IntervalValue, NumberFormat } from './types.js';

/** What a missing or non-finite value reads as. */
export const DASH = '–';

export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

export function isInterval(cell: unknown): cell is IntervalValue {
  return typeof cell === 'object' && cell !== null && 'value' in cell;
}

/** The numeric value of a cell (an interval's point value), or undefined. */
export function cellNumber(cell: Cell): number | undefined {
  const v = isInterval(cell) ? cell.value : cell;
  return isFiniteNumber(v) ? v : undefined;
}

/** toFixed without "-0.0": rounding a tiny negative to zero should not show a sign. */
export function fixed(value: number, digits: number): string {
  const s = value.toFixed(digits);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/** Decimals that keep about three significant digits: 12.34 → 1, 1.234 → 2, 0.01234 → 4; integers → 0. */
export function autoDigits(value: number): number {
  if (!isFiniteNumber(value) || Number.isInteger(value)) return 0;
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  return Math.min(6, Math.max(0, 2 - magnitude));
}

const formatters = new Map<string, Intl.NumberFormat>();

// A fixed locale so that reports read the same on every machine.
function grouped(value: number, minDigits: number, maxDigits: number): string {
  const key = `${minDigits}:${maxDigits}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.NumberFormat('en-US', {
      minimumFractionDigits: minDigits,
      maximumFractionDigits: maxDigits,
    });
    formatters.set(key, f);
  }
  const s = f.format(value);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/** 1234567 → "1,234,567", 0.12345 → "0.123"; with `digits`, exactly that many decimals. */
export function formatNumber(value: number | null | undefined, digits?: number): string {
  if (!isFiniteNumber(value)) return DASH;
  if (digits !== undefined) return grouped(value, digits, digits);
  return grouped(value, 0, autoDigits(value));
}

/** A fraction as a percentage: 0.6621 → "66.2%". */
export function formatPercent(value: number | null | undefined, digits = 1): string {
  if (!isFiniteNumber(value)) return DASH;
  return `${fixed(value * 100, digits)}%`;
}

const UNITS: [number, string][] = [
  [1e3, 'k'],
  [1e6, 'M'],
  [1e9, 'B'],
  [1e12, 'T'],
];

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** Short labels for large counts: 1500 → "1.5k", 2e9 → "2B"; below 1000 as formatNumber. */
export function compactNumber(value: number | null | undefined, digits = 2): string {
  if (!isFiniteNumber(value)) return DASH;
  const abs = Math.abs(value);
  for (let i = UNITS.length - 1; i >= 0; i--) {
    const [size, suffix] = UNITS[i] as [number, string];
    if (abs < size) continue;
    const scaled = trimZeros(fixed(value / size, digits));
    // 999,999 rounds to "1000k": say "1M" instead.
    const next = UNITS[i + 1];
    if (next && Math.abs(Number(scaled)) >= 1000)
      return `${trimZeros(fixed(value / next[0], digits))}${next[1]}`;
    return `${scaled}${suffix}`;
  }
  return formatNumber(value);
}

/** "66.2% (64.1–68.3)" for percent, "0.53 (0.49–0.57)" for numbers; the bounds are left out when unknown. */
export function formatInterval(
  cell: IntervalValue,
  fallback: NumberFormat = 'number',
  digits?: number,
): string {
  const format = cell.format ?? fallback;
  if (!isFiniteNumber(cell.value)) return DASH;
  const d = cell.digits ?? digits;
  const one =
    format === 'percent'
      ? (v: number) => fixed(v * 100, d ?? 1)
      : (v: number) => formatNumber(v, d ?? autoDigits(cell.value));
  const main = format === 'percent' ? `${one(cell.value)}%` : one(cell.value);
  if (!isFiniteNumber(cell.low) || !isFiniteNumber(cell.high)) return main;
  const low = Math.min(cell.low, cell.high);
  const high = Math.max(cell.low, cell.high);
  return `${main} (${one(low)}–${one(high)})`;
}

/** Any table cell as text. */
export function formatCell(cell: Cell, format: NumberFormat = 'number', digits?: number): string {
  if (cell === null || cell === undefined) return DASH;
  if (typeof cell === 'string') return cell;
  if (typeof cell === 'number')
    return format === 'percent' ? formatPercent(cell, digits) : formatNumber(cell, digits);
  if (isInterval(cell)) return formatInterval(cell, format, digits);
  return DASH;
}

/** A value labelled on a chart: percent, or a number (compact when large). */
export function formatChartValue(value: number | null | undefined, unit?: '%'): string {
  if (!isFiniteNumber(value)) return DASH;
  if (unit === '%') return formatPercent(value);
  return Math.abs(value) >= 1e5 ? compactNumber(value) : formatNumber(value);
}

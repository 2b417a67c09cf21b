import { describe, expect, it } from 'vitest';
import {
  DASH,
  compactNumber,
  formatCell,
  formatInterval,
  formatNumber,
  formatPercent,
} from '../../src/report/format.js';
import {
  linearScale,
  logScale,
  logTickLabel,
  logTicks,
  niceTicks,
  tickLabeler,
  valueTicks,
} from '../../src/report/scale.js';
import { escapeHtml } from '../../src/report/escape.js';

describe('formatting', () => {
  it('writes fractions as percentages with one decimal', () => {
    expect(formatPercent(0.6621)).toBe('66.2%');
    expect(formatPercent(1)).toBe('100.0%');
    expect(formatPercent(0.5, 0)).toBe('50%');
    expect(formatPercent(-0.00001)).toBe('0.0%');
  });

  it("writes '–' for missing and non-finite values", () => {
    for (const v of [NaN, undefined, null, Infinity, -Infinity]) {
      expect(formatPercent(v)).toBe(DASH);
      expect(formatNumber(v)).toBe(DASH);
      expect(compactNumber(v)).toBe(DASH);
    }
    expect(formatCell(undefined)).toBe(DASH);
    expect(formatCell(null)).toBe(DASH);
    expect(formatCell(NaN, 'percent')).toBe(DASH);
    expect(formatInterval({ value: NaN, low: 0.1, high: 0.2, format: 'percent' })).toBe(DASH);
  });

  it('writes an interval as value (low–high)', () => {
    expect(formatInterval({ value: 0.662, low: 0.641, high: 0.683, format: 'percent' })).toBe(
      '66.2% (64.1–68.3)',
    );
    // Bounds given the wrong way round still read low–high.
    expect(formatInterval({ value: 0.662, low: 0.683, high: 0.641, format: 'percent' })).toBe(
      '66.2% (64.1–68.3)',
    );
    expect(formatInterval({ value: 0.662, low: NaN, high: 0.683, format: 'percent' })).toBe('66.2%');
    expect(formatInterval({ value: 0.5312, low: 0.49, high: 0.57 })).toBe('0.531 (0.490–0.570)');
    expect(formatInterval({ value: 12.5, low: 10, high: 15, digits: 0 })).toBe('13 (10–15)');
    expect(formatCell({ value: 0.25, low: 0.2, high: 0.3 }, 'percent')).toBe('25.0% (20.0–30.0)');
  });

  it('groups thousands and keeps about three significant digits', () => {
    expect(formatNumber(1234567)).toBe('1,234,567');
    expect(formatNumber(12.3456)).toBe('12.3');
    expect(formatNumber(0.012345)).toBe('0.0123');
    expect(formatNumber(2, 2)).toBe('2.00');
  });

  it('writes large counts as 1k / 1M / 1B', () => {
    expect(compactNumber(1500)).toBe('1.5k');
    expect(compactNumber(250_000)).toBe('250k');
    expect(compactNumber(1_000_000)).toBe('1M');
    expect(compactNumber(999_999)).toBe('1M');
    expect(compactNumber(2e9)).toBe('2B');
    expect(compactNumber(-3e6)).toBe('-3M');
    expect(compactNumber(3e12)).toBe('3T');
    expect(compactNumber(12)).toBe('12');
  });

  it('escapes markup and quotes, and drops control characters', () => {
    expect(escapeHtml(`<script>"a" & 'b'</script>`)).toBe(
      '&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;',
    );
    expect(escapeHtml('a\u0000b\u001Fc\nd')).toBe('abc\nd');
    expect(escapeHtml(undefined)).toBe('');
  });
});

describe('ticks and scales', () => {
  it('picks nice linear ticks without floating-point noise', () => {
    expect(niceTicks(0, 0.95).values).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    const t = niceTicks(0, 0.3);
    expect(t.values).toEqual([0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]);
    expect(niceTicks(-3, 7).values).toEqual([-4, -2, 0, 2, 4, 6, 8]);
    expect(niceTicks(0, 2_000_000).values).toEqual([0, 500_000, 1_000_000, 1_500_000, 2_000_000]);
  });

  it('widens a zero-width or non-finite range instead of failing', () => {
    const same = niceTicks(5, 5);
    expect(same.min).toBeLessThan(5);
    expect(same.max).toBeGreaterThan(5);
    const bad = niceTicks(NaN, Infinity);
    expect(bad.values.every(Number.isFinite)).toBe(true);
    expect(bad.values.length).toBeGreaterThan(1);
  });

  it('puts log ticks on whole decades labelled 1k, 1M, 1B', () => {
    const t = logTicks(1500, 2e9);
    expect(t.values).toEqual([1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10]);
    expect(t.values.map(logTickLabel)).toEqual(['1k', '10k', '100k', '1M', '10M', '100M', '1B', '10B']);
    expect(logTicks(0.001, 0.1).values.map(logTickLabel)).toEqual([
      '0.001',
      '0.002',
      '0.005',
      '0.01',
      '0.02',
      '0.05',
      '0.1',
    ]);
  });

  it('adds 2× and 5× ticks on a narrow log range and thins out a very wide one', () => {
    expect(logTicks(2000, 8000).values).toEqual([1000, 2000, 5000, 10000]);
    const wide = logTicks(1, 1e20);
    expect(wide.values.length).toBeLessThanOrEqual(9);
    expect(wide.min).toBe(1);
    expect(wide.max).toBeGreaterThanOrEqual(1e20);
  });

  it('maps values linearly and logarithmically', () => {
    const lin = linearScale([0, 10], [100, 0]);
    expect(lin(0)).toBe(100);
    expect(lin(2.5)).toBe(75);
    const log = logScale([1, 100], [0, 200]);
    expect(log(10)).toBeCloseTo(100);
    expect(linearScale([3, 3], [0, 10])(3)).toBe(5);
  });

  it('keeps a percent axis between 0% and 100% for fractions', () => {
    const t = valueTicks([0.2, 0.97], { unit: '%', includeZero: true });
    expect(t.min).toBe(0);
    expect(t.max).toBe(1);
    expect(t.values.map(tickLabeler(t, '%'))).toEqual(['0%', '20%', '40%', '60%', '80%', '100%']);
    const fixed = valueTicks([0.5], { min: 0.4, max: 0.6 });
    expect([fixed.min, fixed.max]).toEqual([0.4, 0.6]);
  });

  it('labels large linear ticks compactly', () => {
    const t = niceTicks(0, 2_000_000);
    expect(t.values.map(tickLabeler(t))).toEqual(['0', '500k', '1M', '1.5M', '2M']);
    const small = niceTicks(0, 0.3);
    expect(small.values.map(tickLabeler(small))).toContain('0.15');
  });
});

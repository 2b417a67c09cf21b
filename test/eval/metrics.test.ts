import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/eval/graders/verdict.js';
import { groupMetrics, pointMetrics, summarize, type GradedItem } from '../../src/eval/metrics.js';

const items = (spec: Partial<Record<Verdict, number>>, extra: Partial<GradedItem> = {}): GradedItem[] =>
  (Object.entries(spec) as [Verdict, number][]).flatMap(([verdict, k]) =>
    Array.from({ length: k }, () => ({ verdict, ...extra })),
  );

describe('point metrics', () => {
  it('3 correct, 1 incorrect, 1 not attempted', () => {
    const m = pointMetrics({ n: 5, correct: 3, incorrect: 1, not_attempted: 1, unparsed: 0 });
    expect(m.correct).toBeCloseTo(0.6, 12);
    expect(m.incorrect).toBeCloseTo(0.2, 12);
    expect(m.not_attempted).toBeCloseTo(0.2, 12);
    expect(m.unparsed).toBe(0);
    expect(m.accuracy_given_attempted).toBeCloseTo(0.75, 12);
    expect(m.f_score).toBeCloseTo((2 * 0.6 * 0.75) / 1.35, 12);
  });

  it('counts unparsed in the denominator and not as attempted', () => {
    const m = pointMetrics({ n: 10, correct: 4, incorrect: 4, not_attempted: 0, unparsed: 2 });
    expect(m.correct).toBeCloseTo(0.4, 12);
    expect(m.unparsed).toBeCloseTo(0.2, 12);
    expect(m.accuracy_given_attempted).toBeCloseTo(0.5, 12);
  });

  it('has no accuracy given attempted (nor F) without attempts, and F = 0 when nothing is correct', () => {
    const none = pointMetrics({ n: 3, correct: 0, incorrect: 0, not_attempted: 2, unparsed: 1 });
    expect(none.correct).toBe(0);
    expect(none.accuracy_given_attempted).toBeNull();
    expect(none.f_score).toBeNull();
    const wrong = pointMetrics({ n: 2, correct: 0, incorrect: 2, not_attempted: 0, unparsed: 0 });
    expect(wrong.accuracy_given_attempted).toBe(0);
    expect(wrong.f_score).toBe(0);
  });
});

describe('summarize', () => {
  it('handles an empty set', () => {
    const s = summarize([]);
    expect(s.counts).toEqual({ n: 0, correct: 0, incorrect: 0, not_attempted: 0, unparsed: 0 });
    expect(s.correct).toEqual({ value: null, low: null, high: null });
    expect(s.f_score).toEqual({ value: null, low: null, high: null });
    expect(s.by_doc).toEqual({});
    expect(s.bootstrap).toEqual({ resamples: 1000, seed: 0, confidence: 0.95 });
  });

  it('gives intervals that contain the point value and lie in [0, 1]', () => {
    const s = summarize(items({ correct: 30, incorrect: 12, not_attempted: 6, unparsed: 2 }));
    for (const name of [
      'correct',
      'incorrect',
      'not_attempted',
      'unparsed',
      'accuracy_given_attempted',
      'f_score',
    ] as const) {
      const m = s[name];
      expect(m.value).not.toBeNull();
      expect(m.low as number).toBeLessThanOrEqual(m.value as number);
      expect(m.high as number).toBeGreaterThanOrEqual(m.value as number);
      expect(m.low as number).toBeGreaterThanOrEqual(0);
      expect(m.high as number).toBeLessThanOrEqual(1);
    }
    expect(s.correct.value).toBeCloseTo(0.6, 12);
  });

  it('narrows the interval as n grows', () => {
    const width = (k: number) => {
      const m = groupMetrics(items({ correct: 6 * k, incorrect: 3 * k, not_attempted: k })).correct;
      return (m.high as number) - (m.low as number);
    };
    const [w10, w100, w1000] = [width(1), width(10), width(100)];
    expect(w100).toBeLessThan(w10);
    expect(w1000).toBeLessThan(w100);
    // binomial: about 2 * 1.96 * sqrt(0.6 * 0.4 / 1000) = 0.061 at n = 1000
    expect(w1000).toBeGreaterThan(0.045);
    expect(w1000).toBeLessThan(0.075);
  });

  it('is deterministic for a seed and changes with it', () => {
    const data = items({ correct: 17, incorrect: 9, not_attempted: 5 });
    expect(summarize(data, { seed: 7 })).toEqual(summarize(data, { seed: 7 }));
    expect(summarize(data, { seed: 7 }).correct).not.toEqual(summarize(data, { seed: 8 }).correct);
  });

  it('gives degenerate intervals for a constant sample, null ones without resamples', () => {
    const all = groupMetrics(items({ correct: 5 }));
    expect(all.correct).toEqual({ value: 1, low: 1, high: 1 });
    const none = groupMetrics(items({ correct: 3, incorrect: 1 }), { resamples: 0 });
    expect(none.correct).toEqual({ value: 0.75, low: null, high: null });
  });

  it('breaks down by document and by method, leaving out items without the key', () => {
    const data = [
      ...items({ correct: 2, incorrect: 1 }, { doc_id: 'd2', method: 'ar' }),
      ...items({ not_attempted: 1 }, { doc_id: 'd1', method: 'qa' }),
      ...items({ correct: 1 }, { doc_id: 'd1' }),
      ...items({ unparsed: 1 }),
    ];
    const s = summarize(data, { resamples: 200 });
    expect(s.counts.n).toBe(6);
    expect(Object.keys(s.by_doc)).toEqual(['d1', 'd2']);
    expect(s.by_doc.d1?.counts).toEqual({ n: 2, correct: 1, incorrect: 0, not_attempted: 1, unparsed: 0 });
    expect(s.by_doc.d2?.accuracy_given_attempted.value).toBeCloseTo(2 / 3, 12);
    expect(Object.keys(s.by_method)).toEqual(['ar', 'qa']);
    expect(s.by_method.qa?.accuracy_given_attempted).toEqual({ value: null, low: null, high: null });
    // a group's interval does not depend on the other groups
    const alone = summarize(
      data.filter((d) => d.doc_id === 'd2'),
      { resamples: 200 },
    );
    expect(alone.by_doc.d2).toEqual(s.by_doc.d2);
  });

  it('keeps odd ids as plain keys', () => {
    const s = summarize(items({ correct: 1 }, { doc_id: '__proto__' }), { resamples: 10 });
    expect(Object.keys(s.by_doc)).toEqual(['__proto__']);
    expect(JSON.parse(JSON.stringify(s)).by_doc.__proto__.counts.n).toBe(1);
  });
});

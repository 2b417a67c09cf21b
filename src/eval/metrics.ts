/**
 * SimpleQA metrics with percentile-bootstrap confidence intervals, overall and per document and method.
 *
 * All rates are fractions in [0, 1] over every graded item, `unparsed` included in the denominator, so the
 * four rates sum to 1 and a judge that cannot be read shows up as its own rate instead of hiding in one of
 * the grades. For accuracy given attempted, an unparsed item counts as not attempted (attempted = correct +
 * incorrect): we do not know what the judge meant, and its share is reported beside it.
 *
 * A rate with no denominator is null, not 0: an empty set has no % correct, and a set with no attempted
 * answer has no accuracy given attempted (0 would read as "every attempt was wrong"). The F-score, the
 * harmonic mean of % correct and accuracy given attempted (SimpleQA), is null when the latter is, and 0 when
 * both are 0.
 */
import { Rng } from '../engine/rng.js';
import type { Verdict } from './graders/verdict.js';

export interface GradedItem {
  verdict: Verdict;
  doc_id?: string;
  method?: string;
}

/** A point value and its confidence interval; all null where the metric is undefined. */
export interface MetricWithCi {
  value: number | null;
  low: number | null;
  high: number | null;
}

export interface VerdictCounts {
  n: number;
  correct: number;
  incorrect: number;
  not_attempted: number;
  unparsed: number;
}

export const METRIC_NAMES = [
  'correct',
  'incorrect',
  'not_attempted',
  'unparsed',
  'accuracy_given_attempted',
  'f_score',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export type GroupMetrics = { counts: VerdictCounts } & Record<MetricName, MetricWithCi>;

export interface Summary extends GroupMetrics {
  /** Items without a doc_id (or method) are left out of that breakdown. Keys are sorted. */
  by_doc: Record<string, GroupMetrics>;
  by_method: Record<string, GroupMetrics>;
  bootstrap: { resamples: number; seed: number; confidence: number };
}

export interface MetricsOptions {
  /** Bootstrap resamples (default 1000); 0 gives null intervals. */
  resamples?: number;
  seed?: number;
  /** Interval coverage (default 0.95). */
  confidence?: number;
}

export function countVerdicts(items: readonly { verdict: Verdict }[]): VerdictCounts {
  const c: VerdictCounts = { n: 0, correct: 0, incorrect: 0, not_attempted: 0, unparsed: 0 };
  for (const item of items) {
    c.n++;
    c[item.verdict]++;
  }
  return c;
}

export function pointMetrics(c: VerdictCounts): Record<MetricName, number | null> {
  const rate = (k: number) => (c.n > 0 ? k / c.n : null);
  const attempted = c.correct + c.incorrect;
  const aga = attempted > 0 ? c.correct / attempted : null;
  const correct = rate(c.correct);
  let f: number | null = null;
  if (aga !== null && correct !== null) f = aga + correct > 0 ? (2 * aga * correct) / (aga + correct) : 0;
  return {
    correct,
    incorrect: rate(c.incorrect),
    not_attempted: rate(c.not_attempted),
    unparsed: rate(c.unparsed),
    accuracy_given_attempted: aga,
    f_score: f,
  };
}

/** Linear-interpolated quantile of sorted values (type 7, as numpy's default). */
function quantile(sorted: number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const a = sorted[lo] as number;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)] as number;
  return a + (h - lo) * (b - a);
}

/**
 * Resamples n items with replacement. Only the verdict of an item matters, so drawing an index is drawing
 * a verdict with probability count/n: same distribution as resampling the item list, without holding it.
 */
function bootstrap(c: VerdictCounts, resamples: number, seed: number): Record<MetricName, number[]> {
  const out = Object.fromEntries(METRIC_NAMES.map((m) => [m, [] as number[]])) as Record<
    MetricName,
    number[]
  >;
  if (c.n === 0) return out;
  const rng = new Rng(seed);
  const edges = [c.correct, c.correct + c.incorrect, c.correct + c.incorrect + c.not_attempted];
  for (let r = 0; r < resamples; r++) {
    const s: VerdictCounts = { n: c.n, correct: 0, incorrect: 0, not_attempted: 0, unparsed: 0 };
    for (let i = 0; i < c.n; i++) {
      const u = rng.next() * c.n;
      if (u < (edges[0] as number)) s.correct++;
      else if (u < (edges[1] as number)) s.incorrect++;
      else if (u < (edges[2] as number)) s.not_attempted++;
      else s.unparsed++;
    }
    const m = pointMetrics(s);
    // A resample where a metric is undefined (no attempt drawn) says nothing about its spread: skipped.
    for (const name of METRIC_NAMES) if (m[name] !== null) out[name].push(m[name]);
  }
  return out;
}

export function groupMetrics(
  items: readonly { verdict: Verdict }[],
  options: MetricsOptions = {},
): GroupMetrics {
  const { resamples = 1000, seed = 0, confidence = 0.95 } = options;
  const counts = countVerdicts(items);
  const point = pointMetrics(counts);
  const draws = bootstrap(counts, resamples, seed);
  const alpha = (1 - confidence) / 2;
  const metrics = Object.fromEntries(
    METRIC_NAMES.map((name) => {
      const value = point[name];
      const sorted = draws[name].sort((a, b) => a - b);
      if (value === null || sorted.length === 0) return [name, { value, low: null, high: null }];
      return [name, { value, low: quantile(sorted, alpha), high: quantile(sorted, 1 - alpha) }];
    }),
  ) as Record<MetricName, MetricWithCi>;
  return { counts, ...metrics };
}

/** FNV-1a of the group's name mixed into the seed: a group's interval does not depend on the other groups. */
function groupSeed(seed: number, key: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function breakdown(
  items: readonly GradedItem[],
  keyOf: (item: GradedItem) => string | undefined,
  kind: string,
  options: MetricsOptions,
): Record<string, GroupMetrics> {
  const groups = new Map<string, GradedItem[]>();
  for (const item of items) {
    const key = keyOf(item);
    if (key === undefined) continue;
    const list = groups.get(key);
    if (list) list.push(item);
    else groups.set(key, [item]);
  }
  // fromEntries defines own keys, so an id like '__proto__' stays a plain key.
  return Object.fromEntries(
    [...groups.keys()].sort().map((key) => {
      const seed = groupSeed(options.seed ?? 0, `${kind}\0${key}`);
      return [key, groupMetrics(groups.get(key) as GradedItem[], { ...options, seed })];
    }),
  );
}

/** Everything summary.json reports about a set of graded answers. */
export function summarize(items: readonly GradedItem[], options: MetricsOptions = {}): Summary {
  const { resamples = 1000, seed = 0, confidence = 0.95 } = options;
  const opts = { resamples, seed, confidence };
  return {
    ...groupMetrics(items, opts),
    by_doc: breakdown(items, (i) => i.doc_id, 'doc', opts),
    by_method: breakdown(items, (i) => i.method, 'method', opts),
    bootstrap: opts,
  };
}

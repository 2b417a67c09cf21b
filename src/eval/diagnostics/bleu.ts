/**
 * Sentence BLEU-4 as NLTK's `sentence_bleu` computes it with `SmoothingFunction().method1` (Chen & Cherry
 * 2014, method 1: an n-gram order with no match gets precision epsilon/total, epsilon = 0.1). That is the
 * variant Self-BLEU was defined with (Texygen, Zhu et al. 2018). Details kept from NLTK: uniform weights
 * 1/4, counts clipped by the most any single reference has, brevity penalty against the reference length
 * closest to the hypothesis (the shorter on a tie), a score of exactly 0 when no unigram matches, and an
 * order the hypothesis is too short to have counting as epsilon (identical 3-token texts score 0.1^(1/4)):
 * irrelevant for generations of hundreds of tokens, and it keeps scores comparable with published ones.
 */

export const MAX_ORDER = 4;
const EPSILON = 0.1;

/**
 * Lower-cased words (letters, digits, combining marks) and single punctuation marks, after NFKC. Lower
 * case because Self-BLEU measures wording diversity, not capitalisation.
 */
export function bleuTokens(text: string): string[] {
  return (
    text
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}\p{M}]+|[^\s\p{L}\p{N}\p{M}]/gu) ?? []
  );
}

/** Counts of every n-gram of orders 1..MAX_ORDER; keys join tokens with U+0001, so orders never collide. */
export function ngramCounts(tokens: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (let n = 1; n <= MAX_ORDER; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      const key = tokens.slice(i, i + n).join('\u0001');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

export function ngramOrder(key: string): number {
  let n = 1;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) === 1) n++;
  return n;
}

/**
 * BLEU from a hypothesis's n-gram counts, a clipping function (the most any reference holds of an
 * n-gram) and the closest reference length. Split this way so Self-BLEU can clip in O(1) per n-gram.
 */
export function bleuFromCounts(
  hypCounts: ReadonlyMap<string, number>,
  hypLength: number,
  maxRefCount: (key: string) => number,
  refLength: number,
): number {
  const matches = new Array<number>(MAX_ORDER + 1).fill(0);
  const totals = new Array<number>(MAX_ORDER + 1).fill(0);
  for (const [key, count] of hypCounts) {
    const n = ngramOrder(key);
    totals[n] = (totals[n] as number) + count;
    matches[n] = (matches[n] as number) + Math.min(count, maxRefCount(key));
  }
  if (matches[1] === 0) return 0;
  let logSum = 0;
  for (let n = 1; n <= MAX_ORDER; n++) {
    const total = Math.max(1, totals[n] as number);
    const m = matches[n] as number;
    logSum += Math.log(m > 0 ? m / total : EPSILON / total) / MAX_ORDER;
  }
  const bp = hypLength > refLength ? 1 : Math.exp(1 - refLength / hypLength);
  return bp * Math.exp(logSum);
}

/** Closest reference length to `hyp`, the shorter one on a tie (NLTK's `closest_ref_length`). */
export function closestLength(lengths: Iterable<number>, hyp: number): number {
  let best = Infinity;
  for (const r of lengths) {
    const d = Math.abs(r - hyp);
    const bd = Math.abs(best - hyp);
    if (d < bd || (d === bd && r < best)) best = r;
  }
  return best;
}

/** Sentence BLEU-4 of one hypothesis against any number of references (plain text, tokenised here). */
export function sentenceBleu(hypothesis: string, references: readonly string[]): number {
  const hyp = bleuTokens(hypothesis);
  if (hyp.length === 0 || references.length === 0) return 0;
  const refs = references.map(bleuTokens);
  const refCounts = refs.map(ngramCounts);
  const maxRef = (key: string) => Math.max(0, ...refCounts.map((c) => c.get(key) ?? 0));
  return bleuFromCounts(
    ngramCounts(hyp),
    hyp.length,
    maxRef,
    closestLength(
      refs.map((r) => r.length),
      hyp.length,
    ),
  );
}

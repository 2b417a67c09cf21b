/**
 * Self-BLEU (Zhu et al. 2018): how much the generations made from one source document repeat each other.
 * For each generation, BLEU-4 (bleu.ts) against all the other generations of the same document as
 * references; the document's score is the mean over its generations. Lower = more diverse. The Active
 * Reading paper (Sec. 5, Fig. 6) uses it to show that its strategies give more varied data than
 * paraphrase or synthetic QA.
 */
import { bleuFromCounts, bleuTokens, closestLength, ngramCounts } from './bleu.js';

export interface DocSelfBleu {
  doc_id: string;
  generations: number;
  /** null with fewer than two generations (nothing to compare with). */
  self_bleu: number | null;
}

export interface SelfBleuReport {
  /** Mean over the documents that have a score (each document weighs the same); null if none has. */
  mean: number | null;
  docs: DocSelfBleu[];
}

/** The two largest counts of an n-gram over the generations, and which generation holds the largest. */
interface Top2 {
  first: number;
  owner: number;
  second: number;
}

/**
 * Self-BLEU of one group of texts. Clipping against "every other text" only needs, per n-gram, the largest
 * count and the runner-up: the reference maximum for text i is the runner-up when i holds the largest. So
 * the cost is linear in the total length, not quadratic in the number of generations.
 */
export function selfBleu(texts: readonly string[]): number | null {
  if (texts.length < 2) return null;
  const tokens = texts.map(bleuTokens);
  const counts = tokens.map(ngramCounts);
  const top = new Map<string, Top2>();
  counts.forEach((c, i) => {
    for (const [key, n] of c) {
      const t = top.get(key);
      if (!t) top.set(key, { first: n, owner: i, second: 0 });
      else if (n > t.first) {
        t.second = t.first;
        t.first = n;
        t.owner = i;
      } else if (n > t.second) t.second = n;
    }
  });
  const lengths = tokens.map((t) => t.length);
  let sum = 0;
  for (let i = 0; i < texts.length; i++) {
    const hypLength = lengths[i] as number;
    const maxRef = (key: string) => {
      const t = top.get(key) as Top2;
      return t.owner === i ? t.second : t.first;
    };
    const others = lengths.filter((_, j) => j !== i);
    sum +=
      hypLength === 0
        ? 0
        : bleuFromCounts(
            counts[i] as Map<string, number>,
            hypLength,
            maxRef,
            closestLength(others, hypLength),
          );
  }
  return sum / texts.length;
}

/** Groups generations by document (first-seen order) and scores each group. */
export function selfBleuByDoc(generations: Iterable<{ doc_id: string; text: string }>): SelfBleuReport {
  const groups = new Map<string, string[]>();
  for (const g of generations) {
    const list = groups.get(g.doc_id);
    if (list) list.push(g.text);
    else groups.set(g.doc_id, [g.text]);
  }
  const docs: DocSelfBleu[] = [...groups].map(([doc_id, texts]) => ({
    doc_id,
    generations: texts.length,
    self_bleu: selfBleu(texts),
  }));
  const scored = docs.map((d) => d.self_bleu).filter((s): s is number => s !== null);
  return { mean: scored.length ? scored.reduce((a, b) => a + b, 0) / scored.length : null, docs };
}

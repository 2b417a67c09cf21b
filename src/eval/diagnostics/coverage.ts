/**
 * Answer coverage: does the study data made from a question's document contain the question's gold answer
 * at all? A model cannot learn what it never saw, so low coverage points at the data, not the training.
 * (The Active Reading paper, Sec. 5, checks this with a judge model; here it is a lexical check: the gold,
 * normalised as the lexical grader does, occurs as whole tokens in one of the texts.)
 */
import { containsTokens, normalizeAnswer } from '../graders/normalize.js';

export interface CoverageItem {
  doc_id: string;
  /** Several strings are aliases: any one found is enough. */
  gold: string | readonly string[];
}

export interface CoverageReport {
  total: number;
  covered: number;
  /** covered / total; null for no items. */
  share: number | null;
  /** Items whose document has no study text at all (counted as not covered). */
  without_texts: number;
  /** One flag per input item, in order. */
  item_covered: boolean[];
  by_doc: Record<string, { total: number; covered: number }>;
}

export function answerCoverage(
  items: readonly CoverageItem[],
  studyTexts: ReadonlyMap<string, readonly string[]> | Readonly<Record<string, readonly string[]>>,
): CoverageReport {
  const textsOf = (doc: string): readonly string[] | undefined =>
    studyTexts instanceof Map
      ? studyTexts.get(doc)
      : Object.hasOwn(studyTexts, doc)
        ? (studyTexts as Record<string, readonly string[]>)[doc]
        : undefined;
  // Each document's texts are normalised once, however many questions point at it.
  const normalized = new Map<string, string[]>();
  const byDoc = new Map<string, { total: number; covered: number }>();
  let withoutTexts = 0;
  const flags = items.map((item) => {
    let texts = normalized.get(item.doc_id);
    if (!texts) {
      texts = (textsOf(item.doc_id) ?? []).map(normalizeAnswer);
      normalized.set(item.doc_id, texts);
    }
    if (texts.length === 0) withoutTexts++;
    const golds = (typeof item.gold === 'string' ? [item.gold] : item.gold).map(normalizeAnswer);
    const covered = golds.some((g) => texts.some((t) => containsTokens(t, g)));
    const d = byDoc.get(item.doc_id) ?? { total: 0, covered: 0 };
    d.total++;
    if (covered) d.covered++;
    byDoc.set(item.doc_id, d);
    return covered;
  });
  const covered = flags.filter(Boolean).length;
  return {
    total: items.length,
    covered,
    share: items.length ? covered / items.length : null,
    without_texts: withoutTexts,
    item_covered: flags,
    by_doc: Object.fromEntries([...byDoc].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
}

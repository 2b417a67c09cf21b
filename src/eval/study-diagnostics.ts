/**
 * The paper's diagnostics (Sec. 5) of the study data a model was trained on, against the QA set it is
 * evaluated on: answer coverage (does the data of a question's document contain its gold answer at all?),
 * self-BLEU of each document's generations per method (how varied the data is), and a leakage check
 * (evaluation questions or answers written verbatim in the data).
 *
 * The study records are streamed once. Only the texts of the documents the QA set points at are kept (for
 * coverage and self-BLEU; when no item resolves to a document, self-BLEU takes the first
 * MAX_UNSCOPED_DOCS documents); leakage is checked batch by batch, so memory stays bounded however large
 * the run.
 */
import path from 'node:path';
import type { StudyRecord } from '../dataset/record.js';
import { listShards } from '../dataset/shards.js';
import { scanJsonl } from '../runtime/jsonl-log.js';
import { chunksFileOf, forEachChunk } from './chunk-source.js';
import { answerCoverage } from './diagnostics/coverage.js';
import { findLeakage, type LeakageHit, type LeakageReport } from './diagnostics/leakage.js';
import { selfBleuByDoc } from './diagnostics/self-bleu.js';
import { DocIndex, titleKey, wantedDocs } from './doc-match.js';
import type { QaItem } from './qa-sets/types.js';

export interface CoverageSummary {
  /** Items that resolve to a document of the study run (only those can be checked). */
  items: number;
  covered: number;
  share: number | null;
  /** Resolved items whose document has no generation at all. */
  without_texts: number;
  /** Items that name no document of the run. */
  unresolved: number;
}

export interface StudyDiagnostics {
  study: string;
  records: number;
  methods: string[];
  coverage: CoverageSummary & { by_method: Record<string, CoverageSummary> };
  self_bleu: {
    /** Which documents were scored: those of the QA set, or the first ones of the run when none resolves. */
    scope: 'qa documents' | `first ${number} documents`;
    by_method: Record<string, { mean: number | null; documents: number; scored: number }>;
  };
  leakage: Omit<LeakageReport, 'hits'> & {
    /** Question hits where the answer also occurs in a text holding the question. */
    questions_leaked_with_answer: number;
    /** The first MAX_HITS hits (question hits first). */
    hits: LeakageHit[];
  };
}

const MAX_UNSCOPED_DOCS = 2000;
const LEAKAGE_BATCH = 10_000;
const MAX_HITS = 50;

/** The study shards of a run directory; an Error naming the directory when it has none. */
export async function checkStudyDir(studyDir: string): Promise<string[]> {
  const shards = await listShards(path.join(studyDir, 'study'));
  if (shards.length === 0) throw new Error(`--study ${studyDir}: no study records (study/shard-*.jsonl)`);
  return shards;
}

export async function diagnoseStudy(studyDir: string, items: readonly QaItem[]): Promise<StudyDiagnostics> {
  const shards = await checkStudyDir(studyDir);

  // Items name documents by id or title; the run's chunks.jsonl knows both.
  const index = new DocIndex();
  const wanted = wantedDocs(items);
  if (chunksFileOf(studyDir)) {
    await forEachChunk(studyDir, (c) => {
      if (wanted.ids.has(c.doc_id) || wanted.titles.has(titleKey(c.title))) index.add(c.doc_id, c.title);
    });
  }
  const docOf = items.map((item) => index.resolve(item));
  const scoped = new Set(docOf.filter((d): d is string => d !== undefined));
  const unscoped = scoped.size === 0;

  // method -> doc -> texts
  const texts = new Map<string, Map<string, string[]>>();
  const leakage = new LeakageMerger();
  let batch: string[] = [];
  let records = 0;
  for (const shard of shards) {
    await scanJsonl<StudyRecord>(shard, (record) => {
      const text = record?.response?.text;
      const doc = record?.metadata?.doc_id;
      const method = record?.metadata?.method ?? 'unknown';
      if (typeof text !== 'string' || typeof doc !== 'string') return;
      records++;
      batch.push(text);
      if (batch.length >= LEAKAGE_BATCH) {
        leakage.add(findLeakage(items, batch));
        batch = [];
      }
      let byDoc = texts.get(method);
      if (!byDoc) texts.set(method, (byDoc = new Map()));
      const list = byDoc.get(doc);
      if (list) list.push(text);
      else if (scoped.has(doc) || (unscoped && scoped.size < MAX_UNSCOPED_DOCS && scoped.add(doc)))
        byDoc.set(doc, [text]);
    });
  }
  if (batch.length > 0) leakage.add(findLeakage(items, batch));

  const coverageItems = items.flatMap((item, i) =>
    docOf[i] === undefined ? [] : [{ doc_id: docOf[i] as string, gold: item.answer }],
  );
  const unresolved = items.length - coverageItems.length;
  const coverageOf = (byDoc: Map<string, string[]>): CoverageSummary => {
    const r = answerCoverage(coverageItems, byDoc);
    return { items: r.total, covered: r.covered, share: r.share, without_texts: r.without_texts, unresolved };
  };
  const allTexts = new Map<string, string[]>();
  for (const byDoc of texts.values()) {
    for (const [doc, list] of byDoc) allTexts.set(doc, [...(allTexts.get(doc) ?? []), ...list]);
  }
  const methods = [...texts.keys()].sort();
  return {
    study: path.resolve(studyDir),
    records,
    methods,
    coverage: {
      ...coverageOf(allTexts),
      by_method: Object.fromEntries(
        methods.map((m) => [m, coverageOf(texts.get(m) as Map<string, string[]>)]),
      ),
    },
    self_bleu: {
      scope: unscoped ? `first ${MAX_UNSCOPED_DOCS} documents` : 'qa documents',
      by_method: Object.fromEntries(
        methods.map((m) => {
          const generations = [...(texts.get(m) as Map<string, string[]>)].flatMap(([doc_id, list]) =>
            list.map((text) => ({ doc_id, text })),
          );
          const report = selfBleuByDoc(generations);
          const scored = report.docs.filter((d) => d.self_bleu !== null).length;
          return [m, { mean: report.mean, documents: report.docs.length, scored }];
        }),
      ),
    },
    leakage: leakage.result(),
  };
}

/** Sums leakage reports of consecutive batches of texts into one, as if all texts had been scanned at once. */
class LeakageMerger {
  private first: LeakageReport | undefined;
  private readonly hits = new Map<string, LeakageHit>();
  private scanned = 0;

  add(report: LeakageReport): void {
    this.first ??= report;
    for (const hit of report.hits) {
      const key = `${hit.kind}:${hit.item}`;
      const texts = hit.texts.map((t) => ({ ...t, index: t.index + this.scanned }));
      const seen = this.hits.get(key);
      if (!seen) {
        this.hits.set(key, { ...hit, texts });
        continue;
      }
      seen.text_count += hit.text_count;
      seen.texts.push(...texts.slice(0, Math.max(0, 20 - seen.texts.length)));
      if (hit.with_answer) seen.with_answer = true;
    }
    this.scanned += report.texts_scanned;
  }

  result(): StudyDiagnostics['leakage'] {
    const hits = [...this.hits.values()].sort((a, b) =>
      a.kind === b.kind ? a.item - b.item : a.kind === 'question' ? -1 : 1,
    );
    const questions = hits.filter((h) => h.kind === 'question');
    return {
      questions_checked: this.first?.questions_checked ?? 0,
      questions_leaked: questions.length,
      questions_leaked_with_answer: questions.filter((h) => h.with_answer).length,
      answers_checked: this.first?.answers_checked ?? 0,
      answers_leaked: hits.length - questions.length,
      answers_too_short: this.first?.answers_too_short ?? 0,
      texts_scanned: this.scanned,
      hits: hits.slice(0, MAX_HITS),
    };
  }
}

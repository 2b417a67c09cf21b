import { z } from 'zod';
import { QaCollector } from './collector.js';
import { describeIssues, requiredText } from './fields.js';
import { readJsonlRecords } from './jsonl-records.js';
import type { QaImport, QaItem } from './types.js';

// One evidence passage. `evidence_text_full_page` (the whole filing page, kilobytes per question) is
// dropped: the snippet and page number locate the answer, and the filing itself is the training document.
const evidenceSchema = z
  .looseObject({
    evidence_text: z.string({ error: 'must be a string' }),
    doc_name: z.string({ error: 'must be a string' }).optional(),
    evidence_page_num: z.number({ error: 'must be a number' }).optional(),
  })
  .transform(({ evidence_text_full_page: _fullPage, ...rest }) => rest);

const recordSchema = z.looseObject({
  financebench_id: requiredText,
  question: requiredText,
  answer: requiredText,
  doc_name: z.string({ error: 'must be a string' }).optional(),
  evidence: z.array(evidenceSchema, { error: 'must be a list of evidence objects' }).optional(),
});

/** Fields that become the item itself; every other field goes to metadata. */
const ITEM_FIELDS = new Set(['financebench_id', 'question', 'answer', 'doc_name']);

/**
 * Reads FinanceBench's JSONL (patronus-ai/financebench, data/financebench_open_source.jsonl): the id is
 * `financebench_id` (required), `doc_name` (the SEC filing, e.g. "3M_2018_10K") becomes `doc_id`, and the
 * other fields (company, question_type, question_reasoning, justification, evidence, ...) go to metadata.
 */
export async function importFinanceBenchJsonl(file: string): Promise<QaImport> {
  const collector = new QaCollector<QaItem>();
  for await (const entry of readJsonlRecords(file)) {
    if ('problem' in entry) {
      collector.problem(entry.line, entry.problem);
      continue;
    }
    const parsed = recordSchema.safeParse(entry.record);
    if (!parsed.success) {
      collector.problem(entry.line, describeIssues(parsed.error));
      continue;
    }
    const record = parsed.data;
    const metadata = Object.fromEntries(Object.entries(record).filter(([key]) => !ITEM_FIELDS.has(key)));
    collector.add(entry.line, {
      id: record.financebench_id,
      question: record.question,
      answer: record.answer,
      ...(record.doc_name ? { doc_id: record.doc_name } : {}),
      source: 'financebench',
      metadata,
    });
  }
  return collector.result;
}

/** Whether a JSON record looks like a FinanceBench line (used to pick the importer). */
export function isFinanceBenchRecord(record: Record<string, unknown>): boolean {
  return 'financebench_id' in record;
}

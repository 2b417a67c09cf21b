import { z } from 'zod';
import { QaCollector } from './collector.js';
import { checkText, describeIssues, requiredText } from './fields.js';
import { readJsonlRecords } from './jsonl-records.js';
import type { QaImport, QaItem } from './types.js';

const optionalId = z
  .unknown()
  .transform((value, ctx) => {
    if (value === null) return undefined;
    const id = checkText(value);
    if (typeof id === 'string') return id;
    ctx.addIssue({ code: 'custom', message: id.problem });
    return z.NEVER;
  })
  .optional();

/** The plain QA format, one JSON object per line; `metadata` must be an object when present. */
export const qaRecordSchema = z.object({
  id: optionalId,
  question: requiredText,
  answer: requiredText,
  doc_id: z.string({ error: 'must be a string' }).optional(),
  chunk_index: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .nonnegative({ error: 'must be 0 or more' })
    .optional(),
  title: z.string({ error: 'must be a string' }).optional(),
  source: z.string({ error: 'must be a string' }).optional(),
  wikipedia_titles: z.array(z.string(), { error: 'must be a list of strings' }).optional(),
  metadata: z.record(z.string(), z.unknown(), { error: 'must be an object' }).optional(),
});

const KNOWN = new Set(Object.keys(qaRecordSchema.shape));

/**
 * Reads our plain QA JSONL: `{"id", "question", "answer", "doc_id"?, "chunk_index"?, "title"?, "source"?,
 * "wikipedia_titles"?, "metadata"?}` per line. `question` and `answer` are required (a number is read as
 * its text). `id` may be left out: the item then gets `line-<N>`, N its 1-based line, so it stays stable as
 * long as the file is not reordered. Fields not listed here are kept in `metadata`.
 */
export async function importQaJsonl(file: string): Promise<QaImport> {
  const collector = new QaCollector<QaItem>();
  for await (const entry of readJsonlRecords(file)) {
    if ('problem' in entry) {
      collector.problem(entry.line, entry.problem);
      continue;
    }
    const parsed = qaRecordSchema.safeParse(entry.record);
    if (!parsed.success) {
      collector.problem(entry.line, describeIssues(parsed.error));
      continue;
    }
    const { id, question, answer, metadata, ...optional } = parsed.data;
    const extra = Object.entries(entry.record).filter(([key]) => !KNOWN.has(key));
    const allMetadata = extra.length > 0 ? { ...Object.fromEntries(extra), ...metadata } : metadata;
    collector.add(entry.line, {
      id: id ?? `line-${entry.line}`,
      question,
      answer,
      ...withoutUndefined(optional),
      ...(allMetadata ? { metadata: allMetadata } : {}),
    });
  }
  return collector.result;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

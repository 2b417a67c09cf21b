import { writeFileAtomic } from '../../runtime/atomic-file.js';
import type { QaItem } from './types.js';

// The order fields are written in, so files diff cleanly; undefined fields are left out.
const FIELD_ORDER = [
  'id',
  'question',
  'answer',
  'doc_id',
  'chunk_index',
  'title',
  'source',
  'wikipedia_titles',
  'metadata',
] as const satisfies readonly (keyof QaItem)[];

/**
 * Writes items in the plain QA JSONL format that `importQaJsonl` reads back, atomically (readers never see
 * half a file). Items that could not be read back (blank id, question or answer; a repeated id) are an
 * Error, and nothing is written.
 */
export async function writeQaJsonl(file: string, items: readonly QaItem[]): Promise<void> {
  const seen = new Set<string>();
  const lines = items.map((item, index) => {
    for (const field of ['id', 'question', 'answer'] as const) {
      if (typeof item[field] !== 'string' || !item[field].trim()) {
        throw new Error(`cannot write ${file}: item ${index} has an empty "${field}"`);
      }
    }
    if (seen.has(item.id)) throw new Error(`cannot write ${file}: id ${JSON.stringify(item.id)} is repeated`);
    seen.add(item.id);
    const record: Record<string, unknown> = {};
    for (const field of FIELD_ORDER) if (item[field] !== undefined) record[field] = item[field];
    return JSON.stringify(record) + '\n';
  });
  await writeFileAtomic(file, lines.join(''));
}

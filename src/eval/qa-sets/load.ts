import { extname } from 'node:path';
import { importFinanceBenchJsonl, isFinanceBenchRecord } from './financebench.js';
import { readJsonlRecords } from './jsonl-records.js';
import { importQaJsonl } from './plain-jsonl.js';
import { importSimpleQaCsv, type SimpleQaOptions } from './simpleqa.js';
import type { QaImport } from './types.js';

export type QaSetFormat = 'simpleqa' | 'financebench' | 'jsonl';

export interface LoadedQaSet extends QaImport {
  format: QaSetFormat;
  /** Rows left out by `wikipediaOnly` (SimpleQA only; 0 otherwise). */
  excluded: number;
}

/**
 * Reads a QA set in any supported format: `.csv` is SimpleQA; any other file is JSONL, FinanceBench when
 * its first JSON object has `financebench_id`, our plain format otherwise.
 */
export async function loadQaSet(file: string, options: SimpleQaOptions = {}): Promise<LoadedQaSet> {
  if (extname(file).toLowerCase() === '.csv') {
    return { format: 'simpleqa', ...(await importSimpleQaCsv(file, options)) };
  }
  if (await firstRecordIsFinanceBench(file)) {
    return { format: 'financebench', excluded: 0, ...(await importFinanceBenchJsonl(file)) };
  }
  return { format: 'jsonl', excluded: 0, ...(await importQaJsonl(file)) };
}

async function firstRecordIsFinanceBench(file: string): Promise<boolean> {
  for await (const entry of readJsonlRecords(file)) {
    if ('record' in entry) return isFinanceBenchRecord(entry.record);
  }
  return false;
}

import { z } from 'zod';
import { parseCsvRecords } from './csv-records.js';
import { QaCollector } from './collector.js';
import { checkText, describeIssues, typeName } from './fields.js';
import { parsePythonLiteral, PythonLiteralError } from './python-literal.js';
import { readQaFile } from './read-file.js';
import type { QaImport, SimpleQaItem } from './types.js';
import { citesEnglishWikipedia, wikipediaTitles } from './wikipedia.js';

export interface SimpleQaOptions {
  /** Keep only questions with a reference URL on en.wikipedia.org (the paper's SimpleWikiQA subset). */
  wikipediaOnly?: boolean;
}

export interface SimpleQaImport extends QaImport<SimpleQaItem> {
  /** Good rows left out by `wikipediaOnly` (not problems). */
  excluded: number;
}

const COLUMNS = ['metadata', 'problem', 'answer'] as const;
type Column = (typeof COLUMNS)[number];

// Other keys of the dict are kept as they are.
const metadataSchema = z.looseObject({
  topic: z.string().optional(),
  answer_type: z.string().optional(),
  urls: z.array(z.string(), { error: 'must be a list of strings' }).default([]),
});

/**
 * Reads OpenAI's SimpleQA CSV (columns `metadata,problem,answer`; `metadata` is a Python dict literal with
 * `topic`, `answer_type` and `urls`). Ids are `simpleqa-<n>`, n the 0-based data row in file order, so they
 * do not change with `wikipediaOnly`. Each item lists the English Wikipedia titles of its URLs. A file
 * without the three columns in its first line is an Error; bad rows are problems.
 */
export async function importSimpleQaCsv(
  file: string,
  options: SimpleQaOptions = {},
): Promise<SimpleQaImport> {
  const [header, ...rows] = parseCsvRecords(await readQaFile(file));
  const names = header && 'fields' in header ? header.fields : undefined;
  const columns = names && columnIndex(names);
  if (!names || !columns) {
    const found = !header
      ? 'the file has no records'
      : names
        ? `found: ${names.join(', ')}`
        : `line ${header.line}: ${'problem' in header ? header.problem : ''}`;
    throw new Error(
      `QA set ${file}: not a SimpleQA CSV (its first line must name the columns metadata, problem, answer; ${found})`,
    );
  }
  const collector = new QaCollector<SimpleQaItem>();
  let excluded = 0;
  rows.forEach((row, n) => {
    const item = 'problem' in row ? row.problem : simpleQaItem(row.fields, names.length, columns, n);
    if (typeof item === 'string') collector.problem(row.line, item);
    else if (options.wikipediaOnly && !citesEnglishWikipedia(item.metadata.urls)) excluded++;
    else collector.add(row.line, item);
  });
  return { ...collector.result, excluded };
}

function columnIndex(header: string[]): Record<Column, number> | undefined {
  const names = header.map((name) => name.trim());
  const index = {} as Record<Column, number>;
  for (const column of COLUMNS) {
    const at = names.indexOf(column);
    if (at === -1) return undefined;
    index[column] = at;
  }
  return index;
}

/** The item of one data row, or the reason it is skipped. */
function simpleQaItem(
  fields: string[],
  width: number,
  columns: Record<Column, number>,
  n: number,
): SimpleQaItem | string {
  if (fields.length !== width) return `expected ${width} fields, got ${fields.length}`;
  const question = checkText(fields[columns.problem]);
  if (typeof question !== 'string') return `"problem" ${question.problem}`;
  const answer = checkText(fields[columns.answer]);
  if (typeof answer !== 'string') return `"answer" ${answer.problem}`;
  let literal: unknown;
  try {
    literal = parsePythonLiteral(fields[columns.metadata]!);
  } catch (err) {
    if (!(err instanceof PythonLiteralError)) throw err;
    return `"metadata" is not a Python literal: ${err.message}`;
  }
  if (typeof literal !== 'object' || literal === null || Array.isArray(literal)) {
    return `"metadata" must be a dict (got ${typeName(literal)})`;
  }
  const metadata = metadataSchema.safeParse(literal);
  if (!metadata.success) return `"metadata": ${describeIssues(metadata.error)}`;
  return {
    id: `simpleqa-${n}`,
    question,
    answer,
    source: 'simpleqa',
    wikipedia_titles: wikipediaTitles(metadata.data.urls),
    metadata: metadata.data,
  };
}

/**
 * One closed-book question with its gold answer. `doc_id`/`chunk_index`/`title` say which document (and
 * chunk) the answer comes from, when known, so results can be broken down by document and the matching
 * training material fetched; `source` names the data set the item came from ("simpleqa", "financebench", or
 * whatever a plain JSONL file says).
 */
export interface QaItem {
  id: string;
  question: string;
  answer: string;
  doc_id?: string;
  chunk_index?: number;
  title?: string;
  source?: string;
  /** English Wikipedia page titles the answer is grounded in (SimpleQA), so the pages can be fetched. */
  wikipedia_titles?: string[];
  metadata?: Record<string, unknown>;
}

/** A SimpleQA item: always carries its (possibly empty) list of English Wikipedia titles. */
export interface SimpleQaItem extends QaItem {
  wikipedia_titles: string[];
  metadata: { topic?: string; answer_type?: string; urls: string[] } & Record<string, unknown>;
}

/** A row that was skipped, with the 1-based physical line of the file where it starts. */
export interface QaProblem {
  line: number;
  message: string;
}

/** What every importer returns: the good items in file order, and every skipped row with its reason. */
export interface QaImport<T extends QaItem = QaItem> {
  items: T[];
  problems: QaProblem[];
}

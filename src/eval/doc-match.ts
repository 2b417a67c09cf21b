/**
 * Which corpus document a QA item is about: its `doc_id` when the corpus has it, else the first of its
 * `title` and `wikipedia_titles` (SimpleQA) that names a document of the corpus. Titles compare without
 * case, with underscores as spaces (Wikipedia URLs write "Ada_Lovelace").
 */
import type { QaItem } from './qa-sets/types.js';

export function titleKey(title: string): string {
  return title.normalize('NFC').replace(/_/g, ' ').replace(/\s+/g, ' ').trim().toLowerCase();
}

/** The titles an item may be matched by, as keys. */
export function itemTitleKeys(item: QaItem): string[] {
  const titles = [item.title, ...(item.wikipedia_titles ?? [])].filter(
    (t): t is string => typeof t === 'string' && t.trim() !== '',
  );
  return [...new Set(titles.map(titleKey))];
}

export class DocIndex {
  private readonly ids = new Set<string>();
  private readonly byTitle = new Map<string, string>();

  /** Registers a document; the first document with a title keeps it. */
  add(docId: string, title: string): void {
    this.ids.add(docId);
    const key = titleKey(title);
    if (key && !this.byTitle.has(key)) this.byTitle.set(key, docId);
  }

  has(docId: string): boolean {
    return this.ids.has(docId);
  }

  get size(): number {
    return this.ids.size;
  }

  resolve(item: QaItem): string | undefined {
    if (item.doc_id !== undefined && this.ids.has(item.doc_id)) return item.doc_id;
    for (const key of itemTitleKeys(item)) {
      const id = this.byTitle.get(key);
      if (id !== undefined) return id;
    }
    return undefined;
  }
}

/** What to keep while scanning a corpus for a set of items: their doc ids and title keys. */
export function wantedDocs(items: readonly QaItem[]): { ids: Set<string>; titles: Set<string> } {
  const ids = new Set<string>();
  const titles = new Set<string>();
  for (const item of items) {
    if (item.doc_id !== undefined) ids.add(item.doc_id);
    for (const key of itemTitleKeys(item)) titles.add(key);
  }
  return { ids, titles };
}

import type { QaImport, QaItem } from './types.js';

/**
 * Gathers the items and problems of one import: a second item with an id already seen is a problem (the
 * first one is kept), so later stages can key results by id.
 */
export class QaCollector<T extends QaItem> {
  private readonly firstLine = new Map<string, number>();
  readonly result: QaImport<T> = { items: [], problems: [] };

  problem(line: number, message: string): void {
    this.result.problems.push({ line, message });
  }

  add(line: number, item: T): void {
    const first = this.firstLine.get(item.id);
    if (first !== undefined) {
      this.problem(line, `duplicate id ${JSON.stringify(item.id)} (first on line ${first})`);
      return;
    }
    this.firstLine.set(item.id, line);
    this.result.items.push(item);
  }
}

import { describeEntryProblem } from '../config/stage-one-entry.js';
import { closeSync, openSync } from 'node:fs';
import { JsonlAppendLog, readLineAt, scanJsonl } from '../runtime/jsonl-log.js';
import { InvalidRunDataError } from '../runtime/failure-policy.js';
import type { StageOneEntry } from './methods.js';

export { InvalidRunDataError };

function entryKey(e: { method: string; doc_id: string; chunk_index: number; rep: number }): string {
  return `${e.method}\u0000${e.doc_id}\u0000${e.chunk_index}\u0000${e.rep}`;
}

/**
 * strategies.jsonl: stage-1 outputs, one line per (method, chunk, rep). Only byte offsets are kept in memory
 * (entries are read back on demand), so it scales to millions of lines. When a key appears twice, the last
 * line wins, so a user may append corrected entries or edit lines in place.
 */
export class StrategyStore {
  private readonly offsets = new Map<string, number>();
  private log: JsonlAppendLog | undefined;
  private readFd: number | undefined;
  private readonly scratch = Buffer.allocUnsafe(16 * 1024);

  private constructor(readonly file: string) {}

  static async open(file: string): Promise<StrategyStore> {
    const store = new StrategyStore(file);
    store.log = JsonlAppendLog.open(file);
    await scanJsonl<StageOneEntry>(
      file,
      (entry, offset) => store.offsets.set(entryKey(entry), offset),
      (line, error) => {
        throw new Error(
          `${file}:${line}: not valid JSON (${(error as Error).message}); fix or remove that line`,
        );
      },
    );
    return store;
  }

  get size(): number {
    return this.offsets.size;
  }

  async get(key: {
    method: string;
    doc_id: string;
    chunk_index: number;
    rep: number;
  }): Promise<StageOneEntry | undefined> {
    const offset = this.offsets.get(entryKey(key));
    if (offset === undefined) return undefined;
    this.log?.flush();
    this.readFd ??= openSync(this.file, 'r');
    const entry = JSON.parse(readLineAt(this.readFd, offset, this.scratch)) as StageOneEntry;
    const problem = describeEntryProblem(entry);
    if (problem) {
      throw new InvalidRunDataError(
        `${this.file}: the entry for ${key.method} ${key.doc_id} chunk ${key.chunk_index} rep ${key.rep} is not valid (${problem}); fix or delete that line`,
      );
    }
    return entry;
  }

  put(entry: StageOneEntry): void {
    if (!this.log) throw new Error(`${this.file} is closed`);
    this.offsets.set(entryKey(entry), this.log.append(entry));
  }

  close(): void {
    this.log?.close();
    this.log = undefined;
    if (this.readFd !== undefined) closeSync(this.readFd);
    this.readFd = undefined;
  }
}

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { JsonlAppendLog, scanJsonl } from '../runtime/jsonl-log.js';
import { recordKey, type StudyRecord } from './record.js';

const SHARD_PATTERN = /^shard-(\d{5})\.jsonl$/;

export function shardName(index: number): string {
  return `shard-${String(index).padStart(5, '0')}.jsonl`;
}

/** Lists the shard files of a study directory in order. */
export async function listShards(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((n) => SHARD_PATTERN.test(n))
    .sort()
    .map((n) => path.join(dir, n));
}

/** Streams every record of a study directory in file order (shard by shard). */
export async function forEachRecord(
  dir: string,
  onRecord: (record: StudyRecord, file: string) => void,
): Promise<void> {
  for (const file of await listShards(dir)) await scanJsonl<StudyRecord>(file, (r) => onRecord(r, file));
}

export interface ShardTotals {
  records: number;
  completionTokens: number;
}

/**
 * The study/ shards of a run: appends records, rotates shards every `recordsPerShard` records and, on open,
 * repairs a torn last line and learns which records exist so a resumed run writes no duplicates.
 */
export class StudyShardWriter {
  private log: JsonlAppendLog | undefined;
  private shardIndex = 0;
  readonly completed = new Set<string>();
  readonly totals = new Map<string, ShardTotals>();

  private constructor(
    readonly dir: string,
    private readonly recordsPerShard: number,
  ) {}

  static async open(dir: string, recordsPerShard = 100_000): Promise<StudyShardWriter> {
    await fs.mkdir(dir, { recursive: true });
    const writer = new StudyShardWriter(dir, recordsPerShard);
    const shards = await listShards(dir);
    // Repair first (a torn last line), then scan what is really there.
    for (const file of shards) JsonlAppendLog.open(file).close();
    for (const file of shards) {
      await scanJsonl<StudyRecord>(file, (record) => writer.remember(record));
    }
    const last = shards.at(-1);
    if (last) writer.shardIndex = Number(SHARD_PATTERN.exec(path.basename(last))?.[1] ?? 0);
    writer.log = JsonlAppendLog.open(path.join(dir, shardName(writer.shardIndex)));
    return writer;
  }

  private remember(record: StudyRecord): void {
    this.completed.add(recordKey(record.metadata));
    const totals = this.totals.get(record.metadata.method) ?? { records: 0, completionTokens: 0 };
    totals.records++;
    totals.completionTokens += record.stats.completion_tokens;
    this.totals.set(record.metadata.method, totals);
  }

  has(key: string): boolean {
    return this.completed.has(key);
  }

  /** Appends a record unless one with the same key exists; returns whether it was written. */
  append(record: StudyRecord): boolean {
    const key = recordKey(record.metadata);
    if (this.completed.has(key)) return false;
    if (!this.log) throw new Error('shard writer is closed');
    if (this.log.lineCount >= this.recordsPerShard) {
      this.log.close();
      this.shardIndex++;
      this.log = JsonlAppendLog.open(path.join(this.dir, shardName(this.shardIndex)));
    }
    this.log.append(record);
    this.remember(record);
    return true;
  }

  close(): void {
    this.log?.close();
    this.log = undefined;
  }
}

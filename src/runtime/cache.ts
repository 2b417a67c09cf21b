import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { openSync, closeSync } from 'node:fs';
import path from 'node:path';
import type { ChatMessage, SamplingParams } from '../models/types.js';
import { JsonlAppendLog, readLineAt, scanJsonl } from './jsonl-log.js';

export interface CacheKeyParts extends SamplingParams {
  /** TextGenerator.id: model identity, never a secret. */
  model: string;
  messages: ChatMessage[];
  /** Version of the prompt template that produced `messages` (content hash), so edits invalidate it. */
  templateVersion: string;
}

export interface CachedResponse {
  text: string;
  promptTokens: number;
  completionTokens: number;
  finishReason?: string;
}

/** sha256 over a canonical JSON of everything that determines the response. */
export function cacheKey(parts: CacheKeyParts): string {
  const canonical = JSON.stringify([
    parts.model,
    parts.templateVersion,
    parts.messages.map((m) => [m.role, m.content]),
    parts.temperature ?? null,
    parts.topP ?? null,
    parts.maxTokens ?? null,
    parts.stop ?? null,
    parts.seed ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

interface CacheLine {
  k: string;
  v: CachedResponse;
}

const SEGMENT_PATTERN = /^segment-(\d{5})\.jsonl$/;
const OFFSET_RANGE = 2 ** 32;

/**
 * Content-addressed response cache, log-structured: entries are appended to `segment-NNNNN.jsonl` files
 * (one write per entry; a torn last line is cut on open) and found through an in-memory index from a
 * 52-bit key prefix to the entry's position; the full key is checked on read. A file per entry would cost
 * an inode and three syscalls per response, which at millions of generations is what limits throughput.
 * A segment that is full is sealed with a binary `.idx` file, so opening a large cache reads only the
 * index files and the last segment.
 */
export class ResponseCache {
  private readonly index = new Map<number, number>();
  private segment = 0;
  private log: JsonlAppendLog | undefined;
  private readonly readFds = new Map<number, number>();
  /** Reused by every read (reads are synchronous): a fresh buffer per cache hit is GC pressure. */
  private readonly scratch = Buffer.allocUnsafe(16 * 1024);

  private constructor(
    readonly dir: string,
    private readonly maxSegmentBytes: number,
  ) {}

  static async open(dir: string, options: { maxSegmentBytes?: number } = {}): Promise<ResponseCache> {
    const maxSegmentBytes = Math.min(options.maxSegmentBytes ?? 256 * 1024 * 1024, OFFSET_RANGE - 1);
    const cache = new ResponseCache(dir, maxSegmentBytes);
    await fs.mkdir(dir, { recursive: true });
    const segments = (await fs.readdir(dir))
      .map((name) => SEGMENT_PATTERN.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    const last = segments.at(-1) ?? 0;
    for (const segment of segments) {
      if (segment !== last && (await cache.loadSealedIndex(segment))) continue;
      await cache.scanSegment(segment);
      if (segment !== last) await cache.writeSealedIndex(segment);
    }
    cache.segment = last;
    cache.log = JsonlAppendLog.open(cache.segmentFile(last));
    return cache;
  }

  get size(): number {
    return this.index.size;
  }

  private segmentFile(segment: number): string {
    return path.join(this.dir, `segment-${String(segment).padStart(5, '0')}.jsonl`);
  }

  private indexFile(segment: number): string {
    return path.join(this.dir, `segment-${String(segment).padStart(5, '0')}.idx`);
  }

  private async scanSegment(segment: number): Promise<void> {
    const file = this.segmentFile(segment);
    JsonlAppendLog.open(file).close(); // cut a torn last line first
    await scanJsonl<CacheLine>(
      file,
      (line, offset) => {
        if (typeof line.k === 'string') this.index.set(prefixOf(line.k), segment * OFFSET_RANGE + offset);
      },
      () => undefined, // a damaged line is simply not indexed
    );
  }

  /** Sealed segments: pairs of float64 (key prefix, offset). Valid only for the segment size it was made for. */
  private async writeSealedIndex(segment: number): Promise<void> {
    const { size } = await fs.stat(this.segmentFile(segment));
    const pairs: number[] = [size];
    for (const [prefix, location] of this.index) {
      if (Math.floor(location / OFFSET_RANGE) === segment) pairs.push(prefix, location % OFFSET_RANGE);
    }
    await fs.writeFile(this.indexFile(segment), new Uint8Array(new Float64Array(pairs).buffer));
  }

  private async loadSealedIndex(segment: number): Promise<boolean> {
    let data: Buffer;
    try {
      data = await fs.readFile(this.indexFile(segment));
    } catch {
      return false;
    }
    const values = new Float64Array(data.buffer, data.byteOffset, Math.floor(data.byteLength / 8));
    const { size } = await fs.stat(this.segmentFile(segment));
    if (values.length % 2 !== 1 || values[0] !== size) return false;
    for (let i = 1; i < values.length; i += 2) {
      this.index.set(values[i] as number, segment * OFFSET_RANGE + (values[i + 1] as number));
    }
    return true;
  }

  get(key: string): Promise<CachedResponse | undefined> {
    const location = this.index.get(prefixOf(key));
    if (location === undefined) return Promise.resolve(undefined);
    const segment = Math.floor(location / OFFSET_RANGE);
    if (segment === this.segment) this.log?.flush();
    const line = this.readLine(segment, location % OFFSET_RANGE);
    try {
      const parsed = JSON.parse(line) as CacheLine;
      return Promise.resolve(parsed.k === key && typeof parsed.v?.text === 'string' ? parsed.v : undefined);
    } catch {
      return Promise.resolve(undefined);
    }
  }

  private readLine(segment: number, offset: number): string {
    let fd = this.readFds.get(segment);
    if (fd === undefined) {
      fd = openSync(this.segmentFile(segment), 'r');
      this.readFds.set(segment, fd);
    }
    return readLineAt(fd, offset, this.scratch);
  }

  async put(key: string, value: CachedResponse): Promise<void> {
    if (!this.log) throw new Error(`response cache ${this.dir} is closed`);
    if (this.log.size >= this.maxSegmentBytes) {
      this.log.close();
      await this.writeSealedIndex(this.segment);
      this.segment++;
      this.log = JsonlAppendLog.open(this.segmentFile(this.segment));
    }
    const offset = this.log.append({ k: key, v: value } satisfies CacheLine);
    this.index.set(prefixOf(key), this.segment * OFFSET_RANGE + offset);
  }

  close(): void {
    this.log?.close();
    this.log = undefined;
    for (const fd of this.readFds.values()) closeSync(fd);
    this.readFds.clear();
  }
}

/** The first 52 bits of the hex key: exact in a double, so the index needs no strings. */
function prefixOf(key: string): number {
  return Number.parseInt(key.slice(0, 13), 16);
}

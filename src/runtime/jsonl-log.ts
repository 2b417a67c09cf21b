import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync, promises as fs } from 'node:fs';
import { createReadStream } from 'node:fs';

/**
 * Append-only JSONL file that survives kill -9: lines are whole JSON or absent. Appends made in the same
 * turn of the event loop are written together with one write(2) at the end of the turn (group commit:
 * one syscall per batch instead of per record, the main cost of a fast run); on open, a torn last line
 * (a write cut short by a crash or a full disk) is cut off. A crash can lose only the current turn's
 * appends, which for the study are generations still in the response cache or in flight.
 */
export class JsonlAppendLog {
  private fd: number | undefined;
  private bytes: number;
  private lines: number;
  private pending: Buffer[] = [];
  private scheduled = false;

  private constructor(
    readonly file: string,
    fd: number,
    bytes: number,
    lines: number,
  ) {
    this.fd = fd;
    this.bytes = bytes;
    this.lines = lines;
  }

  /** Opens (creating if needed) and repairs the file. `lines` counts the whole lines kept. */
  static open(file: string): JsonlAppendLog {
    const fd = openSync(file, 'a+');
    const size = fstatSync(fd).size;
    const keep = lastWholeLineEnd(fd, size);
    if (keep < size) ftruncateSync(fd, keep);
    return new JsonlAppendLog(file, fd, keep, countNewlines(fd, keep));
  }

  /** Bytes including appends not yet written. */
  get size(): number {
    return this.bytes;
  }

  get lineCount(): number {
    return this.lines;
  }

  /** Appends one record; returns the byte offset where its line starts. */
  append(record: unknown): number {
    if (this.fd === undefined) throw new Error(`${this.file} is closed`);
    const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
    const offset = this.bytes;
    this.pending.push(line);
    this.bytes += line.length;
    this.lines++;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return offset;
  }

  /** Writes pending appends now (readers of the file call this first). */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0 || this.fd === undefined) return;
    const data = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
    this.pending = [];
    let written = 0;
    while (written < data.length) written += writeSync(this.fd, data, written, data.length - written);
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function lastWholeLineEnd(fd: number, size: number): number {
  if (size === 0) return 0;
  const block = Buffer.alloc(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - block.length);
    const n = readSync(fd, block, 0, end - start, start);
    const nl = block.subarray(0, n).lastIndexOf(0x0a);
    if (nl >= 0) return start + nl + 1;
    end = start;
  }
  return 0;
}

function countNewlines(fd: number, size: number): number {
  const block = Buffer.alloc(1024 * 1024);
  let count = 0;
  for (let pos = 0; pos < size;) {
    const n = readSync(fd, block, 0, Math.min(block.length, size - pos), pos);
    if (n <= 0) break;
    for (let i = 0; i < n; i++) if (block[i] === 0x0a) count++;
    pos += n;
  }
  return count;
}

/**
 * Streams the whole lines of a JSONL file with their byte offsets; a torn last line is ignored.
 * Lines that are not valid JSON are passed to `onBadLine` (default: throw, naming file and line).
 */
export async function scanJsonl<T>(
  file: string,
  onRecord: (record: T, offset: number, lineNumber: number) => void,
  onBadLine?: (lineNumber: number, error: unknown) => void,
): Promise<void> {
  try {
    await fs.access(file);
  } catch {
    return;
  }
  const stream = createReadStream(file, { highWaterMark: 1024 * 1024 });
  let carry: Buffer = Buffer.alloc(0);
  let offset = 0;
  let lineNumber = 0;
  for await (const piece of stream as AsyncIterable<Buffer>) {
    const data = carry.length ? Buffer.concat([carry, piece]) : piece;
    let start = 0;
    for (let nl = data.indexOf(0x0a, start); nl >= 0; nl = data.indexOf(0x0a, start)) {
      lineNumber++;
      const text = data.toString('utf8', start, nl);
      if (text.trim().length > 0) {
        let record: T;
        try {
          record = JSON.parse(text) as T;
        } catch (error) {
          if (onBadLine) onBadLine(lineNumber, error);
          else throw new Error(`${file}:${lineNumber}: not valid JSON (${(error as Error).message})`);
          start = nl + 1;
          continue;
        }
        onRecord(record, offset + start, lineNumber);
      }
      start = nl + 1;
    }
    offset += start;
    carry = data.subarray(start);
  }
}

/**
 * Reads the line that starts at `offset` (as returned by `append` or `scanJsonl`) from an open descriptor.
 * Synchronous: lines are small and usually in the page cache, and callers pass a reused `scratch` buffer.
 */
export function readLineAt(
  fd: number,
  offset: number,
  scratch: Buffer = Buffer.allocUnsafe(16 * 1024),
): string {
  const parts: Buffer[] = [];
  for (let pos = offset; ;) {
    const n = readSync(fd, scratch, 0, scratch.length, pos);
    if (n <= 0) break;
    const nl = scratch.subarray(0, n).indexOf(0x0a);
    if (nl >= 0) {
      parts.push(Buffer.from(scratch.subarray(0, nl)));
      break;
    }
    parts.push(Buffer.from(scratch.subarray(0, n)));
    pos += n;
  }
  return Buffer.concat(parts).toString('utf8');
}

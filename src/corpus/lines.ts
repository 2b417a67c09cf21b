import { createReadStream } from 'node:fs';

/**
 * The lines of a file as raw bytes (without the "\n" and a trailing "\r"), read as a stream: memory
 * holds one read buffer plus the current line, whatever the file size. Bytes rather than strings so a
 * line with invalid UTF-8 can be reported on its own instead of being silently replaced.
 */
export async function* readLines(file: string): AsyncGenerator<Buffer> {
  const stream = createReadStream(file);
  let pending: Buffer[] = [];
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      let newline: number;
      while ((newline = chunk.indexOf(0x0a, start)) !== -1) {
        const part = chunk.subarray(start, newline);
        const line = pending.length > 0 ? Buffer.concat([...pending, part]) : part;
        pending = [];
        start = newline + 1;
        yield stripCr(line);
      }
      if (start < chunk.length) pending.push(chunk.subarray(start));
    }
    if (pending.length > 0) yield stripCr(Buffer.concat(pending));
  } finally {
    stream.destroy();
  }
}

function stripCr(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, line.length - 1) : line;
}

import { readLines } from '../../corpus/lines.js';
import { typeName } from './fields.js';
import { unreadable } from './read-file.js';

/** One line of a JSONL file: its JSON object, or why it is not one. Blank lines are not reported. */
export type JsonlLine = { line: number; record: Record<string, unknown> } | { line: number; problem: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Streams the lines of a JSONL file; an unreadable file is an Error naming it. */
export async function* readJsonlRecords(file: string): AsyncGenerator<JsonlLine> {
  let line = 0;
  const lines = readLines(file);
  try {
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await lines.next();
      } catch (err) {
        throw await unreadable(file, err);
      }
      if (next.done) return;
      line++;
      yield* parseLine(next.value, line);
    }
  } finally {
    await lines.return(undefined); // closes the file when the caller stops early (format sniffing)
  }
}

function* parseLine(bytes: Buffer, line: number): Generator<JsonlLine> {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    yield { line, problem: 'invalid UTF-8' };
    return;
  }
  if (!text.trim()) return;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    yield { line, problem: `invalid JSON: ${(err as Error).message}` };
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    yield { line, problem: `not a JSON object (got ${typeName(value)})` };
    return;
  }
  yield { line, record: value as Record<string, unknown> };
}

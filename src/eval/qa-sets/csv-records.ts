import { parse, CsvError } from 'csv-parse/sync';

/**
 * One CSV record, or one that could not be read, with the 1-based physical line where it starts (quoted
 * fields may span lines). Bad records stay in the sequence so that row numbers after them do not shift.
 */
export type CsvRecord = { line: number; fields: string[] } | { line: number; problem: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Splits CSV bytes into records. A record that csv-parse cannot read (a stray or unclosed quote) is reported
 * at the line where it starts and parsing resumes on the next line: csv-parse's own error recovery keeps
 * its quoting state and swallows the following records. Records with invalid UTF-8 are reported too.
 * The whole file is in memory; QA sets are small (SimpleQA is 2 MB).
 */
export function parseCsvRecords(bytes: Buffer): CsvRecord[] {
  const lines = new LineIndex(bytes);
  const records: CsvRecord[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const base = offset;
    let end = base; // the end of the last record read from `base`
    try {
      parse(bytes.subarray(base), {
        bom: true,
        // Both endings, so a file that mixes them is still split into lines (auto-detection picks one).
        record_delimiter: ['\r\n', '\n'],
        relax_column_count: true, // checked by the caller, per record, with a clear message
        skip_empty_lines: true,
        on_record: (fields: string[], context) => {
          const start = skipBlankLines(bytes, end);
          end = base + context.bytes;
          const line = lines.lineAt(start);
          if (validUtf8(bytes.subarray(start, end))) records.push({ line, fields });
          else records.push({ line, problem: 'invalid UTF-8' });
          return null; // collected here, not by csv-parse
        },
      });
      break;
    } catch (err) {
      if (!(err instanceof CsvError)) throw err;
      const start = skipBlankLines(bytes, end);
      records.push({ line: lines.lineAt(start), problem: `malformed CSV record: ${describe(err)}` });
      offset = lines.nextLineStart(start);
    }
  }
  return records;
}

function describe(err: CsvError): string {
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field is never closed';
    case 'INVALID_OPENING_QUOTE':
      return 'a quote inside an unquoted field (quote the whole field and double the quote)';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'text after the closing quote of a field (a quote inside a quoted field must be doubled)';
    default:
      // csv-parse's line numbers count from where parsing resumed, so they are dropped.
      return err.message.replace(/\s*(at|on) line \d+/g, '');
  }
}

function validUtf8(bytes: Uint8Array): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The offset of the first byte after `offset` that is not part of an empty line. */
function skipBlankLines(bytes: Buffer, offset: number): number {
  let i = offset;
  while (i < bytes.length && (bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  return i;
}

/** Maps byte offsets to 1-based line numbers. */
class LineIndex {
  private readonly newlines: number[] = [];
  constructor(private readonly bytes: Buffer) {
    for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) this.newlines.push(i);
  }

  lineAt(offset: number): number {
    let lo = 0;
    let hi = this.newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.newlines[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1; // one more than the number of newlines before `offset`
  }

  nextLineStart(offset: number): number {
    const newline = this.bytes.indexOf(0x0a, offset);
    return newline === -1 ? this.bytes.length : newline + 1;
  }
}

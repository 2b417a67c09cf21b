import { describe, expect, it } from 'vitest';
import { parseCsvRecords } from '../../../src/eval/qa-sets/csv-records.js';

const parse = (text: string) => parseCsvRecords(Buffer.from(text));

describe('parseCsvRecords', () => {
  it('numbers records by the physical line where they start', () => {
    expect(parse('a,b\n"x\ny",z\n\n\r\n"p,q",r\nlast,one')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x\ny', 'z'] },
      { line: 6, fields: ['p,q', 'r'] },
      { line: 7, fields: ['last', 'one'] },
    ]);
  });

  it('splits lines on both endings in one file', () => {
    expect(parse('a,b\r\nc,d\ne,f\r\n')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['c', 'd'] },
      { line: 3, fields: ['e', 'f'] },
    ]);
  });

  it('reports a record it cannot read and resumes on the next line', () => {
    // The quote opened on line 2 runs on to line 4, where text follows it: reported where the record starts.
    const closing =
      'malformed CSV record: text after the closing quote of a field (a quote inside a quoted field must be doubled)';
    expect(parse('a,b\n"open,b\nc,d\n"x"y,z\ne,f\nq"r,s\n"never,closed\n')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, problem: closing },
      { line: 3, fields: ['c', 'd'] },
      { line: 4, problem: closing },
      { line: 5, fields: ['e', 'f'] },
      {
        line: 6,
        problem:
          'malformed CSV record: a quote inside an unquoted field (quote the whole field and double the quote)',
      },
      { line: 7, problem: 'malformed CSV record: a quoted field is never closed' },
    ]);
  });

  it('returns nothing for an empty input', () => {
    expect(parse('')).toEqual([]);
    expect(parse('\n\n')).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { parsePythonLiteral, PythonLiteralError } from '../../../src/eval/qa-sets/python-literal.js';

describe('parsePythonLiteral', () => {
  it('reads a SimpleQA metadata dict', () => {
    const text =
      "{'topic': 'Science and technology', 'answer_type': 'Person', 'urls': " +
      "['https://en.wikipedia.org/wiki/IEEE_Frank_Rosenblatt_Award', \"https://x.org/it's\"]}";
    expect(parsePythonLiteral(text)).toEqual({
      topic: 'Science and technology',
      answer_type: 'Person',
      urls: ['https://en.wikipedia.org/wiki/IEEE_Frank_Rosenblatt_Award', "https://x.org/it's"],
    });
  });

  it('decodes string escapes as Python does', () => {
    expect(parsePythonLiteral(String.raw`'it\'s \"q\" a\\b \n\t\r end'`)).toBe('it\'s "q" a\\b \n\t\r end');
    expect(parsePythonLiteral(String.raw`"caf\xe9 \u200a \U0001F600 \101\0"`)).toBe('café \u200a 😀 A\0');
    expect(parsePythonLiteral(String.raw`'\d stays'`)).toBe('\\d stays'); // unknown escapes are kept
    expect(parsePythonLiteral("'line \\\ncontinued'")).toBe('line continued');
    expect(parsePythonLiteral(String.raw`r'C:\new\'x'`)).toBe(String.raw`C:\new\'x`);
    expect(parsePythonLiteral(`u'plain'`)).toBe('plain');
    expect(parsePythonLiteral(`'''a 'quoted'\nline'''`)).toBe("a 'quoted'\nline");
    expect(parsePythonLiteral(`'con' "cat" 'enated'`)).toBe('concatenated');
  });

  it('reads numbers, constants, lists, tuples and nested dicts', () => {
    expect(
      parsePythonLiteral('[1, -2, 3.5, 1e3, -0x1F, 0o17, 0b101, 1_000, .5, True, False, None,]'),
    ).toEqual([1, -2, 3.5, 1000, -31, 15, 5, 1000, 0.5, true, false, null]);
    expect(parsePythonLiteral('(1, (2,), (3), ())')).toEqual([1, [2], 3, []]);
    expect(parsePythonLiteral("{'a': {'b': [{}]}, 1: 'one', None: 'n'}")).toEqual({
      a: { b: [{}] },
      '1': 'one',
      null: 'n',
    });
    expect(parsePythonLiteral(' {\n} ')).toEqual({});
  });

  it('keeps a "__proto__" key as data', () => {
    const value = parsePythonLiteral("{'__proto__': {'polluted': True}}") as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ["{'urls': ['a'", 'expected "," or "]" at character 14'],
    ["{'a' 'b'}", 'expected ":" at character 9'],
    ["'open", 'unterminated string at character 1'],
    ["'a\nb'", 'unterminated string (newline) at character 1'],
    ["__import__('os')", 'unexpected name "__import__" (only literals are allowed) at character 1'],
    ['{[1]: 2}', 'a dict key must be a scalar at character 2'],
    ["b'x'", 'bytes literals are not supported at character 1'],
    ["f'{x}'", 'f-strings are not literals at character 1'],
    [String.raw`'\x4'`, 'invalid \\x escape (needs 2 hex digits) at character 2'],
    [String.raw`'\N{DASH}'`, '\\N{...} escapes are not supported at character 2'],
    ['1 2', 'unexpected text after the value at character 3'],
    ['', 'unexpected end of text at character 1'],
    ['1.2.3', 'invalid number at character 1'],
    ['@', 'unexpected character "@" at character 1'],
  ])('rejects %j', (text, message) => {
    const error = thrown(() => parsePythonLiteral(text));
    expect(error).toBeInstanceOf(PythonLiteralError);
    expect(error.message).toBe(message);
  });
});

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

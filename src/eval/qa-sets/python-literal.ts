/**
 * A parser for Python literals as `repr()` writes them (SimpleQA's `metadata` column is a Python dict, not
 * JSON): strings in either quote style (with escapes, r/u prefixes, triple quotes and implicit
 * concatenation), numbers, True/False/None, lists, tuples and dicts. It never evaluates anything: text
 * that is not a literal is an error with its position.
 */

export type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

export class PythonLiteralError extends Error {
  /** 1-based character position in the parsed text. */
  readonly position: number;
  constructor(message: string, index: number) {
    super(`${message} at character ${index + 1}`);
    this.name = 'PythonLiteralError';
    this.position = index + 1;
  }
}

export function parsePythonLiteral(text: string): PyValue {
  const parser = new Parser(text);
  parser.skipSpace();
  const value = parser.value();
  parser.skipSpace();
  if (parser.i < text.length) throw new PythonLiteralError('unexpected text after the value', parser.i);
  return value;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

// Decimal, float (with exponent) or 0x/0o/0b integer, with Python's digit-group underscores.
const NUMBER =
  /[+-]?(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?)(?![\w.])/y;

class Parser {
  i = 0;
  constructor(private readonly text: string) {}

  skipSpace(): void {
    while (this.i < this.text.length && /\s/.test(this.text[this.i]!)) this.i++;
  }

  value(): PyValue {
    const ch = this.text[this.i];
    if (ch === undefined) throw new PythonLiteralError('unexpected end of text', this.i);
    if (ch === '{') return this.dict();
    if (ch === '[') return this.sequence(']');
    if (ch === '(') return this.sequence(')');
    if (ch === "'" || ch === '"' || /^[rRuUbBfF]{1,2}['"]/.test(this.text.slice(this.i, this.i + 3))) {
      return this.strings();
    }
    if (/[\d+\-.]/.test(ch)) return this.number();
    const name = /[A-Za-z_]\w*/y;
    name.lastIndex = this.i;
    const match = name.exec(this.text);
    if (match) {
      const word = match[0];
      if (word === 'True' || word === 'False' || word === 'None') {
        this.i += word.length;
        return word === 'True' ? true : word === 'False' ? false : null;
      }
      throw new PythonLiteralError(`unexpected name "${word}" (only literals are allowed)`, this.i);
    }
    throw new PythonLiteralError(`unexpected character ${JSON.stringify(ch)}`, this.i);
  }

  private dict(): { [key: string]: PyValue } {
    const out: { [key: string]: PyValue } = {};
    this.i++;
    this.items('}', () => {
      const at = this.i;
      const key = this.value();
      if (typeof key === 'object' && key !== null)
        throw new PythonLiteralError('a dict key must be a scalar', at);
      this.skipSpace();
      this.expect(':');
      this.skipSpace();
      // defineProperty, not assignment: a "__proto__" key must stay a plain key.
      Object.defineProperty(out, String(key), {
        value: this.value(),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    });
    return out;
  }

  /** A list, or a tuple (also a list here); "(x)" without a comma is just x, as in Python. */
  private sequence(close: ']' | ')'): PyValue {
    const out: PyValue[] = [];
    this.i++;
    const commas = this.items(close, () => out.push(this.value()));
    return close === ')' && out.length === 1 && commas === 0 ? out[0]! : out;
  }

  /** Comma-separated entries up to `close` (a trailing comma is allowed); returns the number of commas. */
  private items(close: string, entry: () => void): number {
    let commas = 0;
    this.skipSpace();
    while (this.text[this.i] !== close) {
      entry();
      this.skipSpace();
      if (this.text[this.i] === ',') {
        this.i++;
        commas++;
        this.skipSpace();
      } else if (this.text[this.i] !== close) {
        throw new PythonLiteralError(`expected "," or "${close}"`, this.i);
      }
    }
    this.i++;
    return commas;
  }

  private expect(ch: string): void {
    if (this.text[this.i] !== ch) throw new PythonLiteralError(`expected "${ch}"`, this.i);
    this.i++;
  }

  private number(): number {
    NUMBER.lastIndex = this.i;
    const match = NUMBER.exec(this.text);
    if (!match) throw new PythonLiteralError('invalid number', this.i);
    this.i += match[0].length;
    const token = match[0].replace(/_/g, '');
    const sign = token.startsWith('-') ? -1 : 1;
    // Number() reads 0x/0o/0b but not with a sign in front, so the sign is applied separately.
    return sign * Number(token.replace(/^[+-]/, ''));
  }

  /** Adjacent string literals are one string in Python ('a' 'b' == 'ab'). */
  private strings(): string {
    let out = this.string();
    for (;;) {
      const save = this.i;
      this.skipSpace();
      const ch = this.text[this.i];
      if (ch === "'" || ch === '"' || /^[rRuU]{1,2}['"]/.test(this.text.slice(this.i, this.i + 3))) {
        out += this.string();
      } else {
        this.i = save;
        return out;
      }
    }
  }

  private string(): string {
    const start = this.i;
    let raw = false;
    for (let p = this.text[this.i]!.toLowerCase(); 'rubf'.includes(p); p = this.text[this.i]!.toLowerCase()) {
      if (p === 'b') throw new PythonLiteralError('bytes literals are not supported', start);
      if (p === 'f') throw new PythonLiteralError('f-strings are not literals', start);
      if (p === 'r') raw = true;
      this.i++;
    }
    const quote = this.text[this.i]!;
    const triple = this.text.startsWith(quote.repeat(3), this.i);
    const close = triple ? quote.repeat(3) : quote;
    this.i += close.length;
    let out = '';
    for (;;) {
      if (this.i >= this.text.length) throw new PythonLiteralError('unterminated string', start);
      if (this.text.startsWith(close, this.i)) {
        this.i += close.length;
        return out;
      }
      const ch = this.text[this.i]!;
      if (ch === '\n' && !triple) throw new PythonLiteralError('unterminated string (newline)', start);
      if (ch !== '\\') {
        out += ch;
        this.i++;
      } else if (raw) {
        // In raw strings a backslash still protects the next character from ending the string.
        out += this.text.slice(this.i, this.i + 2);
        this.i += 2;
      } else {
        out += this.escape();
      }
    }
  }

  private escape(): string {
    const at = this.i;
    const ch = this.text[this.i + 1];
    if (ch === undefined) throw new PythonLiteralError('unterminated string', at);
    this.i += 2;
    if (ch === '\n') return '';
    if (ch === '\r') {
      if (this.text[this.i] === '\n') this.i++;
      return '';
    }
    const simple = SIMPLE_ESCAPES[ch];
    if (simple !== undefined) return simple;
    if (/[0-7]/.test(ch)) {
      const digits = /[0-7]{0,2}/y;
      digits.lastIndex = this.i;
      const more = digits.exec(this.text)![0];
      this.i += more.length;
      return String.fromCodePoint(parseInt(ch + more, 8));
    }
    const width = ch === 'x' ? 2 : ch === 'u' ? 4 : ch === 'U' ? 8 : 0;
    if (width > 0) {
      const hex = this.text.slice(this.i, this.i + width);
      if (!new RegExp(`^[0-9a-fA-F]{${width}}$`).test(hex)) {
        throw new PythonLiteralError(`invalid \\${ch} escape (needs ${width} hex digits)`, at);
      }
      const code = parseInt(hex, 16);
      if (code > 0x10ffff) throw new PythonLiteralError(`invalid \\${ch} escape (beyond Unicode)`, at);
      this.i += width;
      return String.fromCodePoint(code);
    }
    if (ch === 'N') throw new PythonLiteralError('\\N{...} escapes are not supported', at);
    // Python keeps unknown escapes as they are ("\d" stays backslash + d).
    return '\\' + ch;
  }
}

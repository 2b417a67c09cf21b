/**
 * Parser for stage-1 outputs: a list of learning strategies in markdown, each under a `##` heading.
 * Real model outputs are messy, so it copes with: a missing `<start_strategies>` delimiter, `#`/`###` levels,
 * numbered or bold headings instead of `##`, preambles and closing prose, question lists mixed in, and empty
 * headings. Each strategy keeps its heading together with its description.
 */
export interface ParsedStrategies {
  strategies: string[];
  /** Task-specific variant: the questions listed before the delimiter (best effort). */
  questions: string[];
  delimiterFound: boolean;
}

export const STRATEGY_DELIMITER = '<start_strategies>';

const DELIMITER_PATTERN = /^[ \t>*`_]*<?\s*start[_ ]strategies\s*>?[ \t*`_]*$/im;
const GENERIC_LABEL =
  /^(learning |study |memori[sz]ation )?(strategies|strategy|questions|answers?|summary)\s*:?$/i;
const CLOSING_PROSE =
  /^(by (following|using|applying|implementing|combining|incorporating)|these strategies|using these|overall,|in summary|in conclusion|to conclude|remember,|good luck|i hope)/i;

export function parseStrategies(text: string, options: { delimiter?: boolean } = {}): ParsedStrategies {
  const normalized = text.replace(/\r\n?/g, '\n');
  let body = normalized;
  let before = '';
  let delimiterFound = false;
  if (options.delimiter) {
    const match = DELIMITER_PATTERN.exec(normalized) ?? /<start_strategies>/i.exec(normalized);
    if (match) {
      delimiterFound = true;
      before = normalized.slice(0, match.index);
      body = normalized.slice(match.index + match[0].length);
    }
  }

  const pieces = splitIntoPieces(body);
  const questions = before ? extractQuestions(before) : [];
  const strategies: string[] = [];
  for (const piece of pieces) {
    if (isQuestionList(piece)) {
      if (!delimiterFound) questions.push(...extractQuestions(piece));
      continue;
    }
    const cleaned = stripClosingProse(piece);
    if (isEmptyStrategy(cleaned)) continue;
    strategies.push(cleaned);
  }
  return { strategies, questions, delimiterFound };
}

/** Splits on the most specific heading style present: `##`+ headings, then `#`, numbered items, bold lines. */
function splitIntoPieces(body: string): string[] {
  const splitters: Array<{ line: RegExp; strip: (line: string) => string }> = [
    {
      line: /^ {0,3}#{2,6}(?=\s|\S)/,
      strip: (l) => l.replace(/^ {0,3}#{2,6}\s*/, '').replace(/\s*#+\s*$/, ''),
    },
    { line: /^ {0,3}#\s/, strip: (l) => l.replace(/^ {0,3}#\s*/, '') },
    { line: /^ {0,3}\d{1,3}[.)]\s+\S/, strip: (l) => l.trim() },
    { line: /^ {0,3}\*\*[^*\n]+\*\*:?\s*$/, strip: (l) => l.trim() },
  ];
  const lines = body.split('\n');
  for (const splitter of splitters) {
    const starts = lines.flatMap((l, i) => (splitter.line.test(l) ? [i] : []));
    if (starts.length === 0) continue;
    // A single `#` title followed by nothing else that splits is a title, not a list of strategies.
    if (splitter === splitters[1] && starts.length === 1 && starts[0] === firstContentLine(lines)) continue;
    return starts.map((start, k) => {
      const end = starts[k + 1] ?? lines.length;
      const heading = splitter.strip(lines[start] as string);
      const rest = lines.slice(start + 1, end).join('\n');
      return `${heading}\n${rest}`.replace(/\n{3,}/g, '\n\n').trim();
    });
  }
  const whole = body.trim();
  return whole ? [whole] : [];
}

function firstContentLine(lines: string[]): number {
  return lines.findIndex((l) => l.trim().length > 0);
}

function contentLines(piece: string): string[] {
  return piece
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

function isQuestionList(piece: string): boolean {
  const lines = contentLines(piece);
  const [heading, ...rest] = lines;
  if (!heading) return false;
  const candidates = /question/i.test(heading) && rest.length > 0 ? rest : lines;
  const questions = candidates.filter((l) => /\?\**\s*$/.test(l)).length;
  return candidates.length > 0 && questions / candidates.length >= 0.6;
}

function extractQuestions(text: string): string[] {
  return contentLines(text)
    .filter((l) => /\?\**\s*$/.test(l))
    .map((l) => l.replace(/^(?:[-*+]|\d{1,3}[.)])\s+/, '').trim());
}

function stripClosingProse(piece: string): string {
  const paragraphs = piece.split(/\n\s*\n/);
  while (paragraphs.length > 1 && CLOSING_PROSE.test((paragraphs.at(-1) as string).trim())) paragraphs.pop();
  return paragraphs.join('\n\n').trim();
}

function isEmptyStrategy(piece: string): boolean {
  const lines = contentLines(piece);
  if (lines.length === 0) return true;
  const words = piece.replace(/[*_#`>-]/g, ' ').match(/[\p{L}\p{N}]+/gu) ?? [];
  if (words.length === 0) return true;
  // A heading with no description that is only a section label ("Strategies", "Questions:").
  const label = (lines[0] as string).replace(/[*_:`]/g, '').trim();
  return lines.length === 1 && (GENERIC_LABEL.test(label) || words.length < 3);
}

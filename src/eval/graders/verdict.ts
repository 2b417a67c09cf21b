/** The three SimpleQA grades, plus `unparsed` for judge replies we refuse to guess at. */
export type Grade = 'correct' | 'incorrect' | 'not_attempted';
export type Verdict = Grade | 'unparsed';

export const VERDICTS: readonly Verdict[] = ['correct', 'incorrect', 'not_attempted', 'unparsed'];

const LETTER_GRADE: Record<string, Grade> = { a: 'correct', b: 'incorrect', c: 'not_attempted' };

/** Verdict words, longest first so `not attempted` and `not correct` win over the bare `correct`. */
const WORD = String.raw`not[\s_-]*attempted|not\s+correct|incorrect|correct`;

function wordGrade(word: string): Grade {
  const w = word.toLowerCase();
  if (/^not[\s_-]*attempted$/.test(w)) return 'not_attempted';
  if (w === 'correct') return 'correct';
  return 'incorrect'; // 'incorrect' and 'not correct'
}

function letterOrWordGrade(token: string): Grade {
  return token.length === 1 ? (LETTER_GRADE[token.toLowerCase()] as Grade) : wordGrade(token);
}

/** One grade if every reading agrees, `unparsed` if they disagree, undefined if there is none. */
function agree(grades: Grade[]): Verdict | undefined {
  if (grades.length === 0) return undefined;
  return grades.every((g) => g === grades[0]) ? grades[0] : 'unparsed';
}

/** Rule 1: an explicit label, `Grade: B`, `grade: a`, `Verdict = CORRECT`, `The grade is C`. */
function explicitGrades(text: string): Grade[] {
  const out: Grade[] = [];
  // With ':' or '=' the letter may be lower case ('grade: a'); after 'is' only an upper-case letter counts,
  // so that 'the grade is a tricky one' is not read as A.
  const withSep = new RegExp(String.raw`\b(?:grade|verdict)\s*[:=]\s*\(?(${WORD}|[abc])\)?(?![\w'])`, 'gi');
  const withIs = new RegExp(
    String.raw`\b(?:grade|verdict)\s+is\s+\(?((?:${WORD})(?![\w'])|[ABC](?![\w']))`,
    'gi',
  );
  for (const m of text.matchAll(withSep)) out.push(letterOrWordGrade(m[1] as string));
  for (const m of text.matchAll(withIs)) {
    const token = m[1] as string;
    if (token.length === 1 && token !== token.toUpperCase()) continue;
    out.push(letterOrWordGrade(token));
  }
  return out;
}

/**
 * Rule 2: a line that is nothing but a letter, optionally bracketed or followed by '.', ':' or ')', and
 * optionally followed by a verdict word that must name the same grade: `A`, `(a)`, `B.`, `A: CORRECT`.
 */
function letterLineGrades(text: string): Grade[] {
  const line = new RegExp(String.raw`^\(?([abc])\)?[.:)]?(?:\s*[:\-]?\s*(${WORD}))?[.!]?$`, 'i');
  const out: Grade[] = [];
  for (const raw of text.split('\n')) {
    const m = line.exec(raw.trim());
    if (!m) continue;
    const letter = letterOrWordGrade(m[1] as string);
    const word = m[2] === undefined ? letter : wordGrade(m[2]);
    out.push(letter);
    if (word !== letter) out.push(word); // 'A: INCORRECT' contradicts itself: unparsed
  }
  return out;
}

/**
 * Rule 3: free text. Verdict words count as whole words ('INCORRECT' never yields 'CORRECT'); when any
 * upper-case verdict word is present only those count, so 'A correct answer would say Paris, so INCORRECT'
 * reads INCORRECT; otherwise a word right after an article is an adjective, not a verdict ('the correct
 * answer is Paris'). Upper-case letters count only as standalone tokens (not 'D.C.', not 'B-52'), and 'A'
 * followed by a lower-case word is the English article ('A correct answer...'), except before 'or'/'and'
 * ('A or B' is ambiguous, hence unparsed).
 */
function freeTextGrades(text: string): Grade[] {
  const upperWord = new RegExp(String.raw`\b(?:NOT[\s_-]*ATTEMPTED|NOT\s+CORRECT|INCORRECT|CORRECT)\b`, 'g');
  const upper = [...text.matchAll(upperWord)];
  const any = [...text.matchAll(new RegExp(String.raw`\b(?:${WORD})\b`, 'gi'))].filter(
    (m) => !/(?:^|[^\w])(?:a|an|the)\s+$/i.test(text.slice(0, m.index)),
  );
  const out = (upper.length > 0 ? upper : any).map((m) => wordGrade(m[0]));
  const letters = /(?<![\w.'’-])([ABC])(?![\w'’-])(?!\.\w)/g;
  for (const m of text.matchAll(letters)) {
    const after = text.slice((m.index ?? 0) + 1);
    const next = /^\s+([a-z]\w*)/.exec(after);
    if (m[1] === 'A' && next && !['or', 'and', 'nor', 'vs', 'versus'].includes(next[1] as string)) continue;
    out.push(LETTER_GRADE[(m[1] as string).toLowerCase()] as Grade);
  }
  return out;
}

/**
 * Reads a SimpleQA judge reply. The reference implementation takes the first A, B or C anywhere
 * (`re.search(r"(A|B|C)")`), so a reply of "CORRECT" becomes C, and defaults to C when nothing matches;
 * we instead apply three rules in order of how explicit they are, take the first rule that finds
 * anything, and return `unparsed` when that rule finds two different grades or no rule finds any.
 * Markdown emphasis (`**A**`, `` `B` ``) and surrounding quotes are ignored.
 */
export function parseVerdict(text: string): Verdict {
  const clean = text
    .replace(/\r\n?/g, '\n')
    .replace(/[*`#"“”]/g, '')
    .trim();
  if (!clean) return 'unparsed';
  for (const rule of [explicitGrades, letterLineGrades, freeTextGrades]) {
    const verdict = agree(rule(clean));
    if (verdict) return verdict;
  }
  return 'unparsed';
}

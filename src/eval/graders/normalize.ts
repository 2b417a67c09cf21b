/**
 * Answer normalisation shared by the lexical grader and the diagnostics (coverage, leakage), after SQuAD's
 * `normalize_answer` (lower case, no punctuation, no articles a/an/the, single spaces), plus:
 * - Unicode NFKC, so full-width digits, ligatures and no-break spaces compare equal to their plain forms;
 * - Latin diacritics stripped (U+0300-U+036F after decomposition), so 'Zoë' matches 'Zoe': the SimpleQA
 *   rubric forgives misspelt names, and models often drop accents. Other scripts' marks are kept, since
 *   removing them would merge distinct words;
 * - numbers: thousands separators dropped ('1,000' = '1000') and a decimal point between digits kept
 *   ('1.73' stays distinct from '173', which SQuAD would merge);
 * - apostrophes and periods are deleted, as in SQuAD ("don't" = 'dont', 'U.S.' = 'us'); other punctuation
 *   and symbols become spaces rather than being deleted, so 'Jean-Paul' = 'Jean Paul' and 'Paris,London'
 *   stays two tokens.
 */
export function normalizeAnswer(text: string): string {
  let s = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .normalize('NFKC')
    .toLowerCase();
  s = s.replace(/(?<=\d),(?=\d{3}(?!\d))/g, '');
  s = s.replace(/[\p{P}\p{S}]/gu, (ch, offset: number, whole: string) => {
    if (ch === '.') return isDigit(whole[offset - 1]) && isDigit(whole[offset + 1]) ? '.' : '';
    return ch === "'" || ch === '’' || ch === '`' ? '' : ' ';
  });
  return s
    .split(/\s+/u)
    .filter((t) => t && t !== 'a' && t !== 'an' && t !== 'the')
    .join(' ');
}

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

export function answerTokens(text: string): string[] {
  const n = normalizeAnswer(text);
  return n ? n.split(' ') : [];
}

/**
 * Whether `needle` occurs as whole tokens, contiguously, in `haystack`; both already normalised. Normalised
 * text is single-space separated, so padding with spaces makes a substring test token-exact.
 */
export function containsTokens(haystack: string, needle: string): boolean {
  return needle !== '' && ` ${haystack} `.includes(` ${needle} `);
}

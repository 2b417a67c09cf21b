import { basename, extname } from 'node:path';

/**
 * Canonical whitespace for document text: strips a leading BOM, CRLF/CR -> LF, trailing whitespace
 * removed from every line, runs of 3+ newlines collapsed to one blank line, and the whole text trimmed.
 * Idempotent. Readers apply it before hashing, so ids do not depend on line endings.
 */
export function normalizeText(text: string): string {
  return text
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .replace(/[^\S\n]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** A title on a single line: every whitespace run becomes one space. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The file name without its extension: the fallback title of txt/md/html documents. */
export function fileTitle(file: string): string {
  return basename(file, extname(file));
}

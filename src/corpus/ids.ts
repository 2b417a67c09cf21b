import { createHash } from 'node:crypto';

/**
 * Content id of a document: the first 16 hex chars of sha256(title + "\n" + text), over UTF-8.
 * Pure function of the (normalised) title and text, so it is the same across runs and machines.
 */
export function documentId(title: string, text: string): string {
  return createHash('sha256').update(`${title}\n${text}`, 'utf8').digest('hex').slice(0, 16);
}

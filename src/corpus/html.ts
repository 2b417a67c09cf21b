import { compile, type HtmlToTextOptions } from 'html-to-text';
import { normalizeText, oneLine } from './text.js';

const SKIPPED = [
  'script',
  'style',
  'nav',
  'noscript',
  'template',
  'head',
  'title',
  'img',
  'svg',
  'iframe',
  'hr',
];

const OPTIONS: HtmlToTextOptions = {
  wordwrap: false,
  limits: { maxInputLength: Number.MAX_SAFE_INTEGER }, // the default silently truncates at 16 MiB
  selectors: [
    ...SKIPPED.map((selector) => ({ selector, format: 'skip' })),
    { selector: 'a', options: { ignoreHref: true, linkBrackets: false } },
    { selector: 'ul', options: { itemPrefix: '- ' } },
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
    { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
  ],
};

const toText = compile(OPTIONS);

export interface HtmlContent {
  /** `<title>`, else the first `<h1>`; undefined when neither has text. */
  title: string | undefined;
  /** Readable text: paragraphs separated by blank lines, no markup, links or image sources. */
  text: string;
}

/**
 * Converts an HTML page to readable text with html-to-text (entities decoded; script, style, nav and
 * images dropped) and finds its title. When the text starts with the title as its own paragraph (a
 * page's `<h1>`), that paragraph is dropped: the chunker prepends the title to every chunk anyway.
 */
export function htmlToDocument(html: string): HtmlContent {
  const title = findTitle(html);
  let text = normalizeText(toText(html));
  if (title !== undefined) text = dropLeadingTitle(text, title);
  return { title, text };
}

function findTitle(html: string): string | undefined {
  // Looked up with patterns on the page minus comments and scripts (a full second parse costs more);
  // the element's inner HTML is then converted, which strips nested tags and decodes entities.
  const visible = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style|template|noscript)\b[\s\S]*?<\/\1\s*>/gi, '');
  for (const pattern of [/<title\b[^>]*>([\s\S]*?)<\/title\s*>/i, /<h1\b[^>]*>([\s\S]*?)<\/h1\s*>/i]) {
    const inner = pattern.exec(visible)?.[1];
    const title = inner === undefined ? '' : oneLine(toText(inner));
    if (title) return title;
  }
  return undefined;
}

/** Removes the first paragraph of `text` when it is exactly `title` (ignoring whitespace). */
export function dropLeadingTitle(text: string, title: string): string {
  const end = text.indexOf('\n\n');
  const first = end === -1 ? text : text.slice(0, end);
  if (oneLine(first) !== title) return text;
  return end === -1 ? '' : text.slice(end + 2);
}

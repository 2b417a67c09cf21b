/**
 * English Wikipedia links in SimpleQA's reference URLs: which questions are Wikipedia-grounded (the
 * paper's SimpleWikiQA subset) and which pages to fetch as training documents.
 */

const HOST = 'en.wikipedia.org';

// Some SimpleQA reference entries hold several URLs, with bullets or notes between them, or a URL wrapped
// in quotes; each http(s) URL in an entry counts (this gives the 3,449 Wikipedia-grounded questions).
const URL_IN_TEXT = /https?:\/\/[^\s'"<>]+/gi;

/** The http(s) URLs written in one reference entry, trailing sentence punctuation removed. */
export function urlsIn(entry: string): string[] {
  return [...entry.matchAll(URL_IN_TEXT)].map((match) => match[0].replace(/[.,;:]+$/, ''));
}

/** Whether any reference entry names an en.wikipedia.org page. */
export function citesEnglishWikipedia(entries: readonly string[]): boolean {
  return entries.some((entry) => urlsIn(entry).some(isEnglishWikipediaUrl));
}

/** The URL if it parses as an http(s) URL on en.wikipedia.org; malformed URLs do not count. */
function englishWikipediaUrl(url: string): URL | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return undefined;
  }
  const web = parsed.protocol === 'https:' || parsed.protocol === 'http:';
  return web && parsed.hostname === HOST ? parsed : undefined;
}

export function isEnglishWikipediaUrl(url: string): boolean {
  return englishWikipediaUrl(url) !== undefined;
}

/**
 * The page title of an en.wikipedia.org link ("/wiki/Ada_Lovelace#Life" → "Ada Lovelace"; also
 * "/w/index.php?title=..."): percent-escapes decoded, underscores as spaces, fragment dropped.
 */
export function wikipediaTitle(url: string): string | undefined {
  const parsed = englishWikipediaUrl(url);
  if (!parsed) return undefined;
  let title: string | null = null;
  if (parsed.pathname.startsWith('/wiki/')) title = decode(parsed.pathname.slice('/wiki/'.length));
  else if (parsed.pathname === '/w/index.php') title = parsed.searchParams.get('title');
  const clean = title?.replace(/_/g, ' ').trim();
  return clean ? clean : undefined;
}

/** The distinct page titles of the English Wikipedia links in reference entries, in first-seen order. */
export function wikipediaTitles(entries: readonly string[]): string[] {
  const titles = new Set<string>();
  for (const url of entries.flatMap(urlsIn)) {
    const title = wikipediaTitle(url);
    if (title !== undefined) titles.add(title);
  }
  return [...titles];
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a stray "%" that is no escape: keep the text as written
  }
}

/** Small parsers for the report's own output: enough to check geometry and balance without a DOM. */

export type TagAttrs = Record<string, string>;

/** Attributes of every `<name ...>` start tag (self-closing or not), in document order. */
export function tags(html: string, name: string): TagAttrs[] {
  const out: TagAttrs[] = [];
  const re = new RegExp(`<${name}(\\s[^>]*?)?\\/?>`, 'g');
  for (const m of html.matchAll(re)) {
    const attrs: TagAttrs = {};
    for (const a of (m[1] ?? '').matchAll(/([\w:-]+)="([^"]*)"/g)) attrs[a[1] as string] = a[2] as string;
    out.push(attrs);
  }
  return out;
}

/** Tags carrying `class="cls"` exactly. */
export function withClass(html: string, name: string, cls: string): TagAttrs[] {
  return tags(html, name).filter((a) => a.class === cls);
}

/** Numeric attribute, failing loudly when absent or not a number. */
export function n(attrs: TagAttrs | undefined, key: string): number {
  const raw = attrs?.[key];
  const value = Number(raw);
  if (raw === undefined || !Number.isFinite(value))
    throw new Error(`attribute ${key}=${raw} is not a number`);
  return value;
}

/** The translate(x y) of a transform attribute. */
export function translate(attrs: TagAttrs): [number, number] {
  const m = /translate\(([-\d.]+)[ ,]([-\d.]+)\)/.exec(attrs.transform ?? '');
  if (!m) throw new Error(`no translate in ${attrs.transform}`);
  return [Number(m[1]), Number(m[2])];
}

const VOID = new Set(['meta', 'link', 'br', 'hr', 'img', 'input', 'col', 'wbr', 'area', 'base', 'source']);

/**
 * Checks that start and end tags nest properly (void HTML elements and self-closed tags need no end tag).
 * Returns the first problem, or undefined when balanced.
 */
export function tagProblem(html: string): string | undefined {
  const stack: string[] = [];
  const source = html.replace(/<!DOCTYPE[^>]*>/i, '').replace(/<style>[\s\S]*?<\/style>/g, '<style></style>');
  for (const m of source.matchAll(/<(\/?)([a-zA-Z][\w:-]*)([^>]*)>/g)) {
    const [, closing, name = '', rest = ''] = m;
    if (closing) {
      const open = stack.pop();
      if (open !== name) return `</${name}> closes <${open}> at ${m.index}`;
    } else if (!rest.endsWith('/') && !VOID.has(name.toLowerCase())) {
      stack.push(name);
    }
  }
  return stack.length ? `unclosed <${stack.join('> <')}>` : undefined;
}

/** The inline SVG fragments of a document. */
export function svgs(html: string): string[] {
  return [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
}

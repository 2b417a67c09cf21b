/**
 * Prompt templates as files (prompts/NAME.txt), shared by study and eval: an optional `[system]` section, a
 * `[user]` section (a file without sections is all user message) and `{{name}}` placeholders. A template's
 * version is a hash of its text and goes into every cache key, so editing a prompt re-asks exactly the
 * requests that used it. `DIR/NAME.txt` in an override folder (`--prompts DIR`) replaces the built-in file.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChatMessage } from '../models/types.js';

export interface PromptTemplate<Name extends string = string> {
  name: Name;
  /** `name@<12 hex of sha256(text)>`: part of every cache key, so an edit invalidates exactly its requests. */
  version: string;
  /** Where it was read from (built-in or the user's override). */
  file: string;
  system: string | undefined;
  user: string;
}

/** The built-in prompts folder (same relative place from src/ and dist/). */
export const BUILTIN_PROMPTS_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../prompts',
);

/** Parses the sections and checks that every required placeholder appears. */
export function parsePromptTemplate<Name extends string>(
  name: Name,
  text: string,
  file: string,
  placeholders: readonly string[],
): PromptTemplate<Name> {
  const normalized = text.replace(/\r\n/g, '\n');
  const sections = new Map<string, string>();
  const marks = [...normalized.matchAll(/^\[(system|user)\]\s*$/gm)];
  if (marks.length === 0) sections.set('user', normalized);
  marks.forEach((m, i) => {
    const start = (m.index ?? 0) + m[0].length;
    sections.set(m[1] as string, normalized.slice(start, marks[i + 1]?.index ?? normalized.length));
  });
  const user = (sections.get('user') ?? '').trim();
  const system = sections.get('system')?.trim() || undefined;
  if (!user) throw new Error(`prompt template ${file}: the [user] section is empty`);
  const body = `${system ?? ''}\n${user}`;
  for (const placeholder of placeholders) {
    if (!body.includes(`{{${placeholder}}}`)) {
      throw new Error(`prompt template ${file}: missing the placeholder {{${placeholder}}}`);
    }
  }
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { name, version: `${name}@${hash}`, file, system, user };
}

/** Reads `overrideDir/NAME.txt` when it exists, else the built-in file. A missing override folder is an error. */
export function loadPromptTemplate<Name extends string>(
  name: Name,
  placeholders: readonly string[],
  overrideDir?: string,
): PromptTemplate<Name> {
  if (overrideDir && !existsSync(overrideDir)) throw new Error(`--prompts ${overrideDir}: folder not found`);
  const override = overrideDir ? path.join(overrideDir, `${name}.txt`) : undefined;
  const file = override && existsSync(override) ? override : path.join(BUILTIN_PROMPTS_DIR, `${name}.txt`);
  return parsePromptTemplate(name, readFileSync(file, 'utf8'), file, placeholders);
}

/**
 * Fills `{{name}}` placeholders in one pass: values are never re-scanned, so a document or question that
 * itself contains `{{context}}` is left as it is. Unknown placeholders stay as written.
 */
export function renderPromptTemplate(
  template: Pick<PromptTemplate, 'system' | 'user'>,
  vars: Record<string, string>,
): ChatMessage[] {
  const fill = (text: string) =>
    text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) =>
      Object.hasOwn(vars, key) ? (vars[key] as string) : whole,
    );
  const messages: ChatMessage[] = [];
  if (template.system) messages.push({ role: 'system', content: fill(template.system) });
  messages.push({ role: 'user', content: fill(template.user) });
  return messages;
}

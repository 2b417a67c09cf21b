import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChatMessage } from '../models/types.js';

export const TEMPLATE_NAMES = [
  'ar-strategies',
  'ar-task-strategies',
  'ar-apply',
  'paraphrase',
  'qa',
  'entigraph-entities',
  'entigraph-relation',
] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

const REQUIRED_PLACEHOLDERS: Record<TemplateName, string[]> = {
  'ar-strategies': ['document'],
  'ar-task-strategies': ['document', 'task'],
  'ar-apply': ['strategy', 'document'],
  paraphrase: ['document', 'style'],
  qa: ['document'],
  'entigraph-entities': ['document'],
  'entigraph-relation': ['document', 'entity_a', 'entity_b'],
};

export interface PromptTemplate {
  name: TemplateName;
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

/** Parses `[system]` / `[user]` sections; a file without sections is all user message. */
export function parseTemplate(name: TemplateName, text: string, file: string): PromptTemplate {
  const normalized = text.replace(/\r\n/g, '\n');
  const sections = new Map<string, string>();
  const marker = /^\[(system|user)\]\s*$/gm;
  const marks = [...normalized.matchAll(marker)];
  if (marks.length === 0) sections.set('user', normalized);
  marks.forEach((m, i) => {
    const start = (m.index ?? 0) + m[0].length;
    const end = marks[i + 1]?.index ?? normalized.length;
    sections.set(m[1] as string, normalized.slice(start, end));
  });
  const user = (sections.get('user') ?? '').trim();
  const system = sections.get('system')?.trim() || undefined;
  if (!user) throw new Error(`prompt template ${file}: the [user] section is empty`);
  const body = `${system ?? ''}\n${user}`;
  for (const placeholder of REQUIRED_PLACEHOLDERS[name]) {
    if (!body.includes(`{{${placeholder}}}`)) {
      throw new Error(`prompt template ${file}: missing the placeholder {{${placeholder}}}`);
    }
  }
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { name, version: `${name}@${hash}`, file, system, user };
}

/** Loads every template, taking `overrideDir/NAME.txt` where it exists. */
export function loadTemplates(overrideDir?: string): Record<TemplateName, PromptTemplate> {
  if (overrideDir && !existsSync(overrideDir)) {
    throw new Error(`--prompts ${overrideDir}: folder not found`);
  }
  const out = {} as Record<TemplateName, PromptTemplate>;
  for (const name of TEMPLATE_NAMES) {
    const override = overrideDir ? path.join(overrideDir, `${name}.txt`) : undefined;
    const file = override && existsSync(override) ? override : path.join(BUILTIN_PROMPTS_DIR, `${name}.txt`);
    out[name] = parseTemplate(name, readFileSync(file, 'utf8'), file);
  }
  return out;
}

/** Fills `{{name}}` placeholders in one pass (values are never re-scanned, so documents may contain braces). */
export function renderTemplate(template: PromptTemplate, vars: Record<string, string>): ChatMessage[] {
  const fill = (text: string) =>
    text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => (key in vars ? (vars[key] as string) : whole));
  const messages: ChatMessage[] = [];
  if (template.system) messages.push({ role: 'system', content: fill(template.system) });
  messages.push({ role: 'user', content: fill(template.user) });
  return messages;
}

/** Built-in task descriptions for the task-specific variant; any other text is used as given. */
export function describeTask(task: string): string {
  switch (task) {
    case 'trivia':
      return 'a trivia competition';
    case 'finance':
      return 'a financial analysis exam, where you must recall figures, ratios, dates, changes between periods and the risks and facts reported';
    default:
      return task;
  }
}

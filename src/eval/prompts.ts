/**
 * The evaluation's own prompts (prompts/answer-*.txt, prompts/qa-probes.txt), in the format of the study
 * prompts: an optional `[system]` section, a `[user]` section, `{{name}}` placeholders. Each template's
 * version is a hash of its text and goes into every cache key, so editing a prompt re-asks exactly the
 * requests that used it. `DIR/NAME.txt` in an override folder replaces the built-in file.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChatMessage } from '../models/types.js';

export const EVAL_TEMPLATE_PLACEHOLDERS = {
  'answer-closed-book': ['question'],
  'answer-gold-context': ['question', 'context'],
  'qa-probes': ['document', 'count'],
} as const;
export type EvalTemplateName = keyof typeof EVAL_TEMPLATE_PLACEHOLDERS;

export interface EvalTemplate {
  name: EvalTemplateName;
  /** `name@<12 hex of sha256(text)>`. */
  version: string;
  file: string;
  system: string | undefined;
  user: string;
}

/** The built-in prompts folder (same relative place from src/ and dist/). */
const BUILTIN_PROMPTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../prompts');

export function parseEvalTemplate(name: EvalTemplateName, text: string, file: string): EvalTemplate {
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
  for (const placeholder of EVAL_TEMPLATE_PLACEHOLDERS[name]) {
    if (!body.includes(`{{${placeholder}}}`)) {
      throw new Error(`prompt template ${file}: missing the placeholder {{${placeholder}}}`);
    }
  }
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { name, version: `${name}@${hash}`, file, system, user };
}

export function loadEvalTemplate(name: EvalTemplateName, overrideDir?: string): EvalTemplate {
  if (overrideDir && !existsSync(overrideDir)) throw new Error(`--prompts ${overrideDir}: folder not found`);
  const override = overrideDir ? path.join(overrideDir, `${name}.txt`) : undefined;
  const file = override && existsSync(override) ? override : path.join(BUILTIN_PROMPTS_DIR, `${name}.txt`);
  return parseEvalTemplate(name, readFileSync(file, 'utf8'), file);
}

/** Fills placeholders in one pass, so a question containing `{{context}}` is never expanded. */
export function renderEvalTemplate(template: EvalTemplate, vars: Record<string, string>): ChatMessage[] {
  const fill = (text: string) =>
    text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) =>
      Object.hasOwn(vars, key) ? (vars[key] as string) : whole,
    );
  const messages: ChatMessage[] = [];
  if (template.system) messages.push({ role: 'system', content: fill(template.system) });
  messages.push({ role: 'user', content: fill(template.user) });
  return messages;
}

/**
 * Stops a base model that goes on to invent the next few-shot question. Not a bare newline: a chat model
 * may open its reply with one, and the answer would then be empty.
 */
export const ANSWER_STOP = ['\nQuestion:'];

/**
 * The short answer in a reply: leading whitespace and an echoed `Answer:` label dropped, then everything
 * from the first newline on cut (the paper's replication does the same cut; a base model goes on with
 * text of its own after its answer).
 */
export function extractAnswer(raw: string): string {
  const text = raw.replace(/^\s+/, '').replace(/^\**answer\**\s*:\**\s*/i, '');
  const newline = text.search(/\r?\n/);
  return (newline === -1 ? text : text.slice(0, newline)).trim();
}

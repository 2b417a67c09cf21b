/**
 * The SimpleQA LLM-judge protocol: the grader prompt of OpenAI's simple-evals (`simpleqa_eval.py`,
 * GRADER_TEMPLATE, Copyright (c) 2024 OpenAI, MIT licence), reproduced verbatim from its main branch
 * (commit ee3b031, July 2025; typos included, e.g. gold "1.73 m" with "1.75" graded CORRECT) in
 * `prompts/simpleqa-grader.txt` as one user message, with `{x}` written `{{x}}` as in our other prompts.
 * The reply is read by `parseVerdict` (verdict.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChatMessage } from '../../models/types.js';

export const JUDGE_TEMPLATE_NAME = 'simpleqa-grader';
const PLACEHOLDERS = ['question', 'target', 'predicted_answer'] as const;

export interface JudgeTemplate {
  /** `simpleqa-grader@<12 hex of sha256(text)>`: part of every judge cache key. */
  version: string;
  file: string;
  system: string | undefined;
  user: string;
}

/** The built-in prompts folder (same relative place from src/ and dist/). */
const BUILTIN_PROMPTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../prompts');

/** Same format as the study prompts: optional `[system]`, then `[user]`; `{{name}}` placeholders. */
export function parseJudgeTemplate(text: string, file: string): JudgeTemplate {
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
  for (const name of PLACEHOLDERS) {
    if (!body.includes(`{{${name}}}`))
      throw new Error(`prompt template ${file}: missing the placeholder {{${name}}}`);
  }
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { version: `${JUDGE_TEMPLATE_NAME}@${hash}`, file, system, user };
}

/** Loads `overrideDir/simpleqa-grader.txt` when it exists, else the built-in template. */
export function loadJudgeTemplate(overrideDir?: string): JudgeTemplate {
  const override = overrideDir ? path.join(overrideDir, `${JUDGE_TEMPLATE_NAME}.txt`) : undefined;
  const file =
    override && existsSync(override)
      ? override
      : path.join(BUILTIN_PROMPTS_DIR, `${JUDGE_TEMPLATE_NAME}.txt`);
  return parseJudgeTemplate(readFileSync(file, 'utf8'), file);
}

const BUILTIN = loadJudgeTemplate();

/** Version of the built-in judge template, for cache keys. */
export const JUDGE_TEMPLATE_VERSION = BUILTIN.version;

/**
 * The judge conversation for one answer. Placeholders are filled in one pass, so a question or answer that
 * itself contains `{{target}}` is never re-expanded.
 */
export function buildJudgeMessages(
  question: string,
  gold: string,
  predicted: string,
  template: JudgeTemplate = BUILTIN,
): ChatMessage[] {
  const vars: Record<string, string> = { question, target: gold, predicted_answer: predicted };
  const fill = (text: string) =>
    text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) =>
      Object.hasOwn(vars, key) ? (vars[key] as string) : whole,
    );
  const messages: ChatMessage[] = [];
  if (template.system) messages.push({ role: 'system', content: fill(template.system) });
  messages.push({ role: 'user', content: fill(template.user) });
  return messages;
}

/**
 * The evaluation's own prompts (prompts/answer-*.txt, prompts/qa-probes.txt), in the format of the study
 * prompts: an optional `[system]` section, a `[user]` section, `{{name}}` placeholders. Each template's
 * version is a hash of its text and goes into every cache key, so editing a prompt re-asks exactly the
 * requests that used it. `DIR/NAME.txt` in an override folder replaces the built-in file.
 */
import type { ChatMessage } from '../models/types.js';
import {
  loadPromptTemplate,
  parsePromptTemplate,
  renderPromptTemplate,
  type PromptTemplate,
} from '../runtime/prompt-template.js';

export const EVAL_TEMPLATE_PLACEHOLDERS = {
  'answer-closed-book': ['question'],
  'answer-gold-context': ['question', 'context'],
  'qa-probes': ['document', 'count'],
} as const;
export type EvalTemplateName = keyof typeof EVAL_TEMPLATE_PLACEHOLDERS;

export type EvalTemplate = PromptTemplate<EvalTemplateName>;

export function parseEvalTemplate(name: EvalTemplateName, text: string, file: string): EvalTemplate {
  return parsePromptTemplate(name, text, file, EVAL_TEMPLATE_PLACEHOLDERS[name]);
}

export function loadEvalTemplate(name: EvalTemplateName, overrideDir?: string): EvalTemplate {
  return loadPromptTemplate(name, EVAL_TEMPLATE_PLACEHOLDERS[name], overrideDir);
}

/** Fills placeholders in one pass, so a question containing `{{context}}` is never expanded. */
export function renderEvalTemplate(template: EvalTemplate, vars: Record<string, string>): ChatMessage[] {
  return renderPromptTemplate(template, vars);
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

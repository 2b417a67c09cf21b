/**
 * The SimpleQA LLM-judge protocol: the grader prompt of OpenAI's simple-evals (`simpleqa_eval.py`,
 * GRADER_TEMPLATE, Copyright (c) 2024 OpenAI, MIT licence), reproduced verbatim from its main branch
 * (commit ee3b031, July 2025; typos included, e.g. gold "1.73 m" with "1.75" graded CORRECT) in
 * `prompts/simpleqa-grader.txt` as one user message, with `{x}` written `{{x}}` as in our other prompts.
 * The reply is read by `parseVerdict` (verdict.ts).
 */
import type { ChatMessage } from '../../models/types.js';
import {
  loadPromptTemplate,
  parsePromptTemplate,
  renderPromptTemplate,
  type PromptTemplate,
} from '../../runtime/prompt-template.js';

export const JUDGE_TEMPLATE_NAME = 'simpleqa-grader';
const PLACEHOLDERS = ['question', 'target', 'predicted_answer'] as const;

/** `version` is `simpleqa-grader@<12 hex of sha256(text)>`: part of every judge cache key. */
export type JudgeTemplate = PromptTemplate<typeof JUDGE_TEMPLATE_NAME>;

/** Same format as the study prompts: optional `[system]`, then `[user]`; `{{name}}` placeholders. */
export function parseJudgeTemplate(text: string, file: string): JudgeTemplate {
  return parsePromptTemplate(JUDGE_TEMPLATE_NAME, text, file, PLACEHOLDERS);
}

/** Loads `overrideDir/simpleqa-grader.txt` when it exists, else the built-in template. */
export function loadJudgeTemplate(overrideDir?: string): JudgeTemplate {
  return loadPromptTemplate(JUDGE_TEMPLATE_NAME, PLACEHOLDERS, overrideDir);
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
  return renderPromptTemplate(template, { question, target: gold, predicted_answer: predicted });
}

import type { ChatMessage } from '../models/types.js';
import {
  loadPromptTemplate,
  parsePromptTemplate,
  renderPromptTemplate,
  type PromptTemplate as SharedTemplate,
} from '../runtime/prompt-template.js';

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

export type PromptTemplate = SharedTemplate<TemplateName>;

/** Parses `[system]` / `[user]` sections; a file without sections is all user message. */
export function parseTemplate(name: TemplateName, text: string, file: string): PromptTemplate {
  return parsePromptTemplate(name, text, file, REQUIRED_PLACEHOLDERS[name]);
}

/** Loads every template, taking `overrideDir/NAME.txt` where it exists. */
export function loadTemplates(overrideDir?: string): Record<TemplateName, PromptTemplate> {
  const out = {} as Record<TemplateName, PromptTemplate>;
  for (const name of TEMPLATE_NAMES) {
    out[name] = loadPromptTemplate(name, REQUIRED_PLACEHOLDERS[name], overrideDir);
  }
  return out;
}

/** Fills `{{name}}` placeholders in one pass (values are never re-scanned, so documents may contain braces). */
export function renderTemplate(template: PromptTemplate, vars: Record<string, string>): ChatMessage[] {
  return renderPromptTemplate(template, vars);
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

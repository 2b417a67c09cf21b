/**
 * Recognises which study prompt a request is, by matching its user message against every loaded template
 * (the real prompts/*.txt, or a --prompts override), and reads the placeholder values back out. The
 * template's fixed text must match, up to whitespace; placeholders match anything.
 */
import type { ChatMessage } from '../models/types.js';
import type { PromptTemplate, TemplateName } from '../study/templates.js';

export interface RecognizedPrompt {
  name: TemplateName;
  vars: Record<string, string>;
}

interface Matcher {
  name: TemplateName;
  pattern: RegExp;
  placeholders: string[];
  /** Length of the fixed text: when two templates match, the more specific wins. */
  literal: number;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function matcherOf(template: PromptTemplate): Matcher {
  const placeholders: string[] = [];
  let literal = 0;
  const parts = template.user.split(/\{\{(\w+)\}\}/);
  const source = parts
    .map((part, i) => {
      if (i % 2 === 1) {
        placeholders.push(part);
        return '([\\s\\S]*?)';
      }
      literal += part.length;
      // Whitespace runs match any whitespace, so a template edited for line breaks still matches.
      return part
        .split(/\s+/)
        .map(escapeRegExp)
        .join('\\s+')
        .replace(/^(\\s\+)+|(\\s\+)+$/g, '\\s*');
    })
    .join('');
  return { name: template.name, pattern: new RegExp(`^\\s*${source}\\s*$`), placeholders, literal };
}

export class PromptRecognizer {
  private readonly matchers: Matcher[];

  constructor(templates: Record<TemplateName, PromptTemplate>) {
    this.matchers = Object.values(templates)
      .map(matcherOf)
      .sort((a, b) => b.literal - a.literal);
  }

  /** The template and its values, or undefined when the last user message is none of the templates. */
  recognize(messages: readonly ChatMessage[]): RecognizedPrompt | undefined {
    const user = [...messages].reverse().find((m) => m.role === 'user')?.content;
    if (user === undefined) return undefined;
    for (const m of this.matchers) {
      const match = m.pattern.exec(user);
      if (!match) continue;
      const vars: Record<string, string> = {};
      m.placeholders.forEach((p, i) => (vars[p] = (match[i + 1] ?? '').trim()));
      return { name: m.name, vars };
    }
    return undefined;
  }
}

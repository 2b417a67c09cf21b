/** Asking the evaluated model one question, closed-book or with its gold context. */
import type { ChatMessage } from '../models/types.js';
import type { LlmRuntime } from '../runtime/llm-runtime.js';
import type { GoldContext } from './gold-context.js';
import { ANSWER_STOP, extractAnswer, renderEvalTemplate, type EvalTemplate } from './prompts.js';
import type { QaItem } from './qa-sets/types.js';
import type { AnswerMode, AnswerRecord } from './records.js';

export interface AnswerSettings {
  mode: AnswerMode;
  /** answer-closed-book or answer-gold-context. */
  template: EvalTemplate;
  temperature: number;
  maxTokens: number;
  /** The model as the user named it, for the records. */
  model: string;
}

export function answerMessages(
  item: QaItem,
  template: EvalTemplate,
  context: GoldContext | undefined,
): ChatMessage[] {
  return renderEvalTemplate(template, { question: item.question, context: context?.text ?? '' });
}

export async function answerItem(
  llm: LlmRuntime,
  item: QaItem,
  context: GoldContext | undefined,
  settings: AnswerSettings,
): Promise<AnswerRecord> {
  const outcome = await llm.generate({
    method: 'answer',
    templateVersion: settings.template.version,
    messages: answerMessages(item, settings.template, context),
    temperature: settings.temperature,
    maxTokens: settings.maxTokens,
    stop: ANSWER_STOP,
  });
  return {
    id: item.id,
    question: item.question,
    gold: item.answer,
    answer: extractAnswer(outcome.text),
    raw: outcome.text,
    mode: settings.mode,
    model: settings.model,
    ...(item.doc_id === undefined ? {} : { doc_id: item.doc_id }),
    ...(item.chunk_index === undefined ? {} : { chunk_index: item.chunk_index }),
    ...(context
      ? { context: { doc_id: context.doc_id, chunks: context.chunks, tokens: context.tokens } }
      : {}),
    prompt_tokens: outcome.promptTokens,
    completion_tokens: outcome.completionTokens,
    ...(outcome.finishReason === undefined ? {} : { finish_reason: outcome.finishReason }),
  };
}

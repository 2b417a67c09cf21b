/**
 * Chat messages -> prompt token ids for an engine model, the way the model was trained to read them:
 * - with a chat template (tokenizer_config.json `chat_template`, or chat_template.jinja), rendered as
 *   transformers' `apply_chat_template(add_generation_prompt=True)` renders it, then encoded without adding
 *   special tokens (the template writes its own BOS);
 * - otherwise (models trained from scratch, base models) completion-style: the message contents in order,
 *   separated by a blank line, no role markers, so a base model sees plain text. BOS goes first only when the
 *   tokenizer says so (`add_bos_token`, or a post-processor that prepends it): `train` packs documents without
 *   BOS (one EOS between documents), so our own models get none.
 */
import { Template } from '@huggingface/jinja';
import { specialTokenContent } from '../engine/tokenizer/index.js';
import type { TextTokenizer } from '../engine/tokenizer/types.js';
import { completionPrompt } from './completion-prompt.js';
import type { JsonObject } from './engine-model-dir.js';
import type { ChatMessage } from './types.js';

export interface PromptRenderer {
  readonly format: 'chat-template' | 'completion';
  /** Prompt ids for `messages`; throws when the template rejects them. */
  render(messages: readonly ChatMessage[]): number[];
}

export interface PromptSources {
  tokenizer: TextTokenizer;
  tokenizerJson: JsonObject;
  tokenizerConfig: JsonObject;
  /** Contents of chat_template.jinja, which wins over tokenizer_config.json (as in transformers). */
  chatTemplateFile?: { file: string; text: string };
  /** Names the template's origin in errors. */
  tokenizerConfigFile: string;
}

/** Builds the renderer once per model: a broken template fails at open, naming its file. */
export function createPromptRenderer(sources: PromptSources): PromptRenderer {
  const template = chatTemplateOf(sources);
  if (template === undefined) return completionRenderer(sources.tokenizer, addsBos(sources));
  let compiled: Template;
  try {
    compiled = new Template(template.text);
  } catch (error) {
    throw new Error(`cannot parse the chat template in ${template.file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const specials = specialTokensMap(sources.tokenizerConfig);
  return {
    format: 'chat-template',
    render(messages) {
      const list = messages.map((m) => ({ role: m.role, content: m.content }));
      const last = list.at(-1);
      // A trailing assistant message is a prefix to continue (transformers' continue_final_message).
      const continuing = last?.role === 'assistant';
      let text = compiled.render({ ...specials, messages: list, add_generation_prompt: !continuing });
      if (continuing && last.content.length > 0) {
        const at = text.lastIndexOf(last.content);
        if (at >= 0) text = text.slice(0, at + last.content.length);
      }
      return sources.tokenizer.encode(text);
    },
  };
}

function completionRenderer(tokenizer: TextTokenizer, bos: boolean): PromptRenderer {
  return {
    format: 'completion',
    render(messages) {
      const ids = tokenizer.encode(completionPrompt(messages));
      return bos && tokenizer.bosId !== undefined ? [tokenizer.bosId, ...ids] : ids;
    },
  };
}

/** The template text: chat_template.jinja, else tokenizer_config.json's string or its named "default" entry. */
function chatTemplateOf(sources: PromptSources): { text: string; file: string } | undefined {
  if (sources.chatTemplateFile) return sources.chatTemplateFile;
  const value = sources.tokenizerConfig.chat_template;
  if (typeof value === 'string' && value.length > 0)
    return { text: value, file: sources.tokenizerConfigFile };
  if (Array.isArray(value)) {
    const named = value as { name?: unknown; template?: unknown }[];
    const chosen = named.find((t) => t.name === 'default') ?? named[0];
    if (typeof chosen?.template === 'string')
      return { text: chosen.template, file: sources.tokenizerConfigFile };
  }
  return undefined;
}

/** The special tokens transformers hands the template (bos_token, eos_token, ...), as strings. */
function specialTokensMap(config: JsonObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of [
    'bos_token',
    'eos_token',
    'unk_token',
    'pad_token',
    'sep_token',
    'cls_token',
    'mask_token',
  ]) {
    const content = specialTokenContent(config[key]);
    if (content !== undefined) out[key] = content;
  }
  const extra = config.additional_special_tokens;
  if (Array.isArray(extra)) out.additional_special_tokens = extra.map(specialTokenContent).filter(Boolean);
  return out;
}

/**
 * Whether encoding a text starts with BOS: `add_bos_token` when tokenizer_config.json sets it (Llama 2), else
 * whether tokenizer.json's post-processor template begins with the BOS token (Llama 3).
 */
export function addsBos(sources: Pick<PromptSources, 'tokenizerJson' | 'tokenizerConfig'>): boolean {
  const flag = sources.tokenizerConfig.add_bos_token;
  if (typeof flag === 'boolean') return flag;
  const bos = specialTokenContent(sources.tokenizerConfig.bos_token);
  if (bos === undefined) return false;
  const templates: unknown[] = [];
  const collect = (processor: unknown): void => {
    const p = processor as { type?: unknown; single?: unknown; processors?: unknown } | null;
    if (p?.type === 'TemplateProcessing') templates.push(p.single);
    if (p?.type === 'Sequence' && Array.isArray(p.processors)) p.processors.forEach(collect);
  };
  collect(sources.tokenizerJson.post_processor);
  return templates.some((single) => {
    const first = Array.isArray(single) ? (single[0] as { SpecialToken?: { id?: unknown } }) : undefined;
    return first?.SpecialToken?.id === bos;
  });
}

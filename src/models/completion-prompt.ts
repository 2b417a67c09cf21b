import type { ChatMessage } from './types.js';

/**
 * Chat messages as one completion-style prompt: the contents in order, separated by a blank line, with no role
 * markers, so a base model (one without a chat template, as our own trained models are) reads plain text. The
 * engine renders it so for such models, and the served `completions` API sends it, so a model gives the same
 * answers in this process and behind a server.
 */
export function completionPrompt(messages: readonly ChatMessage[]): string {
  return messages
    .map((m) => m.content)
    .filter((c) => c.length > 0)
    .join('\n\n');
}

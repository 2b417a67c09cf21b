import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ChatMessage, SamplingParams } from '../models/types.js';
import { writeFileAtomic } from './atomic-file.js';

export interface CacheKeyParts extends SamplingParams {
  /** TextGenerator.id: model identity, never a secret. */
  model: string;
  messages: ChatMessage[];
  /** Version of the prompt template that produced `messages` (content hash), so edits invalidate it. */
  templateVersion: string;
}

export interface CachedResponse {
  text: string;
  promptTokens: number;
  completionTokens: number;
  finishReason?: string;
}

/** sha256 over a canonical JSON of everything that determines the response. */
export function cacheKey(parts: CacheKeyParts): string {
  const canonical = JSON.stringify([
    parts.model,
    parts.templateVersion,
    parts.messages.map((m) => [m.role, m.content]),
    parts.temperature ?? null,
    parts.topP ?? null,
    parts.maxTokens ?? null,
    parts.stop ?? null,
    parts.seed ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * Content-addressed response cache: one small JSON file per response under `dir/ab/<key>.json`.
 * Files are written atomically, so a crash leaves an entry whole or absent; memory use is flat.
 */
export class ResponseCache {
  constructor(readonly dir: string) {}

  private file(key: string): string {
    return path.join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  async get(key: string): Promise<CachedResponse | undefined> {
    let raw: string;
    try {
      raw = await fs.readFile(this.file(key), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const value = JSON.parse(raw) as CachedResponse;
      return typeof value.text === 'string' ? value : undefined;
    } catch {
      return undefined; // a damaged entry is a miss; it gets rewritten
    }
  }

  async put(key: string, value: CachedResponse): Promise<void> {
    const file = this.file(key);
    try {
      await writeFileAtomic(file, JSON.stringify(value));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await fs.mkdir(path.dirname(file), { recursive: true });
      await writeFileAtomic(file, JSON.stringify(value));
    }
  }
}

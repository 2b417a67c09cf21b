import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs';
import path from 'node:path';
import type { ChatMessage, SamplingParams } from '../models/types.js';

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
 * Content-addressed response cache: one small JSON file per response under `dir/ab/<key>.json`, so memory
 * stays flat at any size and no start-up scan is needed. A file torn by a crash is an unfinished JSON
 * object, which reads as a miss and is rewritten, so no temporary file and rename are needed; the callback
 * fs API is used because it costs much less CPU per call than fs/promises on this hot path.
 */
export class ResponseCache {
  private readonly madeDirs = new Set<string>();

  constructor(readonly dir: string) {}

  private file(key: string): string {
    return path.join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  get(key: string): Promise<CachedResponse | undefined> {
    return new Promise((resolve, reject) => {
      readFile(this.file(key), 'utf8', (error, raw) => {
        if (error) return error.code === 'ENOENT' ? resolve(undefined) : reject(error);
        try {
          const value = JSON.parse(raw) as CachedResponse;
          resolve(typeof value.text === 'string' ? value : undefined);
        } catch {
          resolve(undefined); // torn or damaged: a miss, rewritten by the next put
        }
      });
    });
  }

  async put(key: string, value: CachedResponse): Promise<void> {
    const file = this.file(key);
    const dir = path.dirname(file);
    if (!this.madeDirs.has(dir)) {
      await new Promise<void>((resolve, reject) =>
        mkdir(dir, { recursive: true }, (error) => (error ? reject(error) : resolve())),
      );
      this.madeDirs.add(dir);
    }
    await new Promise<void>((resolve, reject) =>
      writeFile(file, JSON.stringify(value), (error) => (error ? reject(error) : resolve())),
    );
  }
}

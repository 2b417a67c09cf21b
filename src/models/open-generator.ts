import { existsSync } from 'node:fs';
import { createOpenAICompatibleGenerator } from './openai-compatible.js';
import type { TextGenerator } from './types.js';

export interface OpenGeneratorOptions {
  /** A path to a .gguf file (embedded through node-llama-cpp) or a model name served at baseUrl. */
  model: string;
  baseUrl?: string;
  apiKey?: string;
  /** Parallel sequences for an embedded model; connections for a server. */
  concurrency?: number;
  threads?: number;
  contextSize?: number;
}

export function isGgufPath(model: string): boolean {
  return /\.gguf$/i.test(model) || (existsSync(model) && !/^[\w.-]+$/.test(model));
}

/** Picks the provider from the model argument: a GGUF path runs embedded, anything else goes to a server. */
export async function openTextGenerator(options: OpenGeneratorOptions): Promise<TextGenerator> {
  if (isGgufPath(options.model)) {
    // Loaded lazily so HTTP-only runs never load the native llama.cpp binding.
    const { openLlamaCppGenerator } = await import('./llama-cpp.js');
    return openLlamaCppGenerator({
      modelPath: options.model,
      sequences: Math.max(1, options.concurrency ?? 1),
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      ...(options.contextSize === undefined ? {} : { contextSize: options.contextSize }),
    });
  }
  if (!options.baseUrl) {
    throw new Error(
      `--base-url is required (or set OPENAI_BASE_URL) when --model is a served model name, not a .gguf file: ${options.model}`,
    );
  }
  return createOpenAICompatibleGenerator({
    model: options.model,
    baseUrl: options.baseUrl,
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    maxConnections: Math.max(16, options.concurrency ?? 16),
  });
}

/** The base URL without credentials, query or fragment: safe for manifests and logs. */
export function publicBaseUrl(baseUrl: string): string {
  try {
    const url = new URL(baseUrl);
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
  }
}

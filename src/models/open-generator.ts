import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { createOpenAICompatibleGenerator, type OpenAIApi } from './openai-compatible.js';
import type { TextGenerator } from './types.js';

export interface OpenGeneratorOptions {
  /**
   * A path to a .gguf file (embedded through node-llama-cpp), a model directory (run on our own engine: a
   * Hugging Face Llama-family directory or a `train --out` directory), or a model name served at baseUrl.
   */
  model: string;
  baseUrl?: string;
  apiKey?: string;
  /** For a served model: the chat API (default) or the completions API (base models without a chat template). */
  api?: OpenAIApi;
  /** Parallel sequences for an embedded GGUF model; connections for a server. */
  concurrency?: number;
  threads?: number;
  contextSize?: number;
  /** For a model directory: which engine kernels (default auto). */
  kernels?: 'auto' | 'ts' | 'native';
  /** For a model directory: where its one-line notices go (default stderr). */
  log?: (line: string) => void;
}

/** What `--model` accepts, for error messages. */
export const MODEL_KINDS =
  'a .gguf file, a model directory (config.json + *.safetensors + tokenizer.json, e.g. a `train --out` directory) ' +
  'or a model name served at --base-url';

/**
 * True when `model` names a local model that runs in this process, so no server is needed: a path ending in
 * .gguf, an existing path that is not a bare name (a bare name may be a served model), or a directory holding
 * config.json or training checkpoints.
 */
export function isLocalModelPath(model: string): boolean {
  return (
    /\.gguf$/i.test(model) ||
    (existsSync(model) && !/^[\w.-]+$/.test(model)) ||
    (isEngineModelDir(model) &&
      (existsSync(path.join(model, 'config.json')) || existsSync(path.join(model, 'checkpoints'))))
  );
}

/**
 * Kept for callers that decide "embedded or served" with it: it has always been true for any existing local
 * path, and model directories now run embedded too (on the engine), so it is `isLocalModelPath`.
 */
export const isGgufPath = isLocalModelPath;

/** An existing directory given as --model runs on the engine (it explains what a model directory needs). */
export function isEngineModelDir(model: string): boolean {
  try {
    return statSync(model).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Picks the provider from the model argument: a directory runs on our engine, a GGUF path runs embedded
 * through node-llama-cpp, anything else goes to a server.
 */
export async function openTextGenerator(options: OpenGeneratorOptions): Promise<TextGenerator> {
  if (isLocalModelPath(options.model) && isEngineModelDir(options.model)) {
    // Loaded lazily so runs on other providers never load the engine and its kernels.
    const { openEngineGenerator } = await import('./engine-generator.js');
    return openEngineGenerator({
      modelDir: options.model,
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      ...(options.contextSize === undefined ? {} : { contextSize: options.contextSize }),
      ...(options.kernels ? { kernels: options.kernels } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
  }
  if (isLocalModelPath(options.model)) {
    if (!/\.gguf$/i.test(options.model) && !hasGgufMagic(options.model)) {
      throw new Error(`--model ${options.model} is not a model: --model takes ${MODEL_KINDS}`);
    }
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
    const looksLocal = /^(\.{0,2}\/|~|[A-Za-z]:\\)/.test(options.model);
    throw new Error(
      looksLocal
        ? `--model ${options.model} does not exist: --model takes ${MODEL_KINDS}`
        : `--base-url is required (or set OPENAI_BASE_URL) when --model is a served model name: ${options.model} ` +
            `(--model takes ${MODEL_KINDS})`,
    );
  }
  return createOpenAICompatibleGenerator({
    model: options.model,
    baseUrl: options.baseUrl,
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    ...(options.api ? { api: options.api } : {}),
    maxConnections: Math.max(16, options.concurrency ?? 16),
  });
}

/** Whether a file without the .gguf extension still is one (llama.cpp names files freely). */
function hasGgufMagic(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const magic = Buffer.alloc(4);
    return readSync(fd, magic, 0, 4, 0) === 4 && magic.toString('latin1') === 'GGUF';
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
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

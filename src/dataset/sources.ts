import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { ChatMessage } from '../models/types.js';
import { listShards } from './shards.js';

/**
 * One training document. `prompt` is input only: its tokens are fed to the model but masked from the loss
 * (chat-formatted data trains on the response); `text` is trained on.
 */
export interface Doc {
  text: string;
  prompt?: string;
}

/** A line or file that was skipped, with where it was (file and 1-based line) and why. */
export interface SourceIssue {
  source: string;
  line?: number;
  reason: string;
}

/** What the last pass over a source read. Reset at the start of every iteration. */
export interface SourceSummary {
  files: number;
  documents: number;
  skipped: number;
  /** The first `maxStoredIssues` skipped items; `skipped` counts all. */
  issues: SourceIssue[];
}

/** An async iterable of documents that also reports what it skipped. Can be iterated more than once. */
export interface DocSource extends AsyncIterable<Doc> {
  readonly name: string;
  readonly kind: 'study' | 'jsonl' | 'text';
  readonly summary: SourceSummary;
}

export interface SourceOptions {
  /** Called for every skipped line or file as it is found. */
  onIssue?: (issue: SourceIssue) => void;
  /** How many issues `summary.issues` keeps (default 1000); `summary.skipped` counts them all. */
  maxStoredIssues?: number;
  /** Display name of the source (default: the file or directory name). */
  name?: string;
}

export interface StudyRunSourceOptions extends SourceOptions {
  /** 'response' (default): the generated document only. 'chat': prompt = rendered request, text = response. */
  include?: 'response' | 'chat';
  /** Only records of these methods (default: all). */
  methods?: readonly string[];
}

export interface TextFileSourceOptions extends SourceOptions {
  /** 'blank-line' (default): documents are separated by blank lines. 'file': the whole file is one document. */
  split?: 'blank-line' | 'file';
}

const ROLE_LABEL: Record<string, string> = { system: 'System', user: 'User', assistant: 'Assistant' };

/**
 * Renders chat messages as plain text, ending with the cue for the assistant's reply, e.g.
 * `User: question\n\nAssistant: `. The reply (the document's `text`) follows directly.
 */
export function renderChatPrompt(messages: readonly ChatMessage[]): string {
  const parts = messages.map((m) => `${ROLE_LABEL[m.role] ?? m.role}: ${m.content}`);
  parts.push('Assistant: ');
  return parts.join('\n\n');
}

function emptySourceSummary(): SourceSummary {
  return { files: 0, documents: 0, skipped: 0, issues: [] };
}

class Reporter {
  constructor(
    private readonly summary: SourceSummary,
    private readonly options: SourceOptions,
  ) {}

  skip(source: string, line: number | undefined, reason: string): void {
    this.summary.skipped++;
    const issue: SourceIssue = line === undefined ? { source, reason } : { source, line, reason };
    if (this.summary.issues.length < (this.options.maxStoredIssues ?? 1000)) this.summary.issues.push(issue);
    this.options.onIssue?.(issue);
  }
}

function makeSource(
  name: string,
  kind: DocSource['kind'],
  options: SourceOptions,
  generate: (summary: SourceSummary, report: Reporter) => AsyncGenerator<Doc>,
): DocSource {
  const summary = emptySourceSummary();
  return {
    name: options.name ?? name,
    kind,
    summary,
    [Symbol.asyncIterator](): AsyncIterator<Doc> {
      Object.assign(summary, emptySourceSummary());
      return generate(summary, new Reporter(summary, options));
    },
  };
}

interface Line {
  text: string;
  /** 1-based line number. */
  line: number;
  /** False for a last line with no newline after it (a torn append, or a file without a final newline). */
  complete: boolean;
}

/** Streams the lines of a file (utf-8, `\r\n` or `\n`) without holding the file in memory. */
async function* readLines(file: string): AsyncGenerator<Line> {
  const stream = createReadStream(file, { highWaterMark: 1024 * 1024 });
  let carry: Buffer = Buffer.alloc(0);
  let line = 0;
  for await (const piece of stream as AsyncIterable<Buffer>) {
    const data = carry.length ? Buffer.concat([carry, piece]) : piece;
    let start = 0;
    for (let nl = data.indexOf(0x0a, start); nl >= 0; nl = data.indexOf(0x0a, start)) {
      line++;
      const end = nl > start && data[nl - 1] === 0x0d ? nl - 1 : nl;
      yield { text: data.toString('utf8', start, end), line, complete: true };
      start = nl + 1;
    }
    carry = Buffer.from(data.subarray(start));
  }
  if (carry.length > 0) {
    line++;
    yield { text: carry.toString('utf8'), line, complete: false };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseLine(text: string): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return { error: `not valid JSON (${(error as Error).message})` };
  }
}

function asMessages(value: unknown): ChatMessage[] | string {
  if (!Array.isArray(value) || value.length === 0) return '`messages` is not a non-empty array';
  for (const [i, m] of value.entries()) {
    if (!isObject(m) || typeof m.role !== 'string' || typeof m.content !== 'string') {
      return `messages[${i}] is not {role, content}`;
    }
  }
  return value as ChatMessage[];
}

/** Resolves the study directory of a run directory (RUN_DIR/study), or the directory itself if it holds shards. */
export async function studyDirOf(runDir: string): Promise<string | undefined> {
  const nested = path.join(runDir, 'study');
  if ((await listShards(nested)).length > 0) return nested;
  if ((await listShards(runDir)).length > 0) return runDir;
  const stat = await fs.stat(nested).catch(() => undefined);
  return stat?.isDirectory() ? nested : undefined;
}

/**
 * The study records of a run directory (RUN_DIR/study/shard-*.jsonl, in shard order). 'response' yields the
 * generated document (`response.text`) — what Active Reading trains on; 'chat' yields prompt = the request
 * rendered as plain text and text = the response. Bad lines are skipped and reported as file:line; a torn last
 * line of a shard (a study still writing, or killed mid-append) is ignored as the shard writer itself does.
 */
export function studyRunSource(runDir: string, options: StudyRunSourceOptions = {}): DocSource {
  const include = options.include ?? 'response';
  if (include !== 'response' && include !== 'chat') {
    throw new Error(`studyRunSource: include must be 'response' or 'chat', got ${String(include)}`);
  }
  const methods = options.methods ? new Set(options.methods) : undefined;
  return makeSource(path.basename(path.resolve(runDir)), 'study', options, async function* (summary, report) {
    const dir = await studyDirOf(runDir);
    if (!dir) throw new Error(`${runDir}: not a run directory (no study/ shards)`);
    for (const file of await listShards(dir)) {
      summary.files++;
      for await (const { text, line, complete } of readLines(file)) {
        if (text.trim().length === 0) continue;
        const parsed = parseLine(text);
        if ('error' in parsed) {
          if (!complete) continue; // torn last line
          report.skip(file, line, parsed.error);
          continue;
        }
        const record = parsed.value;
        if (!isObject(record) || !isObject(record.response) || typeof record.response.text !== 'string') {
          report.skip(file, line, 'not a study record (no response.text)');
          continue;
        }
        const metadata = isObject(record.metadata) ? record.metadata : {};
        if (methods && !methods.has(String(metadata.method))) continue;
        const response = record.response.text;
        if (response.trim().length === 0) {
          report.skip(file, line, 'empty response.text');
          continue;
        }
        if (include === 'response') {
          summary.documents++;
          yield { text: response };
          continue;
        }
        const request = isObject(record.request) ? record.request : {};
        const messages = asMessages(request.messages);
        if (typeof messages === 'string') {
          report.skip(file, line, `request: ${messages}`);
          continue;
        }
        summary.documents++;
        yield { prompt: renderChatPrompt(messages), text: response };
      }
    }
  });
}

/**
 * A JSONL file of documents: each line is `{"text": ..., "prompt"?: ...}`, a chat `{"messages": [...]}` whose
 * last message is the assistant's (the others become the prompt), or a study record (`response.text`).
 * Bad lines are skipped and reported as file:line.
 */
export function jsonlSource(file: string, options: SourceOptions = {}): DocSource {
  return makeSource(path.basename(file), 'jsonl', options, async function* (summary, report) {
    summary.files++;
    for await (const { text, line } of readLines(file)) {
      if (text.trim().length === 0) continue;
      const parsed = parseLine(text);
      if ('error' in parsed) {
        report.skip(file, line, parsed.error);
        continue;
      }
      const value = parsed.value;
      if (!isObject(value)) {
        report.skip(file, line, 'not a JSON object');
        continue;
      }
      let doc: Doc | string;
      if ('text' in value) {
        if (typeof value.text !== 'string') doc = '`text` is not a string';
        else if (value.prompt !== undefined && typeof value.prompt !== 'string')
          doc = '`prompt` is not a string';
        else
          doc =
            typeof value.prompt === 'string'
              ? { prompt: value.prompt, text: value.text }
              : { text: value.text };
      } else if ('messages' in value) {
        const messages = asMessages(value.messages);
        const last = typeof messages === 'string' ? undefined : messages.at(-1);
        if (typeof messages === 'string') doc = messages;
        else if (last?.role !== 'assistant') doc = 'the last message is not the assistant’s';
        else doc = { prompt: renderChatPrompt(messages.slice(0, -1)), text: last.content };
      } else if (isObject(value.response) && typeof value.response.text === 'string') {
        doc = { text: value.response.text };
      } else {
        doc = 'no `text`, `messages` or `response.text`';
      }
      if (typeof doc === 'string') {
        report.skip(file, line, doc);
        continue;
      }
      if (doc.text.trim().length === 0) {
        report.skip(file, line, 'empty text');
        continue;
      }
      summary.documents++;
      yield doc;
    }
  });
}

/**
 * A plain-text (.txt/.md) file: documents separated by one or more blank lines (default), or the whole file as
 * one document. Streams the file; a document is held in memory only until its closing blank line.
 */
export function textFileSource(file: string, options: TextFileSourceOptions = {}): DocSource {
  const split = options.split ?? 'blank-line';
  return makeSource(path.basename(file), 'text', options, async function* (summary, report) {
    summary.files++;
    if (split === 'file') {
      const text = (await fs.readFile(file, 'utf8')).replace(/\r\n/g, '\n').trim();
      if (text.length === 0) report.skip(file, undefined, 'empty file');
      else {
        summary.documents++;
        yield { text };
      }
      return;
    }
    let lines: string[] = [];
    for await (const { text } of readLines(file)) {
      if (text.trim().length > 0) {
        lines.push(text);
        continue;
      }
      if (lines.length > 0) {
        summary.documents++;
        yield { text: lines.join('\n') };
        lines = [];
      }
    }
    if (lines.length > 0) {
      summary.documents++;
      yield { text: lines.join('\n') };
    } else if (summary.documents === 0) report.skip(file, undefined, 'empty file');
  });
}

export interface OpenSourceOptions extends SourceOptions {
  /** For a run directory. */
  include?: 'response' | 'chat';
  methods?: readonly string[];
  /** For a text file. */
  split?: 'blank-line' | 'file';
}

/**
 * Opens a `--data` argument: a run directory (has study/ shards), a .jsonl file, or a .txt/.md file.
 * Throws a clear error for anything else.
 */
export async function openSource(target: string, options: OpenSourceOptions = {}): Promise<DocSource> {
  const stat = await fs.stat(target).catch((error: NodeJS.ErrnoException) => {
    throw new Error(
      error.code === 'ENOENT' ? `${target}: no such file or directory` : `${target}: ${error.message}`,
    );
  });
  if (stat.isDirectory()) {
    if (!(await studyDirOf(target))) {
      throw new Error(`${target}: a directory given as data must be a run directory (with study/ shards)`);
    }
    return studyRunSource(target, options);
  }
  const ext = path.extname(target).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return jsonlSource(target, options);
  if (ext === '.txt' || ext === '.md' || ext === '.markdown' || ext === '.text')
    return textFileSource(target, options);
  throw new Error(`${target}: unsupported data file (expected a run directory, .jsonl, .txt or .md)`);
}

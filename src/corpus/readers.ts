import { open, readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { htmlToDocument } from './html.js';
import { documentId } from './ids.js';
import { describeReadError, type ReportIssue } from './issues.js';
import { readLines } from './lines.js';
import { fileTitle, normalizeText, oneLine } from './text.js';
import type { SourceDocument } from './types.js';

/** File extensions (lower case) that have a reader; every other file is skipped with an issue. */
export const SUPPORTED_EXTENSIONS: readonly string[] = [
  '.txt',
  '.md',
  '.markdown',
  '.html',
  '.htm',
  '.jsonl',
];

/** A document with where it was read: `line` (1-based) for JSONL documents. */
export interface FileDocument {
  document: SourceDocument;
  file: string;
  line?: number;
}

/** How many leading bytes are searched for a NUL byte to recognise a binary file. */
const BINARY_PROBE_BYTES = 8192;
const BINARY_REASON = 'binary file (NUL byte in the first 8 KB)';

/**
 * Reads the documents of one file by extension: one document for txt/md/html, one per line for JSONL
 * (streamed). Never throws for bad content or unreadable files: each problem goes to `report` and the
 * file (or JSONL line) is skipped.
 */
export async function* readFileDocuments(file: string, report: ReportIssue): AsyncGenerator<FileDocument> {
  const ext = extname(file).toLowerCase();
  if (ext === '.jsonl') {
    yield* readJsonl(file, report);
    return;
  }
  if (!SUPPORTED_EXTENSIONS.includes(ext)) {
    report({
      source: file,
      reason: ext ? `unsupported file type ${ext}` : 'unsupported file type (no extension)',
    });
    return;
  }
  const raw = await readTextFile(file, report);
  if (raw === undefined) return;
  const parsed =
    ext === '.html' || ext === '.htm' ? parseHtml(raw, file) : parseText(raw, file, ext !== '.txt');
  if (typeof parsed === 'string') {
    report({ source: file, reason: parsed });
    return;
  }
  const document: SourceDocument = { id: documentId(parsed.title, parsed.text), ...parsed, source: file };
  yield { document, file };
}

/** Whole-file UTF-8 text, or undefined after reporting why it cannot be used. */
async function readTextFile(file: string, report: ReportIssue): Promise<string | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    report({ source: file, reason: await describeReadError(file, err) });
    return undefined;
  }
  const problem =
    checkBytes(bytes.subarray(0, BINARY_PROBE_BYTES)) ?? (bytes.length === 0 ? 'empty file' : undefined);
  if (problem) {
    report({ source: file, reason: problem });
    return undefined;
  }
  const text = decodeUtf8(bytes);
  if (text === undefined) {
    report({ source: file, reason: 'invalid UTF-8 (not a UTF-8 text file)' });
    return undefined;
  }
  if (!text.trim()) {
    report({ source: file, reason: 'empty file (whitespace only)' });
    return undefined;
  }
  return text;
}

function checkBytes(head: Buffer): string | undefined {
  return head.includes(0) ? BINARY_REASON : undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

type Parsed = { title: string; text: string } | string;

/** txt: title = file name. md: title = a leading `# heading` (removed from the text), else file name. */
function parseText(raw: string, file: string, markdown: boolean): Parsed {
  let text = normalizeText(raw);
  let title = fileTitle(file);
  const heading = markdown ? /^#[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*(?:\n|$)/.exec(text) : null;
  if (heading && oneLine(heading[1] ?? '')) {
    title = oneLine(heading[1] ?? '');
    text = text.slice(heading[0].length).trim();
    if (!text) return `no text besides the title heading "${title}"`;
  }
  return { title, text };
}

function parseHtml(raw: string, file: string): Parsed {
  const { title, text } = htmlToDocument(raw);
  if (!text) return 'no readable text in the HTML';
  return { title: title ?? fileTitle(file), text };
}

/**
 * JSONL: one JSON object per line with `text` (required, non-empty string), optional `title` and `id`
 * (a string or number; stringified). Without `id` the id is the content hash; without `title` the title
 * is empty (chunks then carry no title line). Blank lines are ignored; each bad line is reported with its
 * 1-based line number and skipped.
 */
async function* readJsonl(file: string, report: ReportIssue): AsyncGenerator<FileDocument> {
  let head: Buffer;
  try {
    head = await readHead(file, BINARY_PROBE_BYTES);
  } catch (err) {
    report({ source: file, reason: await describeReadError(file, err) });
    return;
  }
  const problem = checkBytes(head);
  if (problem) {
    report({ source: file, reason: problem });
    return;
  }
  let line = 0;
  let sawContent = false;
  try {
    for await (const bytes of readLines(file)) {
      line++;
      const decoded = decodeUtf8(bytes);
      if (decoded === undefined) {
        sawContent = true;
        report({ source: file, line, reason: 'invalid UTF-8' });
        continue;
      }
      const trimmed = decoded.trim();
      if (!trimmed) continue;
      sawContent = true;
      const parsed = parseJsonlRecord(trimmed);
      if (typeof parsed === 'string') {
        report({ source: file, line, reason: parsed });
        continue;
      }
      const id = parsed.id ?? documentId(parsed.title, parsed.text);
      yield {
        document: { id, title: parsed.title, text: parsed.text, source: `${file}:${line}` },
        file,
        line,
      };
    }
  } catch (err) {
    report({
      source: file,
      line: line + 1,
      reason: `${await describeReadError(file, err)} (reading stopped)`,
    });
    return;
  }
  if (!sawContent)
    report({ source: file, reason: head.length === 0 ? 'empty file' : 'empty file (whitespace only)' });
}

async function readHead(file: string, size: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(size);
    const { bytesRead } = await handle.read(buffer, 0, size, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The fields of one JSONL record, or the reason it is rejected. */
function parseJsonlRecord(json: string): { id: string | undefined; title: string; text: string } | string {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    return `invalid JSON: ${(err as Error).message}`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `not a JSON object (got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value})`;
  }
  const record = value as Record<string, unknown>;
  if (!('text' in record)) return 'missing "text" field';
  if (typeof record.text !== 'string') return `"text" is not a string (got ${typeName(record.text)})`;
  const text = normalizeText(record.text);
  if (!text) return '"text" is empty';
  let id: string | undefined;
  if (typeof record.id === 'string' && record.id.trim()) id = record.id;
  else if (typeof record.id === 'number' && Number.isFinite(record.id)) id = String(record.id);
  else if (record.id !== undefined && record.id !== null && record.id !== '') {
    return `"id" must be a non-empty string or a number (got ${typeName(record.id)})`;
  }
  const title =
    typeof record.title === 'string'
      ? oneLine(record.title)
      : typeof record.title === 'number'
        ? String(record.title)
        : '';
  return { id, title, text };
}

function typeName(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}

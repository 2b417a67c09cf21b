import { chmod, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingestCorpus, readCorpus, readFileDocuments, type IngestIssue } from '../../src/corpus/index.js';
import { ingestAll, jsonl, readAll, tempDir, wordCounter, writeFiles } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const isRoot = process.getuid?.() === 0;

describe('walking a folder', () => {
  it('reads files recursively in sorted order, skipping hidden files and folders', async () => {
    await writeFiles(dir, {
      'b.txt': 'B',
      'a.txt': 'A',
      'Z.txt': 'Z upper case sorts first',
      'sub/c.md': 'C',
      'sub/deeper/d.txt': 'D',
      'sub.txt': 'after the sub folder? no: "sub" < "sub.txt"',
      '.hidden.txt': 'hidden',
      '.git/config.txt': 'hidden folder',
      'sub/.secret/e.txt': 'hidden folder',
    });
    const { docs, issues, summary } = await readAll(dir);
    expect(issues).toEqual([]);
    expect(docs.map((d) => d.source.slice(dir.length + 1))).toEqual([
      'Z.txt',
      'a.txt',
      'b.txt',
      join('sub', 'c.md'),
      join('sub', 'deeper', 'd.txt'),
      'sub.txt',
    ]);
    expect(summary).toMatchObject({ files: 6, documents: 6, skipped: 0 });
  });

  it('accepts a single file, even a hidden one named explicitly', async () => {
    await writeFiles(dir, { '.only.md': '# Named\n\nText.' });
    const { docs } = await readAll(join(dir, '.only.md'));
    expect(docs.map((d) => d.title)).toEqual(['Named']);
  });

  it('throws, naming the path, when the corpus path does not exist', async () => {
    const missing = join(dir, 'no-such-folder');
    await expect(readAll(missing)).rejects.toThrow(missing);
    const { chunks } = ingestCorpus(missing, { counter: wordCounter });
    await expect(chunks.next()).rejects.toThrow(`Corpus path does not exist: ${missing}`);
  });

  it('follows symbolic links to folders but not around a cycle', async () => {
    await writeFiles(dir, { 'real/a.txt': 'A', 'other/b.txt': 'B' });
    await symlink(join(dir, 'other'), join(dir, 'real', 'link-to-other'));
    await symlink(join(dir, 'real'), join(dir, 'real', 'loop'));
    const { docs, issues } = await readAll(join(dir, 'real'));
    expect(docs.map((d) => d.text)).toEqual(['A', 'B']);
    expect(issues).toEqual([
      { source: join(dir, 'real', 'loop'), reason: 'symbolic link cycle: directory already being read' },
    ]);
  });
});

describe('bad input never stops the rest', () => {
  it('reports each bad file or line exactly once, with file and line, and keeps the good documents', async () => {
    await writeFiles(dir, {
      '01-good.txt': 'A good document.',
      '02-empty.txt': '',
      '03-blank.md': '  \n\t\n  ',
      '04-binary.txt': Buffer.from([0x48, 0x69, 0x00, 0x01, 0x02]),
      '05-latin1.txt': Buffer.from('caf\xe9 au lait', 'latin1'),
      '06-report.pdf': '%PDF-1.4',
      '07-docs.jsonl': [
        JSON.stringify({ id: 'j1', text: 'First line document.' }),
        '',
        '{"text": "broken',
        '["not", "an", "object"]',
        JSON.stringify({ title: 'no text' }),
        JSON.stringify({ text: '   ' }),
        JSON.stringify({ text: 42 }),
        JSON.stringify({ id: 'j1', text: 'Reuses the id j1.' }),
        JSON.stringify({ id: 'j2', text: 'Last line document.' }),
        '',
      ].join('\n'),
      '08-empty.jsonl': '\n  \n',
      '09-binary.jsonl': Buffer.concat([Buffer.from('{"text":"x"}\n'), Buffer.from([0])]),
      'dup-a/same.txt': 'Same content.',
      'dup-b/same.txt': 'Same content.',
      'x-no-extension': 'text',
    });
    await writeFile(
      join(dir, '07b-utf8.jsonl'),
      Buffer.concat([
        Buffer.from('{"text":"ok before"}\n{"text":"bad '),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}\n{"text":"ok after"}\n'),
      ]),
    );
    await symlink(join(dir, 'nowhere.txt'), join(dir, '10-broken-link.txt'));

    const { chunks, issues, summary } = await ingestAll(dir, { counter: wordCounter, maxTokens: 64 });
    const f = (name: string) => join(dir, name);
    const rel = (issue: IngestIssue) => ({ ...issue, source: issue.source.slice(dir.length + 1) });

    expect(issues.map(rel)).toEqual([
      { source: '02-empty.txt', reason: 'empty file' },
      { source: '03-blank.md', reason: 'empty file (whitespace only)' },
      { source: '04-binary.txt', reason: 'binary file (NUL byte in the first 8 KB)' },
      { source: '05-latin1.txt', reason: 'invalid UTF-8 (not a UTF-8 text file)' },
      { source: '06-report.pdf', reason: 'unsupported file type .pdf' },
      { source: '07-docs.jsonl', line: 3, reason: expect.stringMatching(/^invalid JSON: /) },
      { source: '07-docs.jsonl', line: 4, reason: 'not a JSON object (got an array)' },
      { source: '07-docs.jsonl', line: 5, reason: 'missing "text" field' },
      { source: '07-docs.jsonl', line: 6, reason: '"text" is empty' },
      { source: '07-docs.jsonl', line: 7, reason: '"text" is not a string (got number)' },
      { source: '07-docs.jsonl', line: 8, reason: `duplicate of document j1 from ${f('07-docs.jsonl')}:1` },
      { source: '07b-utf8.jsonl', line: 2, reason: 'invalid UTF-8' },
      { source: '08-empty.jsonl', reason: 'empty file (whitespace only)' },
      { source: '09-binary.jsonl', reason: 'binary file (NUL byte in the first 8 KB)' },
      {
        source: '10-broken-link.txt',
        reason: 'cannot read: broken symbolic link (its target does not exist)',
      },
      {
        source: join('dup-b', 'same.txt'),
        reason: expect.stringMatching(
          new RegExp(`^duplicate of document [0-9a-f]{16} from ${f(join('dup-a', 'same.txt'))}$`),
        ),
      },
      { source: 'x-no-extension', reason: 'unsupported file type (no extension)' },
    ]);
    expect(chunks.map((c) => c.text.split('\n').pop())).toEqual([
      'A good document.',
      'First line document.',
      'Last line document.',
      'ok before',
      'ok after',
      'Same content.',
    ]);
    expect(summary).toEqual({ files: 14, documents: 6, chunks: 6, skipped: issues.length, issues });
  });

  it.skipIf(isRoot)('reports a file without read permission (EACCES)', async () => {
    await writeFiles(dir, { 'locked.txt': 'secret', 'open.txt': 'visible' });
    await chmod(join(dir, 'locked.txt'), 0o000);
    const { docs, issues } = await readAll(dir);
    expect(docs.map((d) => d.text)).toEqual(['visible']);
    expect(issues).toEqual([{ source: join(dir, 'locked.txt'), reason: 'cannot read: permission denied' }]);
  });

  it.skipIf(isRoot)('reports a folder without read permission and walks the rest', async () => {
    await writeFiles(dir, { 'locked/a.txt': 'hidden', 'z.txt': 'visible' });
    await chmod(join(dir, 'locked'), 0o000);
    try {
      const { docs, issues } = await readAll(dir);
      expect(docs.map((d) => d.text)).toEqual(['visible']);
      expect(issues).toEqual([
        { source: join(dir, 'locked'), reason: 'cannot read directory: permission denied' },
      ]);
    } finally {
      await chmod(join(dir, 'locked'), 0o755);
    }
  });

  it('stores at most maxStoredIssues issues but counts and forwards them all', async () => {
    await writeFiles(dir, { 'bad.jsonl': Array.from({ length: 7 }, () => 'not json').join('\n') });
    const seen: IngestIssue[] = [];
    const { documents, summary } = readCorpus(dir, { maxStoredIssues: 3, onIssue: (i) => seen.push(i) });
    for await (const _ of documents) expect.unreachable();
    expect(summary.skipped).toBe(7);
    expect(summary.issues.map((i) => i.line)).toEqual([1, 2, 3]);
    expect(seen.map((i) => i.line)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('streaming', () => {
  it('reads a JSONL file lazily, one document at a time, with a live summary', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => ({ id: i, text: `Document number ${i}.` }));
    await writeFiles(dir, { 'big.jsonl': jsonl(lines) });
    const { chunks, summary } = ingestCorpus(dir, { counter: wordCounter });
    const first = await chunks.next();
    expect(first.value).toMatchObject({ doc_id: '0', text: 'Document number 0.' });
    expect(summary).toMatchObject({ files: 1, documents: 1, chunks: 1 });
    let count = 1;
    for await (const chunk of chunks) {
      expect(chunk.doc_id).toBe(String(count++));
    }
    expect(summary).toMatchObject({ files: 1, documents: 20_000, chunks: 20_000, skipped: 0 });
  });

  it('stops early without error when the consumer breaks out of the loop', async () => {
    await writeFiles(dir, { 'a.jsonl': jsonl([{ text: 'one' }, { text: 'two' }, { text: 'three' }]) });
    const { chunks, summary } = ingestCorpus(dir, { counter: wordCounter });
    for await (const chunk of chunks) {
      expect(chunk.text).toBe('one');
      break;
    }
    expect(summary.documents).toBe(1);
    expect(await chunks.next()).toEqual({ done: true, value: undefined });
  });

  it('chunks every document with the title line and per-document indices', async () => {
    const long = Array.from({ length: 50 }, (_, i) => `Sentence ${i} is here.`).join(' ');
    await writeFiles(dir, { 'a.md': `# Long one\n\n${long}`, 'b.txt': 'Short one.' });
    const { chunks, summary } = await ingestAll(dir, { counter: wordCounter, maxTokens: 40 });
    const a = chunks.filter((c) => c.title === 'Long one');
    expect(a.length).toBeGreaterThan(3);
    expect(a.map((c) => c.chunk_index)).toEqual(a.map((_, i) => i));
    for (const c of a) {
      expect(c.total_chunks).toBe(a.length);
      expect(c.tokens).toBeLessThanOrEqual(40);
      expect(c.text).toMatch(/^Long one\nSentence \d+ is here\..*\.$/s);
    }
    expect(chunks.at(-1)).toMatchObject({
      title: 'b',
      text: 'b\nShort one.',
      chunk_index: 0,
      total_chunks: 1,
    });
    expect(summary).toMatchObject({ files: 2, documents: 2, chunks: chunks.length });
  });

  it('rejects a bad maxTokens before reading anything', () => {
    expect(() => ingestCorpus(dir, { maxTokens: -5 })).toThrow(RangeError);
  });
});

describe('a file that disappears between listing and reading', () => {
  it('is reported as not found by its reader, for plain and JSONL files alike', async () => {
    const issues: IngestIssue[] = [];
    for (const name of ['gone.txt', 'gone.jsonl']) {
      for await (const _ of readFileDocuments(join(dir, name), (i) => issues.push(i))) expect.unreachable();
    }
    expect(issues).toEqual([
      { source: join(dir, 'gone.txt'), reason: 'cannot read: file not found' },
      { source: join(dir, 'gone.jsonl'), reason: 'cannot read: file not found' },
    ]);
  });
});

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { documentId, htmlToDocument, normalizeText } from '../../src/corpus/index.js';
import { jsonl, readAll, tempDir, writeFiles } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

describe('txt and markdown readers', () => {
  it('reads a txt file with the file name as title and normalised text', async () => {
    await writeFiles(dir, {
      'notes.txt': '# Not a title in txt\r\n\r\nLine one.   \r\n\r\n\r\n\r\nLine two.\r\n',
    });
    const { docs, issues } = await readAll(join(dir, 'notes.txt'));
    expect(issues).toEqual([]);
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({
      title: 'notes',
      text: '# Not a title in txt\n\nLine one.\n\nLine two.',
      source: join(dir, 'notes.txt'),
    });
  });

  it('takes a markdown title from a leading # heading and removes it from the text', async () => {
    await writeFiles(dir, {
      'a.md': '\n#   The  Title  #\n\nBody paragraph.\n\n## Section\n\nMore.\n',
      'b.markdown': 'Intro first.\n\n# Late heading\n\nText.',
    });
    const { docs } = await readAll(dir);
    expect(docs.map((d) => [d.title, d.text])).toEqual([
      ['The Title', 'Body paragraph.\n\n## Section\n\nMore.'],
      ['b', 'Intro first.\n\n# Late heading\n\nText.'],
    ]);
  });
});

describe('html reader', () => {
  const page = `<!DOCTYPE html><html><head><title>Caf&eacute; &amp; Bar</title>
    <style>p { color: red }</style><script>document.write("<h1>evil</h1>")</script></head>
    <body><nav><a href="/home">Home</a> <a href="/about">About</a></nav>
    <p>First &lt;paragraph&gt; with a <a href="https://example.com/secret-url">link</a> &copy; 2024.</p>
    <p>Second <img src="/images/photo.png" alt="a photo"> paragraph.</p>
    <script>var tracking = "track-me";</script></body></html>`;

  it('strips markup, scripts, styles and nav, decodes entities, keeps paragraphs apart', async () => {
    await writeFiles(dir, { 'page.html': page });
    const { docs, issues } = await readAll(dir);
    expect(issues).toEqual([]);
    expect(docs).toHaveLength(1);
    const doc = docs[0]!;
    expect(doc.title).toBe('Café & Bar');
    expect(doc.text).toBe('First <paragraph> with a link © 2024.\n\nSecond paragraph.');
    for (const absent of ['color', 'track-me', 'evil', 'Home', 'About', 'example.com', 'photo.png', '<p>']) {
      expect(doc.text).not.toContain(absent);
    }
  });

  it('falls back to the first <h1> for the title (not repeated in the text), then the file name', async () => {
    expect(htmlToDocument('<body><h1>Big <em>News</em></h1><p>Story.</p><h1>Other</h1></body>')).toEqual({
      title: 'Big News',
      text: 'Story.\n\nOther',
    });
    await writeFiles(dir, { 'plain.htm': '<div>Just <b>text</b>.</div>' });
    const { docs } = await readAll(dir);
    expect(docs[0]).toMatchObject({ title: 'plain', text: 'Just text.' });
  });
});

describe('jsonl reader', () => {
  it('reads one document per line, with and without id and title', async () => {
    await writeFiles(dir, {
      'docs.jsonl': jsonl([
        { id: 'doc-a', title: 'Alpha', text: 'Alpha text.' },
        { id: 42, text: 'Numbered text.' },
        { title: 'Gamma', text: 'Gamma text.' },
        { text: 'Untitled text.' },
      ]),
    });
    const { docs, issues } = await readAll(dir);
    const file = join(dir, 'docs.jsonl');
    expect(issues).toEqual([]);
    expect(docs).toEqual([
      { id: 'doc-a', title: 'Alpha', text: 'Alpha text.', source: `${file}:1` },
      { id: '42', title: '', text: 'Numbered text.', source: `${file}:2` },
      { id: documentId('Gamma', 'Gamma text.'), title: 'Gamma', text: 'Gamma text.', source: `${file}:3` },
      { id: documentId('', 'Untitled text.'), title: '', text: 'Untitled text.', source: `${file}:4` },
    ]);
  });

  it('handles CRLF line endings, a BOM and blank lines, and a last line without newline', async () => {
    await writeFiles(dir, { 'x.jsonl': '\uFEFF{"text":"one"}\r\n\r\n   \r\n{"text":"two\\r\\nlines"}' });
    const { docs, issues } = await readAll(dir);
    expect(issues).toEqual([]);
    expect(docs.map((d) => [d.text, d.source.split(':').pop()])).toEqual([
      ['one', '1'],
      ['two\nlines', '4'],
    ]);
  });
});

describe('stable ids', () => {
  it('is the first 16 hex chars of sha256(title + "\\n" + text)', () => {
    const expected = createHash('sha256').update('Title\nSome text.').digest('hex').slice(0, 16);
    expect(documentId('Title', 'Some text.')).toBe(expected);
    // Pinned value: must not change across machines or versions.
    expect(documentId('Title', 'Some text.')).toBe('5ccff067cb0b03e0');
    expect(documentId('Title', 'Other text.')).not.toBe(expected);
  });

  it('gives the same ids in two separate ingests of two copies, whatever the line endings', async () => {
    const files = {
      'a.txt': 'Hello world.\n',
      'b.md': '# B\n\nBody of b.\n',
      'c.html': '<title>C</title><p>Body of c.</p>',
      'd.jsonl': jsonl([{ title: 'D', text: 'Body of d.' }]),
    };
    await writeFiles(join(dir, 'one'), files);
    await writeFiles(
      join(dir, 'two'),
      Object.fromEntries(Object.entries(files).map(([k, v]) => [k, v.replace(/\n/g, '\r\n')])),
    );
    const first = await readAll(join(dir, 'one'));
    const again = await readAll(join(dir, 'one'));
    const copy = await readAll(join(dir, 'two'));
    const ids = first.docs.map((d) => d.id);
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(4);
    expect(again.docs.map((d) => d.id)).toEqual(ids);
    expect(copy.docs.map((d) => d.id)).toEqual(ids);
    expect(ids[0]).toBe(documentId('a', 'Hello world.'));
  });
});

describe('normalizeText', () => {
  it('converts CRLF, trims trailing spaces, collapses 3+ newlines, and is idempotent', () => {
    const once = normalizeText('\uFEFF  a  \r\nb\t\r\n\r\n\r\n\r\nc \rd\n\n\n');
    expect(once).toBe('a\nb\n\nc\nd');
    expect(normalizeText(once)).toBe(once);
  });
});

import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tiktokenCounter } from '../../src/models/tiktoken-counter.js';
import { documentId, normalizeText } from '../../src/corpus/index.js';
import { ingestAll, tempDir } from './helpers.js';

// Real third-party material: the official SQuAD v1.1 dev set (48 Wikipedia articles in two JSON files).
const dataDir = resolve(process.cwd(), '../shared/data');
const squadDir = join(dataDir, 'squad_v1.1_dev');
const available = existsSync(squadDir);
if (!available) console.warn('../shared/data not found: skipping real-material test');

interface SquadFile {
  version: string;
  data: { title: string; paragraphs: { context: string }[] }[];
}

describe.skipIf(!available)('real material: SQuAD v1.1 dev articles', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const articles: { title: string; text: string }[] = [];

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    for (const name of (await readdir(squadDir)).filter((n) => n.endsWith('.json')).sort()) {
      const squad = JSON.parse(await readFile(join(squadDir, name), 'utf8')) as SquadFile;
      for (const article of squad.data) {
        articles.push({
          title: article.title.replace(/_/g, ' '),
          text: article.paragraphs.map((p) => p.context).join('\n\n'),
        });
      }
    }
    await writeFile(join(dir, 'squad.jsonl'), articles.map((a) => JSON.stringify(a)).join('\n') + '\n');
  });
  afterAll(() => cleanup?.());

  it('ingests all 48 articles with unique ids and every chunk within maxTokens', async () => {
    expect(articles).toHaveLength(48);
    const counter = tiktokenCounter();
    const maxTokens = 256;
    const { chunks, issues, summary } = await ingestAll(dir, { maxTokens, counter });

    expect(issues).toEqual([]);
    expect(summary).toMatchObject({ files: 1, documents: 48, skipped: 0, chunks: chunks.length });

    const byDoc = new Map<string, typeof chunks>();
    for (const chunk of chunks) byDoc.set(chunk.doc_id, [...(byDoc.get(chunk.doc_id) ?? []), chunk]);
    expect(byDoc.size).toBe(48);
    expect([...byDoc.keys()]).toEqual(articles.map((a) => documentId(a.title, normalizeText(a.text))));

    for (const chunk of chunks) {
      expect(chunk.tokens).toBeLessThanOrEqual(maxTokens);
      expect(chunk.tokens).toBe(counter.count(chunk.text));
    }
    [...byDoc.values()].forEach((docChunks, d) => {
      const article = articles[d]!;
      expect(docChunks.map((c) => c.chunk_index)).toEqual(docChunks.map((_, i) => i));
      for (const c of docChunks) {
        expect(c.total_chunks).toBe(docChunks.length);
        expect(c.text.startsWith(`${article.title}\n`)).toBe(true);
      }
      // No text lost or invented: the bodies put back together give the article (up to whitespace).
      const bodies = docChunks.map((c) => c.text.slice(article.title.length + 1)).join('');
      expect(bodies.replace(/\s+/g, '')).toBe(article.text.replace(/\s+/g, ''));
    });
    // Wikipedia paragraphs mostly fit the budget: most chunks should end at a sentence or paragraph end.
    const clean = chunks.filter((c) => /[.!?)"'\]]$/.test(c.text)).length;
    expect(clean / chunks.length).toBeGreaterThan(0.95);
  });
});

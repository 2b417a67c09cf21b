import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAICompatibleGenerator } from '../../src/models/openai-compatible.js';
import type { TextGenerator } from '../../src/models/types.js';
import { runStudy } from '../../src/study/run-study.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';
import { studyResponder } from '../helpers/study-responder.js';
import { readJsonl, readManifestFile, readRecords, tempDir } from '../helpers/study-fixtures.js';

// Real third-party material: the SQuAD v1.1 dev articles (Wikipedia), through the whole study stage.
const squadDir = path.resolve(process.cwd(), '../shared/data/squad_v1.1_dev');
const available = existsSync(squadDir);
if (!available) console.warn('../shared/data not found: skipping the real-material study test');

describe.skipIf(!available)('study over real Wikipedia articles (SQuAD v1.1 dev)', () => {
  let server: ScriptedServer;
  let generator: TextGenerator;
  let corpus: string;
  let titles: string[];

  beforeAll(async () => {
    server = await startScriptedServer({ respond: studyResponder, keepLog: false });
    generator = createOpenAICompatibleGenerator({ model: 'scripted', baseUrl: server.url });
    const dir = await tempDir();
    const lines: string[] = [];
    for (const name of (await readdir(squadDir)).filter((n) => n.endsWith('.json')).sort()) {
      const squad = JSON.parse(await readFile(path.join(squadDir, name), 'utf8')) as {
        data: { title: string; paragraphs: { context: string }[] }[];
      };
      for (const article of squad.data) {
        const text = article.paragraphs.map((p) => p.context).join('\n\n');
        lines.push(JSON.stringify({ title: article.title.replace(/_/g, ' '), text }));
      }
    }
    titles = lines.map((l) => (JSON.parse(l) as { title: string }).title);
    corpus = path.join(dir, 'squad.jsonl');
    await writeFile(corpus, `${lines.join('\n')}\n`);
  });

  afterAll(async () => {
    await generator?.close();
    await server?.close();
  });

  it('chunks all 48 articles and studies every chunk (ar)', async () => {
    const out = path.join(await tempDir(), 'squad-ar');
    const { status, manifest } = await runStudy({
      corpus,
      out,
      method: 'ar',
      generator,
      concurrency: 32,
      log: () => undefined,
      progressStream: { write: () => true, isTTY: false },
    });
    expect(status).toBe('complete');
    expect(manifest.corpus.documents).toBe(48);
    const chunks = await readJsonl<{ doc_id: string; chunk_index: number; title: string; tokens: number }>(
      path.join(out, 'chunks.jsonl'),
    );
    expect(chunks.length).toBeGreaterThan(48 * 5); // articles are several thousand tokens each
    expect(new Set(chunks.map((c) => c.title))).toEqual(new Set(titles));
    for (const c of chunks) expect(c.tokens).toBeLessThanOrEqual(512);
    const records = await readRecords(out);
    const studied = new Set(records.map((r) => `${r.metadata.doc_id}#${r.metadata.chunk_index}`));
    expect(studied.size).toBe(chunks.length);
    expect((await readManifestFile(out)).counts.records.ar).toBe(records.length);
  });
});

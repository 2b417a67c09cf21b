import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StudyRecord } from '../../src/dataset/record.js';
import { createOpenAICompatibleGenerator } from '../../src/models/openai-compatible.js';
import { tiktokenCounter } from '../../src/models/tiktoken-counter.js';
import type { TextGenerator } from '../../src/models/types.js';
import type { StageOneEntry } from '../../src/study/methods.js';
import { runStudy, type StudyOptions } from '../../src/study/run-study.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';
import { studyResponder } from '../helpers/study-responder.js';
import {
  keyOf,
  readJsonl,
  readManifestFile,
  readRecords,
  readTree,
  tempDir,
  writeJsonlCorpus,
  writeSmallCorpus,
} from '../helpers/study-fixtures.js';

const SECRET = 'sk-test-SECRET-1234567890abcdef';
const quiet = { write: () => true, isTTY: false };

let server: ScriptedServer;
let generator: TextGenerator;
let workDir: string;
let corpus: string;

beforeAll(async () => {
  server = await startScriptedServer({ respond: studyResponder });
  generator = createOpenAICompatibleGenerator({
    model: 'scripted-model',
    baseUrl: server.url,
    apiKey: SECRET,
  });
  workDir = await tempDir();
  corpus = await writeSmallCorpus(workDir);
});

afterAll(async () => {
  await generator.close();
  await server.close();
});

function options(out: string, extra: Partial<StudyOptions> = {}): StudyOptions {
  const logs: string[] = [];
  return {
    corpus,
    out,
    method: 'ar',
    generator,
    chunkCounter: tiktokenCounter(),
    concurrency: 4,
    retry: { baseDelayMs: 5, maxDelayMs: 50 },
    log: (line) => logs.push(line),
    progressStream: quiet,
    ...extra,
  };
}

describe('study writes a complete run directory for every method', () => {
  const methods = ['ar', 'ar-task', 'paraphrase', 'qa', 'entigraph', 'repeat', 'all'] as const;
  for (const method of methods) {
    it(method, async () => {
      const out = path.join(workDir, `run-${method}`);
      const { status, manifest } = await runStudy(options(out, { method }));
      expect(status).toBe('complete');

      const chunks = await readJsonl<{ doc_id: string; chunk_index: number; text: string }>(
        path.join(out, 'chunks.jsonl'),
      );
      expect(chunks.length).toBe(4);
      const records = await readRecords(out);
      expect(records.length).toBeGreaterThan(0);
      for (const r of records) {
        expect(Object.keys(r).sort()).toEqual(['metadata', 'request', 'response', 'stats']);
        expect(Object.keys(r.metadata).sort()).toEqual(
          ['chunk_index', 'doc_id', 'method', 'rep', 'strategy', 'title', 'total_chunks'].sort(),
        );
        expect(r.response.text.length).toBeGreaterThan(0);
        expect(r.stats.completion_tokens).toBeGreaterThan(0);
        expect(
          chunks.some((c) => c.doc_id === r.metadata.doc_id && c.chunk_index === r.metadata.chunk_index),
        ).toBe(true);
      }
      expect(new Set(records.map(keyOf)).size).toBe(records.length);

      const expectedMethods = method === 'all' ? ['ar', 'paraphrase', 'qa'] : [method];
      expect([...new Set(records.map((r) => r.metadata.method))].sort()).toEqual(expectedMethods);
      // Every chunk got studied by every method.
      for (const m of expectedMethods) {
        expect(
          new Set(records.filter((r) => r.metadata.method === m).map((r) => r.metadata.doc_id)).size,
        ).toBe(4);
      }
      if (method === 'repeat') {
        expect(records.map((r) => r.response.text).sort()).toEqual(chunks.map((c) => c.text).sort());
        expect(server.log.length).toBeGreaterThanOrEqual(0);
      }
      if (method === 'ar' || method === 'ar-task' || method === 'entigraph') {
        const entries = await readJsonl<StageOneEntry>(path.join(out, 'strategies.jsonl'));
        expect(entries.length).toBe(4);
        for (const e of entries) expect(e.strategies.length).toBeGreaterThan(0);
        if (method === 'ar-task') expect(entries[0]?.questions?.length).toBeGreaterThan(0);
      }
      if (method === 'ar') {
        // Stage 2 carries the system message, the strategy and the document in <document> tags.
        const r = records[0] as StudyRecord;
        expect(r.request.messages[0]).toEqual({ role: 'system', content: 'You are a helpful assistant.' });
        expect(r.request.messages[1]?.content).toMatch(
          /learning strategy[\s\S]*<document>[\s\S]*<\/document>/,
        );
        expect(records.length).toBe(4 * 3); // 3 strategies per chunk from the responder
      }

      expect(manifest.status).toBe('complete');
      const onDisk = await readManifestFile(out);
      expect(onDisk.counts.records).toEqual(
        Object.fromEntries(
          expectedMethods.map((m) => [m, records.filter((r) => r.metadata.method === m).length]),
        ),
      );
      for (const m of expectedMethods) {
        const tokens = records
          .filter((r) => r.metadata.method === m)
          .reduce((n, r) => n + r.stats.completion_tokens, 0);
        expect(onDisk.tokens[m]).toBe(tokens);
        expect(onDisk.checkpoints[m]?.at(-1)?.tokens).toBe(tokens);
      }
      expect(onDisk.corpus.documents).toBe(4);
    });
  }
});

describe('cache and resume', () => {
  it('a second identical run makes zero requests, even with the records deleted', async () => {
    const out = path.join(workDir, 'cache-run');
    await runStudy(options(out, { method: 'ar', reps: 2 }));
    const first = await readRecords(out);
    const before = server.requests;
    const again = await runStudy(options(out, { method: 'ar', reps: 2 }));
    expect(server.requests).toBe(before);
    expect(again.status).toBe('complete');
    expect((await readRecords(out)).length).toBe(first.length);

    await fs.rm(path.join(out, 'study'), { recursive: true });
    await fs.rm(path.join(out, 'strategies.jsonl'));
    const third = await runStudy(options(out, { method: 'ar', reps: 2 }));
    expect(server.requests).toBe(before);
    expect(third.manifest.ledger.ar?.cacheHits).toBeGreaterThan(0);
    expect((await readRecords(out)).map(keyOf).sort()).toEqual(first.map(keyOf).sort());
  });

  it('reps use different seeds, so the strategies differ between reps', async () => {
    const out = path.join(workDir, 'reps');
    await runStudy(options(out, { method: 'ar', reps: 2 }));
    const entries = await readJsonl<StageOneEntry>(path.join(out, 'strategies.jsonl'));
    expect(entries.length).toBe(8);
    const byChunk = entries.filter((e) => e.chunk_index === 0 && e.doc_id === entries[0]?.doc_id);
    expect(byChunk.map((e) => e.rep).sort()).toEqual([0, 1]);
    expect(byChunk[0]?.strategies).not.toEqual(byChunk[1]?.strategies);
  });

  it('refuses to mix settings in one run directory, naming the difference', async () => {
    const out = path.join(workDir, 'mismatch');
    await runStudy(options(out, { method: 'qa' }));
    await expect(runStudy(options(out, { method: 'paraphrase' }))).rejects.toThrow(
      /method: "qa" -> "paraphrase"/,
    );
  });
});

describe('robustness', () => {
  it('survives 429 with Retry-After, 500s, dropped connections, malformed bodies and slow responses', async () => {
    const clean = path.join(workDir, 'faults-clean');
    await runStudy(options(clean, { method: 'qa', seed: 7 }));
    const faulty = path.join(workDir, 'faults');
    server.injectFaults(
      { kind: '429', retryAfterSeconds: 1 },
      { kind: '500' },
      { kind: 'drop' },
      { kind: 'malformed' },
      { kind: 'slow', delayMs: 600 },
      { kind: '503' },
    );
    const started = Date.now();
    const { status } = await runStudy(
      options(faulty, {
        method: 'qa',
        seed: 7,
        noCache: true,
        retry: { baseDelayMs: 5, maxDelayMs: 50, timeoutMs: 300 },
      }),
    );
    expect(status).toBe('complete');
    expect(server.pendingFaults).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000); // Retry-After honoured
    const a = (await readRecords(clean)).map((r) => `${keyOf(r)}:${r.response.text}`).sort();
    const b = (await readRecords(faulty)).map((r) => `${keyOf(r)}:${r.response.text}`).sort();
    expect(b).toEqual(a);
  });

  it('stops with a clear error on 401 and marks the run failed', async () => {
    const out = path.join(workDir, 'unauthorized');
    server.injectFaults(
      ...Array.from({ length: 8 }, () => ({ kind: 'status' as const, status: 401, message: 'bad key' })),
    );
    await expect(runStudy(options(out, { method: 'qa', noCache: true, concurrency: 1 }))).rejects.toThrow(
      /refused the request.*401/,
    );
    expect((await readManifestFile(out)).status).toBe('failed');
    while (server.pendingFaults > 0)
      await generator.generate({ messages: [{ role: 'user', content: 'drain' }] }).catch(() => undefined);
  });

  it('retries a too-short generation with a new seed', async () => {
    const seen = new Set<string>();
    const short = await startScriptedServer({
      respond: (body) => {
        const user = body.messages.at(-1)?.content ?? '';
        // The first answer for each document is too short; the retry gets a proper one.
        if (/^Write question and answer pairs/.test(user) && !seen.has(user)) {
          seen.add(user);
          return 'Too short.';
        }
        return studyResponder(body);
      },
    });
    const gen = createOpenAICompatibleGenerator({ model: 'm', baseUrl: short.url });
    try {
      const out = path.join(workDir, 'short');
      const { manifest } = await runStudy(options(out, { method: 'qa', generator: gen }));
      const records = await readRecords(out);
      expect(records).toHaveLength(4);
      for (const r of records) expect(r.response.text).not.toBe('Too short.');
      const seeds = short.log.map((b) => b.seed);
      expect(new Set(seeds).size).toBe(8); // every retry asked with a fresh seed
      expect(manifest.counts.short_outputs_dropped).toBe(0);
    } finally {
      await gen.close();
      await short.close();
    }
  });

  it('never writes the API key anywhere', async () => {
    const out = path.join(workDir, 'secret');
    const logs: string[] = [];
    await runStudy({ ...options(out, { method: 'ar' }), log: (l) => logs.push(l) });
    expect(server.lastAuthorization).toBe(`Bearer ${SECRET}`);
    expect(await readTree(out)).not.toContain(SECRET);
    expect(logs.join('\n')).not.toContain(SECRET);
  });
});

describe('budget', () => {
  it('spreads generations evenly over chunks, stops at the budget and records checkpoints', async () => {
    const dir = await tempDir();
    const bigCorpus = await writeJsonlCorpus(dir, 10);
    const out = path.join(dir, 'budget');
    const budget = 3000;
    const { manifest } = await runStudy(
      options(out, { corpus: bigCorpus, method: 'paraphrase', budgetTokens: budget, concurrency: 2 }),
    );
    const records = await readRecords(out);
    const total = records.reduce((n, r) => n + r.stats.completion_tokens, 0);
    const perRecord = total / records.length;
    expect(total).toBeGreaterThanOrEqual(budget);
    expect(total).toBeLessThan(budget + 3 * perRecord); // overshoot bounded by the requests in flight
    const reps = new Map<string, number>();
    for (const r of records) reps.set(r.metadata.doc_id, (reps.get(r.metadata.doc_id) ?? 0) + 1);
    const counts = [...reps.values()];
    expect(reps.size).toBe(10);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    const checkpoints = manifest.checkpoints.paraphrase ?? [];
    expect(checkpoints.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < checkpoints.length; i++) {
      expect(checkpoints[i]!.tokens).toBeGreaterThan(checkpoints[i - 1]!.tokens);
      expect(checkpoints[i]!.records).toBeGreaterThan(checkpoints[i - 1]!.records);
    }
    expect(checkpoints.at(-1)).toEqual({ tokens: total, records: records.length });
    expect(manifest.config.budget_tokens).toBe(budget);
  });

  it('all: the three methods share the budget', async () => {
    const dir = await tempDir();
    const bigCorpus = await writeJsonlCorpus(dir, 6);
    const out = path.join(dir, 'all');
    const { manifest } = await runStudy(
      options(out, { corpus: bigCorpus, method: 'all', budgetTokens: 6000 }),
    );
    for (const m of ['paraphrase', 'qa', 'ar']) {
      expect(manifest.tokens[m]).toBeGreaterThanOrEqual(2000);
      expect(manifest.tokens[m]).toBeLessThan(2000 + 1500);
    }
  });
});

describe('stage 2 re-run from an edited strategies.jsonl', () => {
  it('applies the edited strategies without calling stage 1 again', async () => {
    const out = path.join(workDir, 'stage2');
    await runStudy(options(out, { method: 'ar' }));
    const file = path.join(out, 'strategies.jsonl');
    const entries = await readJsonl<StageOneEntry>(file);
    entries[0]!.strategies = ['Rhyme time\nTurn every fact into a rhyming couplet.'];
    await fs.writeFile(file, `${entries.map((e) => JSON.stringify(e)).join('\n')}\n`);
    const before = server.log.length;

    await runStudy(options(out, { method: 'ar', stage: '2' }));
    const newRequests = server.log.slice(before);
    expect(newRequests.length).toBe(1); // only the edited strategy is new; the rest come from the cache
    expect(newRequests[0]?.messages[1]?.content).toContain('Rhyme time');
    const records = await readRecords(out);
    expect(records.filter((r) => r.metadata.doc_id === entries[0]!.doc_id)).toHaveLength(1);
    expect(records).toHaveLength(1 + 3 * 3);
    const backups = (await fs.readdir(out)).filter((n) => n.startsWith('study.prev-'));
    expect(backups).toHaveLength(1);
  });
});

describe('run directory lock', () => {
  it('refuses a second concurrent run on the same directory and takes over a stale lock', async () => {
    const slow = await startScriptedServer({ respond: studyResponder, latencyMs: 200 });
    const gen = createOpenAICompatibleGenerator({ model: 'm', baseUrl: slow.url });
    try {
      const out = path.join(workDir, 'locked');
      const first = runStudy(options(out, { method: 'qa', generator: gen }));
      await new Promise((r) => setTimeout(r, 50));
      await expect(runStudy(options(out, { method: 'qa', generator: gen }))).rejects.toThrow(
        /is in use by another active-reading process \(pid \d+\)/,
      );
      expect((await first).status).toBe('complete');
      await expect(fs.access(path.join(out, '.lock'))).rejects.toThrow();

      // A lock left behind by a process that died (kill -9) does not block the resume.
      const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid;
      await fs.writeFile(path.join(out, '.lock'), JSON.stringify({ pid: dead, host: os.hostname() }));
      expect((await runStudy(options(out, { method: 'qa', generator: gen }))).status).toBe('complete');
    } finally {
      await gen.close();
      await slow.close();
    }
  });
});

describe('edited strategies.jsonl', () => {
  it('stops with the entry named when a hand edit breaks its shape', async () => {
    const out = path.join(workDir, 'bad-edit');
    await runStudy(options(out, { method: 'ar' }));
    const file = path.join(out, 'strategies.jsonl');
    const entries = await readJsonl<Record<string, unknown>>(file);
    entries[1]!.strategies = 'not a list';
    await fs.writeFile(file, `${entries.map((e) => JSON.stringify(e)).join('\n')}\n`);
    await expect(runStudy(options(out, { method: 'ar', stage: '2' }))).rejects.toThrow(
      new RegExp(
        `strategies\\.jsonl: the entry for ar ${String(entries[1]!.doc_id)} chunk 0 rep 0 is not valid \\(strategies: `,
      ),
    );
  });
});

describe('model identity, prompts and tasks', () => {
  it('resumes from the cache when the same model is served at another URL', async () => {
    const out = path.join(workDir, 'moved-server');
    await runStudy(options(out, { method: 'qa' }));
    const other = await startScriptedServer({ respond: studyResponder });
    const moved = createOpenAICompatibleGenerator({ model: 'scripted-model', baseUrl: other.url });
    try {
      await fs.rm(path.join(out, 'study'), { recursive: true });
      const { status } = await runStudy(options(out, { method: 'qa', generator: moved }));
      expect(status).toBe('complete');
      expect(other.requests).toBe(0);
      expect(await readRecords(out)).toHaveLength(4);
    } finally {
      await moved.close();
      await other.close();
    }
  });

  it('uses an overriding prompt template, and its edit invalidates exactly its requests', async () => {
    const prompts = path.join(workDir, 'my-prompts');
    await fs.mkdir(prompts, { recursive: true });
    await fs.writeFile(
      path.join(prompts, 'qa.txt'),
      '[system]\nYou quiz students.\n[user]\nWrite question and answer pairs for flashcards.\n<document>\n{{document}}\n</document>\n',
    );
    const out = path.join(workDir, 'custom-prompt');
    const before = server.log.length;
    const { manifest } = await runStudy(options(out, { method: 'qa', promptsDir: prompts }));
    const sent = server.log.slice(before);
    expect(sent).toHaveLength(4);
    expect(sent[0]?.messages[0]).toEqual({ role: 'system', content: 'You quiz students.' });
    expect(manifest.config.templates.qa).toMatch(/^qa@[0-9a-f]{12}$/);
    const builtIn = (await readManifestFile(path.join(workDir, 'run-qa'))).config.templates.qa;
    expect(manifest.config.templates.qa).not.toBe(builtIn);

    await fs.writeFile(
      path.join(prompts, 'qa.txt'),
      'Write QA pairs.\n<document>\n{{docment}}\n</document>\n',
    );
    await expect(
      runStudy(options(path.join(workDir, 'typo'), { method: 'qa', promptsDir: prompts })),
    ).rejects.toThrow(/qa\.txt: missing the placeholder \{\{document\}\}/);
  });

  it('puts a free-text task into the task-specific stage-1 prompt', async () => {
    const out = path.join(workDir, 'free-task');
    const before = server.log.length;
    await runStudy(options(out, { method: 'ar-task', task: 'an exam on the history of computing' }));
    const stageOne = server.log
      .slice(before)
      .filter((b) => /<start_strategies>/.test(b.messages[0]?.content ?? ''));
    expect(stageOne).toHaveLength(4);
    expect(stageOne[0]?.messages[0]?.content).toMatch(
      /^You are preparing for an exam on the history of computing\./,
    );
  });
});

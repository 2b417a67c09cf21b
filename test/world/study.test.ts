import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RecordMethod, StudyRecord } from '../../src/dataset/record.js';
import { forEachRecord } from '../../src/dataset/shards.js';
import { selfBleu } from '../../src/eval/diagnostics/self-bleu.js';
import { runStudy } from '../../src/study/run-study.js';
import { writeWorldCorpus } from '../../src/world/documents.js';
import { buildQaSet } from '../../src/world/qa.js';
import { createSimulatedReader } from '../../src/world/simulated-reader.js';
import { buildWorld, type Person } from '../../src/world/world.js';
import { checkFacts, sentencesOf } from './fact-check.js';

const world = buildWorld({ people: 6, seed: 21 });
const quiet = { write: () => true, isTTY: false };
const METHODS = ['ar', 'paraphrase', 'qa', 'repeat'] as const;
const BUDGET = 6000;

let workDir: string;
let corpus: string;

async function study(method: RecordMethod, out: string): Promise<StudyRecord[]> {
  const { status } = await runStudy({
    corpus,
    out,
    method,
    generator: createSimulatedReader(world),
    budgetTokens: BUDGET,
    concurrency: 4,
    log: () => undefined,
    progressStream: quiet,
  });
  expect(status).toBe('complete');
  const records: StudyRecord[] = [];
  await forEachRecord(path.join(out, 'study'), (r) => records.push(r));
  const key = (r: StudyRecord) => [r.metadata.doc_id, r.metadata.rep, r.metadata.strategy].join('|');
  return records.sort((a, b) => key(a).localeCompare(key(b)));
}

const runs = new Map<RecordMethod, StudyRecord[]>();
const personOf = (r: StudyRecord): Person => world.people.find((p) => p.id === r.metadata.doc_id)!;

beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'world-study-'));
  corpus = await writeWorldCorpus(path.join(workDir, 'corpus'), world);
  for (const method of METHODS) runs.set(method, await study(method, path.join(workDir, method)));
});

/** Share of sentences that occur more than once among a document's records, averaged over documents. */
function repeatedShare(records: StudyRecord[]): number {
  const shares = world.people.map((p) => {
    const sentences = records
      .filter((r) => r.metadata.doc_id === p.id)
      .flatMap((r) => sentencesOf(r.response.text));
    return 1 - new Set(sentences).size / sentences.length;
  });
  return shares.reduce((a, b) => a + b, 0) / shares.length;
}

function meanSelfBleu(records: StudyRecord[]): number {
  const scores = world.people.map(
    (p) => selfBleu(records.filter((r) => r.metadata.doc_id === p.id).map((r) => r.response.text)) ?? 0,
  );
  return scores.reduce((a, b) => a + b, 0) / scores.length;
}

describe('the study engine, unchanged, against the simulated reader', () => {
  it('produces records for every method within the budget, on every person', () => {
    for (const method of METHODS) {
      const records = runs.get(method)!;
      expect(records.length, method).toBeGreaterThan(world.people.length);
      expect(new Set(records.map((r) => r.metadata.doc_id)).size).toBe(world.people.length);
      const tokens = records.reduce((n, r) => n + r.stats.completion_tokens, 0);
      expect(tokens, method).toBeGreaterThanOrEqual(BUDGET * 0.8);
      for (const r of records) {
        expect(r.metadata.method).toBe(method);
        expect(r.metadata.title).toBe(personOf(r).name);
      }
    }
  });

  it('ar records name the person in most fact sentences and state only true facts', () => {
    let facts = 0;
    let naming = 0;
    for (const r of runs.get('ar')!) {
      const check = checkFacts(r.response.text, personOf(r), world);
      expect(check.falseValues).toEqual([]);
      facts += check.factSentences;
      naming += check.namingSubject;
    }
    expect(naming / facts).toBeGreaterThan(0.9);
  });

  it('binds facts to the name more in ar than in paraphrase, and more in paraphrase than in the raw bio', () => {
    const share = (method: RecordMethod) => {
      let facts = 0;
      let naming = 0;
      for (const r of runs.get(method)!) {
        const check = checkFacts(r.response.text, personOf(r), world);
        facts += check.factSentences;
        naming += check.namingSubject;
      }
      return naming / facts;
    };
    expect(share('ar')).toBeGreaterThan(share('paraphrase') + 0.3);
    expect(share('paraphrase')).toBeGreaterThan(share('repeat'));
  });

  it('writes each method in its own form', () => {
    const texts = (m: RecordMethod) => runs.get(m)!.map((r) => r.response.text);
    for (const t of texts('qa')) expect(t).toMatch(/^Q: .+\nA: .+/);
    for (const t of [...texts('paraphrase'), ...texts('repeat')]) expect(t).not.toMatch(/^Q: /m);
    const all = METHODS.map((m) => new Set(texts(m)));
    for (let i = 0; i < all.length; i++) {
      for (let j = i + 1; j < all.length; j++) {
        expect([...all[i]!].filter((t) => all[j]!.has(t))).toEqual([]);
      }
    }
    // Active Reading uses many forms: first lines (headers) vary widely.
    const openings = new Set(
      runs.get('ar')!.map((r) => r.response.text.split('\n')[0]!.replace(personOf(r).name, 'X')),
    );
    expect(openings.size).toBeGreaterThan(10);
  });

  it('is more diverse in ar than in paraphrase (fewer repeated sentences, lower self-BLEU)', () => {
    const ar = runs.get('ar')!;
    const para = runs.get('paraphrase')!;
    expect(repeatedShare(ar)).toBeLessThan(repeatedShare(para));
    expect(meanSelfBleu(ar)).toBeLessThan(meanSelfBleu(para));
  });

  it('is deterministic: a second run in a new directory writes the same records', async () => {
    for (const method of ['ar', 'paraphrase'] as const) {
      const again = await study(method, path.join(workDir, `${method}-again`));
      expect(again.map((r) => r.response.text)).toEqual(runs.get(method)!.map((r) => r.response.text));
    }
  });

  it('never writes an eval question into study data', () => {
    const questions = buildQaSet(world).map((i) => i.question);
    for (const method of METHODS) {
      for (const r of runs.get(method)!) for (const q of questions) expect(r.response.text).not.toContain(q);
    }
  });
});

describe('the other generator methods', () => {
  for (const method of ['ar-task', 'entigraph'] as const) {
    it(`${method} runs unchanged and states only true facts`, async () => {
      const records = await study(method, path.join(workDir, method));
      expect(new Set(records.map((r) => r.metadata.doc_id)).size).toBe(world.people.length);
      for (const r of records)
        expect(checkFacts(r.response.text, personOf(r), world).falseValues).toEqual([]);
    });
  }
});

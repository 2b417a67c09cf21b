import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_HELP } from '../../src/cli/demo.js';
import { buildDemoReport, demoCharts, demoTable } from '../../src/demo/demo-report.js';
import { runDemo, type DemoRow } from '../../src/demo/run-demo.js';
import type { DemoSize } from '../../src/demo/sizes.js';
import { tokenizerTexts } from '../../src/demo/tokenizer-texts.js';
import { renderReport } from '../../src/report/index.js';

const CLI = path.resolve('dist/cli/main.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'ar-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A world and model small enough for CI: the pipeline end to end, not the learning effect. */
const TINY: DemoSize = {
  name: 'tiny',
  people: 8,
  studyTokensPerPerson: 1500,
  qaShare: 0.3,
  model: { hiddenSize: 32, intermediateSize: 64, numLayers: 1, numHeads: 4, vocabSize: 320 },
  seqLen: 64,
  batchTokens: 512,
  lr: 3e-3,
  snapshots: 1,
};

const quiet = { write: () => true };

describe('demo', () => {
  it('runs a very small world end to end: study, train, evaluate, report', async () => {
    const out = path.join(dir, 'tiny');
    const lines: string[] = [];
    const result = await runDemo({
      out,
      size: TINY,
      seed: 2,
      log: (l) => lines.push(l),
      progressStream: quiet,
    });
    expect(result.status).toBe('complete');
    expect(['native', 'ts']).toContain(result.kernels);
    expect(result.rows.map((r) => r.method)).toEqual(['repeat', 'paraphrase', 'qa', 'ar']);
    for (const row of result.rows) {
      // The same study budget for every method (the engine stops within one generation of it).
      expect(row.studyTokens).toBeGreaterThanOrEqual(TINY.people * TINY.studyTokensPerPerson);
      expect(row.studyTokens).toBeLessThan(TINY.people * TINY.studyTokensPerPerson * 1.2);
      expect(row.heldout.value).toBeGreaterThanOrEqual(0);
      expect(row.heldout.value).toBeLessThanOrEqual(1);
      // One snapshot, then the final model; every model trained the same number of tokens.
      expect(row.curve.map((p) => p.trainTokens)).toEqual([
        result.rows[0]!.curve[0]!.trainTokens,
        row.trainTokens,
      ]);
      expect(row.trainTokens).toBe(result.rows[0]!.trainTokens);
      const summary = JSON.parse(
        await fs.readFile(path.join(out, 'eval', row.method, 'heldout', 'summary.json'), 'utf8'),
      );
      expect(summary.counts.items).toBe((TINY.people / 2) * 6);
    }
    expect(lines.join('\n')).toMatch(/SIMULATION/);
    // The study data is the real engine's, with the simulated reader's identity in the manifest.
    const manifest = JSON.parse(await fs.readFile(path.join(out, 'study', 'ar', 'manifest.json'), 'utf8'));
    expect(JSON.stringify(manifest)).toMatch(/simulated-reader/);

    const html = renderReport(buildDemoReport(result));
    expect(html).toMatch(/SIMULATION/);
    expect(html).not.toMatch(/<script|src="http|href="http/);
    expect(html.match(/<svg/g)).toHaveLength(2);
    const charts = demoCharts(buildDemoReport(result));
    expect(charts.map((c) => c.file)).toEqual(['accuracy.svg', 'curve.svg']);
    for (const c of charts)
      expect(c.svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[\s\S]*<\/svg>\n$/);
    expect(demoTable(result).split('\n')).toHaveLength(2 + 4 + 2);
    expect(result.guessing).toBeGreaterThan(0);
    expect(demoTable(result)).toContain(
      `scores ${(100 * result.guessing).toFixed(1)}% on the held-out people`,
    );
    expect(JSON.parse(await fs.readFile(path.join(out, 'demo.json'), 'utf8')).rows).toHaveLength(4);

    // The shared tokenizer learned from every method's text, and from the world's documents and QA as much
    // as from one method.
    const world = ['Alba Korr was born in Elvgate.', 'Question: Where?\nAnswer: Elvgate'];
    const studyDirs = result.rows.map((r) => path.join(out, 'study', r.method));
    const texts = await tokenizerTexts(world, studyDirs);
    expect(texts.some((t) => t.startsWith('Q: '))).toBe(true); // qa
    expect(texts.some((t) => t.startsWith('## '))).toBe(true); // ar
    const worldChars = texts.filter((t) => world.includes(t)).join('').length;
    const studyChars = texts.filter((t) => !world.includes(t)).join('').length;
    expect(worldChars / (studyChars / 4)).toBeGreaterThan(0.8);
    expect(worldChars / (studyChars / 4)).toBeLessThan(1.25);

    // The same command again resumes everything and gives the same numbers.
    const again = await runDemo({ out, size: TINY, seed: 2, log: () => {}, progressStream: quiet });
    expect(again.rows.map((r) => r.heldout)).toEqual(result.rows.map((r) => r.heldout));
  }, 300_000);

  it('trains methods side by side in child processes with the same numbers, and their progress shows', async () => {
    const sequential = JSON.parse(await fs.readFile(path.join(dir, 'tiny', 'demo.json'), 'utf8'));
    const out = path.join(dir, 'parallel');
    const lines: string[] = [];
    const progress: string[] = [];
    const result = await runDemo({
      out,
      size: TINY,
      seed: 2,
      parallel: 2,
      log: (l) => lines.push(l),
      progressStream: { write: (s: string) => (progress.push(s), true) },
    });
    expect(result.status).toBe('complete');
    expect(result.rows.map((r) => r.method)).toEqual(['repeat', 'paraphrase', 'qa', 'ar']);
    expect(result.rows.map((r) => [r.heldout, r.train, r.curve])).toEqual(
      sequential.rows.map((r: DemoRow) => [r.heldout, r.train, r.curve]),
    );
    // The children's log lines and progress lines come back through the parent, named by method.
    expect(lines.some((l) => /demo \[4\/4\] ar: held-out/.test(l))).toBe(true);
    expect(progress.some((p) => p.startsWith('[qa] '))).toBe(true);
  }, 300_000);

  it('refuses an output folder that holds another demo or other files', async () => {
    const out = path.join(dir, 'tiny');
    await expect(runDemo({ out, size: TINY, seed: 3, log: () => {}, progressStream: quiet })).rejects.toThrow(
      /holds a demo with other settings/,
    );
    const other = path.join(dir, 'other');
    await fs.mkdir(other);
    await fs.writeFile(path.join(other, 'notes.txt'), 'mine');
    await expect(runDemo({ out: other, size: TINY, log: () => {}, progressStream: quiet })).rejects.toThrow(
      /not a demo output folder/,
    );
    expect(existsSync(path.join(other, 'world'))).toBe(false);
  });

  it('--help documents every flag; bad flags exit 2 with one line', () => {
    const help = spawnSync(process.execPath, [CLI, 'demo', '--help'], { encoding: 'utf8' });
    expect(help.stdout).toBe(DEMO_HELP);
    for (const flag of ['--size', '--seed', '--out', '--methods', '--kernels', '--threads', '--help'])
      expect(DEMO_HELP).toContain(flag);
    for (const args of [['--size', 'huge'], ['--methods', 'ar,magic'], ['--seed', '-1'], ['--bogus']]) {
      const r = spawnSync(process.execPath, [CLI, 'demo', ...args], { encoding: 'utf8' });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

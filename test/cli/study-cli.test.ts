import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STUDY_FLAGS, STUDY_HELP } from '../../src/cli/study.js';
import type { StudyRecord } from '../../src/dataset/record.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';
import { studyResponder } from '../helpers/study-responder.js';
import {
  keyOf,
  readManifestFile,
  readRecords,
  readTree,
  tempDir,
  writeJsonlCorpus,
  writeSmallCorpus,
} from '../helpers/study-fixtures.js';
import { writeTinyLlamaGguf } from '../helpers/tiny-gguf.js';

/** The built CLI, exactly as users run it (npm test builds dist/ first). */
const CLI = path.resolve('dist/cli/main.js');
const SECRET = 'sk-cli-SECRET-abcdef0123456789';

let server: ScriptedServer;
let dir: string;

beforeAll(async () => {
  await fs.access(CLI).catch(() => {
    throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
  });
  server = await startScriptedServer({ respond: studyResponder, latencyMs: 25 });
  dir = await tempDir('ar-cli-');
});

afterAll(async () => {
  await server.close();
});

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, OPENAI_BASE_URL: '', OPENAI_API_KEY: '', ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs the CLI asynchronously (the scripted server lives in this process, so spawnSync would deadlock). */
async function cliAsync(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, OPENAI_API_KEY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** Polls the first study shard until it holds `count` records (the run is then mid-way). */
async function waitForRecords(runDir: string, count: number, timeoutMs = 20_000): Promise<void> {
  const shard = path.join(runDir, 'study', 'shard-00000.jsonl');
  for (const deadline = Date.now() + timeoutMs; ;) {
    if (Date.now() > deadline) throw new Error(`${shard} did not reach ${count} records in ${timeoutMs} ms`);
    const lines = await fs.readFile(shard, 'utf8').then(
      (t) => t.split('\n').length - 1,
      () => 0,
    );
    if (lines >= count) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('study --help and argument errors', () => {
  it('--help documents every flag', () => {
    const { code, stdout } = cli(['study', '--help']);
    expect(code).toBe(0);
    const flags = Object.keys(STUDY_FLAGS);
    expect(flags.length).toBeGreaterThan(20);
    for (const flag of flags) expect(stdout).toContain(`--${flag}`);
    expect(stdout).toBe(STUDY_HELP);
  });

  const bad: Array<[string[], RegExp]> = [
    [
      ['study', '--corpus', 'x', '--out', 'y', '--method', 'nope', '--model', 'm'],
      /--method must be one of ar, ar-task/,
    ],
    [
      ['study', '--corpus', 'x', '--out', 'y', '--model', 'm', '--reps', '0', '--base-url', 'http://h/v1'],
      /--reps expects a whole number >= 1/,
    ],
    [
      [
        'study',
        '--corpus',
        'x',
        '--out',
        'y',
        '--model',
        'm',
        '--budget-tokens',
        'lots',
        '--base-url',
        'http://h/v1',
      ],
      /--budget-tokens expects/,
    ],
    [['study', '--corpus', 'x', '--out', 'y', '--model', 'm', '--bogus'], /Unknown option '--bogus'/],
    [['study', '--corpus', 'x', '--model', 'm'], /--out RUN_DIR is required/],
    [['study', '--corpus', 'x', '--out', 'y', '--method', 'qa'], /--model is required for --method qa/],
    [['study', '--corpus', 'x', '--out', 'y', '--model', 'some-model'], /--base-url is required/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ];
  for (const [args, message] of bad) {
    it(`rejects ${args.slice(-2).join(' ')} with one clear line`, () => {
      const { code, stderr } = cli(args);
      expect(code).toBe(2);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(message);
    });
  }

  it('a missing corpus is a clear error and exits non-zero', async () => {
    const { code, stderr } = await cliAsync([
      'study',
      '--corpus',
      path.join(dir, 'nowhere'),
      '--out',
      path.join(dir, 'o'),
      '--method',
      'repeat',
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain(path.join(dir, 'nowhere'));
  });
});

describe('study against an OpenAI-compatible server', () => {
  it('writes the run directory and reads the API key from the environment only', async () => {
    const corpus = await writeSmallCorpus(dir);
    const out = path.join(dir, 'cli-ar');
    const { code, stdout, stderr } = await cliAsync(
      [
        'study',
        '--corpus',
        corpus,
        '--out',
        out,
        '--method',
        'ar',
        '--model',
        'scripted',
        '--concurrency',
        '8',
      ],
      { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: SECRET },
    );
    expect(stderr).not.toContain(SECRET);
    expect(code).toBe(0);
    expect(stdout).toMatch(/done: .*\n\s+ar: 12 records/);
    expect(server.lastAuthorization).toBe(`Bearer ${SECRET}`);
    expect(await readTree(out)).not.toContain(SECRET);
    const manifest = await readManifestFile(out);
    expect(manifest.config.base_url).toBe(server.url);
    expect(manifest.counts.records.ar).toBe(12);
  });
});

describe('kill -9 and resume', () => {
  it('loses no completed generation and writes no duplicate', async () => {
    const corpus = await writeJsonlCorpus(dir, 24);
    const args = (out: string) => [
      'study',
      '--corpus',
      corpus,
      '--out',
      out,
      '--method',
      'ar',
      '--reps',
      '2',
      '--model',
      'scripted',
      '--base-url',
      server.url,
      '--concurrency',
      '4',
    ];

    const cleanOut = path.join(dir, 'clean');
    const cleanStart = server.requests;
    expect((await cliAsync(args(cleanOut))).code).toBe(0);
    const cleanRequests = server.requests - cleanStart;
    const clean = await readRecords(cleanOut);
    expect(clean.length).toBe(24 * 2 * 3);

    const out = path.join(dir, 'killed');
    const start = server.requests;
    for (const threshold of [20, 70]) {
      const child = spawn(process.execPath, [CLI, ...args(out)], { stdio: 'ignore' });
      await waitForRecords(out, threshold);
      child.kill('SIGKILL');
      await once(child, 'exit');
      const partial = await readRecords(out);
      expect(partial.length).toBeLessThan(clean.length);
      expect(new Set(partial.map(keyOf)).size).toBe(partial.length);
    }
    const resumed = await cliAsync(args(out));
    expect(resumed.code).toBe(0);

    const records = await readRecords(out);
    expect(records.length).toBe(clean.length);
    expect(new Set(records.map(keyOf)).size).toBe(records.length);
    const content = (rs: StudyRecord[]) => rs.map((r) => `${keyOf(r)}\n${r.response.text}`).sort();
    expect(content(records)).toEqual(content(clean));
    const manifest = await readManifestFile(out);
    const cleanManifest = await readManifestFile(cleanOut);
    expect(manifest.status).toBe('complete');
    expect(manifest.counts.records).toEqual(cleanManifest.counts.records);
    expect(manifest.tokens).toEqual(cleanManifest.tokens);
    // Only requests in flight at each kill may be asked twice (2 kills x concurrency 4).
    expect(server.requests - start).toBeLessThanOrEqual(cleanRequests + 2 * 4);
  });
});

describe('Ctrl-C', () => {
  it('stops cleanly with status interrupted, and the same command finishes the run', async () => {
    const corpus = await writeJsonlCorpus(await tempDir('ar-sigint-'), 30);
    const out = path.join(dir, 'sigint-run');
    const args = [
      'study',
      '--corpus',
      corpus,
      '--out',
      out,
      '--method',
      'qa',
      '--model',
      'scripted',
      '--base-url',
      server.url,
      '--concurrency',
      '2',
    ];
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    await waitForRecords(out, 5);
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(130);
    expect(stdout).toMatch(/^interrupted: /);
    const manifest = await readManifestFile(out);
    expect(manifest.status).toBe('interrupted');
    expect(manifest.counts.records.qa).toBeLessThan(30);
    expect(manifest.counts.records.qa).toBe((await readRecords(out)).length);
    await expect(fs.access(path.join(out, '.lock'))).rejects.toThrow();

    expect((await cliAsync(args)).code).toBe(0);
    expect((await readRecords(out)).length).toBe(30);
    expect((await readManifestFile(out)).status).toBe('complete');
  });
});

describe('study with an embedded GGUF model (node-llama-cpp)', () => {
  it('runs stage 1 and stage 2 end to end on a tiny model written by the test', async () => {
    const model = path.join(dir, 'tiny.gguf');
    await writeTinyLlamaGguf(model, { seed: 3, contextLength: 4096 });
    const corpus = await writeSmallCorpus(path.join(dir, 'gguf'));
    const out = path.join(dir, 'gguf-run');
    const { code, stderr } = await cliAsync([
      'study',
      '--corpus',
      corpus,
      '--out',
      out,
      '--method',
      'ar',
      '--model',
      model,
      '--max-tokens',
      '24',
      '--min-words',
      '0',
      '--threads',
      '1',
      '--context-size',
      '4096',
    ]);
    expect(stderr).not.toMatch(/error/i);
    expect(code).toBe(0);
    const manifest = await readManifestFile(out);
    expect(manifest.config.model).toMatch(/^gguf:tiny\.gguf:\d+$/);
    expect(manifest.ledger.ar?.requests).toBeGreaterThanOrEqual(4);
    const records = await readRecords(out);
    expect(records.length).toBeGreaterThan(0);
    for (const r of records) {
      expect(r.stats.completion_tokens).toBeGreaterThan(0);
      expect(r.stats.completion_tokens).toBeLessThanOrEqual(24);
      expect(r.stats.prompt_tokens).toBeGreaterThan(0);
    }
  });
});

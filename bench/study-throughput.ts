/**
 * Benchmark: orchestration overhead of `study` against the scripted server with a fixed simulated latency.
 *
 * For each concurrency level it measures, in the same run and against the same server process:
 *   ceiling  a bare loop of `c` workers calling the OpenAI-compatible client back to back (no cache, no files)
 *   study    runStudy (method qa: one request per chunk) with cache, run store and records, at concurrency c
 * and reports requests/s, tokens/s and study/ceiling. Then it runs the CLI over a 100,000-chunk corpus and
 * reports its peak RSS.
 *
 * Usage: npx tsx bench/study-throughput.ts [--latency-ms 50] [--requests 4000] [--memory-chunks 100000]
 *                                          [--levels 1,16,64,256] [--repeats 3] [--skip-memory]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createOpenAICompatibleGenerator } from '../src/models/openai-compatible.js';
import { tiktokenCounter } from '../src/models/tiktoken-counter.js';
import type { GenerationRequest, TextGenerator } from '../src/models/types.js';
import { runStudy } from '../src/study/run-study.js';
import { loadTemplates, renderTemplate } from '../src/study/templates.js';

const { values } = parseArgs({
  options: {
    'latency-ms': { type: 'string', default: '50' },
    requests: { type: 'string', default: '4000' },
    'memory-chunks': { type: 'string', default: '100000' },
    levels: { type: 'string', default: '1,16,64,256' },
    repeats: { type: 'string', default: '3' },
    'skip-memory': { type: 'boolean', default: false },
  },
});
const latencyMs = Number(values['latency-ms']);
const requestsPerLevel = Number(values.requests);
const levels = String(values.levels).split(',').map(Number);
const repeats = Math.max(1, Number(values.repeats));
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

async function startServer(latency: number): Promise<{ url: string; child: ChildProcess }> {
  // The server gets a core of its own (taskset, where available) and this process the other, so the
  // client's own CPU use does not slow the server down: the ratio then measures orchestration overhead,
  // not contention with a mock server that no real deployment shares cores with.
  const pin = pinning();
  const serverArgs = [
    '--import',
    'tsx',
    path.join(root, 'bench/scripted-server-process.ts'),
    String(latency),
  ];
  const child = spawn(
    pin ? 'taskset' : process.execPath,
    pin ? ['-c', pin.server, process.execPath, ...serverArgs] : serverArgs,
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let buffer = '';
  for await (const piece of child.stdout as AsyncIterable<Buffer>) {
    buffer += piece.toString();
    const match = /READY (\S+)/.exec(buffer);
    if (match) return { url: match[1] as string, child };
  }
  throw new Error('scripted server did not start');
}

/** Pins this process to the first core and returns the core for the server, when taskset exists. */
function pinning(): { server: string } | undefined {
  if (os.cpus().length < 2) return undefined;
  const self = spawnSync('taskset', ['-cp', '0', String(process.pid)], { stdio: 'ignore' });
  return self.status === 0 ? { server: '1' } : undefined;
}

/** Wraps a generator to time the window in which requests were in flight and count tokens. */
function timed(inner: TextGenerator) {
  const stats = { requests: 0, tokens: 0, first: Infinity, last: 0 };
  const generator: TextGenerator = {
    id: inner.id,
    countTokens: (t) => inner.countTokens(t),
    close: () => inner.close(),
    async generate(request: GenerationRequest) {
      stats.first = Math.min(stats.first, performance.now());
      const result = await inner.generate(request);
      stats.last = performance.now();
      stats.requests++;
      stats.tokens += result.completionTokens;
      return result;
    },
  };
  return { generator, stats };
}

/** The bare loop sends exactly the requests `study --method qa` sends (same template, same chunks). */
async function ceiling(url: string, concurrency: number, corpus: string, total: number) {
  const { generator, stats } = timed(
    createOpenAICompatibleGenerator({ model: 'bench', baseUrl: url, maxConnections: concurrency }),
  );
  const template = loadTemplates().qa;
  const lines = (await fs.readFile(corpus, 'utf8')).split('\n').filter(Boolean).slice(0, total);
  const requests = lines.map((line, i) => {
    const doc = JSON.parse(line) as { title: string; text: string };
    return {
      messages: renderTemplate(template, { document: `${doc.title}\n${doc.text}` }),
      temperature: 0.7,
      maxTokens: 2048,
      seed: i,
    };
  });
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests.length) await generator.generate(requests[next++] as GenerationRequest);
    }),
  );
  await generator.close();
  return stats;
}

async function writeCorpus(file: string, n: number): Promise<void> {
  const handle = await fs.open(file, 'w');
  const batch: string[] = [];
  for (let i = 0; i < n; i++) {
    batch.push(
      JSON.stringify({
        id: `d${i}`,
        title: `Person ${i}`,
        text: `Person ${i} was born in City ${i % 977} in ${1800 + (i % 200)}. They studied at University ${i % 313} and worked for Company ${i % 541}.`,
      }),
    );
    if (batch.length === 5000) {
      await handle.write(`${batch.join('\n')}\n`);
      batch.length = 0;
    }
  }
  if (batch.length) await handle.write(`${batch.join('\n')}\n`);
  await handle.close();
}

async function studyRun(url: string, concurrency: number, corpus: string, out: string) {
  const { generator, stats } = timed(
    createOpenAICompatibleGenerator({ model: 'bench', baseUrl: url, maxConnections: concurrency }),
  );
  await runStudy({
    corpus,
    out,
    method: 'qa',
    generator,
    chunkCounter: tiktokenCounter(),
    concurrency,
    minWords: 1,
    noCache: process.env.BENCH_NO_CACHE === '1',
    log: () => undefined,
    progressStream: { write: () => true, isTTY: false },
  });
  await generator.close();
  return stats;
}

function median<T extends { rps: number }>(runs: T[]): T {
  return [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)] as T;
}

const rate = (s: { requests: number; tokens: number; first: number; last: number }) => {
  const seconds = (s.last - s.first) / 1000;
  return { rps: s.requests / seconds, tps: s.tokens / seconds, seconds };
};

const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ar-bench-'));
const { url, child } = await startServer(latencyMs);
const rows: string[] = [];
try {
  const corpus = path.join(work, 'corpus.jsonl');
  const maxRequests = Math.max(requestsPerLevel, ...levels.map((c) => c * 20));
  await writeCorpus(corpus, maxRequests);
  console.log(
    `latency ${latencyMs} ms; node ${process.version}; ${os.cpus().length} cores; ` +
      (pinning() ? 'client pinned to core 0, server to core 1' : 'no core pinning (taskset unavailable)'),
  );
  console.log(
    '| concurrency | requests | ceiling req/s | study req/s | ceiling tok/s | study tok/s | study / ceiling |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const c of levels) {
    // Enough requests for a few seconds of steady state at each level (c=1 is latency-bound).
    const n = c === 1 ? Math.min(200, requestsPerLevel) : Math.max(requestsPerLevel, c * 20);
    const levelCorpus = path.join(work, `corpus-${c}.jsonl`);
    const lines = (await fs.readFile(corpus, 'utf8')).split('\n').slice(0, n).join('\n');
    await fs.writeFile(levelCorpus, `${lines}\n`);
    await ceiling(url, c, levelCorpus, Math.min(200, n)); // warm-up: connections and JIT
    // Alternate the two `repeats` times and keep the median of each, so drift on a busy machine hits both.
    const bases: Array<ReturnType<typeof rate>> = [];
    const oursAll: Array<ReturnType<typeof rate>> = [];
    for (let r = 0; r < repeats; r++) {
      bases.push(rate(await ceiling(url, c, levelCorpus, n)));
      oursAll.push(rate(await studyRun(url, c, levelCorpus, path.join(work, `run-${c}-${r}`))));
    }
    const base = median(bases);
    const ours = median(oursAll);
    const row = `| ${c} | ${n} | ${base.rps.toFixed(0)} | ${ours.rps.toFixed(0)} | ${base.tps.toFixed(0)} | ${ours.tps.toFixed(0)} | ${(ours.rps / base.rps).toFixed(3)} |`;
    rows.push(row);
    console.log(row);
  }

  if (!values['skip-memory']) {
    const chunks = Number(values['memory-chunks']);
    const memCorpus = path.join(work, 'memory-corpus.jsonl');
    await writeCorpus(memCorpus, chunks);
    const out = path.join(work, 'memory-run');
    const started = performance.now();
    const proc = spawn(
      process.execPath,
      [
        '--require',
        path.join(root, 'bench/report-rss.cjs'),
        path.join(root, 'dist/cli/main.js'),
        'study',
        '--corpus',
        memCorpus,
        '--out',
        out,
        '--method',
        'qa',
        '--model',
        'bench',
        '--base-url',
        url,
        '--concurrency',
        '64',
        '--min-words',
        '1',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(proc, 'exit')) as [number];
    const maxRss = Number(/MAXRSS_KB (\d+)/.exec(stderr)?.[1] ?? NaN) / 1024;
    const manifest = JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8')) as {
      counts: { records: Record<string, number> };
    };
    console.log(
      `memory: ${chunks} chunks, exit ${code}, ${manifest.counts.records.qa} records, peak RSS ${maxRss.toFixed(0)} MB, ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
  }
} finally {
  child.kill('SIGTERM');
  await fs.rm(work, { recursive: true, force: true });
}

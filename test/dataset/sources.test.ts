import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StudyRecord } from '../../src/dataset/record.js';
import { StudyShardWriter } from '../../src/dataset/shards.js';
import { batchesFrom, batchPlan, IGNORE_INDEX } from '../../src/dataset/batches.js';
import { mixSources } from '../../src/dataset/mixing.js';
import { packSequences } from '../../src/dataset/packing.js';
import type { TextTokenizer } from '../../src/engine/tokenizer/types.js';
import {
  jsonlSource,
  openSource,
  renderChatPrompt,
  studyRunSource,
  textFileSource,
  type Doc,
  type DocSource,
  type SourceIssue,
} from '../../src/dataset/sources.js';

let dir: string;

function record(i: number, method: StudyRecord['metadata']['method'] = 'ar'): StudyRecord {
  return {
    request: {
      messages: [
        { role: 'system', content: 'You study documents.' },
        { role: 'user', content: `Apply strategy ${i} to the document.` },
      ],
    },
    response: { text: `Generated study text ${i}.` },
    metadata: { doc_id: 'doc-a', title: 'A', chunk_index: 0, total_chunks: 1, rep: 0, strategy: i, method },
    stats: { prompt_tokens: 10, completion_tokens: 5 },
  };
}

async function collect(source: DocSource): Promise<Doc[]> {
  const docs: Doc[] = [];
  for await (const d of source) docs.push(d);
  return docs;
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dataset-sources-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('studyRunSource', () => {
  it("reads a run directory's study shards in 'response' and 'chat' modes", async () => {
    const run = path.join(dir, 'run1');
    const writer = await StudyShardWriter.open(path.join(run, 'study'), 2);
    for (let i = 0; i < 3; i++) writer.append(record(i));
    writer.append(record(3, 'qa'));
    writer.close();
    expect((await fs.readdir(path.join(run, 'study'))).sort()).toEqual([
      'shard-00000.jsonl',
      'shard-00001.jsonl',
    ]);

    const responses = studyRunSource(run);
    expect(await collect(responses)).toEqual(
      [0, 1, 2, 3].map((i) => ({ text: `Generated study text ${i}.` })),
    );
    expect(responses.summary).toMatchObject({ files: 2, documents: 4, skipped: 0 });

    const chat = await collect(studyRunSource(run, { include: 'chat' }));
    expect(chat[0]).toEqual({
      prompt: 'System: You study documents.\n\nUser: Apply strategy 0 to the document.\n\nAssistant: ',
      text: 'Generated study text 0.',
    });
    expect(chat[0]?.prompt).toBe(renderChatPrompt(record(0).request.messages));

    expect(await collect(studyRunSource(run, { methods: ['qa'] }))).toEqual([
      { text: 'Generated study text 3.' },
    ]);
    // the study directory itself works too, and openSource recognises the run directory
    expect((await collect(studyRunSource(path.join(run, 'study')))).length).toBe(4);
    const opened = await openSource(run);
    expect(opened.kind).toBe('study');
    expect((await collect(opened)).length).toBe(4);
  });

  it('skips bad lines naming file and line, and ignores a torn last line', async () => {
    const run = path.join(dir, 'run2');
    const study = path.join(run, 'study');
    await fs.mkdir(study, { recursive: true });
    const shard = path.join(study, 'shard-00000.jsonl');
    const lines = [
      JSON.stringify(record(0)),
      '{not json',
      JSON.stringify({ hello: 'world' }),
      '',
      JSON.stringify(record(1)),
      '{"request": {"mess', // torn: no newline after it
    ];
    await fs.writeFile(shard, lines.join('\n'));
    const issues: SourceIssue[] = [];
    const source = studyRunSource(run, { onIssue: (i) => issues.push(i) });
    expect((await collect(source)).map((d) => d.text)).toEqual([
      'Generated study text 0.',
      'Generated study text 1.',
    ]);
    expect(source.summary.skipped).toBe(2);
    expect(source.summary.issues).toEqual(issues);
    expect(issues[0]).toMatchObject({ source: shard, line: 2 });
    expect(issues[0]?.reason).toMatch(/not valid JSON/);
    expect(issues[1]).toEqual({ source: shard, line: 3, reason: 'not a study record (no response.text)' });
    // iterating again resets the summary
    await collect(source);
    expect(source.summary.skipped).toBe(2);
  });

  it('fails clearly for a directory without study shards', async () => {
    const empty = path.join(dir, 'not-a-run');
    await fs.mkdir(empty, { recursive: true });
    await expect(collect(studyRunSource(empty))).rejects.toThrow(/not a run directory/);
    await expect(openSource(empty)).rejects.toThrow(/run directory/);
    await expect(openSource(path.join(dir, 'missing.jsonl'))).rejects.toThrow(/no such file/);
  });
});

describe('jsonlSource', () => {
  it('reads text, prompt and chat lines and reports bad ones as file:line', async () => {
    const file = path.join(dir, 'data.jsonl');
    await fs.writeFile(
      file,
      [
        JSON.stringify({ text: 'plain document' }),
        JSON.stringify({ prompt: 'Q?', text: 'A.' }),
        JSON.stringify({
          messages: [
            { role: 'user', content: 'hi' },
            { role: 'assistant', content: 'hello' },
          ],
        }),
        JSON.stringify({ messages: [{ role: 'user', content: 'no answer' }] }),
        'garbage',
        JSON.stringify({ text: 5 }),
        JSON.stringify({ response: { text: 'a study record' } }),
      ].join('\r\n') + '\r\n',
    );
    const source = await openSource(file);
    expect(source.kind).toBe('jsonl');
    expect(await collect(source)).toEqual([
      { text: 'plain document' },
      { prompt: 'Q?', text: 'A.' },
      { prompt: 'User: hi\n\nAssistant: ', text: 'hello' },
      { text: 'a study record' },
    ]);
    expect(source.summary.documents).toBe(4);
    expect(source.summary.issues.map((i) => `${path.basename(i.source)}:${i.line}`)).toEqual([
      'data.jsonl:4',
      'data.jsonl:5',
      'data.jsonl:6',
    ]);
    expect(source.summary.issues[0]?.reason).toMatch(/assistant/);
  });

  it('caps stored issues but counts all', async () => {
    const file = path.join(dir, 'bad.jsonl');
    await fs.writeFile(file, 'x\n'.repeat(20));
    const source = jsonlSource(file, { maxStoredIssues: 5 });
    expect(await collect(source)).toEqual([]);
    expect(source.summary.skipped).toBe(20);
    expect(source.summary.issues.length).toBe(5);
  });
});

describe('textFileSource', () => {
  it('splits on blank lines, or takes the whole file', async () => {
    const file = path.join(dir, 'replay.txt');
    await fs.writeFile(file, 'first doc\nline two\n\n\n  \nsecond doc\n\nthird');
    const source = await openSource(file);
    expect(source.kind).toBe('text');
    expect(await collect(source)).toEqual([
      { text: 'first doc\nline two' },
      { text: 'second doc' },
      { text: 'third' },
    ]);
    expect(await collect(textFileSource(file, { split: 'file' }))).toEqual([
      { text: 'first doc\nline two\n\n\n  \nsecond doc\n\nthird' },
    ]);
    const md = path.join(dir, 'notes.md');
    await fs.writeFile(md, '# Title\n\nBody.\n');
    expect((await collect(await openSource(md))).length).toBe(2);
    await fs.writeFile(path.join(dir, 'data.csv'), 'a,b\n');
    await expect(openSource(path.join(dir, 'data.csv'))).rejects.toThrow(/unsupported data file/);
  });
});

describe('pipeline', () => {
  it('packs a run directory in chat mode with replay text, mixes 90/10 and batches with masked prompts', async () => {
    const tok: TextTokenizer = {
      vocabSize: 258,
      eosId: 256,
      bosId: 257,
      encode: (text) => Array.from(Buffer.from(text, 'utf8')),
      decode: (ids) => Buffer.from(Array.from(ids).filter((id) => id < 256)).toString('utf8'),
    };
    const run = path.join(dir, 'run3');
    const writer = await StudyShardWriter.open(path.join(run, 'study'));
    for (let i = 0; i < 40; i++) writer.append(record(i));
    writer.close();
    const replayFile = path.join(dir, 'replay3.txt');
    await fs.writeFile(
      replayFile,
      Array.from({ length: 200 }, (_, i) => `replay paragraph ${i}`).join('\n\n'),
    );
    const study = await packSequences(await openSource(run, { include: 'chat' }), tok, { seqLen: 64 });
    const replay = await packSequences(await openSource(replayFile), tok, { seqLen: 64 });
    const mix = mixSources(
      [
        { name: 'study', windows: study, share: 0.9 },
        { name: 'replay', windows: replay, share: 0.1 },
      ],
      { seed: 42 },
    );
    expect(mix.report[0]?.epochs).toBe(1);
    const batches = [...batchesFrom(batchPlan(mix, { batchSize: 4 }))];
    const all = batches.flatMap((b) => Array.from(b.targets));
    expect(all.filter((t) => t === IGNORE_INDEX).length).toBeGreaterThan(0);
    // no prompt text ever appears among the trained targets
    const trained = tok.decode(all.filter((t) => t !== IGNORE_INDEX));
    expect(trained).toContain('Generated study text');
    expect(trained).toContain('replay paragraph');
    expect(trained).not.toContain('System:');
    expect(trained).not.toContain('Apply strategy');
  });
});

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StudyShardWriter } from '../../src/dataset/shards.js';
import type { StudyRecord } from '../../src/dataset/record.js';
import { openSync, closeSync } from 'node:fs';
import { JsonlAppendLog, readLineAt, scanJsonl } from '../../src/runtime/jsonl-log.js';
import { tempDir } from '../helpers/study-fixtures.js';

describe('scanJsonl', () => {
  it('names the file and line of a line that is not JSON', async () => {
    const file = path.join(await tempDir(), 'bad.jsonl');
    await fs.writeFile(file, '{"x":1}\n\nnot json\n');
    const out: unknown[] = [];
    await expect(scanJsonl(file, (r) => out.push(r))).rejects.toThrow(`${file}:3: not valid JSON`);
    expect(out).toEqual([{ x: 1 }]);
  });
});

describe('JsonlAppendLog', () => {
  it('cuts a torn last line on open and keeps every whole line', async () => {
    const file = path.join(await tempDir(), 'log.jsonl');
    const log = JsonlAppendLog.open(file);
    log.append({ a: 1 });
    log.append({ a: 2 });
    log.close();
    await fs.appendFile(file, '{"a": 3, "tor'); // a write cut short by kill -9
    const reopened = JsonlAppendLog.open(file);
    expect(reopened.lineCount).toBe(2);
    const offset = reopened.append({ a: 4 });
    reopened.close();
    const seen: unknown[] = [];
    await scanJsonl(file, (r) => seen.push(r));
    expect(seen).toEqual([{ a: 1 }, { a: 2 }, { a: 4 }]);
    const fd = openSync(file, 'r');
    expect(JSON.parse(readLineAt(fd, offset, Buffer.alloc(4)))).toEqual({ a: 4 }); // lines longer than the buffer too
    closeSync(fd);
  });
});

function record(i: number, method: 'qa' | 'ar' = 'qa'): StudyRecord {
  return {
    request: { messages: [{ role: 'user', content: `q${i}` }] },
    response: { text: `answer ${i}` },
    metadata: { doc_id: `d${i}`, title: 't', chunk_index: 0, total_chunks: 1, rep: 0, strategy: 0, method },
    stats: { prompt_tokens: 3, completion_tokens: 2 },
  };
}

describe('StudyShardWriter', () => {
  it('rotates shards, refuses duplicates and rebuilds its state on reopen', async () => {
    const dir = path.join(await tempDir(), 'study');
    const writer = await StudyShardWriter.open(dir, 3);
    for (let i = 0; i < 7; i++) expect(writer.append(record(i))).toBe(true);
    expect(writer.append(record(2))).toBe(false);
    writer.close();
    expect((await fs.readdir(dir)).sort()).toEqual([
      'shard-00000.jsonl',
      'shard-00001.jsonl',
      'shard-00002.jsonl',
    ]);

    await fs.appendFile(path.join(dir, 'shard-00002.jsonl'), '{"request":');
    const again = await StudyShardWriter.open(dir, 3);
    expect(again.totals.get('qa')).toEqual({ records: 7, completionTokens: 14 });
    expect(again.append(record(6))).toBe(false);
    expect(again.append(record(7))).toBe(true);
    again.close();
    const text = await fs.readFile(path.join(dir, 'shard-00002.jsonl'), 'utf8');
    expect(
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).metadata.doc_id),
    ).toEqual(['d6', 'd7']);
  });
});

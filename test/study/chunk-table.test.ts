import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsonlAppendLog } from '../../src/runtime/jsonl-log.js';
import { ChunkTable } from '../../src/study/chunk-table.js';
import { tempDir } from '../helpers/study-fixtures.js';

async function table(n: number): Promise<ChunkTable> {
  const file = path.join(await tempDir(), 'chunks.jsonl');
  const log = JsonlAppendLog.open(file);
  for (let i = 0; i < n; i++) {
    log.append({
      doc_id: `d${i}`,
      title: 'T',
      chunk_index: 0,
      total_chunks: 1,
      text: `text ${i} ${'é'.repeat(i % 7)}`,
      tokens: 3,
    });
  }
  log.close();
  return ChunkTable.open(file);
}

describe('ChunkTable', () => {
  it('reads every chunk exactly once per round, in blocks, in an order that differs by round', async () => {
    const chunks = await table(3000);
    expect(chunks.count).toBe(3000);
    expect(chunks.blockSize).toBe(46);
    const round = (seed: number, rep: number) =>
      [...chunks.blockOrder(seed, rep)].flatMap((b) =>
        chunks.readBlock(b).map((c) => Number(c.doc_id.slice(1))),
      );
    const round0 = round(0, 0);
    expect([...round0].sort((a, b) => a - b)).toEqual([...Array(3000).keys()]);
    expect(round(0, 0)).toEqual(round0);
    expect(round(0, 1)).not.toEqual(round0);
    expect(round(1, 0)).not.toEqual(round0);
    expect(chunks.readBlock(65).at(-1)?.text).toBe(`text 2999 ${'é'.repeat(2999 % 7)}`);
    expect(() => chunks.readBlock(66)).toThrow(/no block 66/);
    // The first tenth of a round is spread over the whole corpus, not its first lines.
    const firstTenth = round0.slice(0, 300);
    expect(Math.max(...firstTenth)).toBeGreaterThan(2000);
    expect(Math.min(...firstTenth)).toBeLessThan(1000);
    chunks.close();
  });

  it('handles a corpus smaller than a block', async () => {
    const chunks = await table(3);
    expect(chunks.blockSize).toBe(1);
    expect([...chunks.blockOrder(0, 0)].sort()).toEqual([0, 1, 2]);
    expect(chunks.readBlock(2)[0]?.doc_id).toBe('d2');
    chunks.close();
  });
});

import { describe, expect, it } from 'vitest';
import type { TextTokenizer } from '../../src/engine/tokenizer/types.js';
import { packSequences, type PackedWindows } from '../../src/dataset/packing.js';
import type { Doc } from '../../src/dataset/sources.js';

/** Byte-level tokenizer: ids 0..255 are utf-8 bytes, 256 = EOS, 257 = BOS. */
const tok: TextTokenizer = {
  vocabSize: 258,
  eosId: 256,
  bosId: 257,
  encode: (text) => Array.from(Buffer.from(text, 'utf8')),
  decode: (ids) => Buffer.from(Array.from(ids).filter((id) => id < 256)).toString('utf8'),
};
const EOS = 256;
const BOS = 257;

/** The stream and per-token training flags that packing should produce. */
function expectedStream(docs: Doc[], addBos = false): { ids: number[]; mask: number[] } {
  const ids: number[] = [];
  const mask: number[] = [];
  for (const d of docs) {
    if (addBos) {
      ids.push(BOS);
      mask.push(0);
    }
    for (const id of tok.encode(d.prompt ?? '')) {
      ids.push(id);
      mask.push(0);
    }
    for (const id of [...tok.encode(d.text), EOS]) {
      ids.push(id);
      mask.push(1);
    }
  }
  return { ids, mask };
}

/** Reassembles the stream from windows: the first window whole, then each window minus its shared first token. */
function reassemble(w: PackedWindows): { ids: number[]; mask: number[]; pad: number } {
  const ids: number[] = [];
  const mask: number[] = [];
  for (let i = 0; i < w.count; i++) {
    const from = i === 0 ? 0 : 1;
    ids.push(...w.ids(i).subarray(from));
    mask.push(...w.mask(i).subarray(from));
  }
  const pad = w.stats.padTokens;
  return { ids: ids.slice(0, ids.length - pad), mask: mask.slice(0, mask.length - pad), pad };
}

const docs: Doc[] = [
  { text: 'hello world' },
  { prompt: 'Q: why?', text: 'because' },
  { text: 'a' },
  { text: '' },
  { text: 'the last document, a bit longer than the window' },
];

describe('packSequences', () => {
  it('makes windows of seqLen + 1 ids with EOS between documents and nothing lost', async () => {
    for (const seqLen of [1, 2, 3, 7, 16, 1000]) {
      for (const addBos of [false, true]) {
        const w = await packSequences(docs, tok, { seqLen, addBos, chunkWindows: 3 });
        const want = expectedStream(
          docs.filter((d) => d.text || d.prompt),
          addBos,
        );
        for (let i = 0; i < w.count; i++) {
          expect(w.ids(i).length).toBe(seqLen + 1);
          expect(w.mask(i).length).toBe(seqLen + 1);
        }
        const got = reassemble(w);
        expect(got.ids).toEqual(want.ids);
        expect(got.mask).toEqual(want.mask);
        expect(w.stats.streamTokens).toBe(want.ids.length);
        expect(w.count).toBe(Math.ceil((want.ids.length - 1) / seqLen));
        expect(w.stats.emptyDocuments).toBe(1);
        expect(w.stats.documents).toBe(4);
        // Every token after the first is a target exactly once.
        expect(w.stats.trainTargets + w.stats.promptTargets).toBe(want.ids.length - 1);
        expect(w.stats.trainTargets).toBe(want.mask.slice(1).filter((m) => m === 1).length);
      }
    }
  });

  it('separates documents with EOS and decodes back', async () => {
    const w = await packSequences([{ text: 'ab' }, { text: 'cd' }], tok, { seqLen: 5 });
    expect(w.count).toBe(1);
    expect(Array.from(w.ids(0))).toEqual([97, 98, EOS, 99, 100, EOS]);
    expect(Array.from(w.mask(0))).toEqual([1, 1, 1, 1, 1, 1]);
    expect(w.stats.padTokens).toBe(0);
  });

  it('shifts targets by one: consecutive windows share one token', async () => {
    const w = await packSequences([{ text: 'abcdefghij' }], tok, { seqLen: 4 });
    // stream: a b c d e f g h i j EOS (11 tokens) -> windows [a..e] [e..i] [i j EOS pad pad]
    expect(w.count).toBe(3);
    expect(tok.decode(w.ids(0))).toBe('abcde');
    expect(tok.decode(w.ids(1))).toBe('efghi');
    expect(Array.from(w.ids(2))).toEqual([105, 106, EOS, EOS, EOS]);
    expect(Array.from(w.mask(2))).toEqual([1, 1, 1, 0, 0]);
    expect(w.stats.padTokens).toBe(2);
  });

  it('masks prompt tokens, BOS and padding', async () => {
    const w = await packSequences([{ prompt: 'xy', text: 'z' }], tok, { seqLen: 7, addBos: true });
    expect(Array.from(w.ids(0))).toEqual([BOS, 120, 121, 122, EOS, EOS, EOS, EOS]);
    expect(Array.from(w.mask(0))).toEqual([0, 0, 0, 1, 1, 0, 0, 0]);
    expect(w.stats.trainTargets).toBe(2);
    expect(w.stats.promptTargets).toBe(2);
    expect(w.stats.padTokens).toBe(3);
  });

  it('drops a trailing window that would hold no targets', async () => {
    // stream of exactly seqLen + 1 tokens: one full window, no partial one
    const w = await packSequences([{ text: 'abc' }], tok, { seqLen: 3 });
    expect(w.count).toBe(1);
    expect(w.stats.padTokens).toBe(0);
  });

  it('streams async iterables and stops at maxWindows', async () => {
    async function* many(): AsyncGenerator<Doc> {
      for (let i = 0; i < 1000; i++) yield { text: `document number ${i}` };
    }
    const w = await packSequences(many(), tok, { seqLen: 32, maxWindows: 5 });
    expect(w.count).toBe(5);
    expect(w.stats.truncated).toBe(true);
    const full = await packSequences(many(), tok, { seqLen: 32 });
    expect(full.stats.truncated).toBe(false);
    expect(full.bytes).toBe(full.count * 33 * 5); // Int32 ids + Uint8 mask, trimmed
    for (let i = 0; i < 5; i++) expect(Array.from(w.ids(i))).toEqual(Array.from(full.ids(i)));
  });

  it('packs the documents in a seeded random order with shuffleSeed, all of them, each whole', async () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ text: `doc ${i}` }));
    const split = (w: PackedWindows) =>
      tok
        .decode(reassemble(w).ids.map((id) => (id === EOS ? 10 : id)))
        .split('\n')
        .filter(Boolean);
    const inOrder = split(await packSequences(many, tok, { seqLen: 16 }));
    expect(inOrder).toEqual(many.map((d) => d.text));
    const a = split(await packSequences(many, tok, { seqLen: 16, shuffleSeed: 1 }));
    expect(a).not.toEqual(inOrder);
    expect([...a].sort()).toEqual([...inOrder].sort());
    expect(split(await packSequences(many, tok, { seqLen: 16, shuffleSeed: 1 }))).toEqual(a);
    expect(split(await packSequences(many, tok, { seqLen: 16, shuffleSeed: 2 }))).not.toEqual(a);
  });

  it('with shuffleSeed and maxWindows, shuffles only the documents that fill the windows', async () => {
    let read = 0;
    async function* many(): AsyncGenerator<Doc> {
      for (let i = 0; i < 1000; i++) {
        read++;
        yield { text: `document number ${i}` };
      }
    }
    const w = await packSequences(many(), tok, { seqLen: 32, maxWindows: 5, shuffleSeed: 3 });
    expect(w.count).toBe(5);
    expect(w.stats.truncated).toBe(true);
    expect(read).toBeLessThan(20);
  });

  it('returns no windows for no documents and rejects bad options', async () => {
    expect((await packSequences([], tok, { seqLen: 8 })).count).toBe(0);
    await expect(packSequences([], tok, { seqLen: 0 })).rejects.toThrow(/seqLen/);
    await expect(
      packSequences([], { ...tok, bosId: undefined }, { seqLen: 4, addBos: true }),
    ).rejects.toThrow(/BOS/);
  });
});

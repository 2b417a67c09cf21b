import { describe, expect, it } from 'vitest';
import type { TextTokenizer } from '../../src/engine/tokenizer/types.js';
import { batchAt, batchesFrom, batchPlan, IGNORE_INDEX } from '../../src/dataset/batches.js';
import {
  apportion,
  describeMix,
  mixFingerprint,
  mixSources,
  type MixPlan,
} from '../../src/dataset/mixing.js';
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

const SEQ = 8;

/** Exactly `n` windows: each document fills one window (SEQ + 1 tokens incl. EOS minus the shared one). */
async function windowsOf(prefix: string, n: number, prompt = false): Promise<PackedWindows> {
  const docs: Doc[] = [];
  for (let i = 0; i < n; i++) {
    const body = `${prefix}${i}`.padEnd(SEQ - 1, '.').slice(0, SEQ - 1);
    docs.push(prompt ? { prompt: body.slice(0, 3), text: body.slice(3) } : { text: body });
  }
  const w = await packSequences(docs, tok, { seqLen: SEQ });
  expect(w.count).toBe(n);
  return w;
}

function order(plan: MixPlan): string[] {
  return Array.from({ length: plan.length }, (_, i) => `${plan.sourceOf[i]}:${plan.windowOf[i]}`);
}

describe('mixSources', () => {
  it('gives each source its share within one window, deterministically per seed', async () => {
    const study = await windowsOf('s', 300);
    const replay = await windowsOf('r', 5000);
    const inputs = [
      { name: 'study', windows: study, share: 0.9 },
      { name: 'replay', windows: replay, share: 0.1 },
    ];
    const plan = mixSources(inputs, { totalWindows: 1000, seed: 7 });
    expect(plan.length).toBe(1000);
    const counts = [0, 0];
    for (const s of plan.sourceOf) counts[s] = (counts[s] as number) + 1;
    expect(Math.abs((counts[0] as number) - 900)).toBeLessThanOrEqual(1);
    expect(Math.abs((counts[1] as number) - 100)).toBeLessThanOrEqual(1);
    // every window of a 100-window prefix has its share within a few windows (it is shuffled, not blocked)
    const early = Array.from(plan.sourceOf.subarray(0, 100)).filter((s) => s === 1).length;
    expect(early).toBeGreaterThan(0);
    expect(early).toBeLessThan(30);

    // repetition reported: study 900 of 300 -> 3 epochs; replay subsampled
    const [s, r] = plan.report;
    expect(s).toMatchObject({
      name: 'study',
      available: 300,
      used: 900,
      epochs: 3,
      passes: 3,
      repeatedWindows: 600,
    });
    expect(r).toMatchObject({ name: 'replay', available: 5000, used: 100, passes: 1, repeatedWindows: 0 });
    expect(r?.epochs).toBeCloseTo(0.02);
    expect(describeMix(plan)).toContain(
      'study: share 0.900, 900 windows from 300 (3.00 epochs, 600 repeated)',
    );

    // each study window appears exactly 3 times; replay windows at most once
    const seen = new Map<string, number>();
    for (const key of order(plan)) seen.set(key, (seen.get(key) ?? 0) + 1);
    for (let w = 0; w < 300; w++) expect(seen.get(`0:${w}`)).toBe(3);
    for (const [key, n] of seen) if (key.startsWith('1:')) expect(n).toBe(1);

    // deterministic per seed, different for another seed
    expect(order(mixSources(inputs, { totalWindows: 1000, seed: 7 }))).toEqual(order(plan));
    expect(order(mixSources(inputs, { totalWindows: 1000, seed: 8 }))).not.toEqual(order(plan));
    expect(mixFingerprint(mixSources(inputs, { totalWindows: 1000, seed: 7 }))).toBe(mixFingerprint(plan));
    expect(mixFingerprint(mixSources(inputs, { totalWindows: 1000, seed: 8 }))).not.toBe(
      mixFingerprint(plan),
    );
    const changed = [inputs[0]!, { ...inputs[1]!, windows: await windowsOf('R', 5000) }];
    expect(mixFingerprint(mixSources(changed, { totalWindows: 1000, seed: 7 }))).not.toBe(
      mixFingerprint(plan),
    );

    // window() resolves to the source's data
    const first = plan.window(0);
    const src = first.source === 0 ? study : replay;
    expect(Array.from(first.ids)).toEqual(Array.from(src.ids(plan.windowOf[0] as number)));
  });

  it('defaults the total to one epoch of the main source', async () => {
    const study = await windowsOf('s', 90);
    const replay = await windowsOf('r', 3);
    const plan = mixSources(
      [
        { name: 'study', windows: study, share: 9 },
        { name: 'replay', windows: replay, share: 1 },
      ],
      { seed: 1 },
    );
    expect(plan.length).toBe(100);
    expect(plan.report.map((r) => r.used)).toEqual([90, 10]);
    expect(plan.report[0]?.epochs).toBe(1);
    expect(plan.report[1]).toMatchObject({ passes: 4, repeatedWindows: 7 });
  });

  it('apportions exactly and rejects bad inputs', async () => {
    expect(apportion(1000, [0.9, 0.1])).toEqual([900, 100]);
    expect(apportion(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(apportion(7, [0.5, 0.5]).reduce((a, b) => a + b)).toBe(7);
    const a = await windowsOf('a', 4);
    const empty = await packSequences([], tok, { seqLen: SEQ });
    const other = await packSequences([{ text: 'x' }], tok, { seqLen: 4 });
    expect(() => mixSources([], { seed: 1 })).toThrow(/no sources/);
    expect(() => mixSources([{ name: 'e', windows: empty, share: 1 }], { seed: 1 })).toThrow(/no windows/);
    expect(() =>
      mixSources(
        [
          { name: 'a', windows: a, share: 1 },
          { name: 'o', windows: other, share: 1 },
        ],
        { seed: 1 },
      ),
    ).toThrow(/seqLen/);
  });
});

describe('batches', () => {
  async function plan(): Promise<MixPlan> {
    return mixSources(
      [
        { name: 'study', windows: await windowsOf('s', 37, true), share: 0.8 },
        { name: 'replay', windows: await windowsOf('r', 11), share: 0.2 },
      ],
      { totalWindows: 50, seed: 3 },
    );
  }

  it('yields inputs and shifted targets with -100 where masked', async () => {
    const mix = await plan();
    const bp = batchPlan(mix, { batchSize: 4 });
    expect(bp.totalSteps).toBe(13);
    const b = batchAt(bp, 0);
    expect(b.ids.length).toBe(4 * SEQ);
    expect(b.targets.length).toBe(4 * SEQ);
    let trained = 0;
    for (let r = 0; r < 4; r++) {
      const w = mix.window(r);
      for (let t = 0; t < SEQ; t++) {
        expect(b.ids[r * SEQ + t]).toBe(w.ids[t]);
        expect(b.targets[r * SEQ + t]).toBe(w.mask[t + 1] ? w.ids[t + 1] : IGNORE_INDEX);
        if (w.mask[t + 1]) trained++;
      }
    }
    expect(b.trainTargets).toBe(trained);
    // prompt-formatted study windows have masked targets
    expect(Array.from(b.targets).some((t) => t === IGNORE_INDEX)).toBe(true);
    // the last batch is short (50 = 12 * 4 + 2), or dropped
    expect(batchAt(bp, 12).batch).toBe(2);
    expect(batchPlan(mix, { batchSize: 4, dropLast: true }).totalSteps).toBe(12);
  });

  it('resumes: batches from step k equal the kth onward of a full iteration', async () => {
    const mix = await plan();
    const bp = batchPlan(mix, { batchSize: 3, epochs: 3 });
    expect(bp.totalSteps).toBe(50);
    const full = [...batchesFrom(bp)];
    expect(full.length).toBe(50);
    for (const k of [0, 1, 16, 17, 33, 49, 50]) {
      const resumed = [...batchesFrom(batchPlan(await plan(), { batchSize: 3, epochs: 3 }), k)];
      expect(resumed.length).toBe(50 - k);
      resumed.forEach((b, i) => {
        const want = full[k + i];
        expect(b.step).toBe(k + i);
        expect(Array.from(b.ids)).toEqual(Array.from(want?.ids ?? []));
        expect(Array.from(b.targets)).toEqual(Array.from(want?.targets ?? []));
      });
    }
  });

  it('covers every mix position once per epoch, in a new order each epoch', async () => {
    const mix = await plan();
    const bp = batchPlan(mix, { batchSize: 5, epochs: 2 });
    const batches = [...batchesFrom(bp)];
    expect(batches.map((b) => b.epoch)).toEqual([...Array(10).fill(0), ...Array(10).fill(1)]);
    const rows = (e: number): string[] =>
      batches
        .filter((b) => b.epoch === e)
        .flatMap((b) =>
          Array.from({ length: b.batch }, (_, r) =>
            Array.from(b.ids.subarray(r * SEQ, (r + 1) * SEQ)).join(','),
          ),
        );
    const e0 = rows(0);
    const e1 = rows(1);
    expect(e1).not.toEqual(e0);
    expect([...e1].sort()).toEqual([...e0].sort());
  });
});

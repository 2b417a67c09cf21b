import { Rng } from '../engine/rng.js';
import type { PackedWindows } from './packing.js';

export interface MixInput {
  name: string;
  windows: PackedWindows;
  /** Share of the mix's tokens (windows all have the same length, so also its share of windows). */
  share: number;
}

export interface MixOptions {
  /**
   * Windows in the mix. Default: one epoch of the source with the largest share (that source's windows divided
   * by its share), so the main data is seen once and the others are subsampled or repeated to their shares.
   */
  totalWindows?: number;
  seed: number;
}

/** How a source was used in the mix. */
export interface MixSourceReport {
  name: string;
  /** Normalised share asked for. */
  share: number;
  /** Windows the source has. */
  available: number;
  /** Windows it contributes to the mix (share × total, rounded so the shares sum exactly). */
  used: number;
  /** used / available: below 1 the source was subsampled, above 1 it was repeated. */
  epochs: number;
  /** Passes over the source begun (ceil(epochs)); each pass is a fresh permutation. */
  passes: number;
  /** Windows that appear more than once (used - available, when positive). */
  repeatedWindows: number;
}

/** A deterministic, shuffled order of windows drawn from several sources. */
export interface MixPlan {
  readonly seqLen: number;
  readonly seed: number;
  readonly length: number;
  readonly sources: readonly MixInput[];
  readonly report: readonly MixSourceReport[];
  /** Source index of each position. */
  readonly sourceOf: Uint16Array;
  /** Window index (within its source) of each position. */
  readonly windowOf: Uint32Array;
  /** Ids and mask (seqLen + 1 each) of position i of the mix. */
  window(i: number): { ids: Int32Array; mask: Uint8Array; source: number };
}

/** Fisher-Yates shuffle in place with a seeded generator. */
export function shuffleInPlace(array: { length: number; [i: number]: number }, rng: Rng): void {
  for (let i = array.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = array[i] as number;
    array[i] = array[j] as number;
    array[j] = t;
  }
}

/** Splits `total` into integers proportional to `shares` (largest remainder; ties to the earlier source). */
export function apportion(total: number, shares: readonly number[]): number[] {
  const sum = shares.reduce((a, b) => a + b, 0);
  const exact = shares.map((s) => (total * s) / sum);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    counts[i] = (counts[i] as number) + 1;
    left--;
  }
  return counts;
}

/** Derives an independent 32-bit seed for a purpose (so per-source and per-epoch streams do not correlate). */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let h = (seed >>> 0) ^ 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
    h = (h ^ (h >>> 15)) >>> 0;
    h = Math.imul(h, 0x2c1b3c6d) >>> 0;
  }
  return h >>> 0;
}

/**
 * Mixes packed sources by token share, e.g. study data 0.9 + replay text 0.1. Each source contributes
 * round(share × total) windows (exact to ±1 window; the counts sum to the total): a source with fewer windows is
 * repeated (a fresh seeded permutation per pass), one with more is subsampled (a seeded selection). The whole
 * mix is then shuffled with the seed, so every position is a deterministic function of (sources, shares, total,
 * seed).
 */
export function mixSources(inputs: readonly MixInput[], options: MixOptions): MixPlan {
  if (inputs.length === 0) throw new Error('mixSources: no sources');
  if (inputs.length > 0xffff) throw new Error('mixSources: too many sources');
  const seqLen = (inputs[0] as MixInput).windows.seqLen;
  for (const s of inputs) {
    if (!(s.share >= 0) || !Number.isFinite(s.share)) throw new Error(`source ${s.name}: share must be >= 0`);
    if (s.windows.seqLen !== seqLen) {
      throw new Error(`source ${s.name}: seqLen ${s.windows.seqLen} differs from ${seqLen}`);
    }
    if (s.share > 0 && s.windows.count === 0) throw new Error(`source ${s.name}: no windows (empty source?)`);
  }
  const shareSum = inputs.reduce((a, s) => a + s.share, 0);
  if (!(shareSum > 0)) throw new Error('mixSources: shares sum to 0');
  const shares = inputs.map((s) => s.share / shareSum);

  let total = options.totalWindows;
  if (total === undefined) {
    let main = 0;
    shares.forEach((s, i) => {
      if (s > (shares[main] as number)) main = i;
    });
    total = Math.round((inputs[main] as MixInput).windows.count / (shares[main] as number));
  }
  if (!Number.isInteger(total) || total < 0)
    throw new Error(`totalWindows must be an integer >= 0, got ${total}`);
  if (total > 0xffffffff) throw new Error('totalWindows too large');

  const used = apportion(total, shares);
  const sourceOf = new Uint16Array(total);
  const windowOf = new Uint32Array(total);
  const report: MixSourceReport[] = [];
  let at = 0;
  inputs.forEach((s, si) => {
    const n = used[si] as number;
    const available = s.windows.count;
    const rng = new Rng(deriveSeed(options.seed, 1, si));
    const perm = new Uint32Array(available);
    let passes = 0;
    for (let taken = 0; taken < n;) {
      for (let w = 0; w < available; w++) perm[w] = w;
      shuffleInPlace(perm, rng);
      passes++;
      const take = Math.min(available, n - taken);
      sourceOf.fill(si, at, at + take);
      windowOf.set(perm.subarray(0, take), at);
      at += take;
      taken += take;
    }
    report.push({
      name: s.name,
      share: shares[si] as number,
      available,
      used: n,
      epochs: available > 0 ? n / available : 0,
      passes,
      repeatedWindows: Math.max(0, n - available),
    });
  });

  // One permutation of positions, applied to both arrays.
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  shuffleInPlace(order, new Rng(deriveSeed(options.seed, 2)));
  const mixedSource = new Uint16Array(total);
  const mixedWindow = new Uint32Array(total);
  for (let i = 0; i < total; i++) {
    const from = order[i] as number;
    mixedSource[i] = sourceOf[from] as number;
    mixedWindow[i] = windowOf[from] as number;
  }

  return {
    seqLen,
    seed: options.seed,
    length: total,
    sources: inputs,
    report,
    sourceOf: mixedSource,
    windowOf: mixedWindow,
    window(i: number) {
      if (!Number.isInteger(i) || i < 0 || i >= total) throw new RangeError(`mix position ${i} out of range`);
      const source = mixedSource[i] as number;
      const w = (inputs[source] as MixInput).windows;
      const index = mixedWindow[i] as number;
      return { ids: w.ids(index), mask: w.mask(index), source };
    },
  };
}

/**
 * Identifies a mix: seqLen, seed, length and each source's name, share, use and content digest. A training run
 * records it with its checkpoints; resuming with a different fingerprint means the batches would differ.
 */
export function mixFingerprint(plan: MixPlan): string {
  const parts = plan.sources.map(
    (s, i) => `${s.name}:${plan.report[i]?.share.toFixed(6)}:${plan.report[i]?.used}:${s.windows.digest()}`,
  );
  return `seq=${plan.seqLen};seed=${plan.seed};n=${plan.length};${parts.join(';')}`;
}

/** One line per source, e.g. `study: share 0.900, 900 of 900 windows (1.00 epochs)`. */
export function describeMix(plan: MixPlan): string {
  return plan.report
    .map(
      (r) =>
        `${r.name}: share ${r.share.toFixed(3)}, ${r.used} windows from ${r.available} ` +
        `(${r.epochs.toFixed(2)} epochs${r.repeatedWindows > 0 ? `, ${r.repeatedWindows} repeated` : ''})`,
    )
    .join('\n');
}

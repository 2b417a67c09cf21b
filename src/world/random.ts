import { createHash } from 'node:crypto';
import { Rng } from '../engine/rng.js';

/** A 32-bit seed from any parts: the same parts give the same stream on every machine. */
export function seedFrom(...parts: Array<string | number>): number {
  return createHash('sha256').update(JSON.stringify(parts)).digest().readUInt32BE(0);
}

/** An independent random stream per purpose, so adding draws in one place never shifts another. */
export function rngFor(...parts: Array<string | number>): Rng {
  return new Rng(seedFrom(...parts));
}

/** Integer in [lo, hi], both included. */
export function randInt(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng.next() * (hi - lo + 1));
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  if (items.length === 0) throw new Error('pick from an empty list');
  return items[Math.floor(rng.next() * items.length)] as T;
}

/** Fisher-Yates on a copy. */
export function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** `k` distinct items (all of them when k >= length), in random order. */
export function sample<T>(rng: Rng, items: readonly T[], k: number): T[] {
  return shuffled(rng, items).slice(0, Math.max(0, k));
}

import { createHash } from 'node:crypto';

/**
 * Deterministic per-request seed (31-bit, accepted by every server) from the run seed and the request's
 * coordinates, so each rep and each retry of a short output samples differently, reproducibly.
 */
export function requestSeed(baseSeed: number, ...parts: Array<string | number>): number {
  const digest = createHash('sha256')
    .update(JSON.stringify([baseSeed, ...parts]))
    .digest();
  return digest.readUInt32BE(0) & 0x7fffffff;
}

/** Deterministic shuffle (Fisher-Yates driven by sha256 of the key). */
export function seededShuffle<T>(items: T[], key: string): T[] {
  const out = items.slice();
  let state = createHash('sha256').update(key).digest();
  let cursor = 0;
  const next = () => {
    if (cursor + 4 > state.length) {
      state = createHash('sha256').update(state).digest();
      cursor = 0;
    }
    const value = state.readUInt32BE(cursor);
    cursor += 4;
    return value / 2 ** 32;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Whether `text` has at least `min` words (letters/digits runs, so CJK counts too); stops early. */
export function hasWords(text: string, min: number): boolean {
  if (min <= 0) return true;
  const word = /[\p{L}\p{N}]+/gu;
  let count = 0;
  while (word.exec(text)) if (++count >= min) return true;
  return false;
}

/** Deterministic pseudo-random floats in [-amp, amp) (a linear congruential generator seeded by `seed`). */
export function rand(n: number, seed: number, amp = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 31 - 1) * amp;
  }
  return out;
}

import { afterEach, describe, expect, it } from 'vitest';

import { defaultAddonPath, ENV_VAR, loadKernels } from '../../src/engine/kernels/index.js';
import { tsKernels } from '../../src/engine/kernels/ts-kernels.js';
import type { Kernels } from '../../src/engine/kernels/types.js';

/** Deterministic pseudo-random floats in [-1, 1). */
function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Naive reference in float64. */
function refSgemm(
  tA: boolean,
  tB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array,
  lda: number,
  B: Float32Array,
  ldb: number,
  beta: number,
  C: Float32Array,
  ldc: number,
): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let acc = 0;
      for (let k = 0; k < K; k++) {
        const a = tA ? A[k * lda + i]! : A[i * lda + k]!;
        const b = tB ? B[j * ldb + k]! : B[k * ldb + j]!;
        acc += a * b;
      }
      const c = i * ldc + j;
      C[c] = alpha * acc + (beta === 0 ? 0 : beta * C[c]!);
    }
  }
}

interface Case {
  M: number;
  N: number;
  K: number;
  alpha: number;
  beta: number;
  pad: number; // extra columns in every leading dimension (submatrix views)
}

const cases: Case[] = [
  { M: 1, N: 1, K: 1, alpha: 1, beta: 0, pad: 0 },
  { M: 7, N: 13, K: 5, alpha: 1, beta: 0, pad: 0 },
  { M: 7, N: 13, K: 5, alpha: -0.5, beta: 0.25, pad: 3 },
  { M: 13, N: 5, K: 7, alpha: 2, beta: 1, pad: 1 },
  { M: 64, N: 64, K: 64, alpha: 1, beta: 0, pad: 0 },
  // One to four rows take the ts kernels' unpacked path (decoding one token at a time).
  { M: 1, N: 37, K: 300, alpha: 1, beta: 0, pad: 2 },
  { M: 3, N: 65, K: 20, alpha: -0.5, beta: 1, pad: 1 },
  { M: 67, N: 33, K: 300, alpha: 0.75, beta: -1, pad: 5 }, // crosses the ts KC=256 and MC=64 blocks
  // Large enough for the addon to split C over its own threads: by rows, then by columns.
  { M: 300, N: 70, K: 130, alpha: 1, beta: 1, pad: 3 },
  { M: 70, N: 333, K: 100, alpha: -1, beta: 0.5, pad: 2 },
];
const transposes: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

function setup(c: Case, tA: boolean, tB: boolean, seed: number) {
  const aRows = tA ? c.K : c.M;
  const aCols = tA ? c.M : c.K;
  const bRows = tB ? c.N : c.K;
  const bCols = tB ? c.K : c.N;
  const lda = aCols + c.pad;
  const ldb = bCols + c.pad;
  const ldc = c.N + c.pad;
  return {
    A: rand(aRows * lda, seed),
    B: rand(bRows * ldb, seed + 1),
    C: rand(c.M * ldc, seed + 2),
    lda,
    ldb,
    ldc,
  };
}

function runCase(k: Kernels, c: Case, tA: boolean, tB: boolean, seed: number): Float32Array {
  const { A, B, C, lda, ldb, ldc } = setup(c, tA, tB, seed);
  k.sgemm(tA, tB, c.M, c.N, c.K, c.alpha, A, lda, B, ldb, c.beta, C, ldc);
  return C;
}

function expectClose(actual: Float32Array, expected: Float32Array, rel = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  let scale = 1e-6;
  for (const x of expected) scale = Math.max(scale, Math.abs(x));
  for (let i = 0; i < actual.length; i++) {
    const diff = Math.abs(actual[i]! - expected[i]!);
    if (diff > rel * Math.max(1, Math.abs(expected[i]!), scale * 1e-2)) {
      throw new Error(`element ${i}: got ${actual[i]}, expected ${expected[i]} (diff ${diff})`);
    }
  }
}

describe('ts sgemm', () => {
  for (const c of cases) {
    for (const [tA, tB] of transposes) {
      it(`M=${c.M} N=${c.N} K=${c.K} alpha=${c.alpha} beta=${c.beta} pad=${c.pad} transA=${tA} transB=${tB}`, () => {
        const seed = c.M * 31 + c.N * 7 + c.K;
        const got = runCase(tsKernels, c, tA, tB, seed);
        const { A, B, C, lda, ldb, ldc } = setup(c, tA, tB, seed);
        const padded = Float32Array.from(C);
        refSgemm(tA, tB, c.M, c.N, c.K, c.alpha, A, lda, B, ldb, c.beta, C, ldc);
        expectClose(got, C);
        // Padding columns (outside the N-wide submatrix) are untouched.
        for (let i = 0; i < c.M; i++) {
          for (let j = c.N; j < ldc; j++) expect(got[i * ldc + j]).toBe(padded[i * ldc + j]);
        }
      });
    }
  }

  it('beta = 0 overwrites NaN in C; K = 0 only scales C', () => {
    const C = new Float32Array([NaN, NaN, 1, 2]);
    tsKernels.sgemm(
      false,
      false,
      2,
      2,
      1,
      1,
      new Float32Array([1, 2]),
      1,
      new Float32Array([3, 4]),
      2,
      0,
      C,
      2,
    );
    expect(Array.from(C)).toEqual([3, 4, 6, 8]);
    tsKernels.sgemm(false, false, 2, 2, 0, 1, new Float32Array(0), 0, new Float32Array(0), 2, 0.5, C, 2);
    expect(Array.from(C)).toEqual([1.5, 2, 3, 4]);
  });

  it('rejects arrays too small for their shape and stride', () => {
    const A = new Float32Array(6);
    expect(() =>
      tsKernels.sgemm(false, false, 2, 2, 3, 1, A, 3, new Float32Array(5), 2, 0, new Float32Array(4), 2),
    ).toThrow(/B needs 6 elements/);
    expect(() =>
      tsKernels.sgemm(false, false, 2, 2, 3, 1, A, 2, new Float32Array(6), 2, 0, new Float32Array(4), 2),
    ).toThrow(/lda=2 is smaller/);
  });
});

/** Hand-computed AdamW, two steps, PyTorch semantics. */
describe('adamw', () => {
  const lr = 0.1;
  const b1 = 0.9;
  const b2 = 0.999;
  const eps = 1e-8;
  const wd = 0.01;
  function handComputed(): number[] {
    // One element: p0 = 1, g1 = 0.5, g2 = -0.25.
    let p = 1;
    let m = 0;
    let v = 0;
    for (const [t, g] of [
      [1, 0.5],
      [2, -0.25],
    ] as const) {
      p -= lr * wd * p;
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      p -= (lr * (m / (1 - b1 ** t))) / (Math.sqrt(v / (1 - b2 ** t)) + eps);
    }
    return [p, m, v];
  }

  it('ts matches the hand-computed two-step example', () => {
    const p = new Float32Array([1]);
    const m = new Float32Array(1);
    const v = new Float32Array(1);
    tsKernels.adamw(p, new Float32Array([0.5]), m, v, lr, b1, b2, eps, wd, 1);
    // Step 1: p = 1 * (1 - 0.001) - 0.1 * 1 (bias-corrected m/sqrt(v) = g/|g| = 1).
    expect(p[0]).toBeCloseTo(0.899, 6);
    tsKernels.adamw(p, new Float32Array([-0.25]), m, v, lr, b1, b2, eps, wd, 2);
    const [ep, em, ev] = handComputed();
    expect(p[0]).toBeCloseTo(ep!, 6);
    expect(m[0]).toBeCloseTo(em!, 7);
    expect(v[0]).toBeCloseTo(ev!, 9);
  });

  it('rejects mismatched lengths and step < 1', () => {
    const a = new Float32Array(2);
    expect(() => tsKernels.adamw(a, new Float32Array(1), a, a, lr, b1, b2, eps, wd, 1)).toThrow(
      /same length/,
    );
    expect(() =>
      tsKernels.adamw(a, a, new Float32Array(2), new Float32Array(2), lr, b1, b2, eps, wd, 0),
    ).toThrow(/step/);
  });
});

let native: Kernels | undefined;
const envAtStart = process.env[ENV_VAR];
try {
  delete process.env[ENV_VAR]; // the suite tests both backends whatever the caller forces
  native = loadKernels({ prefer: 'native', log: () => {} });
} catch (err) {
  console.warn(
    `[kernels.test] NOTICE: native kernels not available, skipping native tests (${err instanceof Error ? err.message : String(err)})`,
  );
}

if (envAtStart !== undefined) process.env[ENV_VAR] = envAtStart;

describe.skipIf(!native)('native kernels (OpenBLAS addon)', () => {
  const k = native!;
  for (const threads of [1, 2, 3]) {
    for (const c of cases) {
      for (const [tA, tB] of transposes) {
        it(`${threads} thread(s): agrees with ts: M=${c.M} N=${c.N} K=${c.K} pad=${c.pad} transA=${tA} transB=${tB}`, () => {
          k.setThreads(threads);
          const seed = c.M * 31 + c.N * 7 + c.K;
          expectClose(runCase(k, c, tA, tB, seed), runCase(tsKernels, c, tA, tB, seed), 1e-5);
        });
      }
    }
  }

  it('beta = 0 overwrites NaN; K = 0 only scales C', () => {
    const C = new Float32Array([NaN, NaN, 1, 2]);
    k.sgemm(false, false, 2, 2, 1, 1, new Float32Array([1, 2]), 1, new Float32Array([3, 4]), 2, 0, C, 2);
    expect(Array.from(C)).toEqual([3, 4, 6, 8]);
    k.sgemm(false, false, 2, 2, 0, 1, new Float32Array(0), 0, new Float32Array(0), 2, 0.5, C, 2);
    expect(Array.from(C)).toEqual([1.5, 2, 3, 4]);
  });

  it('throws instead of reading out of bounds, and on wrong types', () => {
    const A = new Float32Array(6);
    expect(() =>
      k.sgemm(false, false, 2, 2, 3, 1, A, 3, new Float32Array(5), 2, 0, new Float32Array(4), 2),
    ).toThrow(/B needs 6 elements/);
    expect(() =>
      k.sgemm(false, false, 2, 2, 3, 1, A, 2, new Float32Array(6), 2, 0, new Float32Array(4), 2),
    ).toThrow(/lda=2 is smaller/);
    expect(() =>
      k.sgemm(
        false,
        false,
        2,
        2,
        3,
        1,
        new Float64Array(6) as unknown as Float32Array,
        3,
        A,
        2,
        0,
        new Float32Array(4),
        2,
      ),
    ).toThrow(/Float32Array/);
  });

  it('works on subarray views (byteOffset) without copying', () => {
    const buf = new Float32Array([9, 1, 2, 3, 4, 9, 0, 0, 0, 0]);
    const A = buf.subarray(1, 5); // 2x2
    const C = buf.subarray(6, 10);
    k.sgemm(false, false, 2, 2, 2, 1, A, 2, A, 2, 0, C, 2);
    expect(Array.from(buf.subarray(6))).toEqual([7, 10, 15, 22]);
  });

  it('adamw agrees with ts over several steps and with the hand-computed example', () => {
    const n = 1001;
    const pN = rand(n, 1);
    const pT = Float32Array.from(pN);
    const mN = new Float32Array(n);
    const vN = new Float32Array(n);
    const mT = new Float32Array(n);
    const vT = new Float32Array(n);
    for (let t = 1; t <= 5; t++) {
      const g = rand(n, 100 + t);
      k.adamw(pN, g, mN, vN, 1e-2, 0.9, 0.95, 1e-8, 0.1, t);
      tsKernels.adamw(pT, g, mT, vT, 1e-2, 0.9, 0.95, 1e-8, 0.1, t);
    }
    expectClose(pN, pT, 1e-5);
    expectClose(mN, mT, 1e-5);
    expectClose(vN, vT, 1e-5);

    const p = new Float32Array([1]);
    const m = new Float32Array(1);
    const v = new Float32Array(1);
    k.adamw(p, new Float32Array([0.5]), m, v, 0.1, 0.9, 0.999, 1e-8, 0.01, 1);
    expect(p[0]).toBeCloseTo(0.899, 6);
    k.adamw(p, new Float32Array([-0.25]), m, v, 0.1, 0.9, 0.999, 1e-8, 0.01, 2);
    const ts = [new Float32Array([1]), new Float32Array(1), new Float32Array(1)] as const;
    tsKernels.adamw(ts[0], new Float32Array([0.5]), ts[1], ts[2], 0.1, 0.9, 0.999, 1e-8, 0.01, 1);
    tsKernels.adamw(ts[0], new Float32Array([-0.25]), ts[1], ts[2], 0.1, 0.9, 0.999, 1e-8, 0.01, 2);
    expect(p[0]).toBeCloseTo(ts[0][0]!, 6);
  });
});

describe('loadKernels', () => {
  const saved = process.env[ENV_VAR];
  afterEach(() => {
    if (saved === undefined) delete process.env[ENV_VAR];
    else process.env[ENV_VAR] = saved;
  });

  it('prefer: ts returns the ts kernels and logs exactly one line', () => {
    delete process.env[ENV_VAR];
    const lines: string[] = [];
    const k = loadKernels({ prefer: 'ts', log: (l) => lines.push(l) });
    expect(k.name).toBe('ts');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^kernels: ts/);
  });

  it(`${ENV_VAR}=ts wins over prefer: native`, () => {
    process.env[ENV_VAR] = 'ts';
    const lines: string[] = [];
    expect(loadKernels({ prefer: 'native', log: (l) => lines.push(l) }).name).toBe('ts');
    expect(lines).toEqual([expect.stringMatching(/^kernels: ts .*ACTIVE_READING_KERNELS=ts/)]);
  });

  it(`rejects an invalid ${ENV_VAR}`, () => {
    process.env[ENV_VAR] = 'gpu';
    expect(() => loadKernels({ log: () => {} })).toThrow(/ACTIVE_READING_KERNELS=gpu is not valid/);
  });

  it("'auto' returns working kernels and logs which ones", () => {
    delete process.env[ENV_VAR];
    const lines: string[] = [];
    const k = loadKernels({ log: (l) => lines.push(l) });
    expect(['ts', 'native']).toContain(k.name);
    expect(lines.filter((l) => l.startsWith('kernels: '))).toEqual([
      expect.stringContaining(`kernels: ${k.name}`),
    ]);
    const C = new Float32Array(1);
    k.sgemm(false, false, 1, 1, 2, 1, new Float32Array([1, 2]), 2, new Float32Array([3, 4]), 1, 0, C, 1);
    expect(C[0]).toBe(11);
  });

  it("'auto' falls back to ts with a warning when the addon is missing", () => {
    delete process.env[ENV_VAR];
    const lines: string[] = [];
    const k = loadKernels({ addonPath: '/nonexistent/kernels.node', log: (l) => lines.push(l) });
    expect(k.name).toBe('ts');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /warning: native kernels unavailable \(addon not built.*libopenblas-dev.*build:native/,
    );
    expect(lines[1]).toMatch(/^kernels: ts/);
  });

  it('forcing native when unavailable throws a clear error (option and env var)', () => {
    delete process.env[ENV_VAR];
    expect(() =>
      loadKernels({ prefer: 'native', addonPath: '/nonexistent/kernels.node', log: () => {} }),
    ).toThrow(
      /native kernels were requested \(prefer: 'native'\) but are unavailable: addon not built.*libopenblas-dev/,
    );
    process.env[ENV_VAR] = 'native';
    expect(() => loadKernels({ addonPath: '/nonexistent/kernels.node', log: () => {} })).toThrow(
      /ACTIVE_READING_KERNELS=native/,
    );
  });

  it.skipIf(!native)('native: logs library, core and threads; honours threads', () => {
    delete process.env[ENV_VAR];
    const lines: string[] = [];
    const k = loadKernels({ prefer: 'native', threads: 1, log: (l) => lines.push(l) });
    expect(k.name).toBe('native');
    expect(lines).toEqual([expect.stringMatching(/^kernels: native \(OpenBLAS .*, 1 thread\)$/)]);
    expect(defaultAddonPath).toMatch(/native[/\\]build[/\\]Release[/\\]kernels\.node$/);
  });
});

/**
 * GFLOP/s of the sgemm kernels: ts vs native (OpenBLAS, 1 and 2 threads). Prints only.
 * Usage: npx tsx bench/kernels-gemm.ts [size...]   (default sizes: 256 512 1024)
 */
import { loadKernels } from '../src/engine/kernels/index.js';
import { tsKernels } from '../src/engine/kernels/ts-kernels.js';
import type { Kernels } from '../src/engine/kernels/types.js';

function gflops(k: Kernels, n: number, transA = false, transB = false): number {
  const A = new Float32Array(n * n).map(() => Math.random() - 0.5);
  const B = new Float32Array(n * n).map(() => Math.random() - 0.5);
  const C = new Float32Array(n * n);
  k.sgemm(transA, transB, n, n, n, 1, A, n, B, n, 0, C, n); // warm-up
  const flop = 2 * n * n * n;
  let reps = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    k.sgemm(transA, transB, n, n, n, 1, A, n, B, n, 0, C, n);
    reps++;
    elapsed = performance.now() - t0;
  } while (elapsed < 1000);
  return (flop * reps) / (elapsed / 1000) / 1e9;
}

const sizes = process.argv.slice(2).map(Number);
if (sizes.length === 0) sizes.push(256, 512, 1024);
let native: Kernels | undefined;
try {
  native = loadKernels({ prefer: 'native', log: () => {} });
} catch (err) {
  console.log(`native unavailable: ${err instanceof Error ? err.message : String(err)}`);
}
for (const n of sizes) {
  const row = [
    `${n}^3`,
    `ts ${gflops(tsKernels, n).toFixed(2)}`,
    `ts(tA,tB) ${gflops(tsKernels, n, true, true).toFixed(2)}`,
  ];
  if (native) {
    native.setThreads(1);
    row.push(`native 1t ${gflops(native, n).toFixed(1)}`);
    native.setThreads(2);
    row.push(`native 2t ${gflops(native, n).toFixed(1)}`);
  }
  console.log(`${row.join('  ')}  GFLOP/s`);
}

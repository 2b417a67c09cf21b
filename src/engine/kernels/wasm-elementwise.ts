/**
 * The element-wise training kernels (SwiGLU, cross-entropy, causal softmax, RMSNorm, RoPE, add, axpy) on
 * WebAssembly SIMD for the ts kernels, with nothing to install. Operands go through the module's memory in chunks of CHUNK floats (memcpy
 * in, the kernel of wasm/elementwise.wat, memcpy out), so a chunk stays in L2 from copy to copy and the memory
 * stays small. Inputs too small to repay the copies stay on the TypeScript loops, with the same checks.
 */
import { checkLength, checkTargets } from './check.js';
import { instantiateWasm } from './wasm-module.js';
import type { ElementwiseKernels } from './types.js';
import { ELEMENTWISE_WASM_BASE64 } from './wasm/elementwise-binary.js';

/** Pointers in bytes; see wasm/elementwise.wat. */
interface ElementwiseExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  swigluForward(gate: number, up: number, out: number, n: number): void;
  swigluBackward(
    gate: number,
    up: number,
    dy: number,
    dgate: number,
    dup: number,
    n: number,
    which: number,
  ): void;
  crossEntropyForward(
    logits: number,
    targets: number,
    stats: number,
    rows: number,
    vocab: number,
    ignore: number,
    probs: number,
  ): void;
  crossEntropyBackward(
    probs: number,
    targets: number,
    dlogits: number,
    rows: number,
    vocab: number,
    g: number,
    ignore: number,
  ): void;
  causalSoftmax(P: number, blocks: number, T: number): void;
  causalSoftmaxBackward(P: number, dS: number, blocks: number, T: number, scale: number): void;
  rmsnormForward(
    x: number,
    g: number,
    out: number,
    rstd: number,
    rows: number,
    cols: number,
    eps: number,
  ): void;
  rmsnormBackward(
    x: number,
    g: number,
    rstd: number,
    dy: number,
    dx: number,
    dg: number,
    rows: number,
    cols: number,
    which: number,
  ): void;
  rope(
    src: number,
    dst: number,
    rows: number,
    heads: number,
    half: number,
    seqLen: number,
    pos: number,
    cos: number,
    sin: number,
    direction: number,
    accumulate: number,
  ): void;
  add(a: number, b: number, out: number, n: number): void;
  axpy(dst: number, src: number, n: number, alpha: number): void;
}

/** Floats per operand per kernel call (a swiglu backward's five chunks take 640 KiB of L2). */
const CHUNK = 32 * 1024;
/** Below this many floats per operand the copies cost more than the SIMD saves. */
export const MIN_FLOATS = 256;
const PAGE = 64 * 1024;

/**
 * The WebAssembly element-wise kernels, or undefined where WebAssembly SIMD is unavailable. `fallback` takes
 * the inputs under `minFloats` floats (tests pass 0 to run everything here).
 */
export function createWasmElementwise(
  fallback: ElementwiseKernels,
  minFloats = MIN_FLOATS,
): ElementwiseKernels | undefined {
  const ex = instantiateWasm<ElementwiseExports>(ELEMENTWISE_WASM_BASE64);
  if (!ex) return undefined;
  let f32 = new Float32Array(ex.memory.buffer);
  let i32 = new Int32Array(ex.memory.buffer);
  let f64 = new Float64Array(ex.memory.buffer);

  /**
   * Float offsets of consecutive regions of the given sizes, each 16-byte aligned with a vector of slack after
   * it (the kernels run whole vectors), growing the memory as needed (which invalidates the old views).
   */
  const layout = (...floats: number[]): number[] => {
    const offsets: number[] = [];
    let end = 0;
    for (const n of floats) {
      offsets.push(end);
      end += Math.ceil(n / 4) * 4 + 4;
    }
    const missing = end * 4 - ex.memory.buffer.byteLength;
    if (missing > 0) {
      ex.memory.grow(Math.ceil(missing / PAGE));
      f32 = new Float32Array(ex.memory.buffer);
      i32 = new Int32Array(ex.memory.buffer);
      f64 = new Float64Array(ex.memory.buffer);
    }
    return offsets;
  };

  /**
   * The first n floats of two operands, chunk by chunk: both copied in, `run(first, second, floats)` on the
   * chunk's float offsets, and the result, which the kernel writes over the first operand, copied into out.
   */
  const binaryChunks = (
    n: number,
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    run: (first: number, second: number, floats: number) => void,
  ): void => {
    const chunk = Math.min(n, CHUNK);
    const [x, y] = layout(chunk, chunk) as [number, number];
    for (let i = 0; i < n; i += chunk) {
      const m = Math.min(chunk, n - i);
      f32.set(a.subarray(i, i + m), x);
      f32.set(b.subarray(i, i + m), y);
      run(x, y, m);
      out.set(f32.subarray(x, x + m), i);
    }
  };

  /** Rows (or blocks) of `unit` floats per chunk: as many as fit in CHUNK, at least one. */
  const perChunk = (unit: number) => Math.max(1, Math.floor(CHUNK / unit));

  return {
    swigluForward(gate, up, out) {
      const n = gate.length;
      checkLength('swigluForward', 'up', up, n);
      checkLength('swigluForward', 'out', out, n);
      if (n < minFloats) return fallback.swigluForward(gate, up, out);
      // out over gate, lane by lane
      binaryChunks(n, gate, up, out, (g, u, m) => ex.swigluForward(g * 4, u * 4, g * 4, m));
    },

    swigluBackward(gate, up, dy, dgate, dup) {
      const n = gate.length;
      checkLength('swigluBackward', 'up', up, n);
      checkLength('swigluBackward', 'dy', dy, n);
      checkLength('swigluBackward', 'dgate', dgate, n);
      checkLength('swigluBackward', 'dup', dup, n);
      if (n < minFloats || (!dgate && !dup)) return fallback.swigluBackward(gate, up, dy, dgate, dup);
      const chunk = Math.min(n, CHUNK);
      const [g, u, d, dg, du] = layout(chunk, chunk, chunk, chunk, chunk) as [
        number,
        number,
        number,
        number,
        number,
      ];
      const which = (dgate ? 1 : 0) | (dup ? 2 : 0);
      for (let i = 0; i < n; i += chunk) {
        const m = Math.min(chunk, n - i);
        f32.set(gate.subarray(i, i + m), g);
        if (dgate) f32.set(up.subarray(i, i + m), u);
        f32.set(dy.subarray(i, i + m), d);
        if (dgate) f32.set(dgate.subarray(i, i + m), dg);
        if (dup) f32.set(dup.subarray(i, i + m), du);
        ex.swigluBackward(g * 4, u * 4, d * 4, dg * 4, du * 4, m, which);
        if (dgate) dgate.set(f32.subarray(dg, dg + m), i);
        if (dup) dup.set(f32.subarray(du, du + m), i);
      }
    },

    crossEntropyForward(logits, targets, probs, rows, vocab, ignoreIndex) {
      checkLength('crossEntropyForward', 'logits', logits, rows * vocab);
      checkLength('crossEntropyForward', 'probs', probs, rows * vocab);
      checkTargets('crossEntropyForward', targets, rows, vocab, ignoreIndex);
      if (rows * vocab < minFloats || (ignoreIndex | 0) !== ignoreIndex)
        return fallback.crossEntropyForward(logits, targets, probs, rows, vocab, ignoreIndex);
      const chunkRows = Math.min(rows, perChunk(vocab));
      const [l, t, s] = layout(chunkRows * vocab, chunkRows, 4 * chunkRows) as [number, number, number];
      let total = 0;
      for (let r0 = 0; r0 < rows; r0 += chunkRows) {
        const m = Math.min(chunkRows, rows - r0);
        f32.set(logits.subarray(r0 * vocab, (r0 + m) * vocab), l);
        i32.set(targets.subarray(r0, r0 + m), t);
        ex.crossEntropyForward(l * 4, t * 4, s * 4, m, vocab, ignoreIndex, probs ? 1 : 0);
        // Loss first: probs may alias logits. Stats are (max, Σ e^(x − max)) per counted row, in f64.
        for (let r = 0; r < m; r++) {
          const target = targets[r0 + r]!;
          if (target === ignoreIndex) continue;
          const max = f64[s / 2 + 2 * r]!;
          total += max + Math.log(f64[s / 2 + 2 * r + 1]!) - logits[(r0 + r) * vocab + target]!;
        }
        if (!probs) continue;
        // Copy back runs of counted rows: the ignored rows of probs are left as they are.
        for (let r = 0; r < m;) {
          if (targets[r0 + r] === ignoreIndex) {
            r++;
            continue;
          }
          let e = r + 1;
          while (e < m && targets[r0 + e] !== ignoreIndex) e++;
          probs.set(f32.subarray(l + r * vocab, l + e * vocab), (r0 + r) * vocab);
          r = e;
        }
      }
      return total;
    },

    crossEntropyBackward(probs, targets, dlogits, rows, vocab, g, ignoreIndex) {
      checkLength('crossEntropyBackward', 'probs', probs, rows * vocab);
      checkLength('crossEntropyBackward', 'dlogits', dlogits, rows * vocab);
      checkTargets('crossEntropyBackward', targets, rows, vocab, ignoreIndex);
      if (rows * vocab < minFloats || (ignoreIndex | 0) !== ignoreIndex)
        return fallback.crossEntropyBackward(probs, targets, dlogits, rows, vocab, g, ignoreIndex);
      const chunkRows = Math.min(rows, perChunk(vocab));
      const [p, d, t] = layout(chunkRows * vocab, chunkRows * vocab, chunkRows) as [number, number, number];
      for (let r0 = 0; r0 < rows; r0 += chunkRows) {
        const m = Math.min(chunkRows, rows - r0);
        const [begin, end] = [r0 * vocab, (r0 + m) * vocab];
        f32.set(probs.subarray(begin, end), p);
        f32.set(dlogits.subarray(begin, end), d);
        i32.set(targets.subarray(r0, r0 + m), t);
        ex.crossEntropyBackward(p * 4, t * 4, d * 4, m, vocab, g, ignoreIndex);
        dlogits.set(f32.subarray(d, d + m * vocab), begin); // ignored rows go back unchanged
      }
    },

    causalSoftmax(P, blocks, T) {
      const size = T * T;
      checkLength('causalSoftmax', 'P', P, blocks * size);
      if (blocks * size < minFloats) return fallback.causalSoftmax(P, blocks, T);
      const chunkBlocks = Math.min(blocks, perChunk(size));
      const [p] = layout(chunkBlocks * size) as [number];
      for (let b0 = 0; b0 < blocks; b0 += chunkBlocks) {
        const m = Math.min(chunkBlocks, blocks - b0);
        f32.set(P.subarray(b0 * size, (b0 + m) * size), p);
        ex.causalSoftmax(p * 4, m, T);
        P.set(f32.subarray(p, p + m * size), b0 * size);
      }
    },

    causalSoftmaxBackward(P, dS, blocks, T, scale) {
      const size = T * T;
      checkLength('causalSoftmaxBackward', 'P', P, blocks * size);
      checkLength('causalSoftmaxBackward', 'dS', dS, blocks * size);
      if (blocks * size < minFloats) return fallback.causalSoftmaxBackward(P, dS, blocks, T, scale);
      const chunkBlocks = Math.min(blocks, perChunk(size));
      const [p, d] = layout(chunkBlocks * size, chunkBlocks * size) as [number, number];
      for (let b0 = 0; b0 < blocks; b0 += chunkBlocks) {
        const m = Math.min(chunkBlocks, blocks - b0);
        const [begin, end] = [b0 * size, (b0 + m) * size];
        f32.set(P.subarray(begin, end), p);
        f32.set(dS.subarray(begin, end), d);
        ex.causalSoftmaxBackward(p * 4, d * 4, m, T, scale);
        dS.set(f32.subarray(d, d + m * size), begin);
      }
    },

    rmsnormForward(x, g, out, rstd, rows, cols, eps) {
      checkLength('rmsnormForward', 'x', x, rows * cols);
      checkLength('rmsnormForward', 'out', out, rows * cols);
      checkLength('rmsnormForward', 'g', g, cols);
      checkLength('rmsnormForward', 'rstd', rstd, rows);
      if (rows * cols < minFloats || cols % 4 !== 0)
        return fallback.rmsnormForward(x, g, out, rstd, rows, cols, eps);
      const chunkRows = Math.min(rows, perChunk(cols));
      const [xo, gg, s] = layout(chunkRows * cols, cols, chunkRows) as [number, number, number];
      f32.set(g.subarray(0, cols), gg);
      for (let r0 = 0; r0 < rows; r0 += chunkRows) {
        const m = Math.min(chunkRows, rows - r0);
        f32.set(x.subarray(r0 * cols, (r0 + m) * cols), xo);
        ex.rmsnormForward(xo * 4, gg * 4, xo * 4, s * 4, m, cols, eps); // out over x, lane by lane
        out.set(f32.subarray(xo, xo + m * cols), r0 * cols);
        rstd.set(f32.subarray(s, s + m), r0);
      }
    },

    rmsnormBackward(x, g, rstd, dy, dx, dg, rows, cols) {
      checkLength('rmsnormBackward', 'x', x, rows * cols);
      checkLength('rmsnormBackward', 'dy', dy, rows * cols);
      checkLength('rmsnormBackward', 'dx', dx, rows * cols);
      checkLength('rmsnormBackward', 'g', g, cols);
      checkLength('rmsnormBackward', 'dg', dg, cols);
      checkLength('rmsnormBackward', 'rstd', rstd, rows);
      if (rows * cols < minFloats || cols % 4 !== 0 || (!dx && !dg))
        return fallback.rmsnormBackward(x, g, rstd, dy, dx, dg, rows, cols);
      const chunkRows = Math.min(rows, perChunk(cols));
      const chunk = chunkRows * cols;
      const [xx, d, o, gg, dgg, s] = layout(chunk, chunk, chunk, cols, cols, chunkRows) as number[] as [
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      f32.set(g.subarray(0, cols), gg);
      if (dg) f32.set(dg.subarray(0, cols), dgg);
      for (let r0 = 0; r0 < rows; r0 += chunkRows) {
        const m = Math.min(chunkRows, rows - r0);
        const [begin, end] = [r0 * cols, (r0 + m) * cols];
        f32.set(x.subarray(begin, end), xx);
        f32.set(dy.subarray(begin, end), d);
        if (dx) f32.set(dx.subarray(begin, end), o);
        f32.set(rstd.subarray(r0, r0 + m), s);
        ex.rmsnormBackward(
          xx * 4,
          gg * 4,
          s * 4,
          d * 4,
          o * 4,
          dgg * 4,
          m,
          cols,
          (dx ? 1 : 0) | (dg ? 2 : 0),
        );
        if (dx) dx.set(f32.subarray(o, o + m * cols), begin);
      }
      if (dg) dg.set(f32.subarray(dgg, dgg + cols));
    },

    rope(src, dst, rows, heads, headDim, seqLen, cos, sin, direction, accumulate) {
      const C = heads * headDim;
      const half = headDim / 2;
      const positions = Math.min(rows, seqLen);
      checkLength('rope', 'src', src, rows * C);
      checkLength('rope', 'dst', dst, rows * C);
      checkLength('rope', 'cos', cos, positions * half);
      checkLength('rope', 'sin', sin, positions * half);
      if (rows * C < minFloats || headDim % 8 !== 0)
        return fallback.rope(src, dst, rows, heads, headDim, seqLen, cos, sin, direction, accumulate);
      const chunkRows = Math.min(rows, perChunk(C));
      const [a, d, c, sn] = layout(
        chunkRows * C,
        accumulate ? chunkRows * C : 0,
        positions * half,
        positions * half,
      ) as [number, number, number, number];
      f32.set(cos.subarray(0, positions * half), c);
      f32.set(sin.subarray(0, positions * half), sn);
      const out = accumulate ? d : a; // overwriting: in place over src, pair by pair
      for (let r0 = 0; r0 < rows; r0 += chunkRows) {
        const m = Math.min(chunkRows, rows - r0);
        const [begin, end] = [r0 * C, (r0 + m) * C];
        f32.set(src.subarray(begin, end), a);
        if (accumulate) f32.set(dst.subarray(begin, end), d);
        ex.rope(
          a * 4,
          out * 4,
          m,
          heads,
          half,
          seqLen,
          r0 % seqLen,
          c * 4,
          sn * 4,
          direction,
          accumulate ? 1 : 0,
        );
        dst.set(f32.subarray(out, out + m * C), begin);
      }
    },

    add(a, b, out) {
      const n = out.length;
      checkLength('add', 'a', a, n);
      checkLength('add', 'b', b, n);
      if (n < minFloats) return fallback.add(a, b, out);
      binaryChunks(n, a, b, out, (x, y, m) => ex.add(x * 4, y * 4, x * 4, m));
    },

    axpy(dst, src, alpha) {
      const n = dst.length;
      checkLength('axpy', 'src', src, n);
      if (n < minFloats) return fallback.axpy(dst, src, alpha);
      binaryChunks(n, dst, src, dst, (d, x, m) => ex.axpy(d * 4, x * 4, m, alpha));
    },
  };
}

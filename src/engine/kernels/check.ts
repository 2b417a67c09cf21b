/** Argument checks shared by the kernel implementations, so both throw the same errors. */

function checkDim(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0)
    throw new RangeError(`sgemm: ${name} must be a non-negative integer`);
}

/** A stored rows×cols matrix with row stride `ld` must fit in `len` elements. */
function checkExtent(name: string, rows: number, cols: number, ld: number, len: number): void {
  checkDim(`ld${name.toLowerCase()}`, ld);
  if (rows === 0 || cols === 0) return;
  if (ld < cols)
    throw new RangeError(`sgemm: ld${name.toLowerCase()}=${ld} is smaller than the row length ${cols}`);
  const need = (rows - 1) * ld + cols;
  if (need > len) {
    throw new RangeError(`sgemm: ${name} needs ${need} elements (${rows}x${cols}, ld ${ld}) but has ${len}`);
  }
}

/** Validates sgemm arguments (A and B are only checked when they will be read: M, N, K > 0 and alpha ≠ 0). */
export function checkSgemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array,
  lda: number,
  B: Float32Array,
  ldb: number,
  C: Float32Array,
  ldc: number,
): void {
  checkDim('M', M);
  checkDim('N', N);
  checkDim('K', K);
  checkExtent('C', M, N, ldc, C.length);
  if (K === 0 || alpha === 0 || M === 0 || N === 0) return;
  checkExtent('A', transA ? K : M, transA ? M : K, lda, A.length);
  checkExtent('B', transB ? N : K, transB ? K : N, ldb, B.length);
}

export function checkAdamw(
  param: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  step: number,
): void {
  const n = param.length;
  if (grad.length !== n || m.length !== n || v.length !== n) {
    throw new RangeError('adamw: param, grad, m and v must have the same length');
  }
  if (!Number.isInteger(step) || step < 1) throw new RangeError('adamw: step must be an integer >= 1');
}

/** Element-wise kernels: `arr` (when given) must hold at least `need` values. */
export function checkLength(op: string, name: string, arr: ArrayLike<number> | null, need: number): void {
  if (arr && arr.length < need)
    throw new RangeError(`${op}: ${name} needs ${need} values, has ${arr.length}`);
}

/** Cross-entropy targets: one per row, each ignoreIndex or a vocabulary id. */
export function checkTargets(
  op: string,
  targets: Int32Array,
  rows: number,
  vocab: number,
  ignoreIndex: number,
): void {
  checkLength(op, 'targets', targets, rows);
  for (let r = 0; r < rows; r++) {
    const t = targets[r]!;
    if (t !== ignoreIndex && (t < 0 || t >= vocab))
      throw new RangeError(`target id ${t} is outside the vocabulary (size ${vocab})`);
  }
}

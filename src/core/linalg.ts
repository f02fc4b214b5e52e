/**
 * Dense linear algebra shared by every stage (ALS's exact solver and fold-in, the text ridge
 * regression, the bandit's logistic regression): one Cholesky solver with one failure behaviour.
 *
 * Matrices are row-major Float64Arrays; only the lower triangle of a symmetric matrix is read.
 */
import { DeepcutError } from '../errors.ts';

/**
 * A matrix handed to {@link choleskySolve} is not (numerically) positive definite: pivot `pivot`
 * (≤ 0 or NaN) at `column`. In deepcut the systems are Gram matrices plus a ridge term, so this
 * means the ridge is 0 (or the data NaN): a DeepcutError('invalid_input') a user fixes by
 * regularising. Never clamped silently.
 */
export class NotPositiveDefiniteError extends DeepcutError {
  constructor(
    readonly column: number,
    readonly pivot: number,
  ) {
    super('invalid_input', `matrix is not positive definite at column ${column} (pivot ${pivot}): add regularisation (a ridge λ > 0)`);
    this.name = 'NotPositiveDefiniteError';
  }
}

/**
 * Solve A·X = B in place for symmetric positive definite A (n × n) and B (n × m, m right-hand
 * sides, default 1) by Cholesky factorisation A = L·Lᵀ (Golub & Van Loan, alg. 4.2.1, then forward
 * and back substitution). The lower triangle of A is overwritten by L (the upper is neither read
 * nor written); B is overwritten by X. O(n³/6 + n²·m) multiply-adds, no allocation.
 * Throws {@link NotPositiveDefiniteError} when a pivot is ≤ 0 or NaN.
 *
 * Example: A = [4 2; 2 3], B = [2; 1] → B becomes [0.5; 0].
 */
export function choleskySolveInPlace(A: Float64Array, n: number, B: Float64Array, m = 1): void {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = A[rj + j];
    for (let k = 0; k < j; k++) d -= A[rj + k] * A[rj + k];
    if (!(d > 0)) throw new NotPositiveDefiniteError(j, d);
    const ljj = Math.sqrt(d);
    A[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = A[ri + j];
      for (let k = 0; k < j; k++) s -= A[ri + k] * A[rj + k];
      A[ri + j] = s / ljj;
    }
  }
  for (let c = 0; c < m; c++) {
    for (let i = 0; i < n; i++) {
      const ri = i * n;
      let s = B[i * m + c];
      for (let k = 0; k < i; k++) s -= A[ri + k] * B[k * m + c];
      B[i * m + c] = s / A[ri + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = B[i * m + c];
      for (let k = i + 1; k < n; k++) s -= A[k * n + i] * B[k * m + c];
      B[i * m + c] = s / A[i * n + i];
    }
  }
}

/**
 * {@link choleskySolveInPlace} on copies: returns X (n × m) and leaves A and B as they were.
 * Example: choleskySolve([4, 2, 2, 3], 2, [2, 1, 1, 0], 2) = [0.5, 0.375, 0, −0.25].
 */
export function choleskySolve(A: Float64Array, n: number, B: Float64Array, m = 1): Float64Array {
  const x = Float64Array.from(B);
  choleskySolveInPlace(Float64Array.from(A), n, x, m);
  return x;
}

/**
 * Scale each row of `x` (row-major, `dim` wide) to unit L2 norm IN PLACE; zero rows stay zero.
 * Returns `x`. For a copy, {@link normalizedRows}.
 * Example: normalizeRows(Float32Array.of(3, 4, 0, 0), 2) → [0.6, 0.8, 0, 0].
 */
export function normalizeRows(x: Float32Array, dim: number): Float32Array {
  for (let o = 0; o < x.length; o += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[o + j] * x[o + j];
    if (s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let j = 0; j < dim; j++) x[o + j] *= inv;
    }
  }
  return x;
}

/** A copy of `v` (row-major, `dim` wide) with unit-length rows; `v` is left as it was. */
export function normalizedRows(v: Float32Array, dim: number): Float32Array {
  return normalizeRows(Float32Array.from(v), dim);
}

/**
 * Invert a symmetric positive definite matrix A (n × n, row-major, both triangles filled) IN PLACE
 * by Gauss–Jordan elimination without pivoting (safe for SPD: every pivot is a ratio of leading
 * principal minors, all > 0). n³ multiply-adds over contiguous rows. Returns A, now A⁻¹.
 * Throws {@link NotPositiveDefiniteError} when a pivot is ≤ 0 or NaN.
 *
 * Example: spdInverseInPlace([4, 2, 2, 3], 2) → [0.375, −0.25, −0.25, 0.5].
 */
export function spdInverseInPlace(A: Float64Array, n: number): Float64Array {
  const rowK = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const rk = k * n;
    const piv = A[rk + k];
    if (!(piv > 0)) throw new NotPositiveDefiniteError(k, piv);
    const inv = 1 / piv;
    A[rk + k] = 1;
    for (let j = 0; j < n; j++) A[rk + j] *= inv;
    rowK.set(A.subarray(rk, rk + n));
    for (let i = 0; i < n; i++) {
      if (i === k) continue;
      const ri = i * n;
      const f = A[ri + k];
      if (f === 0) continue;
      A[ri + k] = 0;
      for (let j = 0; j < n; j++) A[ri + j] -= f * rowK[j];
    }
  }
  return A;
}

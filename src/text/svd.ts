/**
 * Randomized truncated SVD of a sparse matrix (Halko, Martinsson & Tropp 2011, "Finding
 * structure with randomness", Algorithms 4.3/4.4 and 5.1):
 *
 *   1. range finder: Y = A·Ω with Ω an n × (k+p) Gaussian matrix, Q = orth(Y);
 *   2. q power iterations, re-orthonormalising between products (Alg. 4.4):
 *      Q ← orth(A·orth(Aᵀ·Q)), which sharpens a slowly decaying spectrum;
 *   3. B = Qᵀ·A (small: (k+p) × n), factored exactly: Bᵀ = Q₂·R (Gram–Schmidt), R = U_R·S·V_Rᵀ
 *      (Jacobi), so B = V_R·S·(Q₂·U_R)ᵀ and A ≈ (Q·V_R)·S·(Q₂·U_R)ᵀ.
 *
 * Cost O(nnz·(k+p)·(2q+2) + (m+n)·(k+p)²), memory O((m+n)·(k+p)).
 */
import type { Csr } from '../signals/csr.ts';
import { Rng } from '../util/rng.ts';
import { DeepcutError } from '../errors.ts';
import { csrTimesDense, csrTransposeTimesDense, jacobiSvd, matmul, matmulTransposeA, orthonormalizeColumns, type Svd } from './linalg.ts';

export interface RandomizedSvdOptions {
  /** Extra random directions beyond k (default 10). */
  oversample?: number;
  /** Power iterations (default 2). */
  powerIterations?: number;
  seed?: number;
}

/**
 * The top `k` singular triplets of sparse A (m × n): U (m × k), S (k), V (n × k), row-major.
 * k is clamped to min(m, n). Seeded: the same seed gives the same result bit for bit. Signs are
 * fixed so that each column of V has its largest-magnitude entry positive.
 */
export function randomizedSvd(a: Csr, k: number, opts: RandomizedSvdOptions = {}): Svd {
  const { rows: m, cols: n } = a;
  if (!Number.isInteger(k) || k < 1) throw new DeepcutError('invalid_input', `rank k must be a positive integer, got ${k}`, { field: 'k' });
  if (m === 0 || n === 0) throw new DeepcutError('invalid_input', `cannot factor an empty ${m}×${n} matrix`);
  k = Math.min(k, m, n);
  const l = Math.min(k + (opts.oversample ?? 10), m, n);
  const q = opts.powerIterations ?? 2;
  const rng = new Rng(opts.seed ?? 42);
  const omega = new Float64Array(n * l);
  for (let i = 0; i < omega.length; i++) omega[i] = rng.normal();
  let basis = csrTimesDense(a, omega, l); // m × l
  orthonormalizeColumns(basis, m, l);
  for (let it = 0; it < q; it++) {
    const z = csrTransposeTimesDense(a, basis, l); // n × l
    orthonormalizeColumns(z, n, l);
    basis = csrTimesDense(a, z, l);
    orthonormalizeColumns(basis, m, l);
  }
  const bt = csrTransposeTimesDense(a, basis, l); // Bᵀ = Aᵀ·Q, n × l
  const q2 = Float64Array.from(bt);
  orthonormalizeColumns(q2, n, l);
  const r = matmulTransposeA(q2, bt, n, l, l); // R = Q₂ᵀ·Bᵀ, l × l
  const small = jacobiSvd(r, l, l); // R = U_R·S·V_Rᵀ
  const uFull = matmul(basis, small.v, m, l, l); // Q·V_R
  const vFull = matmul(q2, small.u, n, l, l); // Q₂·U_R
  const u = new Float64Array(m * k);
  const v = new Float64Array(n * k);
  const s = small.s.slice(0, k);
  for (let j = 0; j < k; j++) {
    let big = 0;
    for (let i = 0; i < n; i++) if (Math.abs(vFull[i * l + j]) > Math.abs(big)) big = vFull[i * l + j];
    const sign = big < 0 ? -1 : 1;
    for (let i = 0; i < n; i++) v[i * k + j] = sign * vFull[i * l + j];
    for (let i = 0; i < m; i++) u[i * k + j] = sign * uFull[i * l + j];
  }
  return { u, s, v, rows: m, cols: n, rank: k };
}

/**
 * Small dense linear algebra for the text models, in Float64Array. Matrices are row-major
 * `rows × cols` unless a name says otherwise. Sizes here are small (≤ a few hundred columns);
 * the tall dimension may be tens of thousands of rows.
 */
import type { Csr } from '../signals/index.ts';

/** Y = A·X for sparse A (m × n) and dense X (n × l, row-major); Y is m × l. */
export function csrTimesDense(a: Csr, x: Float64Array, l: number): Float64Array {
  const y = new Float64Array(a.rows * l);
  for (let i = 0; i < a.rows; i++) {
    const yo = i * l;
    for (let p = a.indptr[i]; p < a.indptr[i + 1]; p++) {
      const v = a.data[p];
      const xo = a.indices[p] * l;
      for (let j = 0; j < l; j++) y[yo + j] += v * x[xo + j];
    }
  }
  return y;
}

/** Z = Aᵀ·X for sparse A (m × n) and dense X (m × l, row-major); Z is n × l. */
export function csrTransposeTimesDense(a: Csr, x: Float64Array, l: number): Float64Array {
  const z = new Float64Array(a.cols * l);
  for (let i = 0; i < a.rows; i++) {
    const xo = i * l;
    for (let p = a.indptr[i]; p < a.indptr[i + 1]; p++) {
      const v = a.data[p];
      const zo = a.indices[p] * l;
      for (let j = 0; j < l; j++) z[zo + j] += v * x[xo + j];
    }
  }
  return z;
}

/** C = A·B for dense A (m × k) and B (k × n), all row-major. */
export function matmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const v = a[i * k + p];
      if (v === 0) continue;
      const bo = p * n;
      const co = i * n;
      for (let j = 0; j < n; j++) c[co + j] += v * b[bo + j];
    }
  }
  return c;
}

/** C = Aᵀ·B for dense A (m × k) and B (m × n), row-major; C is k × n. */
export function matmulTransposeA(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(k * n);
  for (let i = 0; i < m; i++) {
    const bo = i * n;
    for (let p = 0; p < k; p++) {
      const v = a[i * k + p];
      if (v === 0) continue;
      const co = p * n;
      for (let j = 0; j < n; j++) c[co + j] += v * b[bo + j];
    }
  }
  return c;
}

/** Transpose a row-major m × n matrix into row-major n × m. */
export function transposeDense(a: Float64Array, m: number, n: number): Float64Array {
  const t = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j];
  return t;
}

/**
 * Orthonormalise the columns of row-major A (m × n, m ≥ n) in place by modified Gram–Schmidt.
 * With `passes` 2 (the default; "twice is enough", Giraud et al. 2005) the result is orthonormal
 * to machine precision even for ill-conditioned A; one pass (error ~ ε·κ(A)) is enough for the
 * intermediate bases of a power iteration and costs half. A column that is (numerically)
 * dependent on the ones before it becomes zero. Returns the number of non-zero columns.
 */
export function orthonormalizeColumns(a: Float64Array, m: number, n: number, passes: 1 | 2 = 2): number {
  const c = transposeDense(a, m, n); // column-major: column j at c[j*m .. j*m+m)
  let rank = 0;
  for (let j = 0; j < n; j++) {
    const cj = j * m;
    let before = 0;
    for (let r = 0; r < m; r++) before += c[cj + r] * c[cj + r];
    for (let pass = 0; pass < passes; pass++) {
      for (let i = 0; i < j; i++) {
        const ci = i * m;
        let dot = 0;
        for (let r = 0; r < m; r++) dot += c[ci + r] * c[cj + r];
        if (dot !== 0) for (let r = 0; r < m; r++) c[cj + r] -= dot * c[ci + r];
      }
    }
    let norm2 = 0;
    for (let r = 0; r < m; r++) norm2 += c[cj + r] * c[cj + r];
    if (norm2 <= 1e-24 * Math.max(before, 1e-300) || norm2 === 0) {
      c.fill(0, cj, cj + m);
      continue;
    }
    const inv = 1 / Math.sqrt(norm2);
    for (let r = 0; r < m; r++) c[cj + r] *= inv;
    rank++;
  }
  for (let r = 0; r < m; r++) for (let j = 0; j < n; j++) a[r * n + j] = c[j * m + r];
  return rank;
}

/** A thin singular value decomposition A = U·diag(S)·Vᵀ, singular values in decreasing order. */
export interface Svd {
  /** m × r, row-major, orthonormal columns. */
  u: Float64Array;
  /** r singular values, decreasing, ≥ 0. */
  s: Float64Array;
  /** n × r, row-major, orthonormal columns. */
  v: Float64Array;
  rows: number;
  cols: number;
  /** r = min(rows, cols). */
  rank: number;
}

/**
 * Exact thin SVD of a small dense row-major matrix by one-sided Jacobi rotations (Hestenes 1958;
 * Demmel & Veselić 1992): rotate column pairs of A until all are orthogonal; the column norms are
 * the singular values, the accumulated rotations V. O(m·n²) per sweep, a handful of sweeps.
 * Signs are fixed so each column of V has its largest-magnitude entry positive.
 */
export function jacobiSvd(a: Float64Array, m: number, n: number): Svd {
  if (m < n) {
    const t = jacobiSvd(transposeDense(a, m, n), n, m);
    return { u: t.v, s: t.s, v: t.u, rows: m, cols: n, rank: t.rank };
  }
  const w = transposeDense(a, m, n); // column-major working copy of A
  const v = new Float64Array(n * n); // column-major V
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  const eps = 1e-15;
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const po = p * m;
        const qo = q * m;
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let r = 0; r < m; r++) {
          const x = w[po + r];
          const y = w[qo + r];
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (gamma === 0 || Math.abs(gamma) <= eps * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let r = 0; r < m; r++) {
          const x = w[po + r];
          const y = w[qo + r];
          w[po + r] = c * x - s * y;
          w[qo + r] = s * x + c * y;
        }
        const pv = p * n;
        const qv = q * n;
        for (let r = 0; r < n; r++) {
          const x = v[pv + r];
          const y = v[qv + r];
          v[pv + r] = c * x - s * y;
          v[qv + r] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s2 = 0;
    for (let r = 0; r < m; r++) s2 += w[j * m + r] * w[j * m + r];
    norms[j] = Math.sqrt(s2);
  }
  const order = Array.from({ length: n }, (_, j) => j).sort((x, y) => norms[y] - norms[x] || x - y);
  const u = new Float64Array(m * n);
  const vOut = new Float64Array(n * n);
  const s = new Float64Array(n);
  const tiny = (norms[order[0]] || 0) * 1e-13;
  order.forEach((j, k) => {
    s[k] = norms[j];
    let big = 0;
    for (let r = 0; r < n; r++) if (Math.abs(v[j * n + r]) > Math.abs(big)) big = v[j * n + r];
    const sign = big < 0 ? -1 : 1;
    for (let r = 0; r < n; r++) vOut[r * n + k] = sign * v[j * n + r];
    if (norms[j] > tiny) for (let r = 0; r < m; r++) u[r * n + k] = (sign * w[j * m + r]) / norms[j];
  });
  return { u, s, v: vOut, rows: m, cols: n, rank: n };
}

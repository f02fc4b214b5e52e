/**
 * Plain-TypeScript twins of the WASM kernels in `als.as.ts`: same math, same order of solves, in
 * float64 arithmetic over float32 storage. They are the reference the WASM kernels are tested
 * against, the fallback when factors is not a multiple of 4, and the exact Cholesky solver used to
 * check conjugate gradient and to fold users in (its Cholesky is the shared one of core/linalg.ts).
 */
import { choleskySolveInPlace } from '../../core/linalg.ts';

/** YᵀY of rows [0, n) of Y (n × f, row-major) as an f × f float64 matrix. */
export function gramTs(Y: Float32Array, n: number, f: number): Float64Array {
  const G = new Float64Array(f * f);
  for (let i = 0; i < n; i++) {
    const o = i * f;
    for (let j = 0; j < f; j++) {
      const yj = Y[o + j];
      if (yj === 0) continue;
      const g = j * f;
      for (let k = 0; k < f; k++) G[g + k] += yj * Y[o + k];
    }
  }
  return G;
}

/** f × f float32 copy of `G` with `reg` added to the diagonal: the A0 = YᵀY + λI every solve starts from. */
export function regularized(G: Float64Array, f: number, reg: number): Float32Array {
  const A = new Float32Array(f * f);
  for (let i = 0; i < f * f; i++) A[i] = G[i];
  for (let j = 0; j < f; j++) A[j * f + j] += reg;
  return A;
}

function dot(a: Float32Array | Float64Array, ao: number, b: Float32Array | Float64Array, bo: number, f: number): number {
  let s = 0;
  for (let k = 0; k < f; k++) s += a[ao + k] * b[bo + k];
  return s;
}

/**
 * Conjugate-gradient half-step for rows [start, end) of X (Takács et al. 2011, as implicit's
 * least_squares_cg): warm start from X, `cgSteps` steps, solving (A0 + Σ (|c|−1) y yᵀ) x = Σ_{c>0} c y,
 * where A0 = YᵀY + λI (`YtY`, f × f). Negative confidences are negative evidence (preference 0).
 */
export function cgTs(start: number, end: number, indptr: Int32Array, indices: Int32Array, data: Float32Array, X: Float32Array, Y: Float32Array, YtY: Float32Array, f: number, cgSteps: number): void {
  const r = new Float64Array(f);
  const p = new Float64Array(f);
  const Ap = new Float64Array(f);
  const x = new Float64Array(f);
  for (let u = start; u < end; u++) {
    const xo = u * f;
    for (let k = 0; k < f; k++) x[k] = X[xo + k];
    for (let j = 0; j < f; j++) r[j] = -dot(YtY, j * f, x, 0, f);
    for (let q = indptr[u]; q < indptr[u + 1]; q++) {
      let c = data[q];
      const yo = indices[q] * f;
      let s: number;
      if (c > 0) s = c - (c - 1) * dot(Y, yo, x, 0, f);
      else {
        c = -c;
        s = -(c - 1) * dot(Y, yo, x, 0, f);
      }
      for (let k = 0; k < f; k++) r[k] += s * Y[yo + k];
    }
    p.set(r);
    let rsold = dot(r, 0, r, 0, f);
    if (rsold < 1e-20) continue;
    for (let it = 0; it < cgSteps; it++) {
      for (let j = 0; j < f; j++) Ap[j] = dot(YtY, j * f, p, 0, f);
      for (let q = indptr[u]; q < indptr[u + 1]; q++) {
        const c = Math.abs(data[q]);
        const yo = indices[q] * f;
        const s = (c - 1) * dot(Y, yo, p, 0, f);
        for (let k = 0; k < f; k++) Ap[k] += s * Y[yo + k];
      }
      const alpha = rsold / dot(p, 0, Ap, 0, f);
      for (let k = 0; k < f; k++) {
        x[k] += alpha * p[k];
        r[k] -= alpha * Ap[k];
      }
      const rsnew = dot(r, 0, r, 0, f);
      if (rsnew < 1e-20) break;
      const beta = rsnew / rsold;
      for (let k = 0; k < f; k++) p[k] = r[k] + beta * p[k];
      rsold = rsnew;
    }
    for (let k = 0; k < f; k++) X[xo + k] = x[k];
  }
}

/**
 * Exact solve of one row (Hu, Koren & Volinsky 2008, eq. 4): x = (A0 + Σ (|c|−1) y yᵀ)⁻¹ Σ_{c>0} c y by
 * Cholesky, A0 = YᵀY + λI (f × f). Writes x to out[oo .. oo+f). `A`, `b` are f×f and f scratch.
 * Only the lower triangle is accumulated: 500 items at f = 64 cost ~1 M multiply-adds.
 */
export function solveRowExact(items: Int32Array, conf: Float32Array, from: number, to: number, Y: Float32Array, A0: Float32Array | Float64Array, f: number, out: Float32Array, oo: number, A = new Float64Array(f * f), b = new Float64Array(f)): void {
  for (let i = 0; i < f * f; i++) A[i] = A0[i];
  b.fill(0);
  for (let q = from; q < to; q++) {
    let c = conf[q];
    const yo = items[q] * f;
    if (c > 0) for (let k = 0; k < f; k++) b[k] += c * Y[yo + k];
    else c = -c;
    const w = c - 1;
    if (w === 0) continue;
    for (let j = 0; j < f; j++) {
      const s = w * Y[yo + j];
      const row = j * f;
      for (let k = 0; k <= j; k++) A[row + k] += s * Y[yo + k];
    }
  }
  choleskySolveInPlace(A, f, b);
  for (let k = 0; k < f; k++) out[oo + k] = b[k];
}

/** Exact half-step for rows [start, end): each row solved by {@link solveRowExact}. */
export function exactTs(start: number, end: number, indptr: Int32Array, indices: Int32Array, data: Float32Array, X: Float32Array, Y: Float32Array, YtY: Float32Array, f: number): void {
  const A = new Float64Array(f * f);
  const b = new Float64Array(f);
  for (let u = start; u < end; u++) solveRowExact(indices, data, indptr[u], indptr[u + 1], Y, YtY, f, X, u * f, A, b);
}

/**
 * Loss terms of rows [start, end), summed in float64: Σ_u [xᵀ(YᵀY)x + Σ_{i∈N(u)} (|c|(p − s)² − s²)],
 * s = x·y, p = 1 for c > 0 else 0; `G` is YᵀY without regularization.
 */
export function lossTs(start: number, end: number, indptr: Int32Array, indices: Int32Array, data: Float32Array, X: Float32Array, Y: Float32Array, G: Float32Array | Float64Array, f: number): number {
  let total = 0;
  const t = new Float64Array(f);
  for (let u = start; u < end; u++) {
    const xo = u * f;
    for (let j = 0; j < f; j++) t[j] = dot(G, j * f, X, xo, f);
    let l = dot(X, xo, t, 0, f);
    for (let q = indptr[u]; q < indptr[u + 1]; q++) {
      const c = data[q];
      const s = dot(Y, indices[q] * f, X, xo, f);
      const pr = c > 0 ? 1 : 0;
      l += Math.abs(c) * (pr - s) * (pr - s) - s * s;
    }
    total += l;
  }
  return total;
}

/**
 * Top-k items by inner product with query q (f floats at Q[qo..]) over `items` rows of Y, skipping
 * `exclude` (sorted or not) item rows; best first, ties to the lower row. Fewer valid items than k
 * gives a shorter list.
 */
export function topkTs(Q: Float32Array, qo: number, Y: Float32Array, items: number, f: number, k: number, exclude: ArrayLike<number> = []): { items: Int32Array; scores: Float32Array } {
  const scores = new Float32Array(items);
  for (let i = 0; i < items; i++) scores[i] = dot(Q, qo, Y, i * f, f);
  for (let e = 0; e < exclude.length; e++) scores[exclude[e]] = -Infinity;
  return selectTopkTs(scores, k);
}

/** The k best of `scores` (−∞ never selected), best first, ties to the lower index. */
export function selectTopkTs(scores: Float32Array, k: number, rows?: Int32Array): { items: Int32Array; scores: Float32Array } {
  const oi = new Int32Array(k).fill(-1);
  const os = new Float32Array(k).fill(-Infinity);
  let thr = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (!(s > thr)) continue;
    let j = k - 1;
    while (j > 0 && os[j - 1] < s) {
      os[j] = os[j - 1];
      oi[j] = oi[j - 1];
      j--;
    }
    os[j] = s;
    oi[j] = rows ? rows[i] : i;
    thr = os[k - 1];
  }
  let n = k;
  while (n > 0 && oi[n - 1] < 0) n--;
  return { items: oi.slice(0, n), scores: os.slice(0, n) };
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng.ts';
import { csrFromCoo, type Csr } from '../signals/index.ts';
import { jacobiSvd, matmul, orthonormalizeColumns, transposeDense } from './linalg.ts';
import { randomizedSvd } from './svd.ts';

const close = (a: number, b: number, eps: number, what = '') => assert.ok(Math.abs(a - b) <= eps, `${what} ${a} ≉ ${b}`);

/** max |QᵀQ − I| over the first r columns of row-major Q (m × c). */
function orthError(q: Float64Array, m: number, c: number, r = c): number {
  const g = matmul(transposeDense(q, m, c), q, c, m, c);
  let e = 0;
  for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) e = Math.max(e, Math.abs(g[i * c + j] - (i === j ? 1 : 0)));
  return e;
}

function reconstruct(u: Float64Array, s: Float64Array, v: Float64Array, m: number, n: number, r: number): Float64Array {
  const us = Float64Array.from(u);
  for (let i = 0; i < m; i++) for (let j = 0; j < r; j++) us[i * r + j] *= s[j];
  return matmul(us, transposeDense(v, n, r), m, r, n);
}

function dense(a: Csr): Float64Array {
  const d = new Float64Array(a.rows * a.cols);
  for (let i = 0; i < a.rows; i++) for (let p = a.indptr[i]; p < a.indptr[i + 1]; p++) d[i * a.cols + a.indices[p]] = a.data[p];
  return d;
}

/** A seeded sparse m × n matrix with a decaying spectrum: a rank-`rank` product plus sparse noise. */
function lowRankSparse(m: number, n: number, rank: number, seed: number): Csr {
  const rng = new Rng(seed);
  const rows: number[] = [], cols: number[] = [], vals: number[] = [];
  const left = Array.from({ length: m * rank }, () => rng.normal());
  const right = Array.from({ length: n * rank }, () => rng.normal());
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      if (rng.next() > 0.35) continue;
      let x = 0;
      for (let r = 0; r < rank; r++) x += left[i * rank + r] * right[j * rank + r] / (r + 1) ** 2;
      rows.push(i); cols.push(j); vals.push(x + 0.01 * rng.normal());
    }
  return csrFromCoo(m, n, Int32Array.from(rows), Int32Array.from(cols), Float32Array.from(vals));
}

test('Jacobi SVD of a matrix with known singular values', () => {
  // A = [[3, 0], [4, 5]]: AᵀA = [[25, 20], [20, 25]], eigenvalues 45 and 5 → σ = 3√5, √5
  const a = Float64Array.from([3, 0, 4, 5]);
  const { u, s, v } = jacobiSvd(a, 2, 2);
  close(s[0], 3 * Math.sqrt(5), 1e-12, 'σ1');
  close(s[1], Math.sqrt(5), 1e-12, 'σ2');
  // v1 ∝ (1, 1)/√2 with the sign fixed positive
  close(v[0], Math.SQRT1_2, 1e-12, 'v11');
  close(v[2], Math.SQRT1_2, 1e-12, 'v21');
  const back = reconstruct(u, s, v, 2, 2, 2);
  a.forEach((x, i) => close(back[i], x, 1e-12, `A[${i}]`));
});

test('Jacobi SVD reconstructs tall and wide random matrices with orthonormal factors', () => {
  const rng = new Rng(3);
  for (const [m, n] of [[9, 5], [4, 7], [6, 6]]) {
    const a = Float64Array.from({ length: m * n }, () => rng.normal());
    const d = jacobiSvd(a, m, n);
    const r = Math.min(m, n);
    assert.equal(d.s.length, r);
    for (let i = 1; i < r; i++) assert.ok(d.s[i] <= d.s[i - 1]);
    assert.ok(orthError(d.u, m, r) < 1e-12, `U ${m}×${n}`);
    assert.ok(orthError(d.v, n, r) < 1e-12, `V ${m}×${n}`);
    const back = reconstruct(d.u, d.s, d.v, m, n, r);
    a.forEach((x, i) => close(back[i], x, 1e-11, `${m}×${n} A[${i}]`));
    // Frobenius norm² = Σσ²
    close(d.s.reduce((t, x) => t + x * x, 0), a.reduce((t, x) => t + x * x, 0), 1e-9, 'Frobenius');
  }
});

test('Gram–Schmidt twice: orthonormal columns, dependent columns zeroed', () => {
  const rng = new Rng(5);
  const a = Float64Array.from({ length: 50 * 4 }, () => rng.normal());
  for (let i = 0; i < 50; i++) a[i * 4 + 3] = 2 * a[i * 4] - a[i * 4 + 1]; // column 3 depends on 0 and 1
  assert.equal(orthonormalizeColumns(a, 50, 4), 3);
  assert.ok(orthError(a, 50, 4, 3) < 1e-13);
  for (let i = 0; i < 50; i++) assert.equal(a[i * 4 + 3], 0);
});

test('randomized SVD matches the exact SVD on small sparse matrices', () => {
  for (const [m, n, seed] of [[60, 40, 1], [35, 80, 2]]) {
    const a = lowRankSparse(m, n, 6, seed);
    const exact = jacobiSvd(dense(a), m, n);
    const k = 5;
    const r = randomizedSvd(a, k, { seed: 7, oversample: 10, powerIterations: 3 });
    assert.equal(r.rank, k);
    for (let j = 0; j < k; j++) close(r.s[j], exact.s[j], 1e-6 * exact.s[0], `σ${j} ${m}×${n}`);
    // singular vectors agree up to sign (both have V's largest entry positive): |cos| ≈ 1
    for (let j = 0; j < 3; j++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += r.v[i * k + j] * exact.v[i * Math.min(m, n) + j];
      close(Math.abs(dot), 1, 1e-6, `v${j}`);
      dot = 0;
      for (let i = 0; i < m; i++) dot += r.u[i * k + j] * exact.u[i * Math.min(m, n) + j];
      close(Math.abs(dot), 1, 1e-6, `u${j}`);
    }
    assert.ok(orthError(r.u, m, k) < 1e-10 && orthError(r.v, n, k) < 1e-10);
  }
});

test('randomized SVD beyond the rank gives zero singular values, not NaN', () => {
  // rank 2: rows are combinations of (1, 0, 1, 0) and (0, 1, 0, 1)
  const a = csrFromCoo(4, 4, Int32Array.from([0, 0, 1, 1, 2, 2, 2, 2, 3, 3]), Int32Array.from([0, 2, 1, 3, 0, 1, 2, 3, 0, 2]), Float32Array.from([1, 1, 1, 1, 1, 2, 1, 2, 3, 3]));
  const r = randomizedSvd(a, 4, { seed: 3 });
  const exact = jacobiSvd(dense(a), 4, 4);
  close(r.s[0], exact.s[0], 1e-9);
  close(r.s[1], exact.s[1], 1e-9);
  assert.ok(r.s[2] < 1e-6 && r.s[3] < 1e-6);
  assert.ok([...r.u, ...r.v].every(Number.isFinite));
});

test('randomized SVD is seeded, clamps k, and rejects bad input', () => {
  const a = lowRankSparse(30, 12, 3, 9);
  const x = randomizedSvd(a, 4, { seed: 1 });
  const y = randomizedSvd(a, 4, { seed: 1 });
  assert.deepEqual(x.s, y.s);
  assert.deepEqual(x.u, y.u);
  assert.equal(randomizedSvd(a, 50).rank, 12);
  assert.throws(() => randomizedSvd(a, 0), /rank k must be a positive integer, got 0/);
  const empty: Csr = { rows: 0, cols: 3, indptr: new Int32Array(1), indices: new Int32Array(0), data: new Float32Array(0) };
  assert.throws(() => randomizedSvd(empty, 2), /cannot factor an empty 0×3 matrix/);
});

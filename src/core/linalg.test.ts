import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choleskySolve, choleskySolveInPlace, NotPositiveDefiniteError, normalizeRows, normalizedRows, spdInverseInPlace } from './linalg.ts';
import { DeepcutError } from '../errors.ts';
import { LogisticRegression } from '../bandit/index.ts';
import { Rng } from '../util/rng.ts';

const close = (a: number, b: number, tol: number) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('choleskySolve: several right-hand sides, inputs left as they were', () => {
  // G = [[4, 2], [2, 3]], B = [[2, 1], [1, 0]] → X = G⁻¹B = [[0.5, 0.375], [0, -0.25]]
  const g = Float64Array.from([4, 2, 2, 3]);
  const b = Float64Array.from([2, 1, 1, 0]);
  const x = choleskySolve(g, 2, b, 2);
  [0.5, 0.375, 0, -0.25].forEach((e, i) => close(x[i], e, 1e-12));
  assert.deepEqual([...g, ...b], [4, 2, 2, 3, 2, 1, 1, 0]);
});

test('choleskySolveInPlace: L into the lower triangle, X into B, the upper triangle never read', () => {
  const a = Float64Array.from([4, 99, 2, 3]); // the 99 above the diagonal is ignored
  const b = Float64Array.from([2, 1]);
  choleskySolveInPlace(a, 2, b);
  [2, 99, 1, Math.SQRT2].forEach((e, i) => close(a[i], e, 1e-12));
  [0.5, 0].forEach((e, i) => close(b[i], e, 1e-12));
});

test('a matrix that is not positive definite is one named error, never clamped', () => {
  const check = (a: number[], column: number) => (e: unknown) => e instanceof NotPositiveDefiniteError && e instanceof DeepcutError && e.code === 'invalid_input' && e.column === column && /not positive definite at column \d+ \(pivot .*\): add regularisation/.test(e.message);
  assert.throws(() => choleskySolve(Float64Array.from([1, 2, 2, 1]), 2, Float64Array.from([1, 1])), check([1, 2, 2, 1], 1));
  assert.throws(() => choleskySolve(Float64Array.from([0, 0, 0, 1]), 2, Float64Array.from([1, 1])), check([0, 0, 0, 1], 0));
  assert.throws(() => choleskySolveInPlace(Float64Array.from([NaN]), 1, Float64Array.from([1])), check([NaN], 0));
});

test('the bandit’s logistic regression refuses a singular Newton system instead of clamping its pivot', () => {
  // no ridge, and a feature that is always 0: XᵀWX is singular
  const n = 50;
  const rng = new Rng(3);
  const x = new Float64Array(n * 2);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) (x[i * 2] = rng.next()), (y[i] = rng.next() < 0.5 ? 1 : 0);
  assert.throws(() => new LogisticRegression({ l2: 0 }).fit({ n, dim: 2, x, y }, rng), NotPositiveDefiniteError);
  new LogisticRegression().fit({ n, dim: 2, x, y }, rng); // the default ridge (1) keeps it positive definite
});

test('normalizeRows scales in place; normalizedRows returns a copy and leaves its input', () => {
  const x = Float32Array.of(3, 4, 0, 0, 0, -2);
  assert.equal(normalizeRows(x, 2), x);
  assert.deepEqual([...x], [0.6, 0.8, 0, 0, 0, -1].map(Math.fround));
  const v = Float32Array.of(3, 4, 0, 0);
  const u = normalizedRows(v, 2);
  assert.notEqual(u, v);
  assert.deepEqual([...v], [3, 4, 0, 0]);
  assert.deepEqual([...u], [0.6, 0.8, 0, 0].map(Math.fround));
});

test('spdInverseInPlace: the worked example, A·A⁻¹ = I on a random Gram matrix, and a non-SPD matrix named', () => {
  assert.deepEqual([...spdInverseInPlace(Float64Array.of(4, 2, 2, 3), 2)], [0.375, -0.25, -0.25, 0.5]);
  const n = 30;
  const rng = new Rng(11);
  const x = Float64Array.from({ length: n * 40 }, () => rng.next() - 0.5);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let r = 0; r < 40; r++) a[i * n + j] += x[i * 40 + r] * x[j * 40 + r];
  for (let i = 0; i < n; i++) a[i * n + i] += 0.1;
  const inv = spdInverseInPlace(Float64Array.from(a), n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k] * inv[k * n + j];
      assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-9, `(A·A⁻¹)[${i},${j}] = ${s}`);
    }
  }
  assert.throws(() => spdInverseInPlace(Float64Array.of(1, 2, 2, 1), 2), /not positive definite at column 1 \(pivot -3\)/);
});

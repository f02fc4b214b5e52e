import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng.ts';
import { applyRidge, fitRidge, selectRidge } from './ridge.ts';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

test('ridge matches the closed form on a one-dimensional case', () => {
  // x = (0, 1, 2), y = (1, 3, 5): centred x = (-1, 0, 1), y = (-2, 0, 2)
  // w = Σxy / (Σx² + λ) = 4 / (2 + λ); prediction ŷ(x) = (x − 1)·w + 3
  const x = Float64Array.from([0, 1, 2]);
  const y = Float64Array.from([1, 3, 5]);
  for (const lambda of [0.5, 2]) {
    const m = fitRidge(x, 3, 1, y, 1, lambda);
    close(m.weights[0], 4 / (2 + lambda));
    close(m.xMean[0], 1);
    close(m.yMean[0], 3);
    close(applyRidge(m, Float64Array.from([4]), 1)[0], 3 + 3 * (4 / (2 + lambda)), 1e-6);
  }
});

test('ridge matches (XᵀX + λI)⁻¹XᵀY on a 2 → 2 case', () => {
  // centred X rows (1,0), (-1,0), (0,1), (0,-1) → XᵀX = 2I; Y = X·[[1, 2], [3, 4]]
  const x = Float64Array.from([1, 0, -1, 0, 0, 1, 0, -1]);
  const y = Float64Array.from([1, 2, -1, -2, 3, 4, -3, -4]);
  const m = fitRidge(x, 4, 2, y, 2, 1);
  // W = (2I + I)⁻¹ · 2·W_true = (2/3)·W_true
  [1, 2, 3, 4].forEach((w, i) => close(m.weights[i], (2 / 3) * w));
});

test('validation picks a small penalty for clean data and a larger one for noisy data', () => {
  const rng = new Rng(11);
  const n = 200, d = 5, f = 3;
  const w = Float64Array.from({ length: d * f }, () => rng.normal());
  const x = Float32Array.from({ length: n * d }, () => rng.normal());
  const make = (noise: number) => {
    const y = new Float32Array(n * f);
    for (let i = 0; i < n; i++) for (let b = 0; b < f; b++) {
      let s = 0;
      for (let a = 0; a < d; a++) s += x[i * d + a] * w[a * f + b];
      y[i * f + b] = s + noise * rng.normal();
    }
    return y;
  };
  const lambdas = [0.01, 1, 100, 10000];
  const clean = selectRidge(x, n, d, make(0), f, { lambdas, seed: 1 });
  assert.equal(clean.map.lambda, 0.01);
  assert.equal(clean.validation.length, 4);
  assert.ok(clean.validation[0].mse < 1e-4);
  // pure noise: no signal to fit, a heavy penalty (close to predicting the mean) wins
  const noiseOnly = selectRidge(x, n, d, Float32Array.from({ length: n * f }, () => rng.normal()), f, { lambdas, seed: 1 });
  assert.ok(noiseOnly.map.lambda >= 100, `picked ${noiseOnly.map.lambda}`);
});

test('ridge rejects bad shapes and penalties', () => {
  const x = new Float32Array(6);
  assert.throws(() => fitRidge(x, 3, 2, new Float32Array(5), 2, 1), /factor matrix has 5 values, expected 3×2/);
  assert.throws(() => fitRidge(x, 3, 3, new Float32Array(6), 2, 1), /text matrix has 6 values, expected 3×3/);
  assert.throws(() => fitRidge(x, 3, 2, new Float32Array(6), 2, 0), /ridge penalty must be positive, got 0/);
  assert.throws(() => fitRidge(new Float32Array(2), 1, 2, new Float32Array(2), 2, 1), /at least 2 subjects/);
  assert.throws(() => selectRidge(x, 3, 2, new Float32Array(6), 2, { lambdas: [] }), /ridge penalties must be positive/);
});

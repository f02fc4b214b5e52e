import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bart } from './bart.ts';
import { Rng } from '../util/rng.ts';
import type { Dataset } from './reward.ts';

/** y ~ Bernoulli(0.2) when x0 < 0.5, Bernoulli(0.8) otherwise; x1 is noise. */
function stepData(n: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const x = new Float64Array(n * 2);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i * 2] = rng.next();
    x[i * 2 + 1] = rng.next();
    y[i] = rng.next() < (x[i * 2] < 0.5 ? 0.2 : 0.8) ? 1 : 0;
  }
  return { n, dim: 2, x, y };
}

test('BART posterior mean fits a step function', () => {
  const bart = new Bart({ trees: 20, burn: 100, draws: 40, thin: 2 });
  bart.fit(stepData(1000, 1), new Rng(2));
  const grid = Float64Array.from([0.1, 0.5, 0.3, 0.2, 0.45, 0.9, 0.7, 0.1, 0.9, 0.5]);
  const out = new Float64Array(5);
  bart.predict(grid, 5, out);
  for (const i of [0, 1, 2]) assert.ok(Math.abs(out[i] - 0.2) < 0.08, `x = ${grid[i * 2]}: ${out[i]}`);
  for (const i of [3, 4]) assert.ok(Math.abs(out[i] - 0.8) < 0.08, `x = ${grid[i * 2]}: ${out[i]}`);
});

test('BART draws vary, are seeded, and survive a JSON round trip', () => {
  const d = stepData(400, 3);
  const a = new Bart({ trees: 10, burn: 40, draws: 20, thin: 1 });
  a.fit(d, new Rng(5));
  const b = new Bart({ trees: 10, burn: 40, draws: 20, thin: 1 });
  b.fit(d, new Rng(5));
  const x = Float64Array.from([0.75, 0.5]);
  const lat = Array.from({ length: a.draws }, (_, k) => a.latent(x, 0, k));
  assert.deepEqual(lat, Array.from({ length: b.draws }, (_, k) => b.latent(x, 0, k)));
  const mean = lat.reduce((s, v) => s + v, 0) / lat.length;
  const sd = Math.sqrt(lat.reduce((s, v) => s + (v - mean) ** 2, 0) / lat.length);
  assert.ok(sd > 0.01, `posterior sd ${sd}`);
  const s1 = new Float64Array(1), s2 = new Float64Array(1);
  const rng = new Rng(9);
  const samples = new Set<number>();
  for (let k = 0; k < 20; k++) {
    a.sample(x, 1, s1, rng);
    samples.add(s1[0]);
  }
  assert.ok(samples.size > 3, `${samples.size} distinct draws`);
  const c = Bart.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
  a.predict(x, 1, s1);
  c.predict(x, 1, s2);
  assert.equal(s1[0], s2[0]);
});

test('BART errors are named', () => {
  const b = new Bart();
  assert.throws(() => b.predict(new Float64Array(2), 1, new Float64Array(1)), /bart: not fitted/);
  assert.throws(() => b.fit({ n: 1, dim: 1, x: Float64Array.of(NaN), y: Float64Array.of(1) }, new Rng(1)), /bart: feature 0 of row 0 is NaN/);
  assert.throws(() => b.fit({ n: 1, dim: 1, x: Float64Array.of(1), y: Float64Array.of(2) }, new Rng(1)), /bart: labels must be 0 or 1, row 0 is 2/);
});

test('BART with examination (position-based click model) learns attractiveness, not the click rate', () => {
  // attractiveness 0.2 when x0 < 0.5, else 0.8; the better cards were shown lower (examination 0.4),
  // the worse at the top (examination 1), so their click rates are 0.2 and 0.32
  const n = 3000, rng = new Rng(11);
  const x = new Float64Array(n * 2), y = new Float64Array(n), exam = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i * 2] = rng.next();
    x[i * 2 + 1] = rng.next();
    const good = x[i * 2] >= 0.5;
    exam[i] = good ? 0.4 : 1;
    y[i] = rng.next() < exam[i] * (good ? 0.8 : 0.2) ? 1 : 0;
  }
  const grid = Float64Array.from([0.2, 0.5, 0.8, 0.5]);
  const out = new Float64Array(2);
  const plain = new Bart({ trees: 20, burn: 100, draws: 40, thin: 2 });
  plain.fit({ n, dim: 2, x, y }, new Rng(2));
  plain.predict(grid, 2, out);
  assert.ok(Math.abs(out[1] - 0.32) < 0.06, `without examination the model learns the click rate: ${out[1]}`);
  const pbm = new Bart({ trees: 20, burn: 100, draws: 40, thin: 2 });
  pbm.fit({ n, dim: 2, x, y, exam }, new Rng(2));
  pbm.predict(grid, 2, out);
  assert.ok(Math.abs(out[0] - 0.2) < 0.06, `x0 = 0.2: ${out[0]}`);
  assert.ok(Math.abs(out[1] - 0.8) < 0.1, `x0 = 0.8: ${out[1]}`);
  assert.throws(() => pbm.fit({ n, dim: 2, x, y, exam: new Float64Array(n) }, new Rng(2)), /bart: examination of row 0 must be in \(0, 1\], got 0/);
});

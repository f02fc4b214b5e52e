// The contract every reward model passes: on data with a known answer (a logistic truth with an
// interaction) it ranks rows by their true probability, it survives a JSON round trip, and it
// refuses bad input and use before fit with named errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRewardModel, loadRewardModel, LogisticRegression, type RewardModelConfig } from './models.ts';
import { Rng } from '../util/rng.ts';
import type { Dataset } from './reward.ts';

function truth(x0: number, x1: number, x2: number): number {
  return 1 / (1 + Math.exp(-(-1 + 2 * x0 - 1.5 * x1 + 1.5 * x1 * x2)));
}
function data(n: number, seed: number): Dataset & { p: Float64Array } {
  const rng = new Rng(seed);
  const x = new Float64Array(n * 3), y = new Float64Array(n), p = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i * 3] = rng.next();
    x[i * 3 + 1] = rng.next();
    x[i * 3 + 2] = rng.next() < 0.5 ? 1 : 0;
    p[i] = truth(x[i * 3], x[i * 3 + 1], x[i * 3 + 2]);
    y[i] = rng.next() < p[i] ? 1 : 0;
  }
  return { n, dim: 3, x, y, p };
}
/** Share of pairs ordered like the truth (AUC of the predicted vs true probabilities). */
function concordance(a: Float64Array, b: Float64Array): number {
  let ok = 0, all = 0;
  for (let i = 0; i < a.length; i++) for (let j = i + 1; j < a.length; j++) {
    if (b[i] === b[j]) continue;
    all++;
    if ((a[i] - a[j]) * (b[i] - b[j]) > 0) ok++;
  }
  return ok / all;
}

const configs: RewardModelConfig[] = [
  { kind: 'logistic' },
  { kind: 'gbt', rounds: 30 },
  { kind: 'bart', trees: 20, burn: 50, draws: 20 },
  { kind: 'mlp', epochs: 20 },
  { kind: 'bootstrap', member: { kind: 'logistic' }, members: 4 },
];
const train = data(1500, 1);
const testSet = data(200, 2);

for (const c of configs) {
  test(`${c.kind}: ranks held-out rows like the truth, round-trips, names errors`, () => {
    const m = makeRewardModel(c);
    assert.equal(m.fitted, false);
    assert.throws(() => m.predict(testSet.x, 1, new Float64Array(1)), new RegExp(`${m.name}: not fitted`));
    m.fit(train, new Rng(3));
    assert.ok(m.fitted);
    const out = new Float64Array(testSet.n);
    m.predict(testSet.x, testSet.n, out);
    for (const v of out) assert.ok(v > 0 && v < 1);
    const conc = concordance(out, testSet.p);
    assert.ok(conc > 0.8, `${m.name} concordance ${conc.toFixed(3)}`);
    const back = loadRewardModel(JSON.parse(JSON.stringify(m.toJSON())));
    const out2 = new Float64Array(testSet.n);
    back.predict(testSet.x, testSet.n, out2);
    assert.deepEqual(out2, out);
    assert.throws(() => m.fit({ ...train, y: train.y.map((v, i) => (i === 5 ? 0.5 : v)) }, new Rng(1)), new RegExp(`${m.name}: labels must be 0 or 1, row 5 is 0.5`));
  });
}

test('weights: a weighted fit equals a fit on duplicated rows (logistic)', () => {
  const small = data(200, 4);
  const w = Float64Array.from({ length: small.n }, (_, i) => (i % 2 ? 2 : 1));
  const a = new LogisticRegression();
  a.fit({ ...small, w }, new Rng(1));
  const rows: number[] = [];
  for (let i = 0; i < small.n; i++) for (let k = 0; k < w[i]; k++) rows.push(i);
  const dup: Dataset = { n: rows.length, dim: 3, x: Float64Array.from(rows.flatMap((i) => [...small.x.subarray(i * 3, i * 3 + 3)])), y: Float64Array.from(rows, (i) => small.y[i]) };
  const b = new LogisticRegression();
  b.fit(dup, new Rng(1));
  const ca = a.coefficients(), cb = b.coefficients();
  for (let k = 0; k < ca.length; k++) assert.ok(Math.abs(ca[k] - cb[k]) < 1e-6);
});

test('loadRewardModel names what is wrong', () => {
  assert.throws(() => loadRewardModel({ magic: 'x' }), /reward model: not a deepcut reward model file \(magic "x"\)/);
  assert.throws(() => loadRewardModel({ magic: 'deepcut-reward-model', version: 2 }), /reward model: unsupported version 2, expected 1/);
  assert.throws(() => loadRewardModel({ magic: 'deepcut-reward-model', version: 1, kind: 'svm' }), /reward model: unknown kind "svm"/);
});

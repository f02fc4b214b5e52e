// The contract every bandit policy passes (seeded throughout): slates are valid, each slot's
// propensities sum to 1 over the candidates, the same seed gives the same slate, and — except for
// the uniform baseline, which by design never learns — the policy learns to put the best candidate
// first on a toy problem with a known answer. Then hand-computed propensities and training weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { topK } from '../core/topk.ts';
import { Rng } from '../util/rng.ts';
import { Bart } from './bart.ts';
import { BootstrapEnsemble, LogisticRegression, GradientBoostedTrees } from './models.ts';
import { EpsilonGreedyPolicy, ThompsonPolicy, UniformPolicy, policyFor, trainingSet, type Decision, type LoggedChoice, type Policy } from './policy.ts';

/** Toy world: n candidates with x0, x1 uniform; P(reward) = 0.05 + 0.7·x0² (x1 is noise). The best is the largest x0. */
const truth = (x: Float64Array, a: number) => 0.05 + 0.7 * x[a * 2] ** 2;
function decision(rng: Rng, n = 6): Decision {
  return { n, dim: 2, x: Float64Array.from({ length: n * 2 }, () => rng.next()) };
}

const policies: { make: () => Policy; learns: boolean }[] = [
  { make: () => new UniformPolicy(), learns: false },
  { make: () => new EpsilonGreedyPolicy(new LogisticRegression(), { epsilon: 0.1 }), learns: true },
  { make: () => new EpsilonGreedyPolicy(new GradientBoostedTrees({ rounds: 30, depth: 2 }), { epsilon: 0.1 }), learns: true },
  { make: () => new ThompsonPolicy(new Bart({ trees: 10, burn: 30, draws: 20, thin: 1 }), { samples: 32 }), learns: true },
  { make: () => new ThompsonPolicy(new BootstrapEnsemble({ member: { kind: 'logistic' }, members: 5 }), { samples: 32 }), learns: true },
  { make: () => new ThompsonPolicy(new BootstrapEnsemble({ member: { kind: 'logistic' }, members: 5 }), { samples: 32, scale: 0.5 }), learns: true },
];

/** Serve `rounds` × `perRound` requests of k = 2 slots, refitting after each round; returns the policy. */
function train(p: Policy, rounds: number, perRound: number, seed: number): Policy {
  const rng = new Rng(seed);
  const logs: LoggedChoice[] = [];
  for (let r = 0; r < rounds; r++) {
    for (let q = 0; q < perRound; q++) {
      const d = decision(rng);
      const sl = p.choose(d, 2, rng);
      sl.chosen.forEach((a, s) => logs.push({ x: d.x.slice(a * 2, a * 2 + 2), reward: rng.next() < truth(d.x, a) ? 1 : 0, propensity: sl.propensity[s] }));
    }
    p.fit(trainingSet(logs, 2), rng);
  }
  return p;
}

for (const { make, learns } of policies) {
  const name = make().name;
  test(`${name}: valid slates, propensities sum to 1 per slot, seeded`, () => {
    const p = train(make(), 2, 40, 1);
    const rng = new Rng(7);
    for (let q = 0; q < 20; q++) {
      const d = decision(rng, 3 + (q % 5));
      const k = 1 + (q % 4);
      const kk = Math.min(k, d.n);
      const a = p.choose(d, k, new Rng(100 + q));
      const b = p.choose(d, k, new Rng(100 + q));
      assert.deepEqual(a, b, 'same seed, same slate');
      assert.equal(a.chosen.length, kk);
      assert.equal(new Set(a.chosen).size, kk, 'no candidate twice');
      for (const pr of a.propensity) assert.ok(pr > 0 && pr <= 1, `propensity ${pr}`);
      const m = p.marginals(d, k, new Rng(200 + q));
      assert.equal(m.length, d.n * kk);
      for (let s = 0; s < kk; s++) {
        let sum = 0;
        for (let c = 0; c < d.n; c++) sum += m[c * kk + s];
        assert.ok(Math.abs(sum - 1) < 1e-9, `slot ${s} sums to ${sum}`);
      }
    }
    assert.throws(() => p.choose({ n: 0, dim: 2, x: new Float64Array(0) }, 2, rng), new RegExp(`${name.replace(/[()]/g, '\\$&')}: no candidates`));
    assert.throws(() => p.choose(decision(rng), 0, rng), /slate size must be a positive integer, got 0/);
  });

  test(`${name}: ${learns ? 'learns to put the best candidate first' : 'skipped learning check: uniform never learns (it is the baseline)'}`, { skip: learns ? false : 'uniform never learns (it is the baseline)' }, () => {
    const p = train(make(), 8, 40, 2);
    const rng = new Rng(3);
    let share = 0;
    const N = 100;
    for (let q = 0; q < N; q++) {
      const d = decision(rng);
      const best = topK(Float64Array.from({ length: d.n }, (_, a) => d.x[a * 2]), 1).items[0];
      share += p.marginals(d, 2, rng)[best * 2];
    }
    // uniform would score 1/6; the greedy ceiling is 1 − ε + ε/6
    assert.ok(share / N > 0.5, `best candidate first in ${(share / N).toFixed(2)} of requests`);
  });
}

test('egreedy propensities are ε/n + (1 − ε) on the greedy slate, hand-computed', () => {
  const m = new LogisticRegression();
  m.fit({ n: 4, dim: 1, x: Float64Array.of(0, 1, 0, 1), y: Float64Array.of(0, 1, 0, 1) }, new Rng(1));
  const p = new EpsilonGreedyPolicy(m, { epsilon: 0.2 });
  const d: Decision = { n: 4, dim: 1, x: Float64Array.of(0.1, 0.9, 0.5, 0.3) }; // greedy order 1, 2, 3, 0
  const marg = p.marginals(d, 2);
  assert.deepEqual(Array.from(marg, (v) => +v.toFixed(10)), [0.05, 0.05, 0.85, 0.05, 0.05, 0.85, 0.05, 0.05]);
  let greedy = 0;
  for (let t = 0; t < 200; t++) {
    const sl = p.choose(d, 2, new Rng(t));
    if (sl.chosen[0] === 1 && sl.chosen[1] === 2) {
      greedy++;
      assert.deepEqual(Array.from(sl.propensity, (v) => +v.toFixed(10)), [0.85, 0.85]);
    } else for (let s = 0; s < 2; s++) assert.equal(+sl.propensity[s].toFixed(10), sl.chosen[s] === [1, 2][s] ? 0.85 : 0.05);
  }
  assert.ok(greedy > 150 && greedy < 185, `greedy slate ${greedy}/200 times (expected ≈ 0.8·200 + 0.2·200/12)`);
  assert.throws(() => new EpsilonGreedyPolicy(m, { epsilon: 1.5 }), /egreedy: epsilon must be in \[0, 1\], got 1.5/);
});

test('uniform and cold-start policies give 1/n', () => {
  const d: Decision = { n: 5, dim: 1, x: new Float64Array(5) };
  for (const p of [new UniformPolicy(), new EpsilonGreedyPolicy(new LogisticRegression()), new ThompsonPolicy(new Bart())]) {
    const sl = p.choose(d, 3, new Rng(1));
    assert.deepEqual(Array.from(sl.propensity), [0.2, 0.2, 0.2]);
    assert.deepEqual(Array.from(p.marginals(d, 3, new Rng(1))), new Array(15).fill(0.2));
  }
});

test('trainingSet weights are clipped inverse propensities with mean 1', () => {
  const x = Float64Array.of(0);
  const logs: LoggedChoice[] = [
    { x, reward: 1, propensity: 0.5 },
    { x, reward: 0, propensity: 0.25 },
    { x, reward: 0, propensity: 0.01 },
  ];
  const d = trainingSet(logs, 1, { clip: 8 }); // raw 2, 4, 8 → ×3/14
  assert.deepEqual(Array.from(d.w!, (v) => +v.toFixed(10)), [6 / 14, 12 / 14, 24 / 14].map((v) => +v.toFixed(10)));
  assert.deepEqual(Array.from(d.y), [1, 0, 0]);
  assert.equal(trainingSet(logs, 1, { maxRows: 2 }).n, 2);
  assert.throws(() => trainingSet([{ x, reward: 1, propensity: 0 }], 1), /trainingSet: propensity of row 0 must be in \(0, 1\], got 0/);
  assert.equal(d.exam, undefined, 'no examination unless asked');
});

test('trainingSet examination: ê of each row\'s slot (later slots as the last, at least 0.05), 1 without a slot', () => {
  const x = Float64Array.of(0);
  const logs: LoggedChoice[] = [
    { x, reward: 1, propensity: 0.5, slot: 0 },
    { x, reward: 0, propensity: 0.5, slot: 1 },
    { x, reward: 0, propensity: 0.5, slot: 7 },
    { x, reward: 0, propensity: 0.5 },
  ];
  assert.deepEqual(Array.from(trainingSet(logs, 1, { examination: [1, 0.6, 0.01] }).exam!), [1, 0.6, 0.05, 1]);
});

test('policyFor: Thompson for a model with a posterior, ε-greedy otherwise, uniform without a model', () => {
  assert.equal(policyFor(undefined).name, 'uniform');
  assert.equal(policyFor(new LogisticRegression(), { epsilon: 0.05 }).name, 'egreedy(0.05):logistic');
  assert.equal(policyFor(new Bart(), { samples: 8 }).name, 'thompson:bart');
  assert.equal(policyFor(new BootstrapEnsemble({ member: { kind: 'gbt' } })).name, 'thompson:bootstrap');
});

test('Thompson scale: draws pulled towards the posterior mean explore less; scale 1 is plain Thompson; out of (0, 1] is refused', () => {
  const fitted = () => train(new ThompsonPolicy(new BootstrapEnsemble({ member: { kind: 'logistic' }, members: 5 }), { samples: 32 }), 1, 30, 3) as ThompsonPolicy;
  const base = fitted();
  const model = base.model;
  const d = decision(new Rng(11), 8);
  const mean = new Float64Array(d.n);
  model.predict(d.x, d.n, mean);
  const best = topK(mean, 1).items[0];
  // the share of draws that put the mean's best candidate first, at scale 1, 0.3 and 0.01
  const first = (scale: number) => new ThompsonPolicy(model, { samples: 400, scale }).marginals(d, 1, new Rng(5))[best];
  const [s1, s03, s001] = [first(1), first(0.3), first(0.01)];
  assert.ok(s1 <= s03 && s03 <= s001, `${s1} ≤ ${s03} ≤ ${s001}`);
  assert.equal(s001, 1, 'a draw 1 % of the way from the mean ranks as the mean does');
  assert.deepEqual(new ThompsonPolicy(model, { samples: 32, scale: 1 }).choose(d, 3, new Rng(2)), base.choose(d, 3, new Rng(2)));
  assert.equal(new ThompsonPolicy(model, { scale: 0.5 }).name, 'thompson(0.5):bootstrap');
  assert.throws(() => new ThompsonPolicy(model, { scale: 0 }), /scale must be in \(0, 1\], got 0/);
  assert.throws(() => new ThompsonPolicy(model, { scale: 1.5 }), /scale must be in \(0, 1\], got 1.5/);
});

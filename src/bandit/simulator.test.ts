import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EpsilonGreedyPolicy, UniformPolicy } from './policy.ts';
import { LogisticRegression } from './models.ts';
import { FEATURES, HomeWorld, SHELF_KINDS, collectLogs, opeCheck, simulate } from './simulator.ts';
import { trainingSet } from './policy.ts';
import { Rng } from '../util/rng.ts';

const world = new HomeWorld({ seed: 3, users: 40, tracks: 400, listensPerUser: 30 });

test('requests are seeded, features are finite, each card has one explanation, truth is a probability', () => {
  assert.deepEqual(world.request(2, 5), world.request(2, 5));
  assert.notDeepEqual(world.request(2, 5).decision.x, world.request(2, 6).decision.x);
  for (let r = 0; r < 30; r++) {
    const q = world.request(0, r);
    const { n, dim, x } = q.decision;
    assert.equal(dim, FEATURES.length);
    assert.equal(q.tracks.length, n);
    assert.ok(n >= 3, `${n} candidates`); // a new listener with no history still gets "Popular now"
    for (const v of x) assert.ok(Number.isFinite(v));
    const e0 = FEATURES.indexOf(`shelf:${SHELF_KINDS[0]}`);
    for (let a = 0; a < n; a++) {
      let ones = 0;
      for (let k = 0; k < SHELF_KINDS.length; k++) ones += x[a * dim + e0 + k];
      assert.equal(ones, 1);
      assert.equal(x[a * dim + e0 + SHELF_KINDS.indexOf(q.shelves[a])], 1);
      assert.ok(q.pTrue[a] > 0 && q.pTrue[a] < 1);
    }
    // the oracle's slate is worth at least any random slate
    const random = new UniformPolicy().choose(q.decision, 4, new Rng(r)).chosen;
    assert.ok(world.value(q, world.oracle(q, 4)) >= world.value(q, random));
  }
});

test('simulate: the oracle bounds every arm, regret grows, a learning policy beats uniform', () => {
  const res = simulate(
    world,
    [
      { name: 'uniform', policy: new UniformPolicy() },
      { name: 'egreedy-lr', policy: new EpsilonGreedyPolicy(new LogisticRegression(), { epsilon: 0.1 }) },
    ],
    { days: 4, requestsPerDay: 150, slots: 4, seed: 1 },
  );
  assert.equal(res.impressions, 4 * 150 * 4);
  for (const a of res.arms) {
    assert.equal(a.cumRegret.length, 4);
    for (let d = 0; d < 4; d++) {
      assert.ok(a.cumExpected[d] <= res.oracle.cumExpected[d] + 1e-9);
      assert.ok(Math.abs(a.cumRegret[d] - (res.oracle.cumExpected[d] - a.cumExpected[d])) < 1e-6);
      if (d > 0) assert.ok(a.cumRegret[d] >= a.cumRegret[d - 1]);
    }
  }
  const [uni, lr] = res.arms;
  const lastDay = (c: number[]) => c[3] - c[2];
  assert.ok(lastDay(lr.cumRegret) < 0.8 * lastDay(uni.cumRegret), `last-day regret ${lastDay(lr.cumRegret).toFixed(1)} vs uniform ${lastDay(uni.cumRegret).toFixed(1)}`);
  // the same seed gives the same run
  const again = simulate(world, [{ name: 'uniform', policy: new UniformPolicy() }], { days: 4, requestsPerDay: 150, slots: 4, seed: 1 });
  assert.deepEqual(again.arms[0].cumReward, uni.cumReward);
});

test('opeCheck: on-policy IPS is the mean reward; off-policy estimates cover the true value', () => {
  const lr = new LogisticRegression();
  lr.fit(trainingSet(collectLogs(world, new UniformPolicy(), { day: 9, from: 0, n: 300, slots: 4, seed: 1 }), world.dim), new Rng(1));
  const on = opeCheck(world, new UniformPolicy(), new UniformPolicy(), lr, { day: 10, n: 400, slots: 4, seed: 2 });
  const [ipsOn, snipsOn] = on.estimates;
  assert.ok(Math.abs(ipsOn.value - snipsOn.value) < 1e-12, 'weights are all 1');
  assert.ok(ipsOn.lo <= on.truth && on.truth <= ipsOn.hi, `on-policy IPS [${ipsOn.lo.toFixed(3)}, ${ipsOn.hi.toFixed(3)}] vs truth ${on.truth.toFixed(3)}`);
  const off = opeCheck(world, new UniformPolicy(), new EpsilonGreedyPolicy(lr, { epsilon: 0.2 }), lr, { day: 11, n: 600, slots: 4, seed: 3 });
  assert.ok(off.truth > off.loggingTruth, `target ${off.truth.toFixed(3)} vs logging ${off.loggingTruth.toFixed(3)}`);
  for (const e of off.estimates.slice(0, 3)) assert.ok(e.lo <= off.truth && off.truth <= e.hi, `${e.estimator} [${e.lo.toFixed(3)}, ${e.hi.toFixed(3)}] vs truth ${off.truth.toFixed(3)}`);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EpsilonGreedyPolicy, UniformPolicy } from './policy.ts';
import { LogisticRegression } from './models.ts';
import { FEATURES, Feedback, HomeWorld, SHELF_KINDS, collectLogs, opeCheck, simulate } from './simulator.ts';
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

test('listener features from the history and follows: follows_artist is whether the listener follows the card\'s artist; user_mainstream is a z-score mean (0 on average over listeners) that rises with the mean popularity of the streams', () => {
  const f = (name: string) => FEATURES.indexOf(name as (typeof FEATURES)[number]);
  let followedCards = 0;
  for (let r = 0; r < 40; r++) {
    const q = world.request(1, r);
    const u = world.users[q.user];
    for (let a = 0; a < q.decision.n; a++) {
      const follows = u.followed.has(world.cat.trackArtist[q.tracks[a]]);
      followedCards += +follows;
      assert.equal(q.decision.x[a * q.decision.dim + f('follows_artist')], +follows);
      assert.equal(q.decision.x[a * q.decision.dim + f('user_mainstream')], u.mainstreamMix);
    }
  }
  assert.ok(followedCards > 0, 'some cards are by artists the listener follows');
  const mix = world.users.map((u) => u.mainstreamMix);
  assert.ok(Math.abs(mix.reduce((a, b) => a + b, 0) / mix.length) < 1e-9);
  // one of its three parts is the mean popularity of the streams: the score covaries with it
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const pop = world.users.map((u) => u.mainstream), mPop = mean(pop), mMix = mean(mix);
  assert.ok(pop.reduce((acc, p, i) => acc + (p - mPop) * (mix[i] - mMix), 0) > 0);
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

test('Feedback: streams per examined impression of a track, of a listener per shelf, per artist and per genre become features of later requests, smoothed to the overall rate; the request is untouched', () => {
  const fb = new Feedback(world, 4);
  const q = world.request(4, 1);
  const f = (name: string) => FEATURES.indexOf(name as (typeof FEATURES)[number]);
  const before = fb.decision(q);
  assert.equal(before.x[f('card_rate')], 0, 'nothing logged yet: rate 0, seen 0');
  assert.equal(before.x[f('card_seen')], 0);
  assert.deepEqual([...fb.examination()], [1, 1, 1, 1], 'no evidence on position effects yet: every slot counts fully');
  // card 0 streamed on all 3 of its impressions at slot 0, card 1 never on 5 of its own at slot 0 (a different track)
  const other = [...q.tracks].findIndex((t) => t !== q.tracks[0] && world.cat.trackArtist[t] !== world.cat.trackArtist[q.tracks[0]]);
  const n = q.decision.n;
  for (let i = 0; i < 3; i++) fb.add(q, 0, 1, 0, 1 / n);
  for (let i = 0; i < 5; i++) fb.add(q, other, 0, 0, 1 / n);
  const d = fb.decision(q);
  const m = 3 / 8;
  const at = (a: number, name: string) => d.x[a * d.dim + f(name)];
  assert.ok(Math.abs(at(0, 'card_rate') - (3 + 5 * m) / (3 + 5)) < 1e-12);
  assert.ok(Math.abs(at(other, 'card_rate') - (0 + 5 * m) / (5 + 5)) < 1e-12);
  assert.ok(Math.abs(at(0, 'card_seen') - Math.log1p(3) / 5) < 1e-12);
  assert.ok(Math.abs(at(0, 'user_artist_rate') - (3 + 5 * m) / (3 + 5)) < 1e-12, 'the listener streamed this artist 3 times of 3');
  assert.ok(Math.abs(at(other, 'user_artist_rate') - (0 + 5 * m) / (5 + 5)) < 1e-12);
  const sameGenre = world.cat.trackGenre[q.tracks[0]] === world.cat.trackGenre[q.tracks[other]];
  assert.ok(Math.abs(at(0, 'user_genre_rate') - (sameGenre ? (3 + 5 * m) / (8 + 5) : (3 + 5 * m) / (3 + 5))) < 1e-12);
  // both cards' shelves are this listener's: the shelf-level rate counts them per shelf kind
  const sameShelf = q.shelves[0] === q.shelves[other];
  assert.ok(Math.abs(at(0, 'user_shelf_rate') - (sameShelf ? (3 + 5 * m) / (8 + 5) : (3 + 5 * m) / (3 + 5))) < 1e-12);
  assert.deepEqual(q.decision.x, world.request(4, 1).decision.x, 'the request keeps its own rows');
});

test("Feedback: a slot's examination is estimated from uniform logs by IPS, and impressions count by it (clicks over expected clicks)", () => {
  const fb = new Feedback(world, 2);
  const q = world.request(4, 2);
  const n = q.decision.n;
  // uniform logging (propensity 1/n): slot 0 streams 8 of 20, slot 1 streams 2 of 20 → ê(1) = (2/20) / (8/20) = 0.25
  for (let i = 0; i < 20; i++) fb.add(q, i % n, i < 8 ? 1 : 0, 0, 1 / n);
  for (let i = 0; i < 20; i++) fb.add(q, (i + 3) % n, i < 2 ? 1 : 0, 1, 1 / n);
  assert.deepEqual([...fb.examination()], [1, 0.25]);
  // a track shown 4 times at slot 1 and streamed once: 4 × 0.25 = 1 examined impression
  const t = new Feedback(world, 2);
  for (let i = 0; i < 20; i++) t.add(q, 1, i < 8 ? 1 : 0, 0, 1 / n);
  for (let i = 0; i < 20; i++) t.add(q, 1, i < 2 ? 1 : 0, 1, 1 / n);
  const d = t.decision(q);
  const m = 10 / (20 + 20 * 0.25);
  assert.ok(Math.abs(d.x[1 * d.dim + FEATURES.indexOf('card_rate')] - (10 + 5 * m) / (25 + 5)) < 1e-12);
});

test('simulate with slotAware: logged rows carry the slot they were shown at; candidates are scored at slot 0', () => {
  const seen: number[] = [];
  const policy = new UniformPolicy();
  const spy = { name: 'spy', choose: policy.choose.bind(policy), marginals: policy.marginals.bind(policy), fit: (d: { n: number; dim: number; x: Float64Array }) => { for (let i = 0; i < d.n; i++) seen.push(d.x[i * d.dim + FEATURES.indexOf('slot')]); } };
  simulate(world, [{ name: 'spy', policy: spy }], { days: 1, requestsPerDay: 5, slots: 3, seed: 1, slotAware: true });
  assert.deepEqual([...new Set(seen)].sort(), [0, 1, 2]);
  seen.length = 0;
  simulate(world, [{ name: 'spy', policy: spy }], { days: 1, requestsPerDay: 5, slots: 3, seed: 1 });
  assert.deepEqual([...new Set(seen)], [0], 'off by default');
});

test('simulate with warm: a previous deployment\'s logs fit the model before day 0 and head its training log; day 0 is no longer uniform', () => {
  const prior = new HomeWorld({ seed: 8, users: 40, tracks: 300, listensPerUser: 30 });
  const world = new HomeWorld({ seed: 9, users: 40, tracks: 300, listensPerUser: 30 });
  const o = { days: 1, requestsPerDay: 60, slots: 4, seed: 3 };
  const before = simulate(prior, [{ name: 'uniform', policy: new UniformPolicy() }], { ...o, days: 2 });
  assert.ok(before.logs[0].length > 400);
  const cold = new EpsilonGreedyPolicy(new LogisticRegression(), { epsilon: 0.1 });
  const warm = new EpsilonGreedyPolicy(new LogisticRegression(), { epsilon: 0.1 });
  const c = simulate(world, [{ name: 'cold', policy: cold }], o);
  const w = simulate(world, [{ name: 'warm', policy: warm }], { ...o, warm: before.logs[0] });
  assert.equal(w.logs[0].length, c.logs[0].length, 'the returned logs are the arm\'s own');
  // cold: uniform on day 0 (propensity 1/n for every card); warm: mostly the model's greedy slate
  const uniform = simulate(world, [{ name: 'uniform', policy: new UniformPolicy() }], o).logs[0];
  assert.deepEqual(c.logs[0].map((r) => r.propensity), uniform.map((r) => r.propensity));
  assert.ok(w.logs[0].filter((r) => r.propensity > 0.5).length > w.logs[0].length / 2);
  assert.ok(w.arms[0].cumExpected[0] > c.arms[0].cumExpected[0], `warm ${w.arms[0].cumExpected[0]} vs cold ${c.arms[0].cumExpected[0]}`);
});

test('simulate with positionModel: each logged card carries its slot, and the model is fitted with the arm\'s own ê of that slot', () => {
  const fits: { exam: number[] }[] = [];
  const policy = new UniformPolicy();
  const spy = {
    name: 'spy',
    choose: policy.choose.bind(policy),
    marginals: policy.marginals.bind(policy),
    fit: (d: { n: number; exam?: Float64Array }) => void fits.push({ exam: d.exam ? [...d.exam] : [] }),
  };
  const o = { days: 2, requestsPerDay: 80, slots: 4, seed: 2 };
  const r = simulate(world, [{ name: 'spy', policy: spy }], { ...o, positionModel: true });
  assert.deepEqual([...new Set(r.logs[0].map((l) => l.slot))].sort(), [0, 1, 2, 3]);
  // day 0's fit: ê from the day's own uniform pages, the same curve Feedback estimates
  const fb = new Feedback(world, o.slots);
  const rows = r.logs[0].slice(0, fits[0].exam.length);
  let at = 0;
  for (let q = 0; q < o.requestsPerDay; q++) {
    const req = world.request(0, q);
    for (let s = 0; s < Math.min(o.slots, req.decision.n); s++, at++) fb.add(req, 0, rows[at].reward, rows[at].slot, rows[at].propensity);
  }
  assert.equal(at, rows.length);
  const exam = fb.examination();
  assert.deepEqual(fits[0].exam, rows.map((l) => Math.max(0.05, exam[l.slot!])));
  assert.ok(fits[0].exam.some((e) => e < 1), 'lower slots are examined less');
  fits.length = 0;
  simulate(world, [{ name: 'spy', policy: spy }], o);
  assert.deepEqual(fits.map((f) => f.exam.length), [0, 0], 'off by default');
});

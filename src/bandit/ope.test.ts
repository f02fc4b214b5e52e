import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng.ts';
import { ips, snips, doublyRobust, directMethod, bootstrap, bootstrapEstimate, normalQuantile, gate, type LoggedDecision } from './ope.ts';

// Two requests of two slots each; every figure below is worked out by hand in the comments.
const rows: LoggedDecision[] = [
  { request: 'r1', reward: 1, pLog: 0.5, pTarget: 1, qLogged: 0.4, qTarget: 0.6 }, // w = 2
  { request: 'r1', reward: 0, pLog: 0.25, pTarget: 0.5, qLogged: 0.2, qTarget: 0.3 }, // w = 2
  { request: 'r2', reward: 1, pLog: 0.2, pTarget: 0.1, qLogged: 0.5, qTarget: 0.2 }, // w = 0.5
  { request: 'r2', reward: 0, pLog: 0.5, pTarget: 0, qLogged: 0.1, qTarget: 0.1 }, // w = 0
];
const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} ≠ ${b}`);

test('IPS: per-request sums 2 and 0.5 → 1.25, stderr 0.75', () => {
  const e = ips(rows);
  close(e.value, 1.25);
  // sample variance of {2, 0.5} = 1.125; se = sqrt(1.125 / 2)
  close(e.stderr, 0.75);
  close(e.lo, 1.25 - 1.959963985 * 0.75, 1e-6);
  assert.equal(e.requests, 2);
  assert.equal(e.maxWeight, 2);
});

test('SNIPS: ΣA / ΣB = 2.5 / (2 + 0.25)', () => {
  const e = snips(rows);
  close(e.value, 2.5 / 2.25);
  // delta method: residuals A − V·B = 2 − 20/9, 0.5 − 0.25·10/9; their se over B̄ = 1.125
  const v = 2.5 / 2.25;
  const r = [2 - v * 2, 0.5 - v * 0.25];
  const m = (r[0] + r[1]) / 2;
  const se = Math.sqrt((((r[0] - m) ** 2 + (r[1] - m) ** 2) / 1) / 2) / 1.125;
  close(e.stderr, se);
});

test('DR: 0.6 + 2(1 − 0.4) + 0.3 + 2(0 − 0.2) = 1.7 and 0.2 + 0.5·0.5 + 0.1 = 0.55 → 1.125', () => {
  close(doublyRobust(rows).value, 1.125);
  close(directMethod(rows).value, (0.9 + 0.3) / 2);
});

test('clipping caps weights', () => {
  const e = ips(rows, { clip: 1 });
  // weights 1, 1, 0.5, 0 → sums 1 and 0.5
  close(e.value, 0.75);
  assert.equal(e.maxWeight, 1);
});

test('on-policy data: IPS and SNIPS equal the mean reward', () => {
  const on: LoggedDecision[] = [1, 0, 0, 1, 1].map((r, i) => ({ request: i, reward: r, pLog: 0.3, pTarget: 0.3 }));
  close(ips(on).value, 0.6);
  close(snips(on).value, 0.6);
});

test('bootstrap: seeded, interval around the point value', () => {
  const many: LoggedDecision[] = [];
  for (let i = 0; i < 200; i++) many.push({ request: i, reward: i % 3 === 0 ? 1 : 0, pLog: 0.5, pTarget: 0.5 });
  const a = bootstrap(many, (r) => ips(r), { rounds: 100, seed: 7 });
  const b = bootstrap(many, (r) => ips(r), { rounds: 100, seed: 7 });
  assert.deepEqual(a, b);
  close(a.value, 67 / 200);
  assert.ok(a.lo < a.value && a.value < a.hi);
  assert.ok(Math.abs(a.stderr - ips(many).stderr) < 0.01);
});

test('bootstrapEstimate draws what bootstrap draws: the same intervals for IPS, SNIPS, DR and DM on multi-slot requests', () => {
  const r = new Rng(3);
  const many: LoggedDecision[] = [];
  for (let i = 0; i < 150; i++)
    for (let k = 0; k < 1 + (i % 3); k++) {
      const q = r.next() * 0.5;
      many.push({ request: `q${i}`, reward: r.next() < 0.3 ? 1 : 0, pLog: 0.1 + 0.8 * r.next(), pTarget: r.next(), qLogged: q, qTarget: q * 1.1 });
    }
  for (const [name, f] of [['ips', ips], ['snips', snips], ['dr', doublyRobust], ['dm', directMethod]] as const) {
    const slow = bootstrap(many, (x) => f(x), { rounds: 60, seed: 9 });
    const fast = bootstrapEstimate(many, name, { rounds: 60, seed: 9 });
    assert.equal(fast.estimator, name);
    close(fast.value, slow.value, 1e-12);
    close(fast.lo, slow.lo, 1e-9);
    close(fast.hi, slow.hi, 1e-9);
    close(fast.stderr, slow.stderr, 1e-9);
    assert.ok(fast.lo < fast.hi, name);
  }
});

test('normalQuantile matches known values', () => {
  close(normalQuantile(0.975), 1.959963985, 1e-8);
  close(normalQuantile(0.5), 0, 1e-12);
  close(normalQuantile(0.01), -2.326347874, 1e-8);
  assert.throws(() => normalQuantile(1), /normalQuantile: p must be in \(0, 1\), got 1/);
});

test('bad input is named', () => {
  assert.throws(() => ips([]), /ope: no logged decisions/);
  assert.throws(() => ips([{ request: 'x', reward: 1, pLog: 0, pTarget: 1 }]), /ope: logging propensity must be in \(0, 1\], got 0 \(request x\)/);
  assert.throws(() => snips([{ request: 'x', reward: 1, pLog: 0.5, pTarget: 1.5 }]), /ope: target propensity must be in \[0, 1\], got 1.5/);
  assert.throws(() => doublyRobust([{ request: 'y', reward: 1, pLog: 0.5, pTarget: 1 }]), /ope: doubly robust needs qLogged and qTarget on every row \(missing at request y\)/);
});

test('gate: promotes only when the lower bound clears the live value plus margin', () => {
  const est = (estimator: 'ips' | 'snips', value: number, lo: number, hi: number) => ({ estimator, value, stderr: 0, lo, hi, requests: 10, maxWeight: 1 });
  const live = est('snips', 1.0, 0.9, 1.1);
  assert.deepEqual(gate(est('snips', 1.3, 1.05, 1.55), live), { promote: true, reason: 'snips: candidate 1.3000 [1.0500, 1.5500] beats live 1.0000 + margin 0' });
  assert.equal(gate(est('snips', 1.3, 1.05, 1.55), live, 0.1).promote, false);
  assert.equal(gate(est('snips', 1.2, 0.95, 1.45), live).promote, false);
  assert.match(gate(est('snips', 1.2, 0.95, 1.45), live).reason, /does not beat live 1.0000 \+ margin 0 with confidence/);
  assert.throws(() => gate(est('ips', 2, 1.5, 2.5), live), /gate: compare like with like, got ips vs snips/);
});

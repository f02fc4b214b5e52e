import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVIDENCE_FEATURES, HomeEvidence, type CardKeys } from './evidence.ts';

const card: CardKeys = { user: 'u1', shelf: 'hidden-gems', track: 't1', artist: 'a1', genre: 'jazz' };
const at = (i: number) => EVIDENCE_FEATURES.indexOf(EVIDENCE_FEATURES[i]);

test('HomeEvidence: rates per examined impression, smoothed towards the overall rate; seen = log(1 + impressions) / 5', () => {
  const ev = new HomeEvidence(3);
  const out = new Float64Array(EVIDENCE_FEATURES.length);
  ev.write(card, out, 0);
  assert.deepEqual([...out], new Array(EVIDENCE_FEATURES.length).fill(0), 'nothing logged: every rate is the prior 0');
  // uniform pages over 2 candidates: slot 0 streams 2 of 2, slot 1 1 of 2, so ê = (1, 0.5)
  ev.add({ ...card, slot: 0, propensity: 0.5, candidates: 2, reward: 1 });
  ev.add({ ...card, track: 't2', slot: 0, propensity: 0.5, candidates: 2, reward: 1 });
  ev.add({ ...card, slot: 1, propensity: 0.5, candidates: 2, reward: 1 });
  ev.add({ ...card, user: 'u2', track: 't3', slot: 1, propensity: 0.5, candidates: 2, reward: 0 });
  assert.deepEqual([...ev.examination()], [1, 0.5, 1]);
  ev.write(card, out, 0);
  const m = 3 / (2 * 1 + 2 * 0.5); // overall streams per examined impression
  // t1: 2 streams over 1 + 0.5 examined impressions, 5 pseudo-impressions at m
  assert.ok(Math.abs(out[at(0)] - (2 + 5 * m) / (1.5 + 5)) < 1e-12);
  assert.ok(Math.abs(out[at(1)] - Math.log1p(2) / 5) < 1e-12);
  // u1's listener rate: 3 streams over 1 + 1 + 0.5
  assert.ok(Math.abs(out[EVIDENCE_FEATURES.indexOf('user_rate')] - (3 + 5 * m) / (2.5 + 5)) < 1e-12);
  assert.equal(ev.size, 4);
});

test('HomeEvidence: saved and loaded gives the same features; a wrong file is named', () => {
  const ev = new HomeEvidence(4);
  for (let i = 0; i < 30; i++) ev.add({ ...card, track: `t${i % 5}`, artist: `a${i % 3}`, slot: i % 4, propensity: 0.25, candidates: 4, reward: i % 3 === 0 ? 1 : 0 });
  const back = HomeEvidence.fromJSON(JSON.parse(JSON.stringify(ev.toJSON())));
  const a = new Float64Array(EVIDENCE_FEATURES.length), b = new Float64Array(EVIDENCE_FEATURES.length);
  for (const k of [card, { ...card, track: 't3', artist: 'a2' }, { ...card, user: 'nobody' }]) {
    ev.write(k, a, 0);
    back.write(k, b, 0);
    assert.deepEqual(b, a);
  }
  assert.equal(back.size, ev.size);
  assert.throws(() => HomeEvidence.fromJSON({ magic: 'x' }, 'run/bandit/evidence.json'), /run\/bandit\/evidence\.json: not a deepcut home evidence file/);
  const bad = ev.toJSON();
  bad.counts.card[0] = ['t0', 1, 2];
  assert.throws(() => HomeEvidence.fromJSON(bad, 'f'), /f: card row "t0" has 2 counts, expected 5/);
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EaseRecommender } from './ease.ts';
import { recommenderContract } from './recommender.case.test.ts';
import { csrFromCoo } from '../signals/index.ts';
import { Rng } from '../util/rng.ts';

recommenderContract('ease (items form)', () => new EaseRecommender({ lambda: 10, form: 'items' }), (p) => EaseRecommender.load(p));
recommenderContract('ease (users form)', () => new EaseRecommender({ lambda: 10, form: 'users' }), (p) => EaseRecommender.load(p));

describe('ease', () => {
  it('solves the two-item case by hand: B[0,1] = G01 / (G11 + λ)', async () => {
    // 3 users: items 0 and 1 together twice, item 1 alone once. G = [[2, 2], [2, 3]]
    const m = csrFromCoo(3, 2, Int32Array.of(0, 0, 1, 1, 2), Int32Array.of(0, 1, 0, 1, 1), Float32Array.of(1, 1, 1, 1, 1));
    const e = new EaseRecommender({ lambda: 1, form: 'items' });
    await e.fit(m);
    // ridge of item 1 on item 0: b = G01 / (G00 + λ) = 2 / 3; of item 0 on item 1: 2 / 4
    const s01 = e.similarItems(0, 1);
    assert.deepEqual([...s01.items], [1]);
    assert.ok(Math.abs(s01.scores[0] - 2 / 3) < 1e-6, `B[0,1] = ${s01.scores[0]}`);
    assert.ok(Math.abs(e.similarItems(1, 1).scores[0] - 0.5) < 1e-6);
  });

  it('adds the dropout emphasis p/(1 − p)·G_jj to each item\'s ridge (EDLAE), and refuses it in the users form', async () => {
    const m = csrFromCoo(3, 2, Int32Array.of(0, 0, 1, 1, 2), Int32Array.of(0, 1, 0, 1, 1), Float32Array.of(1, 1, 1, 1, 1));
    const e = new EaseRecommender({ lambda: 1, dropout: 0.5 });
    await e.fit(m);
    // p = 0.5: emphasis 1, so B[0,1] = G01 / (G00 + λ + G00) = 2 / 5
    assert.ok(Math.abs(e.similarItems(0, 1).scores[0] - 0.4) < 1e-6, `B[0,1] = ${e.similarItems(0, 1).scores[0]}`);
    assert.throws(() => new EaseRecommender({ lambda: 1, dropout: 0.5, form: 'users' }), /dropout emphasis needs the items form/);
    assert.throws(() => new EaseRecommender({ dropout: 1 }), /dropout must be in \[0, 1\), got 1/);
  });

  it('gives the same scores in both forms on a random matrix (Woodbury)', async () => {
    const rng = new Rng(5);
    const r: number[] = [];
    const c: number[] = [];
    for (let u = 0; u < 30; u++) for (let i = 0; i < 60; i++) if (rng.next() < 0.15) r.push(u), c.push(i);
    const m = csrFromCoo(30, 60, Int32Array.from(r), Int32Array.from(c), Float32Array.from(r, () => 1 + Math.floor(rng.next() * 3)));
    const a = new EaseRecommender({ lambda: 5, form: 'items' });
    const b = new EaseRecommender({ lambda: 5, form: 'users' });
    await a.fit(m);
    await b.fit(m);
    assert.equal(new EaseRecommender({ lambda: 5 }).config.form, 'auto');
    for (const u of [0, 7, 29]) {
      const x = a.recommend(u, m, 60, { filterHeard: false });
      const y = b.recommend(u, m, 60, { filterHeard: false });
      const sx = new Map([...x.items].map((it, k) => [it, x.scores[k]]));
      for (let k = 0; k < y.items.length; k++) assert.ok(Math.abs(sx.get(y.items[k])! - y.scores[k]) < 1e-4, `user ${u} item ${y.items[k]}: ${sx.get(y.items[k])} vs ${y.scores[k]}`);
    }
    // histories that are no training rows (values re-dealt, item 59 added for user 0) take the general U² path
    const h = csrFromCoo(30, 60, Int32Array.from([...r, 0]), Int32Array.from([...c, 59]), Float32Array.from([...m.data, 2]));
    const x0 = a.recommend(0, h, 60, { filterHeard: false });
    const y0 = b.recommend(0, h, 60, { filterHeard: false });
    const s0 = new Map([...x0.items].map((it, k) => [it, x0.scores[k]]));
    for (let k = 0; k < y0.items.length; k++) assert.ok(Math.abs(s0.get(y0.items[k])! - y0.scores[k]) < 1e-4, `new history, item ${y0.items[k]}`);
    for (const i of [3, 40]) {
      const x = a.similarItems(i, 5);
      const y = b.similarItems(i, 5);
      for (let k = 0; k < 5; k++) assert.ok(Math.abs(x.scores[k] - y.scores[k]) < 1e-4);
    }
  });

  it('rejects a ridge that is not positive', () => {
    assert.throws(() => new EaseRecommender({ lambda: 0 }), /ease: lambda must be > 0, got 0/);
  });
});

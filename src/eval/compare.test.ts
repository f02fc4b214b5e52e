import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyInput, compareModels, type Family } from './compare.ts';
import { csrFromCoo } from '../signals/index.ts';
import { randomHoldout, testUsers } from '../cf/index.ts';
import { Rng } from '../util/rng.ts';

/** 120 users in 4 taste blocks of 20 items each (80 items); each hears ~60% of their block, plus a few of the popular items 0..3. */
function blocks() {
  const rng = new Rng(9);
  const r: number[] = [];
  const c: number[] = [];
  for (let u = 0; u < 120; u++) {
    const b = u % 4;
    for (let i = 0; i < 20; i++) if (rng.next() < 0.6) r.push(u), c.push(b * 20 + i);
    for (let i = 0; i < 4; i++) if (b * 20 + i !== i && rng.next() < 0.5) r.push(u), c.push(i);
  }
  return csrFromCoo(120, 80, Int32Array.from(r), Int32Array.from(c), new Float32Array(r.length).fill(1));
}

/** One 20% holdout of the blocks (seed 1), a 20% holdout of its train side (seed 2), and popularity and EASE^R (λ 10 or 100) to compare. */
function popularityAndEase() {
  const split = randomHoldout(blocks(), 0.2, 1);
  const valid = randomHoldout(split.train, 0.2, 2);
  const families: Family[] = [
    { key: 'popularity', candidates: [{ config: { kind: 'popularity' }, input: { kind: 'binary' } }] },
    { key: 'ease', candidates: [10, 100].map((lambda) => ({ config: { kind: 'ease', lambda }, input: { kind: 'binary' } })) },
  ];
  return { split, valid, families };
}

test('compareModels: over several folds the production pick is made per fold, and the tail quota gives the tail its share', async () => {
  const m = blocks();
  const folds = [1, 3].map((seed) => ({ ...randomHoldout(m, 0.2, seed), label: `seed ${seed}` }));
  const valid = randomHoldout(folds[0].train, 0.2, 2);
  const families: Family[] = [
    { key: 'popularity', candidates: [{ config: { kind: 'popularity' }, input: { kind: 'binary' } }] },
    { key: 'itemknn', candidates: [{ config: { kind: 'itemknn', weighting: 'cosine', neighbours: 20 }, input: { kind: 'binary' } }] },
    { key: 'ease', candidates: [{ config: { kind: 'ease', lambda: 10 }, input: { kind: 'binary' } }] },
  ];
  const out = await compareModels({ title: 'blocks', prefix: '', valid: { ...valid, label: 'v' }, folds }, families, { seed: 1, ranker: { betas: [], tailShares: [0, 0.3] } });
  const x = out.metrics;
  const picks = String(x.production_model).split(',');
  assert.equal(picks.length, 2);
  // a candidate of the pick is a model at a tail share (the dial as deployed), scored on validation with it
  assert.ok(picks.every((k) => /^(itemknn|ease|ranked)( \+ dial 0\.3)?$/.test(k)), `picks ${picks}`);
  assert.ok(out.tables.some((t) => t.rows.some((r) => r[0] === 'production choice' && String(r[1]).endsWith('+ dial 0.3 (the dial as deployed)'))));
  assert.ok((x.production_tail_0_3_long_tail_share as number) >= 0.3 - 1e-9, `long-tail share ${x.production_tail_0_3_long_tail_share}`);
  assert.ok((x.production_tail_0_long_tail_share as number) < (x.production_tail_0_3_long_tail_share as number));
  if (picks.every((k) => !k.includes('dial'))) assert.equal(x.production_tail_0_ndcg_at_10, x.production_ndcg_at_10);
  assert.ok(out.tables.some((t) => t.title.includes('the long-tail dial as deployed')));
});

test('compareModels: a personalized model beats popularity on planted blocks, with intervals, bands, the dial and a production pick', async () => {
  const { split, valid, families } = popularityAndEase();
  const out = await compareModels({ title: 'blocks', prefix: 't_', valid: { ...valid, label: 'v' }, folds: [{ ...split, label: 'f' }] }, families, { seed: 1, ranker: { betas: [0, 2] } });
  const x = out.metrics;
  assert.ok((x.t_ease_ndcg_at_10 as number) > (x.t_popularity_ndcg_at_10 as number) + 0.2, `ease ${x.t_ease_ndcg_at_10} vs popularity ${x.t_popularity_ndcg_at_10}`);
  for (const k of ['ease', 'popularity', 'ranked', 'production']) {
    assert.ok((x[`t_${k}_ndcg_at_10_lo`] as number) <= (x[`t_${k}_ndcg_at_10`] as number) && (x[`t_${k}_ndcg_at_10`] as number) <= (x[`t_${k}_ndcg_at_10_hi`] as number), k);
    assert.ok(`t_${k}_recall_at_50` in x && `t_${k}_ndcg_at_10_light` in x && `t_${k}_recall_at_50_tail` in x, k);
  }
  assert.notEqual(x.t_production_model, 'popularity');
  assert.equal(x.t_production_ndcg_at_10, x[`t_${x.t_production_model}_ndcg_at_10`]);
  assert.ok((x.t_ranked_beta_2_long_tail_share as number) >= (x.t_ranked_beta_0_long_tail_share as number));
  assert.ok(x.t_ease_model_mb as number > 0 && typeof x.t_ease_fit_s === 'number');
  assert.deepEqual(out.tables.map((t) => t.title.split(':')[1].trim().split(' ')[0]), ['test', 'NDCG@10', 'the', 'validation']);
});

test('compareModels: with an inner split, the ranker competes for production on its nested validation score (trained one level down), the cross-fitted one only printed', async () => {
  const m = blocks();
  const split = randomHoldout(m, 0.2, 1);
  const valid = randomHoldout(split.train, 0.2, 2);
  const inner = randomHoldout(valid.train, 0.2, 3);
  const families: Family[] = [
    { key: 'popularity', candidates: [{ config: { kind: 'popularity' }, input: { kind: 'binary' } }] },
    { key: 'ease', candidates: [{ config: { kind: 'ease', lambda: 10 }, input: { kind: 'binary' } }] },
  ];
  const out = await compareModels({ title: 'blocks', prefix: '', valid: { ...valid, label: 'v' }, inner: { ...inner, label: 'inner' }, folds: [{ ...split, label: 'f' }] }, families, { seed: 1, ranker: { betas: [] } });
  const rows = out.tables.find((t) => t.title.includes('validation'))!.rows.filter((r) => r[0] === 'production choice');
  const ranked = rows.filter((r) => String(r[1]).startsWith('ranked'));
  assert.equal(ranked.length, 2);
  assert.match(String(ranked[0][1]), /nested: trained on inner/);
  assert.match(String(ranked[1][1]), /cross-fitted .*not used/);
  // the pick is the best of the rows that compete (the families and the nested ranker)
  const competing = rows.filter((r) => !String(r[1]).includes('not used'));
  const best = competing.reduce((a, b) => ((b[2] as number) > (a[2] as number) ? b : a));
  assert.equal(out.metrics.production_model, String(best[1]).split(' ')[0]);
});

test('applyInput: a half-life halves the weight of a pair that old, and leaves it without times', () => {
  const m = csrFromCoo(1, 2, Int32Array.of(0, 0), Int32Array.of(0, 1), Float32Array.of(1, 1));
  const d = applyInput(m, { kind: 'decay', halfLifeDays: 10, of: { kind: 'binary' } }, { time: Float64Array.of(0, 10 * 86_400), now: 10 * 86_400 });
  assert.deepEqual([...d.data], [0.5, 1]);
  assert.deepEqual([...applyInput(m, { kind: 'decay', halfLifeDays: 10, of: { kind: 'binary' } }).data], [1, 1]);
});

test('compareModels: models made outside from the chosen candidates are scored beside the families, and without a ranker the production is the one they name', async () => {
  const { split, valid, families } = popularityAndEase();
  let seen: string[] = [];
  const out = await compareModels({ title: 'blocks', prefix: '', valid: { ...valid, label: 'v' }, folds: [{ ...split, label: 'f' }] }, families, {
    seed: 1,
    extra: async (chosen) => {
      seen = [...chosen.keys()];
      const users = testUsers(split.test);
      // every user's list: the items 0..49 they have not heard
      const items = [...users].map((u) => Int32Array.from({ length: 80 }, (_, i) => i).filter((i) => !split.train.indices.subarray(split.train.indptr[u], split.train.indptr[u + 1]).includes(i)).subarray(0, 50));
      return { models: [{ key: 'outside', label: 'made outside', lists: [{ users, items, scores: items.map((l) => new Float32Array(l.length)) }], fitS: null }], production: { key: 'outside', label: '= outside' }, tables: [{ title: 'outside pick', columns: ['x'], rows: [[1]] }] };
    },
  });
  assert.deepEqual(seen, ['popularity', 'ease']);
  assert.equal(out.metrics.production_model, 'outside');
  assert.equal(out.metrics.production_ndcg_at_10, out.metrics.outside_ndcg_at_10);
  assert.equal(out.tables.at(-1)?.title, 'outside pick');
  assert.ok(!('ranked_ndcg_at_10' in out.metrics));
});

import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { partPath, ProductionRecommender, decayConfidence, ranksByFactors, TAIL_SOURCE_NEIGHBOURS, undialed } from './production.ts';
import { ItemKnnRecommender } from './itemknn.ts';
import { readArtifact } from './artifact.ts';
import { fitProduction, HALF_LIVES, selectProduction, timesOf } from './select.ts';
import { loadCfFactors, loadCfModel } from './load.ts';
import { AlternatingLeastSquares } from './als.ts';
import type { Recommender } from './recommender.ts';
import { recommenderContract } from './recommender.case.test.ts';
import { csrFromCoo, type Csr } from '../signals/index.ts';
import { splitByMask } from './splits.ts';
import { Rng } from '../util/rng.ts';

const als = { factors: 3, regularization: 0.01, iterations: 15, seed: 42, threads: 1 };
recommenderContract('production (EASE^R ranks, tail 0.1)', () => new ProductionRecommender({ family: 'ease', halfLifeDays: 0, tailShare: 0.1 }, { als, easeLambda: 10 }), (p) => ProductionRecommender.load(p), {
  skip: { similarUsersBlock: 'similar users come from the ALS factor space, which splits the board in blocks only approximately at 3 factors' },
});
recommenderContract('production (item-kNN ranks)', () => new ProductionRecommender({ family: 'itemknn', halfLifeDays: 0, tailShare: 0 }, { als, easeLambda: 10 }), (p) => ProductionRecommender.load(p), {
  skip: { similarUsersBlock: 'similar users come from the ALS factor space, which splits the board in blocks only approximately at 3 factors' },
});

const DAY = 86_400_000;

/**
 * Listeners whose taste moved: two item groups A (0..19) and B (20..39). Long ago every listener
 * played A; lately each plays B items, and the future (the last 10% of pairs) is more of B. A
 * model that weights old plays as much as new ones keeps pointing at A.
 */
function drifting(): { m: Csr; time: Float64Array; now: number } {
  const rng = new Rng(3);
  const rows: number[] = [];
  const cols: number[] = [];
  const times: number[] = [];
  const now = 1000 * DAY;
  for (let u = 0; u < 60; u++) {
    for (let i = 0; i < 20; i++) if (rng.next() < 0.6) rows.push(u), cols.push(i), times.push(now - (400 + rng.next() * 300) * DAY);
    for (let i = 20; i < 40; i++) {
      if (rng.next() < 0.45) rows.push(u), cols.push(i), times.push(now - rng.next() * 60 * DAY);
    }
  }
  const m = csrFromCoo(60, 40, Int32Array.from(rows), Int32Array.from(cols), new Float32Array(rows.length).fill(1));
  // csrFromCoo sorts each row by column: align the times with its entries
  const byPair = new Map(rows.map((u, j) => [u * 40 + cols[j], times[j]]));
  const time = new Float64Array(m.indices.length);
  for (let u = 0; u < m.rows; u++) for (let p = m.indptr[u]; p < m.indptr[u + 1]; p++) time[p] = byPair.get(u * 40 + m.indices[p])!;
  return { m, time, now };
}

/**
 * `model` saved as a run's `production.bin` and loaded back as the run's cf model: the same lists
 * for listeners 0, 7 and 59, then `more` on the loaded model and its folder (removed after).
 */
async function roundTrip(model: ProductionRecommender, m: Csr, more: (back: Recommender, dir: string) => unknown): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dc-production-'));
  try {
    await model.save(join(dir, 'production.bin'), { runId: 'r1' });
    const back = await loadCfModel(dir, { userTracks: m }, 1, { runId: 'r1' });
    for (const u of [0, 7, 59]) assert.deepEqual([...back.recommend(u, m, 5).items], [...model.recommend(u, m, 5).items]);
    await more(back, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('production model', () => {
  it('decays confidence by half per half-life', () => {
    const m = csrFromCoo(1, 3, Int32Array.of(0, 0, 0), Int32Array.of(0, 1, 2), Float32Array.of(2, 2, 2));
    const d = decayConfidence(m, Float64Array.of(10 * DAY, 0, 11 * DAY), 10 * DAY, 10);
    assert.deepEqual([...d.data].map((x) => +x.toFixed(4)), [2, 1, 2]);
    assert.equal(decayConfidence(m, Float64Array.of(0, 0, 0), 10 * DAY, 0), m);
  });

  it('chooses on the time-ordered split: the family with the best validation NDCG@10, then a half-life that helps on drifting taste', async () => {
    const { m, time, now } = drifting();
    const s = await selectProduction(m, time, now, { model: 'auto', halfLifeDays: 'auto', tailShare: 0, als, easeLambda: 5, easeMaxSide: 1000, seed: 1 });
    const plain = s.candidates.filter((c) => !c.label.includes('half-life'));
    assert.deepEqual(plain.map((c) => c.label), ['als', 'ease', 'itemknn', 'blend']);
    const best = plain.reduce((a, b) => (b.ndcg_at_10 > a.ndcg_at_10 ? b : a));
    assert.equal(s.spec.family, best.label);
    const decayed = s.candidates.filter((c) => c.label.startsWith(`${best.label} half-life`));
    assert.equal(decayed.length, HALF_LIVES.length);
    // old plays of group A mislead every undecayed model here; a decay must win
    assert.ok(s.spec.halfLifeDays > 0, `half-life ${s.spec.halfLifeDays}: ${JSON.stringify(s.candidates)}`);
    assert.ok(s.metrics.ndcg_at_10 > s.metrics.popularity_ndcg_at_10 - 1e-9);
    assert.ok(s.split.users > 0 && s.split.cutoff_ms > 0);
  });

  it('reports the chosen model\'s NDCG@10 without the dial (what the gate reads) beside its dialed list\'s figures', async () => {
    const { m, time, now } = drifting();
    const o = { model: 'als' as const, halfLifeDays: 0, als, easeLambda: 5, easeMaxSide: 1000, seed: 1 };
    const off = await selectProduction(m, time, now, { ...o, tailShare: 0 });
    const on = await selectProduction(m, time, now, { ...o, tailShare: 0.4 });
    assert.equal(off.metrics.undialed_ndcg_at_10, off.metrics.ndcg_at_10, 'no dial: the two are one figure');
    assert.equal(on.metrics.undialed_ndcg_at_10, off.metrics.ndcg_at_10, 'the same model without the dial');
    assert.equal(on.metrics.undialed_ndcg_at_10, on.candidates[0].ndcg_at_10);
    assert.notEqual(on.metrics.ndcg_at_10, off.metrics.ndcg_at_10, 'the dialed list is another list');
    assert.ok(on.metrics.long_tail_share > off.metrics.long_tail_share);
  });

  it('with the dial on, takes the validation\'s item-kNN candidate as the tail source instead of fitting the same model again: the same figures, one item-kNN fit fewer', async () => {
    const { m, time, now } = drifting();
    const o = { halfLifeDays: 0, tailShare: 0.4, als, easeLambda: 5, easeMaxSide: 10, seed: 1 };
    const fits = mock.method(ItemKnnRecommender.prototype, 'fit');
    try {
      const auto = await selectProduction(m, time, now, { ...o, model: 'auto' });
      assert.deepEqual(auto.candidates.map((c) => c.label), ['als', 'itemknn']);
      assert.equal(auto.spec.family, 'als', `this board's pick: ${JSON.stringify(auto.candidates)}`);
      assert.equal(fits.mock.callCount(), 1, 'the item-kNN candidate only');
      const alone = await selectProduction(m, time, now, { ...o, model: 'als' });
      assert.equal(fits.mock.callCount(), 2, 'ALS alone: the tail source is fitted for the dialed figures');
      assert.deepEqual(auto.metrics, alone.metrics);
      assert.ok(auto.metrics.long_tail_share > 0);
    } finally {
      fits.mock.restore();
    }
  });

  it('leaves EASE^R out when its dense side would be too large, and refuses it by name', async () => {
    const { m, time, now } = drifting();
    const s = await selectProduction(m, time, now, { model: 'auto', halfLifeDays: 0, tailShare: 0, als, easeLambda: 5, easeMaxSide: 10, seed: 1 });
    assert.deepEqual(s.candidates.map((c) => c.label), ['als', 'itemknn']);
    await assert.rejects(selectProduction(m, time, now, { model: 'ease', halfLifeDays: 0, tailShare: 0, als, easeLambda: 5, easeMaxSide: 10, seed: 1 }), /cf\.model ease: the smaller side of the matrix \(40\) is over cf\.easeMaxSide \(10\)/);
  });

  it('is saved and loaded as a run\'s cf model, ranks with the chosen family and not by the factors, and scores a changed history', async () => {
    const { m, time, now } = drifting();
    const fit = await fitProduction(m, time, now, { model: 'ease', halfLifeDays: 30, tailShare: 0.1, als, easeLambda: 5, easeMaxSide: 1000, seed: 1 });
    assert.ok(fit.model instanceof ProductionRecommender);
    assert.equal(ranksByFactors(fit.model), false);
    assert.equal(undialed(fit.model), fit.model, 'another family ranks: its list is the model\'s own');
    await roundTrip(fit.model, m, async (back, dir) => {
      assert.ok(back instanceof ProductionRecommender);
      assert.equal(back.name, 'ease, half-life 30 d, tail 0.1');
      const space = await loadCfFactors(dir, { userTracks: m }, 1, { runId: 'r1' });
      assert.deepEqual([...space!.itemFactors()], [...fit.model.itemFactors()], 'the factor space alone, as the production model holds it');
      await assert.rejects(loadCfFactors(dir, { userTracks: { ...m, rows: 61 } }, 1), /61/);
      // a listener with one new play: the live row is scored (not the stored one), heard items left out
      const live = csrFromCoo(1, 40, Int32Array.of(0, 0), Int32Array.of(21, 22), Float32Array.of(1, 1));
      const r = back.recommend(0, live, 5);
      assert.ok(![...r.items].includes(21) && ![...r.items].includes(22));
      await assert.rejects(loadCfModel(dir, { userTracks: { ...m, rows: 61 } }, 1), /fitted on 60×40 but the run's matrix is 61×40/);
    });
  });

  it('saves and loads the blend family (EASE^R + item-kNN) with its parts, and its dial draws tail items per listener', async () => {
    const { m, time, now } = drifting();
    const fit = await fitProduction(m, time, now, { model: 'blend', halfLifeDays: 30, tailShare: 0.4, als, easeLambda: 5, easeMaxSide: 1000, seed: 1 });
    assert.ok(fit.model instanceof ProductionRecommender);
    assert.equal(fit.model.spec.tailTemperature, 1);
    await roundTrip(fit.model, m, (back) => assert.equal(back.name, 'blend, half-life 30 d, tail 0.4'));
  });

  it('with too little history to hold a period out, keeps the configured family without figures, saying why', async () => {
    const m = csrFromCoo(3, 4, Int32Array.of(0, 0, 1, 2), Int32Array.of(0, 1, 2, 3), Float32Array.of(1, 1, 1, 1));
    const s = await selectProduction(m, new Float64Array(4).fill(DAY), DAY, { model: 'auto', halfLifeDays: 'auto', tailShare: 0.1, als, easeLambda: 5, easeMaxSide: 1000, seed: 1 });
    assert.deepEqual(s.spec, { family: 'als', halfLifeDays: 0, tailShare: 0.1, tailTemperature: 1, tailSource: 'itemknn' });
    assert.deepEqual(s.metrics, {});
    assert.match(s.skipped ?? '', /holds no streams of listeners seen before it/);
  });

  it('with the dial on, keeps item-kNN as its tail source through save and load (tailQuota\'s own test shows the source filling tail places)', async () => {
    const { m, time, now } = drifting();
    const fit = await fitProduction(m, time, now, { model: 'als', halfLifeDays: 0, tailShare: 0.5, als, easeLambda: 5, easeMaxSide: 1000, seed: 1 });
    assert.ok(fit.model instanceof ProductionRecommender);
    assert.equal(fit.model.spec.tailSource, 'itemknn');
    // before the dial (the ranking stage's cf source) the list is ALS's own, from its factors
    assert.equal(undialed(fit.model), fit.model.factorModel);
    assert.equal(ranksByFactors(undialed(fit.model)), true);
    const head = fit.model.head;
    for (let u = 0; u < m.rows; u++) {
      const r = fit.model.recommend(u, m, 4).items;
      assert.ok([...r].filter((i) => head[i] !== 1).length >= 2, `listener ${u}: ${[...r]} holds fewer than 2 tail items at share 0.5`);
    }
    await roundTrip(fit.model, m, (back) => {
      assert.ok(back instanceof ProductionRecommender);
      assert.equal(back.spec.tailSource, 'itemknn');
    });
  });

  it('fits its tail source as item-kNN (cosine, TAIL_SOURCE_NEIGHBOURS) on the matrix itself when nothing decays: the rank step reads it as its own item-kNN', async () => {
    const { m, time, now } = drifting();
    const fit = await fitProduction(m, time, now, { model: 'als', halfLifeDays: 0, tailShare: 0.15, als, easeLambda: 5, easeMaxSide: 1000, seed: 1 });
    assert.ok(fit.model instanceof ProductionRecommender);
    const knn = new ItemKnnRecommender({ weighting: 'cosine', neighbours: TAIL_SOURCE_NEIGHBOURS });
    await knn.fit(m);
    const dir = await mkdtemp(join(tmpdir(), 'dc-production-'));
    try {
      await fit.model.save(join(dir, 'production.bin'), { runId: 'r1' });
      await knn.save(join(dir, 'knn.bin'), { runId: 'r1' });
      const [a, b] = await Promise.all([partPath(join(dir, 'production.bin'), 'tail'), join(dir, 'knn.bin')].map((f) => readArtifact(f)));
      assert.deepEqual(a.header.params, b.header.params);
      assert.deepEqual(a.arrays, b.arrays);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is plain ALS when ALS ranks with no decay and no dial', async () => {
    const { m, time, now } = drifting();
    const fit = await fitProduction(m, time, now, { model: 'als', halfLifeDays: 0, tailShare: 0, als, easeLambda: 5, easeMaxSide: 1000, seed: 1 });
    assert.ok(fit.model instanceof AlternatingLeastSquares);
    assert.equal(ranksByFactors(fit.model), true);
    assert.equal(undialed(fit.model), fit.model);
  });

  it('timesOf aligns a sub-matrix\'s pairs with their times', () => {
    const { m, time } = drifting();
    const keep = Uint8Array.from(m.indices, (_, p) => (p % 3 === 0 ? 1 : 0));
    const sub = splitByMask(m, keep).test;
    const t = timesOf(m, sub, time);
    let q = 0;
    for (let p = 0; p < m.indices.length; p++) if (keep[p]) assert.equal(t[q++], time[p]);
  });
});

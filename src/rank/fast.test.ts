// The ranked model's fast paths give the answers of the plain computations they replace, bit for bit:
// the flat and generated tree evaluators against the bandit stage's GradientBoostedTrees, the
// item-kNN source from neighbour lists against the model's own `recommend` (a scan of every track),
// the packed content scan against a plain dense scan, and the ranked model's reuse of a listener's
// ranking within one synchronous job against rankings made afresh.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GradientBoostedTrees } from '../bandit/index.ts';
import { csrFromCoo, type Csr } from '../signals/index.ts';
import { makeRecommender, topK } from '../cf/index.ts';
import { Rng } from '../util/rng.ts';
import { FlatForest } from './forest.ts';
import { featureNames, hasItemNeighbours, knnSource, scanSearch, stackCandidates, userCandidates, userRowOf, WorldTables, type RankWorld } from './stage.ts';
import { LearnedRanker } from './ranker.ts';
import { RankedRecommender } from './model.ts';
import { trainStage, timeSplit, type ListenEvents } from './train.ts';
import { worldSources } from './stage.ts';
import { confidenceFromCounts, defaultConfidence, type ConfidenceOptions } from '../signals/index.ts';
import type { TimeSplit } from './train.ts';

/** The time split as a map per (user, track) pair: the reference the counting-sort version must match. */
function timeSplitByMap(e: ListenEvents, users: number, tracks: number, cut: number, o: ConfidenceOptions): TimeSplit {
  const key = (u: number, t: number) => u * tracks + t;
  const agg = new Map<number, { plays: number; skips: number; last: number }>();
  let now = -Infinity;
  for (let i = 0; i < e.user.length; i++) {
    if (!(e.at[i] < cut)) continue;
    const k = key(e.user[i], e.track[i]);
    let a = agg.get(k);
    if (!a) agg.set(k, (a = { plays: 0, skips: 0, last: -Infinity }));
    if (e.signal[i] === 1) a.plays++;
    if (e.signal[i] === -1) a.skips++;
    a.last = Math.max(a.last, e.at[i]);
    now = Math.max(now, e.at[i]);
  }
  const keys = [...agg.keys()].sort((a, b) => a - b);
  const matrix = confidenceFromCounts(users, tracks, Int32Array.from(keys, (k) => Math.floor(k / tracks)), Int32Array.from(keys, (k) => k % tracks), Float64Array.from(keys, (k) => agg.get(k)!.plays), Float64Array.from(keys, (k) => agg.get(k)!.skips), o);
  const lastAt = new Float64Array(matrix.indices.length);
  for (let u = 0; u < users; u++) for (let p = matrix.indptr[u]; p < matrix.indptr[u + 1]; p++) lastAt[p] = agg.get(key(u, matrix.indices[p]))!.last;
  const future = new Map<number, Set<number>>();
  for (let i = 0; i < e.user.length; i++) {
    if (e.at[i] < cut || e.signal[i] !== 1 || agg.has(key(e.user[i], e.track[i]))) continue;
    if (!future.has(e.user[i])) future.set(e.user[i], new Set());
    future.get(e.user[i])!.add(e.track[i]);
  }
  return { matrix, lastAt, now: Number.isFinite(now) ? now : cut, future };
}

/** `rows` × `cols` with about `perRow` entries a row; a share of them negative (skips), some rows empty. */
function randomMatrix(rows: number, cols: number, perRow: number, seed: number): Csr {
  const rng = new Rng(seed);
  const r: number[] = [];
  const c: number[] = [];
  const v: number[] = [];
  for (let u = 0; u < rows; u++) {
    if (u % 11 === 5) continue;
    const seen = new Set<number>();
    const n = 1 + rng.int(perRow * 2);
    for (let j = 0; j < n; j++) {
      // a popular head and a long tail
      const i = rng.next() < 0.5 ? rng.int(Math.ceil(cols / 10)) : rng.int(cols);
      if (seen.has(i)) continue;
      seen.add(i);
      r.push(u);
      c.push(i);
      v.push(rng.next() < 0.15 ? -1 : 1 + rng.int(5) * 0.37);
    }
  }
  return csrFromCoo(rows, cols, Int32Array.from(r), Int32Array.from(c), Float32Array.from(v));
}

/** 80 listeners with a favourite among 6 artists × 10 tracks, 30 days of listens cut at day 23, with item-kNN and popularity fitted on the past. */
async function smallWorld() {
    // a small world: 6 artists × 10 tracks, listeners with a favourite artist, listens over 30 days
    const TR = 60;
    const U = 80;
    const DAY = 86_400_000;
    const rng = new Rng(9);
    const ev: { u: number; t: number; at: number }[] = [];
    for (let u = 0; u < U; u++) {
      const fav = u % 6;
      for (let j = 0; j < 8; j++) ev.push({ u, t: fav * 10 + rng.int(10), at: (1 + rng.int(20)) * DAY });
      for (let j = 0; j < 4; j++) ev.push({ u, t: rng.int(TR), at: (1 + rng.int(20)) * DAY });
      for (let j = 0; j < 3; j++) ev.push({ u, t: fav * 10 + rng.int(10), at: (24 + rng.int(6)) * DAY });
    }
    const e: ListenEvents = { user: Int32Array.from(ev, (x) => x.u), track: Int32Array.from(ev, (x) => x.t), at: Float64Array.from(ev, (x) => x.at), signal: new Int8Array(ev.length).fill(1) };
    const split = timeSplit(e, U, TR, 23 * DAY, defaultConfidence);
    const world: RankWorld = { matrix: split.matrix, lastAt: split.lastAt, now: split.now, artistOf: Int32Array.from({ length: TR }, (_, t) => Math.floor(t / 10)), albumOf: Int32Array.from({ length: TR }, (_, t) => Math.floor(t / 2)), releasedAt: new Float64Array(TR).fill(0) };
    const t = new WorldTables(world);
    const knn = await makeRecommender({ kind: 'itemknn', weighting: 'cosine', neighbours: 10 });
    await knn.fit(split.matrix);
    const cf = await makeRecommender({ kind: 'popularity' });
    await cf.fit(split.matrix);
  return { split, world, t, knn, cf };
}

describe('rank fast paths', () => {
  it('the flat and generated forests score exactly as GradientBoostedTrees', () => {
    const rng = new Rng(11);
    const n = 3000;
    const dim = 9;
    const x = Float64Array.from({ length: n * dim }, (_, j) => (j % dim === 4 ? rng.int(3) : rng.next() * 10 - 5));
    const y = Float64Array.from({ length: n }, (_, i) => (x[i * dim] + x[i * dim + 4] + rng.next() * 3 > 2 ? 1 : 0));
    const gbt = new GradientBoostedTrees({ rounds: 40, depth: 3, learningRate: 0.1 });
    gbt.fit({ n, dim, x, y }, new Rng(1));
    const want = new Float64Array(n);
    gbt.predict(x, n, want);
    const forest = FlatForest.of(gbt.toJSON())!;
    const walked = new Float64Array(n);
    forest.walk(x, n, walked);
    const generated = new Float64Array(n);
    forest.predict(x, n, generated);
    assert.deepEqual([...walked], [...want]);
    assert.deepEqual([...generated], [...want]);
    // the same through a ranker saved and read back; and the columns no split reads are known
    const r = LearnedRanker.fromJSON({ kind: 'deepcut-ranker', version: 1, sources: [], dim, model: JSON.parse(JSON.stringify(gbt.toJSON())) });
    const viaRanker = new Float64Array(n);
    r.predictRows(x, n, viaRanker);
    assert.deepEqual([...viaRanker], [...want]);
    assert.equal(r.usedFeatures().length, dim);
    assert.equal(r.usedFeatures()[0], 1);
    assert.equal(FlatForest.of({ kind: 'logistic', dim }), undefined);
  });

  it('the item-kNN source from neighbour lists answers as the model\'s own scan, zero-score fill and skips included', async () => {
    const m = randomMatrix(120, 400, 6, 3);
    const knn = await makeRecommender({ kind: 'itemknn', weighting: 'cosine', neighbours: 7 });
    await knn.fit(m);
    assert.ok(hasItemNeighbours(knn));
    const src = knnSource(knn, () => m, m.cols);
    const row = { items: new Int32Array(0), conf: new Float32Array(0), lastAt: new Float64Array(0) };
    let checked = 0;
    for (let u = 0; u < m.rows; u++) {
      for (const k of [1, 5, 60, 500]) {
        const heard = new Set<number>(m.indices.subarray(m.indptr[u], m.indptr[u + 1]));
        if (u % 3 === 0) heard.add((u * 7) % m.cols);
        const want = knn.recommend(u, m, k, { filterHeard: true, filterItems: heard });
        const got = src.top(u, row, heard, k);
        assert.deepEqual(Array.from(got.items), [...want.items], `user ${u}, k ${k}`);
        assert.deepEqual(Array.from(got.scores), [...want.scores], `user ${u}, k ${k}`);
        checked++;
      }
    }
    assert.equal(checked, 480);
  });

  it('the time split by counting sorts equals the split by a map of pairs (plays, skips, neither; repeats; an empty past)', () => {
    const rng = new Rng(21);
    const U = 70;
    const T = 90;
    const n = 4000;
    const e: ListenEvents = {
      user: Int32Array.from({ length: n }, () => rng.int(U)),
      track: Int32Array.from({ length: n }, () => (rng.next() < 0.6 ? rng.int(12) : rng.int(T))),
      at: Float64Array.from({ length: n }, () => rng.int(40) * 3_600_000),
      signal: Int8Array.from({ length: n }, () => [1, 1, 1, -1, 0][rng.int(5)]),
    };
    for (const cut of [0, 10 * 3_600_000, 30 * 3_600_000, 41 * 3_600_000]) {
      const got = timeSplit(e, U, T, cut, defaultConfidence);
      const want = timeSplitByMap(e, U, T, cut, defaultConfidence);
      assert.deepEqual(got, want, `cut ${cut}`);
      assert.deepEqual([...got.future.keys()], [...want.future.keys()]);
    }
    assert.throws(() => timeSplit({ ...e, track: Int32Array.of(...e.track.subarray(0, n - 1), T) }, U, T, 0, defaultConfidence), /timeSplit: listen 3999 has user row \d+ of 70, track row 90 of 90/);
  });

  /** Every query's top-k of `scanSearch` over `data` against a dense scan of float32 dot products (rows every `gap`-th all zero). */
  function scanMatchesDense(seed: number, dim: number, n: number, gap: number, value: (rng: Rng, j: number) => number, query: (rng: Rng, i: number) => number, ks: number[]) {
    const rng = new Rng(seed);
    const data = Float32Array.from({ length: n * dim }, (_, j) => (Math.floor(j / dim) % gap === 0 ? 0 : value(rng, j)));
    const search = scanSearch({ dim, data });
    for (let t = 0; t < 20; t++) {
      const q = Float32Array.from({ length: dim }, (_, i) => query(rng, i));
      const exclude = new Set([3, 17, 40 + t]);
      const dense = new Float32Array(n);
      const skip = new Uint8Array(n);
      for (let r = 0; r < n; r++) {
        let d = 0;
        for (let i = 0; i < dim; i++) d += q[i] * data[r * dim + i];
        dense[r] = d;
        if (r % gap === 0 || exclude.has(r)) skip[r] = 1;
      }
      for (const k of ks) {
        const want = topK(dense, k, skip);
        const got = search.top(q, k, exclude);
        assert.deepEqual(Array.from(got.items), [...want.items], `query ${t}, k ${k}`);
        assert.deepEqual(Array.from(got.scores), [...want.scores], `query ${t}, k ${k}`);
      }
    }
  }
  const grid = (rng: Rng, steps: number) => Math.round((rng.next() * 2 - 1) * steps) / steps;

  it('the packed content scan ranks as a dense scan (float32 scores, ties to the lower row, rows without a vector left out)', () => {
    scanMatchesDense(5, 6, 203, 9, (rng) => grid(rng, 8), (rng) => grid(rng, 4), [25]);
  });

  it('the packed content scan ranks as a dense scan when its first dimensions hold most of the energy (partial sums, rows bounded out)', () => {
    // LSA-like: 4 strong leading dimensions, the rest small; values on a grid, so scores tie
    scanMatchesDense(8, 32, 700, 11, (rng, j) => grid(rng, 8) * (j % 32 < 4 ? 4 : 0.25), (rng, i) => grid(rng, 4) * (i < 4 ? 3 : 0.5), [1, 10, 40]);
  });

  it('the stage makes candidates only for the fitting listeners its ranker samples, and fits the same model as with everyone\'s', async () => {
    const { split, world, t, knn, cf } = await smallWorld();
    const sources = worldSources(t, { cf, knn });
    for (const maxRows of [150, 100_000]) {
      const o = { seed: 4, depth: 15, size: 5, minTailShare: 0, rounds: 12, maxRows };
      const got = trainStage(t, sources, split.future, o);
      // the reference: every fitting listener's candidates, then the ranker's own sample
      const rng = new Rng(o.seed);
      const users = [...split.future.keys()].filter((u) => world.matrix.indptr[u + 1] > world.matrix.indptr[u]).sort((a, b) => a - b);
      rng.shuffle(users);
      const fitUsers = users.slice(0, Math.max(1, Math.round((users.length * 2) / 3))).sort((a, b) => a - b);
      const per = fitUsers.map((u) => userCandidates(t, sources, u, userRowOf(world, u), new Set(userRowOf(world, u).items), o.depth));
      const table = stackCandidates(fitUsers, per, featureNames(sources.map((s) => s.name)).length);
      const y = new Float64Array(table.items.length);
      fitUsers.forEach((u, j) => {
        for (let r = table.offsets[j]; r < table.offsets[j + 1]; r++) y[r] = split.future.get(u)!.has(table.items[r]) ? 1 : 0;
      });
      const want = new LearnedRanker({ seed: o.seed, rounds: o.rounds, depth: 3, maxRows }, sources.map((s) => s.name));
      want.fit(table, y);
      assert.equal(JSON.stringify(got.ranker.toJSON()), JSON.stringify(want.toJSON()), `maxRows ${maxRows}`);
      if (maxRows < table.items.length) assert.ok(got.report.candidates < table.items.length, 'fewer candidates made than every fitting listener has');
    }
  });

  it('the ranked model\'s lazy origins are the eager ones, read in any order and after other listeners were ranked', async () => {
    const { split, t, knn, cf } = await smallWorld();
    const trained = trainStage(t, worldSources(t, { cf, knn }), split.future, { seed: 2, depth: 15, size: 5, minTailShare: 0, rounds: 10 });
    const model = new RankedRecommender(cf, t, trained.ranker, { beta: 0, tailShare: 0.3 }, 15, knn);
    const users = [0, 7, 33];
    const eager: ReturnType<RankedRecommender['recommendExplained']>[] = [];
    for (const u of users) {
      await Promise.resolve();
      eager.push(model.recommendExplained(u, split.matrix, 12, { filterHeard: true }));
    }
    await Promise.resolve();
    const lazy = users.map((u) => model.recommendSourced(u, split.matrix, 12, { filterHeard: true }));
    users.forEach((u, x) => {
      const e = eager[x];
      const l = lazy[x];
      assert.deepEqual([l.items, l.scores], [e.items, e.scores], `listener ${u}`);
      assert.deepEqual(l.sources, e.origins.map((o) => o.source));
      // last track first, each listener's after the others were ranked
      for (let j = l.items.length - 1; j >= 0; j--) assert.deepEqual(l.origin(j), e.origins[j], `listener ${u}, track ${j}`);
      assert.throws(() => l.origin(l.items.length), /ranked: no track \d+ in a list of \d+/);
    });
  });

  it('the ranked model answers a deeper request for the same listener in the same job as it would afresh', async () => {
    const { split, world, t, knn, cf } = await smallWorld();
    const trained = trainStage(t, worldSources(t, { cf, knn }), split.future, { seed: 1, depth: 15, size: 5, minTailShare: 0, rounds: 10 });
    const model = new RankedRecommender(cf, t, trained.ranker, { beta: 0.1, tailShare: 0.2 }, 15, knn);
    const afresh = async (u: number, k: number) => {
      await Promise.resolve();
      return model.recommendExplained(u, split.matrix, k, { filterHeard: true });
    };
    for (const u of [0, 7, 33]) {
      const deep = await afresh(u, 40);
      const shallow = await afresh(u, 6);
      // in one job: shallow then deep, as Discover Weekly asks
      const a = model.recommendExplained(u, split.matrix, 6, { filterHeard: true });
      const b = model.recommendExplained(u, split.matrix, 40, { filterHeard: true });
      assert.deepEqual(a, shallow);
      assert.deepEqual(b, deep);
      assert.ok(deep.items.length > 6);
      assert.deepEqual(userRowOf(world, u).items.length > 0, true);
    }
    // a different filter in the same job is ranked afresh, not reused
    const plain = model.recommendExplained(3, split.matrix, 10, { filterHeard: true });
    const filtered = model.recommendExplained(3, split.matrix, 10, { filterHeard: true, filterItems: [plain.items[0]] });
    assert.ok(!filtered.items.includes(plain.items[0]));
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildCandidates, candidateLabels, featureCount, LearnedRanker, rankCandidates, rankStats } from './index.ts';
import { csrFromCoo } from '../signals/index.ts';
import type { RecLists } from '../cf/index.ts';
import { Rng } from '../util/rng.ts';

const lists = (users: number[], items: number[][], scores: number[][]): RecLists => ({ users: Int32Array.from(users), items: items.map((x) => Int32Array.from(x)), scores: scores.map((x) => Float32Array.from(x)) });

describe('rank stage', () => {
  // 2 users × 5 items; user 0 heard 0 (day 0) and 1 (day 9), user 1 heard 1 (day 10)
  const train = csrFromCoo(2, 5, Int32Array.of(0, 0, 1), Int32Array.of(0, 1, 1), Float32Array.of(1, 1, 1));
  const day = 86_400;
  const stats = rankStats(train, { time: Float64Array.of(0, 9 * day, 10 * day), now: 10 * day }, 5);

  it('computes popularity, trend, activity and recency', () => {
    assert.deepEqual([...stats.popularity], [Math.log1p(1), Math.log1p(2), 0, 0, 0]);
    assert.deepEqual([...stats.trend], [0, 1, 0, 0, 0]); // item 0's only pair is 10 days old, outside 5
    assert.deepEqual([...stats.recency], [Math.log1p(1), 0]);
    assert.throws(() => rankStats(train, { time: new Float64Array(1), now: 0 }), /rankStats: 1 times for 3 training pairs/);
  });

  it('builds the union of the sources with rank and score features', () => {
    const a = lists([0, 1], [[2, 3], [0]], [[4, 2], [1]]);
    const b = lists([0, 1], [[3, 4], []], [[1, 0.5], []]);
    const c = buildCandidates([a, b], stats, 10);
    assert.equal(c.dim, featureCount(2));
    assert.deepEqual([...c.offsets], [0, 3, 4]);
    assert.deepEqual([...c.items], [2, 3, 4, 0]);
    const row = (r: number) => [...c.x.subarray(r * c.dim, r * c.dim + 5)];
    assert.deepEqual(row(0), [0, 1, 10, 0, 1]); // item 2: first of a, absent from b
    assert.deepEqual(row(1), [1, 0.5, 0, 1, 2]); // item 3: second of a (2/4), first of b
    assert.deepEqual([...candidateLabels(c, csrFromCoo(2, 5, Int32Array.of(0, 1), Int32Array.of(3, 0), Float32Array.of(1, 1)))], [0, 1, 0, 1]);
    assert.throws(() => buildCandidates([a, lists([1, 0], [[], []], [[], []])], stats, 10), /sources cover different users/);
  });

  it('learns which source to trust, and the dial moves lists to the tail', () => {
    // source "good" ranks the true item first, source "bad" ranks a random one first
    const rng = new Rng(1);
    const users = 300;
    const items = 40;
    const truth = Int32Array.from({ length: users }, () => rng.int(items));
    const good = lists([...Array(users).keys()], [...truth].map((t) => [t, (t + 1) % items, (t + 2) % items]), [...truth].map(() => [3, 2, 1]));
    const bad = lists([...Array(users).keys()], [...truth].map((t) => [(t + 5) % items, t]), [...truth].map(() => [9, 8]));
    const train = csrFromCoo(users, items, Int32Array.from({ length: users }, (_, u) => u), Int32Array.from({ length: users }, (_, u) => (truth[u] + 7) % items), new Float32Array(users).fill(1));
    const st = rankStats(train);
    const c = buildCandidates([bad, good], st, 10);
    const test = csrFromCoo(users, items, Int32Array.from({ length: users }, (_, u) => u), truth, new Float32Array(users).fill(1));
    const r = new LearnedRanker({ rounds: 20, depth: 3 }, ['bad', 'good']);
    r.fit(c, candidateLabels(c, test));
    const top = r.rank(c, st, 1);
    let hits = 0;
    for (let u = 0; u < users; u++) hits += top.items[u][0] === truth[u] ? 1 : 0;
    assert.equal(hits, users, 'the ranker follows the good source');
    const back = LearnedRanker.fromJSON(JSON.parse(JSON.stringify(r.toJSON())));
    assert.deepEqual(back.predict(c), r.predict(c));
    assert.deepEqual(back.sources, ['bad', 'good']);
    // the dial: with every p equal, β > 0 prefers the least popular candidate
    const flat = new Float64Array(c.items.length).fill(0.5);
    const pop = { popularity: Float64Array.from({ length: items }, (_, i) => i) };
    assert.equal(rankCandidates(c, flat, pop, 1, 1).items[0][0], Math.min(...c.items.subarray(c.offsets[0], c.offsets[1])));
    assert.throws(() => LearnedRanker.fromJSON({ kind: 'x' }), /not a deepcut ranker file \(kind x/);
    assert.throws(() => new LearnedRanker().fit(c, new Float64Array(c.items.length)), /no positive among/);
  });
});

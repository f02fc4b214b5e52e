import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapMean, catalogMetrics, popularityOf, rankMetrics } from './metrics.ts';
import { evaluate } from './evaluate.ts';
import type { Recommender } from './recommender.ts';
import { csrFromCoo } from '../signals/index.ts';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} ≈ ${b}`);

describe('rank metrics', () => {
  it('match a hand-computed list', () => {
    // hits at ranks 2 and 4 of 4; 3 relevant items
    const m = rankMetrics([1, 2, 3, 4], new Set([2, 4, 9]), 4);
    close(m.precision, 0.5);
    close(m.recall, 2 / 3);
    close(m.ndcg, (1 / Math.log2(3) + 1 / Math.log2(5)) / (1 + 1 / Math.log2(3) + 0.5));
    close(m.ap, (1 / 2 + 2 / 4) / 3);
  });
  it('are 1 for a perfect list and 0 for a miss; short lists count against precision', () => {
    assert.deepEqual(rankMetrics([7, 8], new Set([7, 8]), 2), { precision: 1, recall: 1, ndcg: 1, ap: 1 });
    assert.deepEqual(rankMetrics([1], new Set([2]), 10), { precision: 0, recall: 0, ndcg: 0, ap: 0 });
    close(rankMetrics([2], new Set([2]), 10).precision, 0.1);
  });
});

describe('catalog metrics', () => {
  it('coverage, novelty and long-tail share by hand', () => {
    // 10 users; item counts 5,3,1,1,0 → the 80% head is {0, 1}
    const pop = popularityOf(Float64Array.of(5, 3, 1, 1, 0), 10);
    assert.deepEqual([...pop.head], [1, 1, 0, 0, 0]);
    const c = catalogMetrics([Int32Array.of(0, 2), Int32Array.of(4, 1)], pop);
    close(c.coverage, 4 / 5);
    close(c.novelty, (1 + -Math.log2(0.1) * 2 + -Math.log2(0.3)) / 4);
    close(c.longTailShare, 0.5);
  });
});

describe('evaluate', () => {
  it('averages over test users through the Recommender interface only', async () => {
    // 3 users × 4 items; user 0 tests item 1, user 1 tests items 2,3, user 2 has no test items
    const train = csrFromCoo(3, 4, Int32Array.of(0, 1, 2), Int32Array.of(0, 0, 3), Float32Array.of(1, 1, 1));
    const test = csrFromCoo(3, 4, Int32Array.of(0, 1, 1), Int32Array.of(1, 2, 3), Float32Array.of(1, 1, 1));
    const lists: Record<number, number[]> = { 0: [1, 2], 1: [1, 3] };
    const stub = { recommend: (u: number) => ({ items: Int32Array.from(lists[u]), scores: Float32Array.of(2, 1) }) } as unknown as Recommender;
    const m = await evaluate(stub, train, test, { k: 2 });
    assert.equal(m.users, 2);
    close(m.p_at_2, (1 / 2 + 1 / 2) / 2);
    close(m.r_at_2, (1 + 1 / 2) / 2);
    close(m.ndcg_at_2, (1 + 1 / Math.log2(3) / (1 + 1 / Math.log2(3))) / 2);
    close(m.map_at_2, (1 + 0.5 / 2) / 2);
    close(m.coverage, 3 / 4);
    await assert.rejects(evaluate(stub, train, csrFromCoo(3, 5, new Int32Array(0), new Int32Array(0), new Float32Array(0)), { k: 2 }), /train is 3×4 but test is 3×5/);
  });
});

describe('bootstrapMean', () => {
  it('averages strata means, brackets the mean, narrows with more users, and is seeded', async () => {
    
    assert.deepEqual(bootstrapMean([Float64Array.of(1, 1, 1)]), { mean: 1, lo: 1, hi: 1 });
    const a = bootstrapMean([Float64Array.of(0, 1), Float64Array.of(1, 1, 1, 1)], 500, 3);
    assert.equal(a.mean, 0.75);
    const bits = (n: number) => Float64Array.from({ length: n }, (_, i) => i % 2);
    const small = bootstrapMean([bits(20)], 1000, 1);
    const big = bootstrapMean([bits(2000)], 1000, 1);
    assert.ok(small.lo < 0.5 && small.hi > 0.5 && big.lo < 0.5 && big.hi > 0.5);
    assert.ok(big.hi - big.lo < (small.hi - small.lo) / 5, `${big.hi - big.lo} vs ${small.hi - small.lo}`);
    assert.deepEqual(bootstrapMean([bits(20)], 1000, 1), small);
    assert.deepEqual(bootstrapMean([new Float64Array(0)]), { mean: 0, lo: 0, hi: 0 });
  });
});

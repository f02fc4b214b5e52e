import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BprRecommender } from './bpr.ts';
import { recommenderContract, checkerboard } from './recommender.case.test.ts';

recommenderContract('bpr', () => new BprRecommender({ factors: 8, epochs: 200, learningRate: 0.05, seed: 3 }), (p) => BprRecommender.load(p));

describe('bpr', () => {
  it('is seeded: the same seed gives the same lists, another seed other scores', async () => {
    const board = checkerboard(20);
    const fit = async (seed: number) => {
      const m = new BprRecommender({ factors: 4, epochs: 20, seed });
      await m.fit(board);
      return m.recommend(0, board, 5);
    };
    assert.deepEqual(await fit(1), await fit(1));
    assert.notDeepEqual((await fit(1)).scores, (await fit(2)).scores);
  });

  it('rejects bad hyper-parameters with pinned messages', () => {
    assert.throws(() => new BprRecommender({ factors: 0 }), /bpr: factors and epochs must be positive integers, got 0 and 50/);
    assert.throws(() => new BprRecommender({ learningRate: 0 }), /bpr: learningRate must be > 0 and regularization ≥ 0, got 0 and 0.001/);
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PopularityRecommender } from './popularity.ts';
import { recommenderContract } from './recommender.case.test.ts';
import { csrFromCoo } from '../signals/index.ts';

recommenderContract('popularity', () => new PopularityRecommender(), (p) => PopularityRecommender.load(p), {
  skip: {
    checkerboard: 'popularity is not personalised: every item on the board is equally popular',
    similarItemsBlock: 'popularity has no notion of similarity',
    similarUsersBlock: 'popularity has no notion of similarity',
  },
});

// 3 users × 4 items: item 2 heard by all, item 0 by two, item 3 by one, item 1 by none.
const m = csrFromCoo(3, 4, Int32Array.of(0, 0, 1, 1, 2, 2), Int32Array.of(0, 2, 0, 2, 2, 3), Float32Array.of(5, 1, 1, 1, 1, 9));

describe('popularity', () => {
  it('ranks by the number of users, not by summed weight', async () => {
    const p = new PopularityRecommender();
    await p.fit(m);
    const r = p.recommend(2, m, 4, { filterHeard: false });
    assert.deepEqual([...r.items], [2, 0, 3, 1]);
    assert.deepEqual([...r.scores], [3, 2, 1, 0]);
    assert.deepEqual([...p.recommend(2, m, 4).items], [0, 1]);
  });

  it('round-trips through save/load', async () => {
    const p = new PopularityRecommender();
    await p.fit(m);
    const dir = await mkdtemp(join(tmpdir(), 'deepcut-pop-'));
    try {
      await p.save(join(dir, 'p.bin'), { runId: 'r1' });
      const q = await PopularityRecommender.load(join(dir, 'p.bin'));
      assert.deepEqual(q.recommend(0, m, 4), p.recommend(0, m, 4));
      assert.deepEqual(q.similarUsers(0, 2), p.similarUsers(0, 2));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlendRecommender } from './blend.ts';
import { EaseRecommender } from './ease.ts';
import { ItemKnnRecommender } from './itemknn.ts';
import { AlternatingLeastSquares } from './als.ts';
import { recommenderContract } from './recommender.case.test.ts';
import { csrFromCoo } from '../signals/index.ts';

const easeKnn = () =>
  new BlendRecommender([
    { model: new EaseRecommender({ lambda: 10 }), weight: 1 },
    { model: new ItemKnnRecommender({ weighting: 'cosine', neighbours: 20 }), weight: 0.5, binary: true },
  ]);
recommenderContract('blend (ease + item-kNN)', easeKnn, (p) => BlendRecommender.load(p));
recommenderContract(
  'blend (ease + als)',
  () =>
    new BlendRecommender([
      { model: new EaseRecommender({ lambda: 10 }), weight: 1 },
      { model: new AlternatingLeastSquares({ factors: 8, iterations: 10, regularization: 0.1, seed: 1, threads: 1 }), weight: 0.5, alpha: 5 },
    ]),
  (p) => BlendRecommender.load(p),
);

describe('blend', () => {
  // 4 users × 4 items; user 3 heard item 0 only
  const m = csrFromCoo(4, 4, Int32Array.of(0, 0, 1, 1, 1, 2, 2, 3), Int32Array.of(0, 1, 0, 2, 3, 2, 3, 0), Float32Array.of(3, 1, 2, 5, 1, 4, 2, 7));

  it('with one part ranks as that part alone (standardizing keeps the order)', async () => {
    const solo = new EaseRecommender({ lambda: 1 });
    await solo.fit(m);
    const b = new BlendRecommender([{ model: new EaseRecommender({ lambda: 1 }), weight: 2 }]);
    await b.fit(m);
    for (let u = 0; u < 4; u++) assert.deepEqual([...b.recommend(u, m, 3).items], [...solo.recommend(u, m, 3).items]);
  });

  it('adds the parts\' standardized scores by weight, each part on its own view', async () => {
    const ease = new EaseRecommender({ lambda: 1 });
    const knn = new ItemKnnRecommender({ weighting: 'cosine', neighbours: 4 });
    await ease.fit(m);
    await knn.fit({ ...m, data: m.data.map(() => 1) });
    const b = new BlendRecommender([
      { model: new EaseRecommender({ lambda: 1 }), weight: 1 },
      { model: new ItemKnnRecommender({ weighting: 'cosine', neighbours: 4 }), weight: 3, binary: true },
    ]);
    await b.fit(m);
    const z = (s: Float32Array) => {
      const mean = s.reduce((a, x) => a + x, 0) / s.length;
      const sd = Math.sqrt(s.reduce((a, x) => a + (x - mean) ** 2, 0) / s.length);
      return [...s].map((x) => (x - mean) / sd);
    };
    const e = new Float32Array(4);
    const k = new Float32Array(4);
    ease.scores(3, m, e);
    knn.scores(3, { ...m, data: m.data.map(() => 1) }, k);
    const want = z(e).map((x, j) => x + 3 * z(k)[j]);
    const got = new Float32Array(4);
    b.scores(3, m, got);
    for (let j = 0; j < 4; j++) assert.ok(Math.abs(got[j] - want[j]) < 1e-4, `item ${j}: ${got[j]} vs ${want[j]}`);
    // a history that is not the training matrix scores the same row the same way
    const live = new Float32Array(4);
    b.scores(3, { ...m, data: m.data.slice() }, live);
    for (let j = 0; j < 4; j++) assert.ok(Math.abs(live[j] - got[j]) < 1e-4);
  });

  it('refuses bad weights and unsaveable or unscorable parts, naming them', async () => {
    assert.throws(() => new BlendRecommender([]), /at least one part/);
    assert.throws(() => new BlendRecommender([{ model: new EaseRecommender(), weight: 0 }]), /part ease has weight 0/);
    assert.throws(() => new BlendRecommender([{ model: new EaseRecommender(), weight: 1, alpha: -1 }]), /alpha -1/);
  });

  it('saves and loads with its parts beside it', async () => {
    const b = easeKnn();
    await b.fit(m);
    const dir = await mkdtemp(join(tmpdir(), 'deepcut-blend-'));
    try {
      await b.save(join(dir, 'm.bin'), { runId: 'r' });
      const back = await BlendRecommender.load(join(dir, 'm.bin'));
      for (let u = 0; u < 4; u++) assert.deepEqual([...back.recommend(u, m, 3).items], [...b.recommend(u, m, 3).items]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

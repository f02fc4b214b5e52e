import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BM25Recommender, CosineRecommender, ItemKnnRecommender, allPairsKnn, allPairsKnnThreads, bm25Weight, cosineWeight } from './itemknn.ts';
import { readFile } from 'node:fs/promises';
import { Rng } from '../util/rng.ts';
import { stampTime } from '../core/clock.ts';
import { wasmAvailable } from './kernels/wasm.ts';
import { recommenderContract, checkerboard } from './recommender.case.test.ts';
import { csrFromCoo, transpose } from '../signals/index.ts';
import { PopularityRecommender } from './popularity.ts';

// Keep every neighbour on the 50-item board: with the default 20, equal-similarity ties cut the
// held-out item out of most lists.
recommenderContract('itemknn-cosine', () => new CosineRecommender({ neighbours: 50 }), (p) => ItemKnnRecommender.load(p));
recommenderContract('itemknn-bm25', () => new BM25Recommender({ neighbours: 50 }), (p) => ItemKnnRecommender.load(p));

describe('itemknn', () => {
  // users × items: items 0 and 1 always together; item 2 with item 0 once.
  const m = csrFromCoo(3, 3, Int32Array.of(0, 0, 1, 1, 2, 2), Int32Array.of(0, 1, 0, 1, 0, 2), Float32Array.of(1, 1, 1, 1, 1, 1));

  it('computes cosine similarities by hand', async () => {
    const r = new CosineRecommender();
    await r.fit(m);
    // item 0 heard by 3 users, item 1 by 2 (both shared), item 2 by 1 (shared): cos = 2/√6, 1/√3
    const s = r.similarItems(0, 2);
    assert.deepEqual([...s.items], [1, 2]);
    assert.ok(Math.abs(s.scores[0] - 2 / Math.sqrt(6)) < 1e-6);
    assert.ok(Math.abs(s.scores[1] - 1 / Math.sqrt(3)) < 1e-6);
    // user 2 heard 0 and 2: item 1 scores S[0,1] + S[2,1] = 2/√6 + 0
    const rec = r.recommend(2, m, 1);
    assert.equal(rec.items[0], 1);
    assert.ok(Math.abs(rec.scores[0] - 2 / Math.sqrt(6)) < 1e-6);
  });

  it('weights by BM25 as the formula says', () => {
    const w = bm25Weight(transpose(m), 1.2, 0.75);
    // item 0: len 3, mean len 2 → L = 0.25 + 0.75·1.5 = 1.375; user 0 has 2 items → idf ln(3/3) = 0
    assert.equal(w.data[0], 0);
    // item 2 (row 2): len 1 → L = 0.625; user 2 has 2 items → idf 0 as well; so use 4 items to get idf > 0
    const wide = csrFromCoo(1, 4, Int32Array.of(0), Int32Array.of(0), Float32Array.of(2));
    // 4 items × 1 user: item 0 has len 2, mean len 0.5 → L = 0.25 + 0.75·4 = 3.25; idf = ln(4/2)
    const w2 = bm25Weight(transpose(wide), 1.2, 0.75);
    assert.ok(Math.abs(w2.data[0] - ((2 * 2.2) / (1.2 * 3.25 + 2)) * Math.log(4 / 2)) < 1e-6);
  });

  it('keeps only the configured number of neighbours', async () => {
    const r = new CosineRecommender({ neighbours: 3 });
    await r.fit(checkerboard(50));
    for (let i = 0; i < 50; i++) assert.ok(r.neighboursOf(i).items.length <= 4);
  });

  it('beats popularity on a block structure with a popular decoy', async () => {
    const r = new BM25Recommender({ neighbours: 10 });
    const p = new PopularityRecommender();
    const board = checkerboard(20);
    await r.fit(board);
    await p.fit(board);
    let hits = 0;
    for (let u = 0; u < 20; u++) hits += r.recommend(u, board, 1).items[0] === u ? 1 : 0;
    assert.equal(hits, 20);
  });

  it('rejects bad hyper-parameters', () => {
    assert.throws(() => new CosineRecommender({ neighbours: 0 }), /itemknn: neighbours must be a positive integer, got 0/);
    assert.throws(() => new BM25Recommender({ b: 2 }), /itemknn: BM25 needs k1 > 0 and 0 ≤ b ≤ 1, got k1=1.2, b=2/);
  });

  it('round-trips through save/load and refuses another kind', async () => {
    const r = new BM25Recommender({ neighbours: 50, k1: 2, b: 0.5 });
    const board = checkerboard(50);
    await r.fit(board);
    const dir = await mkdtemp(join(tmpdir(), 'deepcut-knn-'));
    try {
      await r.save(join(dir, 'k.bin'), { runId: 'r1' });
      const q = await ItemKnnRecommender.load(join(dir, 'k.bin'));
      assert.equal(q.name, 'itemknn-bm25');
      assert.deepEqual(q.config, r.config);
      assert.deepEqual(q.recommend(3, board, 5), r.recommend(3, board, 5));
      assert.deepEqual(q.similarItems(4, 5), r.similarItems(4, 5));
      assert.deepEqual(q.similarUsers(4, 5), r.similarUsers(4, 5));
      const p = new PopularityRecommender();
      await p.fit(board);
      await p.save(join(dir, 'p.bin'), { runId: 'r1' });
      await assert.rejects(ItemKnnRecommender.load(join(dir, 'p.bin')), /kind mismatch: expected "itemknn", file has "popularity"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('finds the same neighbours, byte for byte, on the WASM kernel over 1, 2 and 3 threads as in the TypeScript loop (cosine and BM25; ties to the lower item)', { skip: wasmAvailable('knn') ? false : 'WASM kernels not built (npm run build)' }, async () => {
    // skewed random listening, items 300..359 copies of items 0..59 (same users, same weights): every
    // such pair ties, so the kept neighbours depend on the tie rule
    const rng = new Rng(11);
    const u: number[] = [], i: number[] = [], w: number[] = [];
    for (let e = 0; e < 6000; e++) {
      const user = Math.floor(400 * rng.next() ** 1.5);
      const item = Math.floor(300 * rng.next() ** 2);
      u.push(user), i.push(item), w.push(1 + Math.floor(4 * rng.next()));
      if (item < 60) u.push(user), i.push(item + 300), w.push(w[w.length - 1]);
    }
    const m = csrFromCoo(400, 360, Int32Array.from(u), Int32Array.from(i), Float32Array.from(w));
    for (const weighted of [cosineWeight(transpose(m)), bm25Weight(transpose(m), 1.2, 0.75)]) {
      const want = allPairsKnn(weighted, 8);
      let ties = 0;
      for (let r = 0; r < want.rows; r++) for (let p = want.indptr[r] + 1; p < want.indptr[r + 1]; p++) if (want.data[p] === want.data[p - 1]) ties++;
      assert.ok(ties > 50, `the board holds ties (${ties})`);
      for (const threads of [1, 2, 3]) {
        const got = await allPairsKnnThreads(weighted, 8, threads);
        assert.deepEqual(got.indptr, want.indptr, `${threads} threads: row lengths`);
        assert.deepEqual(got.indices, want.indices, `${threads} threads: neighbours`);
        assert.deepEqual(got.data, want.data, `${threads} threads: similarities`);
      }
    }
  });

  it('writes the same model file whatever its thread count (threads is not a model parameter)', async () => {
    const board = checkerboard(50);
    const dir = await mkdtemp(join(tmpdir(), 'deepcut-knn-'));
    try {
      const bytes = [];
      for (const threads of [1, 2]) {
        const r = new ItemKnnRecommender({ weighting: 'cosine', neighbours: 20, threads });
        await r.fit(board);
        await stampTime.run('2026-12-07T00:00:00.000Z', () => r.save(join(dir, `k${threads}.bin`), { runId: 'r1' }));
        bytes.push(await readFile(join(dir, `k${threads}.bin`)));
        assert.equal('threads' in r.config, false);
      }
      assert.ok(bytes[0].equals(bytes[1]));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExactIndex } from './exact.ts';
import { IvfIndex, type SearchStats } from './ivf.ts';
import type { Ranked } from '../cf/index.ts';
import { readArtifact, writeArtifact } from '../cf/index.ts';
import { recallAtK } from './vector-index.ts';
import { clusteredFactors } from './testing/data.ts';
import { wasmAvailable } from '../cf/index.ts';

const d = 16;
const v = clusteredFactors(4000, d, 11);
const q = clusteredFactors(200, d, 12);
const row = (m: Float32Array, j: number, w = d) => m.subarray(j * w, j * w + w);

function exactOf(vectors: Float32Array, dims: number, metric: 'ip' | 'cos'): ExactIndex {
  const e = new ExactIndex(dims, metric);
  e.add(vectors);
  return e;
}

describe('IvfIndex', () => {
  const exact = exactOf(v, d, 'ip');
  const truth = exact.searchBatch(q, 10);

  it('without a cap, the ball bound makes every answer exact (WASM and TypeScript)', () => {
    for (const kernels of ['auto', 'ts'] as const) {
      const idx = new IvfIndex(d, 'ip', { lists: 40, nprobe: 0, kernels });
      idx.add(v);
      assert.equal(idx.lists, 40);
      for (let j = 0; j < 200; j++) {
        const st: SearchStats = { lists: 0, rows: 0, capped: true };
        const got = idx.search(row(q, j), 10, { stats: st });
        assert.deepEqual([...got.items], [...truth[j].items], `${kernels}: query ${j}`);
        assert.equal(st.capped, false);
        assert.ok(st.rows < 4000, `${kernels}: query ${j} scored every row`);
      }
    }
  });

  it('excluded rows are skipped and the answer stays exact', () => {
    const idx = new IvfIndex(d, 'ip', { lists: 40 });
    idx.add(v);
    for (let j = 0; j < 50; j++) {
      const want = exact.search(row(q, j), 13);
      const got = idx.search(row(q, j), 10, { exclude: [...want.items.subarray(0, 3), -1, 99999] });
      assert.deepEqual([...got.items], [...want.items.subarray(3)], `query ${j}`);
    }
    // the mask is cleared after each search
    assert.deepEqual(idx.search(row(q, 0), 10).items, truth[0].items);
  });

  it('build tunes nprobe on half the queries and reports recall@10 on the other half', () => {
    const idx = IvfIndex.build(v, d, 'ip', { lists: 64 }, { queries: q, recallTarget: 0.95 });
    const r = idx.report!;
    assert.equal(r.queries, 100);
    assert.equal(r.tune_queries, 100);
    assert.equal(r.lists, 64);
    assert.equal(r.nprobe, idx.nprobe);
    assert.ok(r.nprobe >= 0 && r.nprobe < 64);
    assert.ok(r.recall_at_10 >= 0.9, `recall ${r.recall_at_10}`);
    assert.equal(r.recall_at_10, recallAtK(idx.searchBatch(q.subarray(100 * d), 10), truth.slice(100), 10));
    assert.ok(r.mean_rows_scored < 4000 && r.mean_lists_scored <= (r.nprobe || 64));
  });

  it('build tunes the cap for searches that exclude rows', () => {
    // each query excludes its 5 best rows, as serving excludes a user's heard tracks
    const exclude = truth.map((r) => r.items.subarray(0, 5));
    const idx = IvfIndex.build(v, d, 'ip', { lists: 64 }, { queries: q, exclude, recallTarget: 0.99 });
    const want = Array.from({ length: 100 }, (_, j) => exact.search(row(q, 100 + j), 10, { exclude: exclude[100 + j] }));
    const got = Array.from({ length: 100 }, (_, j) => idx.search(row(q, 100 + j), 10, { exclude: exclude[100 + j] }));
    assert.equal(idx.report!.recall_at_10, recallAtK(got, want, 10));
    assert.ok(idx.report!.recall_at_10 >= 0.9, `recall ${idx.report!.recall_at_10}`);
    assert.throws(() => IvfIndex.build(v, d, 'ip', { lists: 8 }, { queries: q, exclude: [[1]] }), /exclude has 1 lists for 200 queries/);
  });

  it('a cap stops after nprobe lists once k rows are found', () => {
    const idx = new IvfIndex(d, 'ip', { lists: 64, nprobe: 2 });
    idx.add(v);
    for (let j = 0; j < 50; j++) {
      const st: SearchStats = { lists: 0, rows: 0, capped: false };
      assert.equal(idx.search(row(q, j), 10, { stats: st }).items.length, 10);
      assert.ok(st.lists <= 2, `query ${j}: ${st.lists} lists`);
    }
    // excluding the rows of the first lists still returns k rows
    const all = idx.search(row(q, 0), 200);
    assert.equal(idx.search(row(q, 0), 10, { exclude: all.items }).items.length, 10);
  });

  it('the WASM kernel and the TypeScript twin agree', { skip: !wasmAvailable('ivf') && 'build/wasm/ivf.wasm not built' }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'deepcut-ivf-'));
    try {
      for (const dims of [16, 6]) {
        const vv = clusteredFactors(1500, dims, 21);
        const qq = clusteredFactors(50, dims, 22);
        // rerank 0: capped searches scan float32 rows, as the twin does
        const w = new IvfIndex(dims, 'ip', { lists: 30, nprobe: 5, kernels: 'wasm', rerank: 0 });
        w.add(vv);
        // the same lists (k-means may assign near-ties differently in float32 and float64)
        await w.save(join(dir, `w${dims}.idx`), { runId: 't' });
        const t = await IvfIndex.load(join(dir, `w${dims}.idx`), {}, { kernels: 'ts', rerank: 0 });
        assert.equal(w.backend, 'wasm');
        assert.equal(t.backend, 'ts');
        for (let j = 0; j < 50; j++) {
          const sw: SearchStats = { lists: 0, rows: 0, capped: false };
          const st: SearchStats = { lists: 0, rows: 0, capped: false };
          const a = w.search(row(qq, j, dims), 10, { stats: sw, exclude: [j, j + 1, 5000] });
          const b = t.search(row(qq, j, dims), 10, { stats: st, exclude: [j, j + 1, 5000] });
          assert.deepEqual([...a.items], [...b.items], `dims ${dims} query ${j}`);
          for (let c = 0; c < a.scores.length; c++) assert.ok(Math.abs(a.scores[c] - b.scores[c]) <= 1e-4 * Math.abs(b.scores[c]) + 1e-5);
          assert.deepEqual(sw, st);
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('capped searches scan int8 codes and re-rank exactly: true scores, sorted, exclusions kept, recall close to float32', { skip: !wasmAvailable('ivf') && 'build/wasm/ivf.wasm not built' }, () => {
    for (const dims of [16, 6]) {
      const vv = clusteredFactors(3000, dims, 31);
      const qq = clusteredFactors(100, dims, 32);
      const ex = exactOf(vv, dims, 'ip');
      const coded = new IvfIndex(dims, 'ip', { lists: 40, nprobe: 8, rerank: 20 });
      coded.add(vv);
      const plain = new IvfIndex(dims, 'ip', { lists: 40, nprobe: 8, rerank: 0 });
      plain.add(vv);
      const want: Ranked[] = [];
      const got: Ranked[] = [];
      const flat: Ranked[] = [];
      for (let j = 0; j < 100; j++) {
        const qj = row(qq, j, dims);
        const skip = ex.search(qj, 2).items;
        const st: SearchStats = { lists: 0, rows: 0, capped: false };
        const r = coded.search(qj, 10, { exclude: skip, stats: st });
        assert.ok(st.capped && st.lists <= 8 && st.rows < 3000, `dims ${dims} query ${j}: ${JSON.stringify(st)}`);
        assert.equal(r.items.length, 10);
        for (let c = 0; c < 10; c++) {
          assert.ok(!skip.includes(r.items[c]), `dims ${dims} query ${j}: excluded row returned`);
          let s = 0;
          for (let e = 0; e < dims; e++) s += qj[e] * vv[r.items[c] * dims + e];
          assert.ok(Math.abs(r.scores[c] - s) <= 1e-4 * Math.abs(s) + 1e-4, `dims ${dims} query ${j}: score ${r.scores[c]} is not q·x = ${s}`);
          if (c > 0) assert.ok(r.scores[c - 1] >= r.scores[c]);
        }
        got.push(r);
        flat.push(plain.search(qj, 10, { exclude: skip }));
        want.push(ex.search(qj, 10, { exclude: skip }));
      }
      // the codes lose little against scanning the same lists in float32 (radius weights differ, so not identical)
      const rc = recallAtK(got, want, 10);
      const rf = recallAtK(flat, want, 10);
      assert.ok(rc >= 0.9 && rc >= rf - 0.05, `dims ${dims}: recall with codes ${rc}, float32 ${rf}`);
    }
    // excluding every row of the chosen lists still gives k rows (more lists are scanned)
    const idx = new IvfIndex(d, 'ip', { lists: 64, nprobe: 2 });
    idx.add(v);
    const many = idx.search(row(q, 3), 300);
    assert.equal(idx.search(row(q, 3), 10, { exclude: many.items }).items.length, 10);
    assert.throws(() => new IvfIndex(d, 'ip', { rerank: 1.5 }), /rerank must be a non-negative integer, got 1.5/);
    assert.throws(() => new IvfIndex(d, 'ip', { radiusWeight: 2 }), /radiusWeight must be within \[0, 1\], got 2/);
  });

  it('rows added later join the lists and are found', () => {
    const idx = new IvfIndex(d, 'ip', { lists: 32 });
    idx.add(v.subarray(0, 3000 * d));
    idx.add(v.subarray(3000 * d));
    assert.equal(idx.size, 4000);
    assert.deepEqual(idx.searchBatch(q, 10).map((r) => [...r.items]), truth.map((r) => [...r.items]));
  });

  it('cos search finds a row itself first; fewer rows than k gives them all', () => {
    const idx = IvfIndex.build(v.subarray(0, 1000 * d), d, 'cos', { lists: 20 });
    assert.equal(idx.search(row(v, 7), 1).items[0], 7);
    const small = IvfIndex.build(v.subarray(0, 5 * d), d, 'ip');
    assert.equal(small.lists, 4); // round(2·√5)
    assert.equal(small.search(row(q, 0), 10).items.length, 5);
  });

  it('is seeded: the same options give the same lists', () => {
    const a = new IvfIndex(d, 'ip', { lists: 32, seed: 3 });
    const b = new IvfIndex(d, 'ip', { lists: 32, seed: 3 });
    a.add(v);
    b.add(v);
    const st = (x: IvfIndex) => {
      const s: SearchStats = { lists: 0, rows: 0, capped: false };
      x.search(row(q, 0), 10, { stats: s });
      return s;
    };
    assert.deepEqual(st(a), st(b));
  });

  it('saves and loads with the same answers; mismatches are named', async () => {
    const idx = IvfIndex.build(v.subarray(0, 2000 * d), d, 'ip', { lists: 40 }, { queries: q });
    const dir = await mkdtemp(join(tmpdir(), 'deepcut-ivf-'));
    try {
      await idx.save(join(dir, 'i.idx'), { runId: 'r1' });
      const back = await IvfIndex.load(join(dir, 'i.idx'), { metric: 'ip', dims: d });
      assert.equal(back.size, 2000);
      assert.equal(back.lists, idx.lists);
      assert.equal(back.nprobe, idx.nprobe);
      assert.equal(back.report?.recall_at_10, idx.report?.recall_at_10);
      assert.deepEqual(back.searchBatch(q, 10), idx.searchBatch(q, 10));
      assert.equal(back.opts.rerank, 20);
      // a file from before the int8 codes (no rerank, no radiusWeight) keeps scanning float32 rows, as its nprobe was tuned
      const old = await readArtifact(join(dir, 'i.idx'));
      const { rerank: _r, radiusWeight: _w, ...params } = old.header.params;
      await writeArtifact(join(dir, 'old.idx'), { kind: old.header.kind, runId: 'r0', metric: old.header.metric, params }, old.header.arrays.map((e) => ({ name: e.name, data: old.arrays[e.name], shape: e.shape })));
      const fromOld = await IvfIndex.load(join(dir, 'old.idx'));
      assert.equal(fromOld.opts.rerank, 0);
      assert.equal(fromOld.opts.radiusWeight, 0.25);
      await assert.rejects(IvfIndex.load(join(dir, 'i.idx'), { metric: 'cos' }), /metric mismatch: expected "cos", file has "ip"/);
      await assert.rejects(IvfIndex.load(join(dir, 'i.idx'), { dims: 32 }), /parameter dims mismatch: expected 32, file has 16/);
      await exactOf(v.subarray(0, 10 * d), d, 'ip').save(join(dir, 'e.idx'), { runId: 'r1' });
      await assert.rejects(IvfIndex.load(join(dir, 'e.idx')), /kind mismatch: expected "index-ivf", file has "index-exact"/);
      await assert.rejects(IvfIndex.load(join(dir, 'missing.idx')), /missing\.idx cannot be read/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names bad input', () => {
    assert.throws(() => IvfIndex.build(new Float32Array(0), d, 'ip'), /cannot build an index over 0 vectors/);
    assert.throws(() => IvfIndex.build(new Float32Array(5), d, 'ip'), /vectors: length 5 is not a multiple of 16 dimensions/);
    assert.throws(() => new IvfIndex(d, 'ip', { nprobe: -1 }), /nprobe must be a non-negative integer, got -1/);
    const idx = new IvfIndex(d, 'ip', { lists: 4 });
    assert.deepEqual(idx.search(row(q, 0), 3), { items: new Int32Array(0), scores: new Float32Array(0) });
    idx.add(v.subarray(0, 100 * d));
    assert.throws(() => idx.search(new Float32Array(3), 1), /query has 3 dimensions, the index 16/);
    assert.throws(() => idx.search(row(q, 0), 0), /k must be/);
    const nan = row(q, 0).slice();
    nan[2] = NaN;
    assert.throws(() => idx.search(nan, 5), /query: value 2 of row 0 is NaN/);
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExactIndex } from './exact.ts';
import { AnnIndex } from './ann.ts';
import { recallAtK } from './vector-index.ts';
import { stampTime } from '../core/clock.ts';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { topK } from '../cf/index.ts';
import { clusteredFactors } from './testing/data.ts';

function bruteIp(v: Float32Array, d: number, q: Float32Array, k: number) {
  const n = v.length / d;
  const s = new Float32Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) s[i] += q[j] * v[i * d + j];
  return topK(s, k);
}

describe('ExactIndex', () => {
  const d = 8;
  const v = clusteredFactors(500, d, 1);
  const q = clusteredFactors(20, d, 2);
  it('norm-pruned ip search equals brute force', () => {
    const idx = new ExactIndex(d, 'ip');
    idx.add(v.subarray(0, 300 * d));
    idx.add(v.subarray(300 * d)); // growing after the first add
    for (let j = 0; j < 20; j++) {
      const want = bruteIp(v, d, q.subarray(j * d, j * d + d), 10);
      const got = idx.search(q.subarray(j * d, j * d + d), 10);
      assert.deepEqual([...got.items], [...want.items]);
      assert.deepEqual(idx.searchBatch(q, 10)[j].items, got.items);
    }
  });
  it('excluded rows are never returned, for ip and cos', () => {
    for (const metric of ['ip', 'cos'] as const) {
      const idx = new ExactIndex(d, metric);
      idx.add(v);
      const all = idx.search(q.subarray(0, d), 15);
      const got = idx.search(q.subarray(0, d), 10, { exclude: [all.items[0], all.items[3], -4, 1e6] });
      assert.deepEqual([...got.items], [...all.items].filter((_, c) => c !== 0 && c !== 3).slice(0, 10));
    }
  });
  it('cos search finds a row itself first; errors are named', () => {
    const idx = new ExactIndex(d, 'cos');
    idx.add(v);
    assert.equal(idx.search(v.subarray(7 * d, 8 * d), 1).items[0], 7);
    assert.throws(() => idx.search(new Float32Array(3), 1), /query has 3 dimensions, the index 8/);
    assert.throws(() => idx.add(Float32Array.of(1, NaN, 0, 0, 0, 0, 0, 0)), /vectors: value 1 of row 0 is NaN/);
  });
});

describe('AnnIndex', () => {
  const d = 16;
  const v = clusteredFactors(3000, d, 3);
  const q = clusteredFactors(100, d, 4);
  it('reaches high recall@10 for inner product thanks to the augmentation', () => {
    const ann = AnnIndex.build(v, d, 'ip', { connectivity: 16, expansionAdd: 100, expansionSearch: 128 }, q);
    assert.ok(ann.report!.recall_at_10 >= 0.95, `recall ${ann.report!.recall_at_10}`);
    const exact = new ExactIndex(d, 'ip');
    exact.add(v);
    const r = ann.search(q.subarray(0, d), 10);
    const e = exact.search(q.subarray(0, d), 10);
    // scores are exact inner products of the returned rows
    for (let c = 0; c < r.items.length; c++) {
      const i = r.items[c];
      const pos = [...e.items].indexOf(i);
      if (pos >= 0) assert.ok(Math.abs(r.scores[c] - e.scores[pos]) <= 1e-3 * Math.abs(e.scores[pos]) + 1e-4);
    }
    assert.ok(recallAtK(ann.searchBatch(q, 10), exact.searchBatch(q, 10), 10) >= 0.95);
  });
  it('rejects a row longer than the augmentation norm', () => {
    const ann = AnnIndex.build(v.subarray(0, 100 * d), d, 'ip');
    const big = v.slice(0, d).map((x) => x * 1e4);
    assert.throws(() => ann.add(big), /row 100 has norm .* above the index's augmentation norm .*; rebuild the index/);
  });
  it('saves and loads with the same answers; a wrong metric is named', async () => {
    const ann = AnnIndex.build(v.subarray(0, 1000 * d), d, 'cos', { connectivity: 16 });
    const dir = await mkdtemp(join(tmpdir(), 'deepcut-idx-'));
    try {
      await ann.save(join(dir, 'a.idx'), { runId: 'r1' });
      const back = await AnnIndex.load(join(dir, 'a.idx'));
      assert.equal(back.size, 1000);
      assert.deepEqual(back.searchBatch(q.subarray(0, 10 * d), 5), ann.searchBatch(q.subarray(0, 10 * d), 5));
      assert.equal(back.report?.recall_at_10, ann.report?.recall_at_10);
      await assert.rejects(AnnIndex.load(join(dir, 'a.idx'), { metric: 'ip' }), /metric mismatch: expected "ip", file has "cos"/);
      const ex = new ExactIndex(d, 'ip');
      ex.add(v.subarray(0, 50 * d));
      await ex.save(join(dir, 'e.idx'), { runId: 'r1' });
      const exBack = await ExactIndex.load(join(dir, 'e.idx'));
      assert.deepEqual(exBack.search(q.subarray(0, d), 5), ex.search(q.subarray(0, d), 5));
      await assert.rejects(AnnIndex.load(join(dir, 'e.idx')), /kind mismatch: expected "index-hnsw", file has "index-exact"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a one-thread build links the same graph every time (what the pipeline steps rely on)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dc-ann-'));
    try {
      const graphs: Buffer[] = [];
      for (const name of ['a', 'b']) {
        await stampTime.run('2026-01-01T00:00:00.000Z', () => AnnIndex.build(v, d, 'cos', { threads: 1 }).save(join(dir, `${name}.idx`), { runId: 'r1' }));
        graphs.push(await readFile(join(dir, `${name}.idx`)));
      }
      assert.ok(graphs[0].equals(graphs[1]), 'two one-thread builds of the same rows wrote different bytes');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('loads usearch in a worker made from a string (no file on its stack), whatever the working directory holds', async () => {
    const ann = new URL('./ann.ts', import.meta.url).href;
    const code = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(ann)}); }).then((a) => {
      const v = new Float32Array(64 * 20).map((_, i) => Math.sin(i));
      require('node:worker_threads').parentPort.postMessage(a.AnnIndex.build(v, 64, 'cos').size);
    }, (e) => require('node:worker_threads').parentPort.postMessage(String(e.message)));`;
    const w = new Worker(code, { eval: true });
    const [answer] = (await once(w, 'message')) as [unknown];
    await w.terminate();
    assert.equal(answer, 20);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlternatingLeastSquares } from './als.ts';
import { csrFromCoo, type Csr } from '../signals/index.ts';
import { Rng } from '../util/rng.ts';
import { cgTs, gramTs, lossTs, regularized, topkTs } from './kernels/als.ts';
import { Arena, instantiate, wasmModule } from './kernels/wasm.ts';
import { DeepcutError } from '../errors.ts';

/**
 * Block data with a known answer: users and items in `groups` taste groups; every user listens to
 * items of their own group only (confidence 1 + plays), one item per user held out.
 */
function blocks(users = 120, items = 60, groups = 4, seed = 3): { m: Csr; held: number[] } {
  const rng = new Rng(seed);
  const r: number[] = [], c: number[] = [], v: number[] = [];
  const held: number[] = [];
  const per = items / groups;
  for (let u = 0; u < users; u++) {
    const g = u % groups;
    const mine = rng.shuffle(Array.from({ length: per }, (_, k) => g * per + k));
    held.push(mine[0]);
    for (const i of mine.slice(1, 1 + Math.floor(per / 2))) {
      r.push(u);
      c.push(i);
      v.push(1 + 1 + rng.int(4));
    }
  }
  return { m: csrFromCoo(users, items, Int32Array.from(r), Int32Array.from(c), Float32Array.from(v)), held };
}

test('CG and exact Cholesky follow the same loss trajectory and rank the same items', async () => {
  const { m } = blocks();
  const curve = async (solver: 'cg' | 'cholesky') => {
    const a = new AlternatingLeastSquares({ factors: 8, iterations: 10, solver, kernels: 'ts', seed: 5, regularization: 2 });
    const l: number[] = [];
    await a.fit(m, { onIteration: (p) => l.push(p.loss!) });
    return { a, l };
  };
  const cg = await curve('cg');
  const ch = await curve('cholesky');
  assert.equal(cg.l.length, 10);
  for (let i = 0; i < 10; i++) assert.ok(Math.abs(cg.l[i] - ch.l[i]) / ch.l[i] < 0.03, `iteration ${i + 1}: cg ${cg.l[i]} vs cholesky ${ch.l[i]}`);
  assert.ok(Math.abs(cg.l[9] - ch.l[9]) / ch.l[9] < 0.002, `final loss cg ${cg.l[9]} vs cholesky ${ch.l[9]}`);
  assert.ok(ch.l[9] <= cg.l[9] * 1.0001, 'the exact solver reaches a loss at least as low');
  for (let i = 1; i < 10; i++) assert.ok(ch.l[i] <= ch.l[i - 1] + 1e-9, 'exact ALS never increases the loss');
  // same top items for each user, as sets
  let same = 0;
  for (let u = 0; u < m.rows; u++) {
    const x = new Set(cg.a.recommend(u, m, 5).items);
    for (const i of ch.a.recommend(u, m, 5).items) if (x.has(i)) same++;
  }
  assert.ok(same / (m.rows * 5) > 0.9, `overlap of top-5 lists ${same / (m.rows * 5)}`);
});

test('recommends held-out items of the own group, filters heard, filterItems and candidates', async () => {
  const { m, held } = blocks();
  const a = new AlternatingLeastSquares({ factors: 8, iterations: 15, seed: 1, regularization: 2 });
  await a.fit(m);
  let hits = 0;
  for (let u = 0; u < m.rows; u++) {
    const r = a.recommend(u, m, 15);
    const heard = new Set(m.indices.subarray(m.indptr[u], m.indptr[u + 1]));
    for (const i of r.items) assert.ok(!heard.has(i), 'heard items are filtered');
    for (const i of r.items.slice(0, 5)) assert.equal(Math.floor(i / 15), u % 4, `user ${u} gets item ${i} of another group`);
    if ([...r.items.slice(0, 8)].includes(held[u])) hits++;
    for (let k = 1; k < r.scores.length; k++) assert.ok(r.scores[k - 1] >= r.scores[k]);
  }
  assert.ok(hits >= 0.95 * m.rows, `held-out item in the top-8 (the 8 unheard items of the group) for ${hits} of ${m.rows} users`);
  const unfiltered = a.recommend(0, m, 3, { filterHeard: false });
  assert.ok(unfiltered.items.every((i) => m.indices.subarray(m.indptr[0], m.indptr[1]).includes(i)), 'unfiltered top-3 are heard items');
  const first = a.recommend(0, m, 1).items[0];
  assert.notEqual(a.recommend(0, m, 1, { filterItems: [first] }).items[0], first);
  const cand = a.recommend(0, m, 2, { candidates: Int32Array.from([59, 0, 58, held[0]]), filterHeard: false });
  assert.equal(cand.items[0], held[0]);
  assert.equal(cand.items.length, 2);
  assert.throws(() => a.recommend(500, m, 3), (e: unknown) => e instanceof DeepcutError && e.code === 'unknown_id' && e.message === 'user row 500 is outside 0..119');
  // similar items and users stay in the group
  for (const i of a.similarItems(7, 5).items) assert.equal(Math.floor(i / 15), 0);
  for (const u of a.similarUsers(6, 5).items) assert.equal(u % 4, 2);
  assert.ok(!a.similarItems(7, 5).items.includes(7));
});

test('batch top-k (WASM, 2 threads) equals one-at-a-time recommend', async () => {
  const { m } = blocks();
  const a = new AlternatingLeastSquares({ factors: 8, iterations: 5, seed: 2, threads: 2 });
  await a.fit(m);
  const users = Int32Array.from({ length: 37 }, (_, k) => (k * 7) % m.rows);
  const b = await a.recommendBatch(users, m, 6);
  for (let j = 0; j < users.length; j++) {
    const r = a.recommend(users[j], m, 6);
    assert.deepEqual([...b.items.subarray(j * 6, j * 6 + 6)], [...r.items]);
    for (let k = 0; k < 6; k++) assert.ok(Math.abs(b.scores[j * 6 + k] - r.scores[k]) < 1e-4);
  }
  // more requested than unheard items: −1 padding
  const big = await a.recommendBatch(Int32Array.from([0]), m, 60);
  assert.equal(big.items[59], -1);
  assert.equal(big.scores[59], -Infinity);
});

test('single queries on the SIMD scorer equal the TypeScript path (recommend, filters, similarItems, short lists)', async () => {
  const { m } = blocks();
  const a = new AlternatingLeastSquares({ factors: 8, iterations: 5, seed: 2, threads: 1 });
  await a.fit(m);
  const ts = await AlternatingLeastSquares.load(await saved(a), {}, { kernels: 'ts' });
  const close = (x: Float32Array, y: Float32Array, what: string) => {
    assert.equal(x.length, y.length, what);
    for (let k = 0; k < x.length; k++) assert.ok(Math.abs(x[k] - y[k]) < 1e-4, `${what} score ${k}: ${x[k]} vs ${y[k]}`);
  };
  for (const u of [0, 5, 77]) {
    for (const o of [{}, { filterHeard: false }, { filterItems: [0, 1, 2, 3, 59] }]) {
      const w = a.recommend(u, m, 7, o);
      const t = ts.recommend(u, m, 7, o);
      assert.deepEqual([...w.items], [...t.items], `user ${u} ${JSON.stringify(o)}`);
      close(w.scores, t.scores, `user ${u}`);
      for (const i of o.filterItems ?? []) assert.ok(!w.items.includes(i), `filtered item ${i} recommended`);
    }
  }
  for (const i of [0, 31, 59]) {
    const w = a.similarItems(i, 5);
    const t = ts.similarItems(i, 5);
    assert.deepEqual([...w.items], [...t.items], `similar to ${i}`);
    assert.ok(!w.items.includes(i));
    close(w.scores, t.scores, `similar to ${i}`);
  }
  // more asked than remain: both return only the unheard items, no padding
  const heard = m.indptr[1] - m.indptr[0];
  assert.equal(a.recommend(0, m, 100).items.length, m.cols - heard);
  assert.equal(ts.recommend(0, m, 100).items.length, m.cols - heard);
});

test('deterministic for a seed, and the same on 1 and 2 threads', async () => {
  const { m } = blocks(200, 80);
  const run = async (threads: number, seed = 9) => {
    const a = new AlternatingLeastSquares({ factors: 16, iterations: 4, seed, threads });
    await a.fit(m);
    return a;
  };
  const a = await run(2);
  const b = await run(2);
  const c = await run(1);
  const d = await run(2, 10);
  assert.equal(a.backend, 'wasm');
  assert.deepEqual(a.userFactors(), b.userFactors());
  assert.deepEqual(a.itemFactors(), b.itemFactors());
  assert.deepEqual(a.userFactors(), c.userFactors());
  assert.notDeepEqual(a.itemFactors(), d.itemFactors());
});

test('WASM kernels match their TypeScript twins', () => {
  const rng = new Rng(11);
  const f = 12, n = 37, m = 23;
  const Yv = Float32Array.from({ length: n * f }, () => rng.normal() * 0.3);
  const Xv = Float32Array.from({ length: m * f }, () => rng.normal() * 0.3);
  const r: number[] = [], c: number[] = [], v: number[] = [];
  for (let u = 0; u < m; u++) for (let k = 0; k < 1 + (u % 9); k++) {
    r.push(u);
    c.push(rng.int(n));
    v.push(u % 5 === 0 && k === 0 ? -3 : 1 + rng.next() * 5); // some negative evidence
  }
  const csr = csrFromCoo(m, n, Int32Array.from(r), Int32Array.from(c), Float32Array.from(v));
  const nnz = csr.indices.length;
  const a = new Arena();
  const p = { P: a.take((m + 1) * 4), I: a.take(nnz * 4), D: a.take(nnz * 4), X: a.take(m * f * 4), Y: a.take(n * f * 4), G: a.take(2 * f * f * 4), A: a.take(f * f * 4), L: a.take(m * 8), S: a.take(3 * f * 4) };
  const stride = Math.ceil(n / 8) * 8;
  const q = { Yt: a.take(f * stride * 4), OI: a.take(m * 5 * 4), OS: a.take(m * 5 * 4), EP: a.take((m + 1) * 4), SS: a.take(4 * stride * 4) };
  a.open();
  const k = instantiate(a.memory!);
  a.i32(p.P, m + 1).set(csr.indptr);
  a.i32(p.I, nnz).set(csr.indices);
  a.f32(p.D, nnz).set(csr.data);
  a.f32(p.X, m * f).set(Xv);
  a.f32(p.Y, n * f).set(Yv);
  // gram: two chunk slots summed
  const chunk = 20;
  k.gram(0, chunk, 0, p.Y, f, p.G, chunk);
  k.gram(chunk, n, 0, p.Y, f, p.G, chunk);
  const G = gramTs(Yv, n, f);
  const slots = a.f32(p.G, 2 * f * f);
  for (let i = 0; i < f * f; i++) assert.ok(Math.abs(slots[i] + slots[f * f + i] - G[i]) < 1e-4, `gram ${i}`);
  // cg against the twin
  const A0 = regularized(G, f, 0.1);
  a.f32(p.A, f * f).set(A0);
  k.cg(0, m, 0, p.P, p.I, p.D, p.X, p.Y, p.A, f, 3, p.S);
  const Xt = Xv.slice();
  cgTs(0, m, csr.indptr, csr.indices, csr.data, Xt, Yv, A0, f, 3);
  const Xw = a.f32(p.X, m * f);
  for (let i = 0; i < m * f; i++) assert.ok(Math.abs(Xw[i] - Xt[i]) < 1e-3 * (1 + Math.abs(Xt[i])), `cg ${i}: ${Xw[i]} vs ${Xt[i]}`);
  // loss terms
  a.f32(p.A, f * f).set(regularized(G, f, 0));
  k.loss(0, m, 0, p.P, p.I, p.D, p.X, p.Y, p.A, f, p.L, p.S);
  const lw = a.f64(p.L, m).reduce((s, x) => s + x, 0);
  const lt = lossTs(0, m, csr.indptr, csr.indices, csr.data, Xw.slice(), Yv, G, f);
  assert.ok(Math.abs(lw - lt) < 1e-3 * Math.abs(lt), `loss ${lw} vs ${lt}`);
  // top-5 with the heard items excluded
  k.packItems(0, n, 0, p.Y, f, q.Yt);
  k.topk(0, m, 0, p.X, q.Yt, n, stride, f, 5, p.P, p.I, q.OI, q.OS, q.SS);
  for (let u = 0; u < m; u++) {
    const t = topkTs(Xw, u * f, Yv, n, f, 5, csr.indices.subarray(csr.indptr[u], csr.indptr[u + 1]));
    assert.deepEqual([...a.i32(q.OI + u * 20, 5)], [...t.items], `topk user ${u}`);
  }
});

async function saved(a: AlternatingLeastSquares): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), 'deepcut-als-')), 'm.bin');
  await a.save(path, { runId: 'r' });
  return path;
}

test('fold-in reproduces a trained user and appends new users', async () => {
  const { m } = blocks();
  const a = new AlternatingLeastSquares({ factors: 8, iterations: 40, solver: 'cholesky', seed: 4, regularization: 2 });
  await a.fit(m);
  const f = 8;
  for (const u of [0, 17, 63]) {
    const before = a.userFactors().slice(u * f, u * f + f);
    a.foldIn(u, m.indices.slice(m.indptr[u], m.indptr[u + 1]), m.data.slice(m.indptr[u], m.indptr[u + 1]));
    const after = a.userFactors().slice(u * f, u * f + f);
    for (let d = 0; d < f; d++) assert.ok(Math.abs(before[d] - after[d]) < 2e-3 * (1 + Math.abs(before[d])), `user ${u} factor ${d}: ${before[d]} vs ${after[d]}`);
  }
  // the WASM fold-in kernel agrees with its TypeScript twin (solveRowExact)
  const ts = await AlternatingLeastSquares.load(await saved(a), {}, { kernels: 'ts' });
  const its = Int32Array.from([1, 2, 3, 5, 8, 13, 21, 34, 55]), cs = Float32Array.from([2, 3, -4, 2, 5, 2, 2, 3, 2]);
  a.foldIn(9, its, cs);
  ts.foldIn(9, its, cs);
  for (let d = 0; d < f; d++) assert.ok(Math.abs(a.userFactors()[9 * f + d] - ts.userFactors()[9 * f + d]) < 1e-4, `fold-in kernel vs twin, factor ${d}`);
  // a new user listening to group-2 items gets group-2 recommendations
  const n0 = a.userCount;
  const items = Int32Array.from([30, 31, 32, 33]);
  a.foldIn(n0, items, new Float32Array(4).fill(4));
  assert.equal(a.userCount, n0 + 1);
  const history: Csr = csrFromCoo(n0 + 1, m.cols, new Int32Array(4).fill(n0), items, new Float32Array(4).fill(4));
  for (const i of a.recommend(n0, history, 5).items) assert.equal(Math.floor(i / 15), 2);
  assert.throws(() => a.foldIn(n0 + 5, items, new Float32Array(4)), /user row 125 is outside 0\.\.121 \(the next new user is 121\)/);
  assert.throws(() => a.foldIn(0, items, Float32Array.from([1, NaN, 1, 1])), /foldIn: confidence 1 \(item row 31\) is NaN/);
  assert.throws(() => a.foldIn(0, Int32Array.from([99]), Float32Array.from([2])), /item row 99 is outside 0\.\.59/);
});

test('save/load round trip; mismatched and corrupt files are named', async () => {
  const { m } = blocks();
  const a = new AlternatingLeastSquares({ factors: 8, iterations: 3, seed: 8, regularization: 0.1 });
  await a.fit(m);
  const dir = mkdtempSync(join(tmpdir(), 'deepcut-als-'));
  const path = join(dir, 'als.bin');
  await a.save(path, { runId: 'run-1' });
  const b = await AlternatingLeastSquares.load(path, { users: 120, items: 60, factors: 8, runId: 'run-1' });
  assert.deepEqual(b.userFactors(), a.userFactors());
  assert.deepEqual(b.itemFactors(), a.itemFactors());
  assert.equal(b.opts.regularization, 0.1);
  assert.deepEqual(b.recommend(3, m, 5), a.recommend(3, m, 5));
  const rejects = (expect: Parameters<typeof AlternatingLeastSquares.load>[1], msg: string, p = path) =>
    assert.rejects(AlternatingLeastSquares.load(p, expect), (e: unknown) => e instanceof DeepcutError && e.code === 'invalid_input' && e.message === `${p}: ${msg}`);
  await rejects({ factors: 16 }, 'shape of user_factors mismatch: expected *×16, file has 120×8');
  await rejects({ items: 61 }, 'shape of item_factors mismatch: expected 61×*, file has 60×8');
  await rejects({ runId: 'run-2' }, 'run id mismatch: expected "run-2", file has "run-1"');
  const bytes = readFileSync(path);
  const corrupt = Buffer.from(bytes);
  corrupt[corrupt.length - 100] ^= 0xff;
  writeFileSync(join(dir, 'corrupt.bin'), corrupt);
  await assert.rejects(AlternatingLeastSquares.load(join(dir, 'corrupt.bin')), /corrupt\.bin: checksum mismatch \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\): the file is corrupt or truncated/);
  writeFileSync(join(dir, 'truncated.bin'), bytes.subarray(0, 200));
  await assert.rejects(AlternatingLeastSquares.load(join(dir, 'truncated.bin')), /checksum mismatch/);
  const magic = Buffer.from(bytes);
  magic.write('NOTDEEP!', 0, 'latin1');
  writeFileSync(join(dir, 'magic.bin'), magic);
  await rejects({}, 'not a deepcut model file (bad magic)', join(dir, 'magic.bin'));
  const v2 = Buffer.from(bytes);
  v2.writeUInt32LE(2, 8);
  writeFileSync(join(dir, 'v2.bin'), v2);
  await rejects({}, 'format version 2, this deepcut reads version 1', join(dir, 'v2.bin'));
  await assert.rejects(AlternatingLeastSquares.load(join(dir, 'missing.bin')), (e: unknown) => e instanceof DeepcutError && e.code === 'not_found');
});

test('rejects NaN, infinite and empty input loudly', async () => {
  const { m } = blocks();
  const bad = { ...m, data: m.data.slice() };
  bad.data[5] = NaN;
  const row = bad.indptr.findIndex((p) => p > 5) - 1;
  const a = new AlternatingLeastSquares({ factors: 4, iterations: 1 });
  await assert.rejects(a.fit(bad), (e: unknown) => e instanceof DeepcutError && e.code === 'invalid_input' && e.message === `als-cg: confidence at user row ${row}, item ${bad.indices[5]} is NaN; every value must be finite`);
  bad.data[5] = Infinity;
  await assert.rejects(a.fit(bad), /is Infinity; every value must be finite/);
  const empty = csrFromCoo(3, 3, new Int32Array(0), new Int32Array(0), new Float32Array(0));
  await assert.rejects(a.fit(empty), (e: unknown) => e instanceof DeepcutError && e.message === 'als-cg: cannot fit on an empty matrix (3×3, 0 non-zeros)');
  await assert.rejects(a.fit(csrFromCoo(0, 3, new Int32Array(0), new Int32Array(0), new Float32Array(0))), /als-cg: cannot fit on an empty matrix \(0×3, 0 non-zeros\)/);
  assert.throws(() => new AlternatingLeastSquares({ factors: 6, kernels: 'wasm' }).backend, /WASM kernels need solver 'cg' and factors a multiple of 4/);
});

test('a missing kernel build names the fix', () => {
  assert.throws(() => wasmModule('no-such-kernel'), (e: unknown) => e instanceof DeepcutError && e.code === 'unavailable' && /no-such-kernel\.wasm is missing: run npm run build$/.test(e.message));
});

test('files written by format version 1 still load (kept fixture)', async () => {
  // src/cf/fixtures/als-format-v1.bin: 3 users × 2 items × 4 factors, λ 0.1, run "fixture-v1"
  const a = await AlternatingLeastSquares.load(new URL('./fixtures/als-format-v1.bin', import.meta.url).pathname, { users: 3, items: 2, factors: 4, runId: 'fixture-v1' });
  assert.equal(a.opts.regularization, 0.1);
  assert.deepEqual([...a.itemFactors()].map((x) => +x.toFixed(4)), [0.6963, 0.4494, -0.0184, 1.3323, 0.6339, 0.673, 1.2427, -0.721]);
  assert.deepEqual([...a.userFactors().slice(0, 4)].map((x) => +x.toFixed(4)), [0.2901, 0.2029, 0.0672, 0.44]);
});

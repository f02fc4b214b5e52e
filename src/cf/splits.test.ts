import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomHoldout, slidingTimeWindows, timeHoldout, timeWindow } from './splits.ts';
import { csrFromCoo, type Csr } from '../signals/index.ts';
import { Rng } from '../util/rng.ts';

function random(users: number, items: number, nnz: number, seed: number): Csr {
  const rng = new Rng(seed);
  const r = Int32Array.from({ length: nnz }, () => rng.int(users));
  const c = Int32Array.from({ length: nnz }, () => rng.int(items));
  return csrFromCoo(users, items, r, c, new Float32Array(nnz).fill(1));
}

function pairs(m: Csr): Set<string> {
  const s = new Set<string>();
  for (let r = 0; r < m.rows; r++) for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) s.add(`${r}:${m.indices[p]}`);
  return s;
}

describe('randomHoldout', () => {
  const m = random(60, 80, 1500, 1);
  it('partitions the pairs with no leakage and holds out ~20% per user', () => {
    const { train, test } = randomHoldout(m, 0.2, 42);
    const a = pairs(train);
    const b = pairs(test);
    for (const x of b) assert.ok(!a.has(x), `pair ${x} on both sides`);
    assert.deepEqual(new Set([...a, ...b]), pairs(m));
    for (let u = 0; u < m.rows; u++) {
      const n = m.indptr[u + 1] - m.indptr[u];
      const h = test.indptr[u + 1] - test.indptr[u];
      assert.equal(h, n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(0.2 * n))));
    }
  });
  it('is deterministic per seed and differs across seeds', () => {
    assert.deepEqual(randomHoldout(m, 0.2, 42), randomHoldout(m, 0.2, 42));
    assert.notDeepEqual(randomHoldout(m, 0.2, 42).test.indices, randomHoldout(m, 0.2, 43).test.indices);
  });
  it('keeps single-item users in train and rejects a bad fraction', () => {
    const one = csrFromCoo(2, 3, Int32Array.of(0, 1, 1), Int32Array.of(0, 1, 2), Float32Array.of(1, 1, 1));
    const s = randomHoldout(one, 0.5, 1);
    assert.equal(s.train.indptr[1] - s.train.indptr[0], 1);
    assert.equal(s.test.indptr[2] - s.test.indptr[1], 1);
    assert.throws(() => randomHoldout(one, 1, 1), /holdout fraction must be in \(0, 1\), got 1/);
  });
});

describe('timeHoldout', () => {
  it('puts pairs at or after the cutoff in test and drops cold users', () => {
    // user 0: times 1,2,9; user 1: 3,8; user 2: only 10 (cold)
    const m = csrFromCoo(3, 4, Int32Array.of(0, 0, 0, 1, 1, 2), Int32Array.of(0, 1, 2, 0, 3, 1), new Float32Array(6).fill(1));
    const time = Float64Array.of(1, 2, 9, 3, 8, 10);
    const s = timeHoldout(m, time, 0.5); // sorted 1,2,3,8,9,10 → cutoff at index 3 = 8
    assert.equal(s.cutoff, 8);
    assert.equal(s.coldUsers, 1);
    assert.deepEqual([...pairs(s.train)].sort(), ['0:0', '0:1', '1:0']);
    assert.deepEqual([...pairs(s.test)].sort(), ['0:2', '1:3']);
    assert.throws(() => timeHoldout(m, Float64Array.of(1, NaN, 1, 1, 1, 1), 0.5), /time split needs a time for every pair; 1 of 6 lack one/);
  });
});

describe('timeWindow and slidingTimeWindows', () => {
  // user 0: times 1,2,9; user 1: 3,8; user 2: only 10
  const m = csrFromCoo(3, 4, Int32Array.of(0, 0, 0, 1, 1, 2), Int32Array.of(0, 1, 2, 0, 3, 1), new Float32Array(6).fill(1));
  const time = Float64Array.of(1, 2, 9, 3, 8, 10);
  it('tests a window, drops what comes after it and cold users', () => {
    const s = timeWindow(m, time, 3, 9);
    assert.deepEqual([...pairs(s.train)].sort(), ['0:0', '0:1']);
    // user 1 has 3 and 8 in the window but nothing before: cold
    assert.deepEqual([...pairs(s.test)].sort(), []);
    assert.equal(s.coldUsers, 1);
    const t = timeWindow(m, time, 8, 10);
    assert.deepEqual([...pairs(t.test)].sort(), ['0:2', '1:3']);
    assert.ok(!pairs(t.train).has('2:1') && !pairs(t.test).has('2:1'), 'the pair at the window end is on neither side');
  });
  it('cuts at quantiles, each window ending at the next cut', () => {
    const w = slidingTimeWindows(m, time, [0.5, 5 / 6]); // cuts at 8 and 10
    assert.deepEqual(w.map((s) => s.cutoff), [8, 10]);
    assert.deepEqual([...pairs(w[0].test)].sort(), ['0:2', '1:3']);
    assert.deepEqual([...pairs(w[1].test)].sort(), []);
    assert.equal(w[1].coldUsers, 1);
  });
});

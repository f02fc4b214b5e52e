import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { topK, TopK } from './topk.ts';
import { Rng } from '../util/rng.ts';

describe('topK', () => {
  it('returns the best k, highest first, ties to the lower row', () => {
    const r = topK(Float32Array.of(0.1, 0.9, 0.5, 0.9, -1), 3);
    assert.deepEqual([...r.items], [1, 3, 2]);
    assert.deepEqual([...r.scores], [Math.fround(0.9), Math.fround(0.9), 0.5]);
  });

  it('agrees with a full sort on random data, with exclusions and candidates', () => {
    const rng = new Rng(7);
    for (let t = 0; t < 50; t++) {
      const n = 1 + rng.int(300);
      const s = new Float32Array(n).map(() => Math.round(rng.normal() * 4) / 4); // many ties
      const ex = new Uint8Array(n).map(() => (rng.next() < 0.3 ? 1 : 0));
      const k = 1 + rng.int(40);
      const want = [...s.keys()].filter((i) => !ex[i]).sort((a, b) => s[b] - s[a] || a - b).slice(0, k);
      assert.deepEqual([...topK(s, k, ex).items], want);
      const cand = Int32Array.from([...s.keys()].filter(() => rng.next() < 0.5));
      const wantC = [...cand].filter((i) => !ex[i]).sort((a, b) => s[b] - s[a] || a - b).slice(0, k);
      assert.deepEqual([...topK(s, k, ex, cand).items], wantC);
    }
  });

  it('handles k beyond n, empty input and fails on NaN', () => {
    assert.equal(topK(Float32Array.of(1, 2), 10).items.length, 2);
    assert.equal(topK(new Float32Array(0), 3).items.length, 0);
    assert.throws(() => topK(Float32Array.of(1, NaN), 1), /topK: score of row 1 is NaN/);
  });
});

describe('one top-k for every ranking', () => {
  it('float64 scores are compared in float64 (the bandit, the generator), the pushed heap agrees with the array form', () => {
    const s = Float64Array.of(0.1 + 1e-12, 0.1, 0.3, -Infinity, 0.3);
    assert.deepEqual([...topK(s, 5).items], [2, 4, 0, 1, 3], 'a 1e-12 difference, lost in float32, still orders; −∞ is a score');
    const heap = new TopK(3);
    [...s].forEach((v, i) => heap.push(i, v));
    assert.deepEqual([...heap.result().items], [2, 4, 0]);
    assert.equal(new TopK(0).result().items.length, 0);
  });
});

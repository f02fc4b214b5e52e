import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cosineTopK, similarRows } from './similar.ts';
import { normalizeRows } from '../core/linalg.ts';

test('exact cosine top-k: order, ties, exclusions and zero rows', () => {
  const v = Float32Array.from([1, 0, 0.6, 0.8, 0, 1, 0, 0, 1, 0, -1, 0]);
  normalizeRows(v, 2);
  const r = cosineTopK(v, 2, [1, 0], 3);
  assert.deepEqual([...r.items], [0, 4, 1]); // rows 0 and 4 tie at 1: lower row first; row 3 is zero
  assert.deepEqual([...r.scores].map((s) => +s.toFixed(3)), [1, 1, 0.6]);
  assert.deepEqual([...similarRows(v, 2, 0, 2).items], [4, 1]);
  assert.deepEqual([...cosineTopK(v, 2, [1, 0], 10, new Set([0, 4])).items], [1, 2, 5]);
  assert.equal(cosineTopK(v, 2, [1, 0], 0).items.length, 0);
});

test('top-k agrees with a full sort on random vectors', () => {
  let s = 7;
  const rnd = () => ((s = (s * 48271) % 2147483647) / 2147483647) - 0.5;
  const dim = 8, rows = 500;
  const v = Float32Array.from({ length: rows * dim }, rnd);
  normalizeRows(v, dim);
  const q = v.subarray(0, dim);
  const all = Array.from({ length: rows }, (_, i) => {
    let d = 0;
    for (let j = 0; j < dim; j++) d += v[i * dim + j] * q[j];
    return { i, d };
  }).sort((a, b) => b.d - a.d);
  assert.deepEqual([...cosineTopK(v, dim, q, 20).items], all.slice(0, 20).map((x) => x.i));
});

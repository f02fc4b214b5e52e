import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binOf, quantileBins, quantileCuts } from './binning.ts';

test('quantileCuts: every distinct value when few, quantiles otherwise, strictly increasing and below the maximum', () => {
  assert.deepEqual([...quantileCuts(Float64Array.of(1, 1, 2, 5), 8)], [1, 2]);
  assert.deepEqual([...quantileCuts(Float64Array.of(3, 3, 3), 8)], []);
  assert.deepEqual([...quantileCuts(new Float64Array(0), 8)], []);
  const many = Float64Array.from({ length: 100 }, (_, i) => i);
  assert.deepEqual([...quantileCuts(many, 3)], [25, 50, 75]);
  // a rare middle value: its own bin with distinctWhenFew (BART), absorbed by the quantiles without (GBT)
  const rare = Float64Array.from([...new Array(60).fill(0), 1, ...new Array(39).fill(2)]);
  assert.deepEqual([...quantileCuts(rare, 3)], [0, 1]);
  assert.deepEqual([...quantileCuts(rare, 3, { distinctWhenFew: false })], [0]);
});

test('binOf counts the cuts below a value; quantileBins bins each column of a row-major matrix', () => {
  const cuts = Float64Array.of(1, 2, 4);
  assert.deepEqual([0, 1, 1.5, 2, 3, 4, 9].map((x) => binOf(cuts, x)), [0, 0, 1, 1, 2, 2, 3]);
  // 4 rows × 2 features
  const { cuts: c, bins } = quantileBins(Float64Array.of(0, 10, 1, 10, 2, 20, 3, 30), 4, 2, 8);
  assert.deepEqual(c.map((x) => [...x]), [[0, 1, 2], [10, 20]]);
  assert.deepEqual([...bins], [0, 0, 1, 0, 2, 1, 3, 2]);
  assert.throws(() => quantileBins(new Float64Array(4), 2, 2, 256), /maxCuts 256 outside 0…255/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rowSearch, LazyRanked } from './retrieval.ts';
import { Rng } from '../util/rng.ts';

/** Brute force: the k best rows of `rows` by q·x, ties to the lower row, none of `exclude`. */
function truth(data: Float32Array, dim: number, rows: number[], q: Float32Array, k: number, exclude: Set<number>): number[] {
  const sc = rows.filter((r) => !exclude.has(r)).map((r) => {
    let s = 0;
    for (let d = 0; d < dim; d++) s += q[d] * data[r * dim + d];
    return [r, Math.fround(s)] as const;
  });
  return sc.sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, k).map(([r]) => r);
}

for (const n of [300, 3000]) {
  test(`rowSearch over ${n} rows (${n < 512 ? 'scan' : 'index'}) gives the exact top-k of a row subset, exclusions honoured`, () => {
    const dim = 16;
    const rng = new Rng(7);
    const data = Float32Array.from({ length: n * dim }, () => rng.next() * 2 - 1);
    const rows = Array.from({ length: n }, (_, i) => i).filter((i) => i % 5 !== 0);
    const s = rowSearch(data, dim, rows);
    assert.equal(s.size, rows.length);
    for (let j = 0; j < 20; j++) {
      const q = Float32Array.from({ length: dim }, () => rng.next() * 2 - 1);
      const exclude = new Set(Array.from({ length: 30 }, () => rng.int(n)));
      const got = Array.from(s.top(q, 25, exclude).items);
      assert.deepEqual(got, truth(data, dim, rows, q, 25, exclude), `query ${j}`);
      assert.ok(got.every((r) => r % 5 !== 0 && !exclude.has(r)));
    }
  });
}

test('LazyRanked reads past its first depth with the same prefix, and ends at the last row', () => {
  const dim = 4;
  const rng = new Rng(3);
  const data = Float32Array.from({ length: 700 * dim }, () => rng.next());
  const s = rowSearch(data, dim);
  const q = Float32Array.from([1, 0.5, 0.25, 0.1]);
  const lazy = new LazyRanked(s, q, [1, 2], 3);
  const all = Array.from(s.top(q, 700, [1, 2]).items);
  const read: number[] = [];
  for (let i = 0; lazy.at(i) !== undefined; i++) read.push(lazy.at(i)!);
  assert.deepEqual(read, all);
  assert.equal(read.length, 698);
});

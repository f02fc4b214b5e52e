import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkFitInput, excludeMask } from './base.ts';
import { Rng } from '../util/rng.ts';
import { csrFromCoo } from '../signals/index.ts';

describe('checks', () => {
  const m = csrFromCoo(2, 3, Int32Array.of(0, 1), Int32Array.of(2, 0), Float32Array.of(1, 2));
  it('accepts a good matrix and names a malformed one', () => {
    checkFitInput('x', m);
    assert.throws(() => checkFitInput('x', { ...m, indptr: Int32Array.of(0, 2, 1) }), /x: malformed CSR/);
    assert.throws(() => checkFitInput('x', { ...m, indices: Int32Array.of(2, 3) }), /x: item column 3 at user row 1 is outside 0\.\.2/);
  });
  it('builds the heard and filter mask', () => {
    assert.deepEqual([...excludeMask(0, m, 3)], [0, 0, 1]);
    assert.deepEqual([...excludeMask(0, m, 3, { filterHeard: false, filterItems: [1, 9] })], [0, 1, 0]);
  });
});

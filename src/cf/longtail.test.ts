import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tailDepth, tailQuota, tailSeed } from './longtail.ts';

// items 0..9 ranked best first; items ≥ 6 are the tail
const head = Uint8Array.from({ length: 10 }, (_, i) => (i < 6 ? 1 : 0));
const ranked = { items: Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), scores: Float32Array.from([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]) };

describe('tailQuota (the long-tail dial)', () => {
  it('leaves the list alone at share 0', () => {
    assert.deepEqual([...tailQuota(ranked, 4, 0, head).items], [0, 1, 2, 3]);
  });

  it('puts the best tail item at the last position of each stretch', () => {
    // share 0.25: positions 4 and 8 must hold the 1st and 2nd tail items
    assert.deepEqual([...tailQuota(ranked, 8, 0.25, head).items], [0, 1, 2, 6, 3, 4, 5, 7]);
    // share 0.5: every second position
    assert.deepEqual([...tailQuota(ranked, 6, 0.5, head).items], [0, 6, 1, 7, 2, 8]);
  });

  it('counts tail items ranked high on their own', () => {
    const mixed = { items: Int32Array.from([7, 0, 1, 2, 3, 8]), scores: Float32Array.from([6, 5, 4, 3, 2, 1]) };
    // item 7 (tail) is first already: position 4 needs no swap (1 tail in 4 ≥ ⌊4·0.25⌋)
    assert.deepEqual([...tailQuota(mixed, 4, 0.25, head).items], [7, 0, 1, 2]);
  });

  it('keeps each item its own score and fills from the head when the tail runs out', () => {
    const r = tailQuota({ items: Int32Array.from([0, 1, 6, 2]), scores: Float32Array.from([4, 3, 2, 1]) }, 4, 0.5, head);
    assert.deepEqual([...r.items], [0, 6, 1, 2]);
    assert.deepEqual([...r.scores], [4, 2, 3, 1]);
  });

  it('with a spread, draws the tail slots per listener (stable for a seed) and leaves the head slots as ranked', () => {
    const pick = (seed: number, temperature = 1) => [...tailQuota(ranked, 8, 0.25, head, { temperature, seed }).items];
    assert.deepEqual(pick(tailSeed(42, 3)), pick(tailSeed(42, 3)));
    const tailSlots = new Set<string>();
    for (let u = 0; u < 50; u++) {
      const l = pick(tailSeed(42, u));
      assert.deepEqual([l[0], l[1], l[2], l[4], l[5], l[6]], [0, 1, 2, 3, 4, 5], 'head slots keep the ranking');
      assert.ok(head[l[3]] === 0 && head[l[7]] === 0, 'tail slots hold tail items');
      tailSlots.add(`${l[3]},${l[7]}`);
    }
    assert.ok(tailSlots.size >= 4, `50 listeners got ${tailSlots.size} different tail picks`);
    // a tiny temperature is the ranking again
    for (let u = 0; u < 20; u++) assert.deepEqual(pick(tailSeed(42, u), 0.01), [0, 1, 2, 6, 3, 4, 5, 7]);
    assert.throws(() => tailQuota(ranked, 3, 0.5, head, { temperature: 0, seed: 1 }), /spread temperature must be > 0, got 0/);
  });

  it('fills tail places from a tail source when the list holds too few tail items', () => {
    // the list has no tail item; the source ranks 9 before 7 (and head item 0, which it never proposes)
    const headOnly = { items: Int32Array.from([0, 1, 2, 3, 4, 5]), scores: Float32Array.from([6, 5, 4, 3, 2, 1]) };
    const source = { items: Int32Array.from([0, 9, 7]), scores: Float32Array.from([3, 2, 1]) };
    const r = tailQuota(headOnly, 6, 1 / 3, head, undefined, source);
    assert.deepEqual([...r.items], [0, 1, 9, 2, 3, 7]);
    assert.deepEqual([...r.scores], [6, 5, 1, 4, 3, 1], 'a source-only item takes the list\'s last score');
    // an item in both lists ranks by its better rank: 8 is 5th in the list but 1st in the source
    const both = { items: Int32Array.from([0, 1, 6, 2, 8]), scores: Float32Array.from([5, 4, 3, 2, 1]) };
    assert.deepEqual([...tailQuota(both, 2, 0.5, head, undefined, { items: Int32Array.from([8]), scores: Float32Array.from([1]) }).items], [0, 8]);
    // without a source the list's own tail is all there is
    assert.deepEqual([...tailQuota(headOnly, 3, 1 / 3, head).items], [0, 1, 2]);
  });

  it('rejects a share outside [0, 1]', () => {
    assert.throws(() => tailQuota(ranked, 3, 1.5, head), /long-tail share must be in \[0, 1\], got 1.5/);
  });

  it('reads deeper only with a quota', () => {
    assert.equal(tailDepth(10, 0, 1000), 10);
    assert.equal(tailDepth(10, 0.1, 1000), 210);
    assert.equal(tailDepth(10, 0.1, 50), 50);
  });
});

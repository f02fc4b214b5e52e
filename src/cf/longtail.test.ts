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

  it('puts the best tail items at the last places of each block of 10', () => {
    // items 0..29 ranked best first; items ≥ 20 are the tail
    const h = Uint8Array.from({ length: 30 }, (_, i) => (i < 20 ? 1 : 0));
    const long = { items: Int32Array.from({ length: 30 }, (_, i) => i), scores: Float32Array.from({ length: 30 }, (_, i) => 30 - i) };
    const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
    // share 0.2: places 9, 10, 19, 20
    assert.deepEqual([...tailQuota(long, 20, 0.2, h).items], [...range(0, 8), 20, 21, ...range(8, 16), 22, 23]);
    // share 0.15 without a seed: ⌊1.5⌋ = 1 by place 10, ⌊3⌋ = 3 by place 20 (places 10, 19, 20)
    assert.deepEqual([...tailQuota(long, 20, 0.15, h).items], [...range(0, 9), 20, ...range(9, 17), 21, 22]);
    // a list shorter than a block is one block: share 0.2 of 5 places is place 5
    assert.deepEqual([...tailQuota(long, 5, 0.2, h).items], [0, 1, 2, 3, 20]);
    // share 0.5 of a block of 6: places 4, 5, 6
    assert.deepEqual([...tailQuota(ranked, 6, 0.5, head).items], [0, 1, 2, 6, 7, 8]);
  });

  it('with a seed, gives a fractional share per block ⌊10·s⌋ or ⌈10·s⌉ places, ⌈⌉ for that fraction of listeners', () => {
    const h = Uint8Array.from({ length: 30 }, (_, i) => (i < 20 ? 1 : 0));
    const long = { items: Int32Array.from({ length: 30 }, (_, i) => i), scores: Float32Array.from({ length: 30 }, (_, i) => 30 - i) };
    const counts = [0, 0, 0];
    for (let u = 0; u < 400; u++) {
      const l = [...tailQuota(long, 20, 0.15, h, { temperature: 1, seed: tailSeed(7, u) }).items];
      const top10 = l.slice(0, 10).filter((i) => h[i] === 0).length;
      counts[top10]++;
      assert.equal(l.filter((i) => h[i] === 0).length, 3, 'the first 20 places hold ⌊20·0.15 + u⌋ = 3 tail items');
      assert.deepEqual(l.slice(0, 8), [0, 1, 2, 3, 4, 5, 6, 7], 'head places keep the ranking');
    }
    assert.equal(counts[0], 0);
    assert.ok(counts[1] > 150 && counts[2] > 150, `top 10 with one / two tail places: ${counts[1]} / ${counts[2]}`);
  });

  it('counts tail items ranked high on their own', () => {
    const mixed = { items: Int32Array.from([7, 0, 1, 2, 3, 8]), scores: Float32Array.from([6, 5, 4, 3, 2, 1]) };
    // item 7 (tail) is first already: position 4 needs no swap (1 tail in 4 ≥ ⌊4·0.25⌋)
    assert.deepEqual([...tailQuota(mixed, 4, 0.25, head).items], [7, 0, 1, 2]);
  });

  it('keeps each item its own score and fills from the head when the tail runs out', () => {
    const r = tailQuota({ items: Int32Array.from([0, 1, 6, 2]), scores: Float32Array.from([4, 3, 2, 1]) }, 4, 0.75, head);
    assert.deepEqual([...r.items], [0, 6, 1, 2]);
    assert.deepEqual([...r.scores], [4, 2, 3, 1]);
  });

  it('with a spread, draws the tail slots per listener (stable for a seed) and leaves the head slots as ranked', () => {
    const pick = (seed: number, temperature = 1) => [...tailQuota(ranked, 8, 0.25, head, { temperature, seed }).items];
    assert.deepEqual(pick(tailSeed(42, 3)), pick(tailSeed(42, 3)));
    const tailSlots = new Set<string>();
    for (let u = 0; u < 50; u++) {
      const l = pick(tailSeed(42, u));
      assert.deepEqual(l.slice(0, 6), [0, 1, 2, 3, 4, 5], 'head slots keep the ranking');
      assert.ok(head[l[6]] === 0 && head[l[7]] === 0, 'tail slots hold tail items');
      tailSlots.add(`${l[6]},${l[7]}`);
    }
    assert.ok(tailSlots.size >= 4, `50 listeners got ${tailSlots.size} different tail picks`);
    // a tiny temperature is the ranking again
    for (let u = 0; u < 20; u++) assert.deepEqual(pick(tailSeed(42, u), 0.01), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.throws(() => tailQuota(ranked, 3, 0.5, head, { temperature: 0, seed: 1 }), /spread temperature must be > 0, got 0/);
  });

  it('fills tail places from a tail source when the list holds too few tail items', () => {
    // the list has no tail item; the source ranks 9 before 7 (and head item 0, which it never proposes)
    const headOnly = { items: Int32Array.from([0, 1, 2, 3, 4, 5]), scores: Float32Array.from([6, 5, 4, 3, 2, 1]) };
    const source = { items: Int32Array.from([0, 9, 7]), scores: Float32Array.from([3, 2, 1]) };
    const r = tailQuota(headOnly, 6, 1 / 3, head, undefined, source);
    assert.deepEqual([...r.items], [0, 1, 2, 3, 9, 7]);
    assert.deepEqual([...r.scores], [6, 5, 4, 3, 1, 1], 'a source-only item takes the list\'s last score');
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

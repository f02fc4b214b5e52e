import { test } from 'node:test';
import assert from 'node:assert/strict';
import { yielder } from './yield.ts';

test('yielder gives the event loop a turn once per budget of work, and not before', async () => {
  let now = 0;
  const tick = yielder(5, () => now);
  assert.equal(tick(), undefined, 'no work done yet: no yield');
  let ran = 0;
  let yields = 0;
  // 60 steps of 1 ms of (virtual) work; a callback queued before each turn must run during it
  for (let step = 0; step < 60; step++) {
    now += 1;
    const queued = ran;
    setImmediate(() => ran++);
    const p = tick();
    if (p) {
      yields++;
      await p;
      assert.ok(ran > queued, `step ${step}: the queued callback ran during the turn`);
    }
  }
  assert.equal(yields, 12, '60 ms of work with a 5 ms budget: a turn every 5 ms');
});

test('yielder with the real clock yields after its budget is spent', async () => {
  const tick = yielder(1);
  const start = performance.now();
  while (performance.now() - start < 2) {
    // spend the budget
  }
  const p = tick();
  assert.ok(p instanceof Promise, 'over budget: a turn is due');
  await p;
});

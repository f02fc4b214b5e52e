import { test } from 'node:test';
import assert from 'node:assert/strict';
import { yielder } from './yield.ts';

test('yielder lets a timer run during a long loop, and does not yield before its budget is spent', async () => {
  let fired = 0;
  const timer = setInterval(() => fired++, 1);
  try {
    const tick = yielder(5);
    assert.equal(tick(), undefined, 'no work done yet: no yield');
    const end = performance.now() + 60;
    let yields = 0;
    while (performance.now() < end) {
      const p = tick();
      if (p) {
        yields++;
        await p;
      }
    }
    assert.ok(yields >= 5, `yielded ${yields} times in 60 ms with a 5 ms budget`);
    assert.ok(fired >= 3, `the 1 ms timer ran ${fired} times`);
  } finally {
    clearInterval(timer);
  }
});

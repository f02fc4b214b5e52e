import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InProcessQueue, assertNoDeadTasks, DeadTasksError, type Task } from './tasks.ts';

const tasks = (n: number): Task[] => Array.from({ length: n }, (_, i) => ({ id: `t${i}`, kind: 'k', payload: { i } }));

test('every task runs once when none fails, reported in task order whatever the concurrency', async () => {
  const ran: string[] = [];
  const r = await new InProcessQueue({ concurrency: 3 }).run(tasks(7), async (t) => {
    await new Promise((res) => setTimeout(res, (7 - Number(t.payload.i)) * 2));
    ran.push(t.id);
  });
  assert.deepEqual([...ran].sort(), tasks(7).map((t) => t.id).sort());
  assert.deepEqual(r, { done: tasks(7).map((t) => t.id), dead: [], results: {} });
  assert.doesNotThrow(() => assertNoDeadTasks('x', r));
});

test('a failing task is retried with doubling backoff, then dead-lettered with its last error', async () => {
  const at: number[] = [];
  const fails: number[] = [];
  const r = await new InProcessQueue({ attempts: 4, backoffMs: 20, onFailure: (_t, a) => fails.push(a) }).run(tasks(2), async (t) => {
    if (t.id !== 't1') return;
    at.push(performance.now());
    throw new Error(`bad input #${at.length}`);
  });
  assert.deepEqual(r.done, ['t0']);
  assert.deepEqual(r.dead, [{ id: 't1', kind: 'k', attempts: 4, error: 'bad input #4' }]);
  assert.deepEqual(fails, [1, 2, 3, 4]);
  const gaps = at.slice(1).map((x, i) => x - at[i]);
  assert.ok(gaps[0] >= 19 && gaps[1] >= 39 && gaps[2] >= 79, `backoff gaps ${gaps.map((g) => g.toFixed(0)).join(', ')} ms`);
  assert.throws(() => assertNoDeadTasks('audio', r), (e: unknown) => e instanceof DeadTasksError && /step audio: 1 task\(s\) dead-lettered: t1 \(after 4 attempts: bad input #4\)/.test(e.message));
});

test('a task that fails once and then succeeds is done, not dead', async () => {
  let n = 0;
  const r = await new InProcessQueue({ attempts: 3, backoffMs: 1 }).run(tasks(1), async () => {
    if (n++ === 0) throw new Error('flaky');
  });
  assert.deepEqual(r, { done: ['t0'], dead: [], results: {} });
  assert.equal(n, 2);
});

test("a task's result (what its handler returns) is reported by task id", async () => {
  const r = await new InProcessQueue({ concurrency: 2 }).run(tasks(3), async (t) => (t.id === 't1' ? undefined : { twice: 2 * Number(t.payload.i) }));
  assert.deepEqual(r.results, { t0: { twice: 0 }, t2: { twice: 4 } });
});

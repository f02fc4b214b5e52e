/**
 * The pipeline's tasks on BullMQ against the machine's Redis, keys under a prefix of this test's
 * own: a poisoned task is retried then dead-lettered with its error while the others finish; a resumed run keeps
 * its finished tasks. (A SIGKILLed worker's task is measured in bench/queue-engines.bench.ts.) Under CI=true Redis must answer; elsewhere the file is skipped with
 * the reason printed.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { BullmqQueue } from './bullmq-queue.ts';
import type { Task } from './tasks.ts';
import { redisDown } from './testing/fleet-roles.ts';

const URL_ = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `deepcut_test_${process.pid}_${Date.now().toString(36)}`;

const down = await redisDown(URL_);
if (down && process.env.CI === 'true') throw new Error(`CI=true and ${down}`);
if (down) console.log(`# skipped: ${down}`);
const opts = { skip: down };

const tasks = (n: number, kind = 'k'): Task[] => Array.from({ length: n }, (_, i) => ({ id: `${kind}:${i}`, kind, payload: { i } }));
const queues: BullmqQueue[] = [];
/** A queue of its own per test (prefix `<file prefix>_<runId>`), so one test's workers never take another's tasks. */
const open = (runId: string, more: Partial<ConstructorParameters<typeof BullmqQueue>[0]> = {}) => {
  const q = new BullmqQueue({ url: URL_, prefix: `${prefix}_${runId}`, runId, backoffMs: 10, pollMs: 50, workHere: true, ...more });
  queues.push(q);
  return q;
};
after(async () => {
  if (down) return;
  for (const q of queues) await q.obliterate().catch(() => undefined);
  await Promise.all(queues.map((q) => q.close().catch(() => undefined)));
});

test('a poisoned task is retried, then dead-lettered with its error; the other tasks finish', opts, async () => {
  const q = open('run-poison', { attempts: 3 });
  const tries = new Map<string, number>();
  const r = await q.run(tasks(4), async (t) => {
    tries.set(t.id, (tries.get(t.id) ?? 0) + 1);
    if (t.id === 'k:2') throw new Error('cannot decode audio/bad.wav');
  });
  assert.deepEqual(r.done, ['k:0', 'k:1', 'k:3']);
  assert.deepEqual(r.dead, [{ id: 'k:2', kind: 'k', attempts: 3, error: 'cannot decode audio/bad.wav' }]);
  assert.equal(tries.get('k:2'), 3);
  assert.deepEqual((await q.deadLetters()).map((d) => d.error), ['cannot decode audio/bad.wav']);
});

test('a resumed run keeps its finished tasks and retries the dead one', opts, async () => {
  const first = open('run-resume', { attempts: 1 });
  const ran: string[] = [];
  let poisoned = true;
  const handler = async (t: Task) => {
    ran.push(t.id);
    if (poisoned && t.id === 'k:1') throw new Error('poisoned');
  };
  const r1 = await first.run(tasks(3), handler);
  assert.deepEqual(r1.dead.map((d) => d.id), ['k:1']);
  poisoned = false;
  ran.length = 0;
  const r2 = await open('run-resume', { attempts: 1 }).run(tasks(3)); // the first queue's worker still works
  assert.deepEqual(r2, { done: ['k:0', 'k:1', 'k:2'], dead: [], results: {} });
  assert.deepEqual(ran, ['k:1'], 'only the dead task ran again');
});

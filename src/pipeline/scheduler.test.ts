import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Scheduler, standardJobs } from './scheduler.ts';
import { FixedClock } from '../core/clock.ts';
import type { Store } from '../store/index.ts';

/** Only the meta part of a store, in memory. */
function metaStore(): Store {
  const m = new Map<string, unknown>();
  return {
    getMeta: async (ns: string, k: string) => m.get(`${ns}/${k}`),
    putMeta: async (ns: string, k: string, v: unknown) => void m.set(`${ns}/${k}`, structuredClone(v)),
  } as unknown as Store;
}

function recorder() {
  const calls: string[] = [];
  const actions = {
    retrain: async (at: Date) => void calls.push(`retrain ${at.toISOString()}`),
    discoverWeekly: async (tz: string, at: Date) => void calls.push(`dw ${tz} ${at.toISOString()}`),
    releaseRadar: async (tz: string, at: Date) => void calls.push(`rr ${tz} ${at.toISOString()}`),
  };
  return { calls, actions };
}

test('Discover Weekly fires at Monday 00:00 in each zone, on both sides of the date line', async () => {
  const clock = new FixedClock('2026-11-22T00:00:00Z'); // Sunday
  const { calls, actions } = recorder();
  const s = new Scheduler(standardJobs(3, 'UTC', ['Pacific/Auckland', 'Pacific/Honolulu', 'UTC'], actions), metaStore(), clock);
  await s.tick(); // first sight: remembers "now"
  clock.set('2026-11-22T11:00:00Z'); // Monday 00:00 in Auckland (NZDT, UTC+13); Sunday's 03:00 UTC retrain passed too
  await s.tick();
  assert.deepEqual(calls.splice(0).sort(), ['dw Pacific/Auckland 2026-11-22T11:00:00.000Z', 'retrain 2026-11-22T03:00:00.000Z']);
  clock.set('2026-11-23T00:00:00Z'); // Monday 00:00 UTC; retrain at 03:00 not yet
  await s.tick();
  assert.deepEqual(calls.splice(0), ['dw UTC 2026-11-23T00:00:00.000Z']);
  clock.set('2026-11-23T10:00:00Z'); // Monday 00:00 in Honolulu (UTC−10), and the 03:00 UTC retrain
  await s.tick();
  assert.deepEqual(calls.splice(0).sort(), ['dw Pacific/Honolulu 2026-11-23T10:00:00.000Z', 'retrain 2026-11-23T03:00:00.000Z']);
  await s.stop();
});

test('after downtime each missed job runs once, for its latest missed occurrence', async () => {
  const clock = new FixedClock('2026-11-01T12:00:00Z');
  const { calls, actions } = recorder();
  const store = metaStore();
  const s = new Scheduler(standardJobs(3, 'UTC', ['UTC'], actions), store, clock);
  await s.tick();
  await s.stop();
  clock.set('2026-11-25T12:00:00Z'); // down for 24 days: 24 retrains, 3 Mondays, 3 Fridays missed
  const s2 = new Scheduler(standardJobs(3, 'UTC', ['UTC'], actions), store, clock);
  const ran = await s2.tick();
  assert.deepEqual(calls.sort(), ['dw UTC 2026-11-23T00:00:00.000Z', 'retrain 2026-11-25T03:00:00.000Z', 'rr UTC 2026-11-20T00:00:00.000Z']);
  assert.equal(ran.length, 3);
  assert.equal((await s2.tick()).length, 0, 'nothing runs twice');
  await s2.stop();
});

test('a failing job is recorded and does not stop the others', async () => {
  const clock = new FixedClock('2026-11-22T00:00:00Z');
  const { calls, actions } = recorder();
  actions.retrain = async () => {
    throw new Error('disk full');
  };
  const s = new Scheduler(standardJobs(3, 'UTC', ['UTC'], actions), metaStore(), clock);
  await s.tick();
  clock.set('2026-11-23T04:00:00Z');
  const ran = await s.tick();
  assert.deepEqual(ran.map((r) => [r.job, r.ok, r.error]).sort(), [['discover-weekly@UTC', true, undefined], ['retrain', false, 'disk full']]);
  assert.deepEqual(calls, ['dw UTC 2026-11-23T00:00:00.000Z']);
  await s.stop();
});

/**
 * The daily run as the active scheduler drives it (in-process queue, memory store): due times in a
 * time zone, the day claimed once so a second tick starts nothing, a run left `running` by a dead
 * scheduler resumed (not restarted) from its finished steps, and a failed run never published.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dueRun, dayRunId, dailyTick, DAYS_META } from './daily.ts';
import { RUNS_META, type RunManifest, type Step } from './runner.ts';
import { InProcessQueue } from './tasks.ts';
import { FixedClock } from '../core/clock.ts';
import { defaultConfig } from '../config/config.ts';
import { MemoryStore } from '../store/testing/memory.ts';
import type { Store } from '../store/index.ts';

test('dueRun: the latest daily occurrence at or before now, in the scheduler\'s time zone', () => {
  assert.equal(dueRun(3, 'UTC', new Date('2026-12-06T12:00:00Z')).toISOString(), '2026-12-06T03:00:00.000Z');
  assert.equal(dueRun(3, 'UTC', new Date('2026-12-06T02:59:59Z')).toISOString(), '2026-12-05T03:00:00.000Z');
  assert.equal(dueRun(3, 'UTC', new Date('2026-12-06T03:00:00Z')).toISOString(), '2026-12-06T03:00:00.000Z');
  // 03:00 in Tokyo (UTC+9) is 18:00 UTC the day before
  assert.equal(dueRun(3, 'Asia/Tokyo', new Date('2026-12-06T12:00:00Z')).toISOString(), '2026-12-05T18:00:00.000Z');
  assert.equal(dayRunId(new Date('2026-12-06T03:00:00Z')), '20261206T030000Z-daily');
});

function steps(calls: string[], fail?: string): Step[] {
  const mk = (name: string, after: string[]): Step => ({
    name,
    after,
    async run(ctx) {
      calls.push(name);
      if (name === fail) throw new Error(`injected fault in ${name}`);
      writeFileSync(join(ctx.dir, 'out.txt'), `${name} at ${ctx.clock.now().toISOString()}`);
      return { metrics: { x: 1 } };
    },
  });
  return [mk('signals', []), mk('cf', ['signals']), mk('playlists', ['cf'])];
}

const setup = (now: string) => {
  const store = new MemoryStore() as Store;
  const config = { ...defaultConfig(), home: mkdtempSync(join(tmpdir(), 'dc-daily-')) };
  const clock = new FixedClock(now);
  const queue = () => new InProcessQueue({ backoffMs: 1 });
  return { store, config, clock, queue };
};

test('the due run starts once: claimed, run at its scheduled time, published; the next tick does nothing', async () => {
  const o = setup('2026-12-06T12:00:00Z');
  const calls: string[] = [];
  const r = await dailyTick({ ...o, steps: steps(calls) });
  assert.deepEqual(r, { runId: '20261206T030000Z-daily', action: 'started', status: 'succeeded', published: true });
  assert.equal((await o.store.getPublication())?.runId, '20261206T030000Z-daily');
  const m = (await o.store.getMeta<RunManifest>(RUNS_META, r.runId))!;
  assert.equal(m.now, '2026-12-06T03:00:00.000Z', "the run's clock is its scheduled time");
  assert.deepEqual((await o.store.listMeta(DAYS_META)).map((d) => d.key), ['2026-12-06T03:00:00.000Z']);
  o.clock.advance(3600_000);
  assert.deepEqual(await dailyTick({ ...o, steps: steps(calls) }), { runId: r.runId, action: 'none', status: 'succeeded' });
  assert.deepEqual(calls, ['signals', 'cf', 'playlists'], 'each step ran once');
});

test('a run left running by a dead scheduler is resumed from its finished steps, not started again', async () => {
  const o = setup('2026-12-06T12:00:00Z');
  const calls: string[] = [];
  // the first scheduler: claims the day, runs signals and cf, dies in playlists (its manifest says running)
  const first = await dailyTick({ ...o, steps: steps(calls, 'playlists') });
  assert.equal(first.status, 'failed');
  const m = (await o.store.getMeta<RunManifest>(RUNS_META, first.runId))!;
  m.status = 'running';
  m.steps.playlists = { status: 'running' };
  await o.store.putMeta(RUNS_META, m.runId, m);
  calls.length = 0;
  const r = await dailyTick({ ...o, steps: steps(calls) });
  assert.deepEqual(r, { runId: first.runId, action: 'resumed', status: 'succeeded', published: true });
  assert.deepEqual(calls, ['playlists'], 'finished steps are kept');
  assert.equal((await o.store.listMeta(RUNS_META)).length, 1);
});

test('a failed run is not published and not retried by the next tick', async () => {
  const o = setup('2026-12-06T12:00:00Z');
  const calls: string[] = [];
  const r = await dailyTick({ ...o, steps: steps(calls, 'cf') });
  assert.equal(r.action, 'started');
  assert.equal(r.published, false);
  assert.match(r.error!, /step cf failed: injected fault in cf/);
  assert.equal(await o.store.getPublication(), undefined);
  assert.equal((await dailyTick({ ...o, steps: steps(calls) })).action, 'none');
});

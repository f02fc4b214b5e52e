/**
 * Runs as every machine sees them: the runner mirrors its manifests into the store, so a machine
 * without the builder's folder lists them; a run whose owner (on another host) stopped beating is
 * marked failed in the store's mirror; the builder's own folder is listed over the mirror.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readManifest, runPipeline, type Step } from './runner.ts';
import { latestOfAllRuns, listAllRuns, reapDeadRunsEverywhere } from './run-list.ts';
import { RUNS_META } from './run-mirror.ts';
import { FixedClock } from '../core/clock.ts';
import { defaultConfig } from '../config/config.ts';
import { MemoryStore } from '../store/testing/memory.ts';

const step = (name: string, after: string[] = []): Step => ({ name, after, run: async () => ({ metrics: { n: 1 } }) });

test('a run built on one machine is listed on another from the store; a dead owner on another host is marked failed there', async (t) => {
  const builder = mkdtempSync(join(tmpdir(), 'dc-runs-a-'));
  const other = mkdtempSync(join(tmpdir(), 'dc-runs-b-'));
  t.after(() => [builder, other].forEach((d) => rmSync(d, { recursive: true, force: true })));
  const store = new MemoryStore();
  const clock = new FixedClock('2026-11-23T03:00:00Z');
  const done = await runPipeline([step('a'), step('b', ['a'])], { config: { ...defaultConfig(), home: builder }, store, clock });
  assert.deepEqual(await listAllRuns(undefined, other), [], 'the other machine has no folder of runs');
  const seen = await listAllRuns(store, other);
  assert.deepEqual(seen.map((r) => [r.runId, r.status, r.steps.b.status]), [[done.runId, 'succeeded', 'done']]);
  assert.deepEqual(await listAllRuns(store, builder), seen, 'the builder lists the same run once');

  // a run left running by a builder on another host that stopped beating 11 minutes ago
  const beat = '2026-11-23T04:00:00.000Z';
  await store.putMeta(RUNS_META, 'dead-1', { ...done, runId: 'dead-1', status: 'running', steps: { a: { status: 'running' } }, order: ['a'], owner: { pid: 1, host: 'elsewhere', heartbeatAt: beat } });
  const live = { ...done, runId: 'live-1', status: 'running' as const, owner: { pid: 1, host: 'elsewhere', heartbeatAt: '2026-11-23T04:09:00.000Z' } };
  await store.putMeta(RUNS_META, 'live-1', live);
  const reaped = await reapDeadRunsEverywhere(store, other, { now: new Date('2026-11-23T04:11:00Z') });
  assert.deepEqual(reaped.map((r) => r.runId), ['dead-1']);
  const after = await listAllRuns(store, other);
  const dead = after.find((r) => r.runId === 'dead-1')!;
  assert.equal(dead.status, 'failed');
  assert.match(dead.error ?? '', /step a was running: .*elsewhere last signalled at 2026-11-23T04:00:00.000Z/);
  assert.equal(after.find((r) => r.runId === 'live-1')?.status, 'running', 'a beating run is left alone');
});

test('the newest run of all is the one listAllRuns lists last, from the folder and the mirror alone', async (t) => {
  const builder = mkdtempSync(join(tmpdir(), 'dc-runs-a-'));
  const other = mkdtempSync(join(tmpdir(), 'dc-runs-b-'));
  t.after(() => [builder, other].forEach((d) => rmSync(d, { recursive: true, force: true })));
  const store = new MemoryStore();
  assert.equal(await latestOfAllRuns(store, other), undefined, 'no run anywhere');
  const done = await runPipeline([step('a')], { config: { ...defaultConfig(), home: builder }, store, clock: new FixedClock('2026-11-23T03:00:00Z') });
  for (const [home, label] of [[builder, 'the builder'], [other, 'a machine without the folder']] as const)
    assert.deepEqual(await latestOfAllRuns(store, home), (await listAllRuns(store, home)).at(-1), label);
  assert.equal((await latestOfAllRuns(undefined, builder))?.runId, done.runId, 'without a store, the folder');
  // the folder still says running where the mirror has moved on (another machine marked the run dead)
  const folder = await readManifest(builder, done.runId);
  await store.putMeta(RUNS_META, done.runId, { ...folder, status: 'failed', error: 'marked dead elsewhere' });
  writeFileSync(join(builder, 'runs', done.runId, 'run.json'), JSON.stringify({ ...folder, status: 'running' }));
  assert.equal((await latestOfAllRuns(store, builder))?.status, 'failed');
  assert.deepEqual(await latestOfAllRuns(store, builder), (await listAllRuns(store, builder)).at(-1));
  // a newer run only in the mirror (built by a worker elsewhere) is the newest everywhere
  await store.putMeta(RUNS_META, 'zz-later', { ...folder, runId: 'zz-later', status: 'succeeded' });
  assert.equal((await latestOfAllRuns(store, builder))?.runId, 'zz-later');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPipeline, topoOrder, publish, rollback, readPublished, gate, listRuns, type Step } from './runner.ts';
import { FixedClock } from '../core/clock.ts';
import { defaultConfig } from '../config/config.ts';
import type { Store } from '../store/index.ts';
import { MemoryStore } from '../store/testing/memory.ts';
import { DeepcutError } from '../errors.ts';

const store = new MemoryStore() as Store;
const setup = () => {
  const config = { ...defaultConfig(), home: mkdtempSync(join(tmpdir(), 'dc-pipe-')) };
  return { config, clock: new FixedClock('2026-11-23T03:00:00Z'), store };
};

function counting(calls: string[], failing?: { name: string; times: number }, score = 0.5): Step[] {
  const mk = (name: string, after: string[]): Step => ({
    name,
    after,
    gated: name === 'cf' ? ['ndcg_at_10'] : [],
    async run(ctx) {
      calls.push(name);
      writeFileSync(join(ctx.dir, 'out.txt'), `${name} after ${after.map((a) => readFileSync(join(ctx.dirOf(a), 'out.txt'), 'utf8')).join('+')}`);
      if (failing && failing.name === name && failing.times-- > 0) throw new Error(`injected fault in ${name}`);
      return { metrics: name === 'cf' ? { ndcg_at_10: score } : ({} as Record<string, number>) };
    },
  });
  return [mk('playlists', ['cf', 'text']), mk('signals', []), mk('cf', ['signals']), mk('text', ['signals'])];
}

test('steps run in dependency order; cycles and unknown steps are named', () => {
  assert.deepEqual(topoOrder(counting([])), ['signals', 'cf', 'text', 'playlists']);
  const cyc: Step[] = [{ name: 'a', after: ['b'], run: async () => ({}) }, { name: 'b', after: ['a'], run: async () => ({}) }];
  assert.throws(() => topoOrder(cyc), /cycle a → b → a/);
  assert.throws(() => topoOrder([{ name: 'a', after: ['zz'], run: async () => ({}) }]), /step "a" depends on unknown step "zz"/);
});

test('a step that fails every attempt fails the run; resumed, finished steps are not redone and the artifacts are the same', async () => {
  const ctx = setup();
  const calls: string[] = [];
  const steps = counting(calls, { name: 'text', times: 3 }); // a step is a task: 3 attempts with backoff
  await assert.rejects(runPipeline(steps, ctx), /step text failed: injected fault in text\. Fix the cause and resume with `deepcut pipeline run --resume/);
  const [failed] = await listRuns(ctx.config.home);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.steps.cf.status, 'done');
  assert.ok(!existsSync(join(ctx.config.home, 'runs', failed.runId, 'text')), 'a failed step leaves no final folder');
  const m = await runPipeline(steps, { ...ctx, resume: failed.runId });
  assert.equal(m.status, 'succeeded');
  assert.deepEqual(calls, ['signals', 'cf', 'text', 'text', 'text', 'text', 'playlists']);
  assert.deepEqual(failed.steps.text.deadLetters, [{ id: 'text', kind: 'step', attempts: 3, error: 'injected fault in text' }]);
  assert.equal(readFileSync(join(ctx.config.home, 'runs', m.runId, 'playlists', 'out.txt'), 'utf8'), 'playlists after cf after signals after +text after signals after ');
});

test('a step that fails once is retried and the run succeeds; a blocked step is not retried', async () => {
  const ctx = setup();
  const calls: string[] = [];
  const m = await runPipeline(counting(calls, { name: 'cf', times: 1 }), ctx);
  assert.equal(m.status, 'succeeded');
  assert.deepEqual(calls, ['signals', 'cf', 'cf', 'text', 'playlists']);
  const blocked: Step[] = [{ name: 'validate', after: [], run: async () => (calls.push('validate'), Promise.reject(new DeepcutError('blocked', 'batch b1 has anomalies'))) }];
  calls.length = 0;
  await assert.rejects(runPipeline(blocked, ctx), /step validate failed: batch b1 has anomalies/);
  assert.deepEqual(calls, ['validate']);
  const runs = await listRuns(ctx.config.home);
  assert.equal(runs[runs.length - 1].blocked?.reason, 'batch b1 has anomalies');
});

test('publish passes the gate, refuses a regression, and rollback switches back', async () => {
  const ctx = setup();
  const good = await runPipeline(counting([], undefined, 0.5), ctx);
  await publish(counting([]), ctx.config.home, good.runId, { tolerance: 0.02, clock: ctx.clock, store: ctx.store });
  assert.equal((await readPublished(ctx.config.home))?.runId, good.runId);
  ctx.clock.advance(1000);
  const worse = await runPipeline(counting([], undefined, 0.4), ctx);
  await assert.rejects(publish(counting([]), ctx.config.home, worse.runId, { tolerance: 0.02, clock: ctx.clock, store: ctx.store }), /not published: metrics regressed: cf\.ndcg_at_10 0\.4000 < published 0\.5000/);
  assert.equal((await readPublished(ctx.config.home))?.runId, good.runId);
  ctx.clock.advance(1000);
  const better = await runPipeline(counting([], undefined, 0.495), ctx);
  await publish(counting([]), ctx.config.home, better.runId, { tolerance: 0.02, clock: ctx.clock, store: ctx.store });
  assert.equal((await readPublished(ctx.config.home))?.runId, better.runId);
  const back = await rollback(ctx.config.home, ctx.clock, ctx.store);
  assert.equal(back.runId, good.runId);
  // the store's row is the publication; the file mirrors it
  assert.equal((await ctx.store.getPublication())?.runId, good.runId);
  assert.equal((await ctx.store.getPublication())?.generation, 3);
  assert.equal((await readPublished(ctx.config.home))?.runId, good.runId);
  await assert.rejects(rollback(ctx.config.home, ctx.clock, ctx.store), /nothing to roll back to/);
});

test('the gate compares each metric with the tolerance', () => {
  assert.equal(gate({ a: 0.99 }, { a: 1 }, 0.02).pass, true);
  assert.equal(gate({ a: 0.97 }, { a: 1 }, 0.02).pass, false);
  assert.equal(gate({ a: 0.1 }, undefined, 0.02).pass, true);
  assert.equal(gate({ a: NaN }, undefined, 0.02).pass, false);
});

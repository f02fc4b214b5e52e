/**
 * Tasks run by a "worker" with a home of its own, the coordinator's files reaching it only through
 * the artifact store (a folder standing in for S3): a step's parts and join see the earlier steps'
 * files, the run is sealed in the store with its file list, the shards are gone from it, and a
 * worker's stale copies of other runs are pruned. In process, with a memory store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPipeline, type Step } from './runner.ts';
import { InProcessQueue, type TaskQueue } from './tasks.ts';
import { stepTaskHandler } from './task-exec.ts';
import { FixedClock } from '../core/clock.ts';
import { defaultConfig } from '../config/config.ts';
import { MemoryStore } from '../store/testing/memory.ts';
import type { Store } from '../store/index.ts';

const steps: Step[] = [
  { name: 'signals', after: [], run: async (ctx) => (writeFileSync(join(ctx.dir, 'data.txt'), `signals of ${ctx.runId}`), { metrics: { users: 3 } }) },
  {
    name: 'playlists',
    after: ['signals'],
    parts: (outputs) => Array.from({ length: outputs.signals.metrics!.users }, (_, i) => ({ id: `${i}`, payload: { i } })),
    async runPart(ctx, part) {
      const dir = join(`${ctx.dir.replace(/\.partial$/, '')}.shards`, String(part.i));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'part.txt'), `part ${part.i} read "${readFileSync(join(ctx.dirOf('signals'), 'data.txt'), 'utf8')}"`);
    },
    async run(ctx) {
      const shards = `${ctx.dir.replace(/\.partial$/, '')}.shards`;
      const parts = readdirSync(shards).sort().map((i) => readFileSync(join(shards, i, 'part.txt'), 'utf8'));
      writeFileSync(join(ctx.dir, 'all.txt'), parts.join('\n'));
      return { metrics: { parts: parts.length } };
    },
  },
];

test('a worker with its own home gets its inputs from the artifact store and puts its outputs there; the run is sealed', async () => {
  const root = mkdtempSync(join(tmpdir(), 'dc-task-exec-'));
  const artifacts = join(root, 'artifacts');
  const config = (home: string) => ({ ...defaultConfig(), home, artifacts: { url: artifacts } });
  const store = new MemoryStore() as Store;
  // a stale copy of an old run on the worker, and a run the worker's machine coordinates (kept)
  const workerHome = join(root, 'worker');
  mkdirSync(join(workerHome, 'runs', 'old-run', 'signals'), { recursive: true });
  utimesSync(join(workerHome, 'runs', 'old-run'), new Date('2026-01-01'), new Date('2026-01-01'));
  mkdirSync(join(workerHome, 'runs', 'mine'), { recursive: true });
  writeFileSync(join(workerHome, 'runs', 'mine', 'run.json'), '{}');
  utimesSync(join(workerHome, 'runs', 'mine'), new Date('2026-01-01'), new Date('2026-01-01'));
  const worker = stepTaskHandler({ config: config(workerHome), store, steps });
  const ran: string[] = [];
  const remote: TaskQueue = { run: (tasks) => new InProcessQueue({ concurrency: 2 }).run(tasks, async (t) => (ran.push(t.id), worker(t))) };
  const m = await runPipeline(steps, { config: config(join(root, 'coordinator')), store, clock: new FixedClock('2026-12-06T03:00:00Z'), runId: 'r1', queue: remote });
  assert.equal(m.status, 'succeeded');
  assert.deepEqual(ran, ['signals', 'playlists:0', 'playlists:1', 'playlists:2', 'playlists']);
  assert.deepEqual(m.steps.playlists.output, { metrics: { parts: 3 } });
  assert.equal(readFileSync(join(artifacts, 'r1', 'playlists', 'all.txt'), 'utf8'), ['part 0 read "signals of r1"', 'part 1 read "signals of r1"', 'part 2 read "signals of r1"'].join('\n'));
  assert.ok(!existsSync(join(artifacts, 'r1', 'playlists.shards', '0', 'part.txt')), 'the shards are removed from the store after the join');
  const list = JSON.parse(readFileSync(join(artifacts, 'r1', 'files.json'), 'utf8')) as { files: { path: string }[] };
  assert.deepEqual(list.files.map((f) => f.path), ['playlists/all.txt', 'run.json', 'signals/data.txt']);
  assert.ok(!existsSync(join(root, 'coordinator', 'runs', 'r1', 'signals')), 'the coordinator holds only the manifest');
  assert.ok(!existsSync(join(workerHome, 'runs', 'old-run')), "a worker's stale copy of another run is pruned");
  assert.ok(existsSync(join(workerHome, 'runs', 'mine', 'run.json')), 'a run this machine coordinates is kept');
});

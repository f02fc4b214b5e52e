/**
 * The playlists step sharded by listeners: any shard count, and shards run in any order (as
 * workers pick them up), give the same files byte for byte, and the archive learns the same lists.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, mkdirSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateWorld } from '../generate/index.ts';
import { importPath } from '../ingest/index.ts';
import { openStore } from '../store/index.ts';
import { defaultConfig } from '../config/config.ts';
import { runPipeline, type StepContext } from './runner.ts';
import { defaultSteps, makePlaylists, makePlaylistsShard, mergePlaylistShards, runPlaylistInputs, shardRows, shardDir, stepProduct, loadCfModel } from './steps.ts';
import type { Playlist } from '../playlists/index.ts';
import { InProcessQueue, DeadTasksError, type TaskQueue } from './tasks.ts';
import { loadSnapshot } from './persist.ts';
import { FixedClock } from '../core/clock.ts';
import { log } from '../log.ts';
import { openPlaylistArchive } from '../serving/index.ts';

const root = mkdtempSync(join(tmpdir(), 'dc-pl-shards-'));
const home = join(root, 'home');
const NOW = '2026-11-23T06:00:00Z';
let runDir = '';

before(async () => {
  const world = join(root, 'world');
  await generateWorld({ size: 'small', seed: 5, out: world, audioClips: 0 });
  const store = await openStore({ home });
  try {
    await importPath(store, 'jsonl', world, {});
    const steps = defaultSteps().filter((s) => s.name !== 'playlists' && s.name !== 'bandit');
    const m = await runPipeline(steps, { config: { ...defaultConfig(), home }, store, clock: new FixedClock(NOW) });
    runDir = join(home, 'runs', m.runId);
  } finally {
    await store.close();
  }
});
after(() => rmSync(root, { recursive: true, force: true }));

/** A playlists step context writing into `out` with the archive in `archiveHome`. */
function ctxFor(out: string, archiveHome: string): StepContext {
  mkdirSync(out, { recursive: true });
  return { runId: 'r', runDir, dir: out, dirOf: (s) => join(runDir, s), outputs: {}, config: { ...defaultConfig(), home: archiveHome }, store: undefined as never, clock: new FixedClock(NOW), log: log('test') };
}

async function inputs() {
  const s = await loadSnapshot(join(runDir, 'signals'));
  const model = await loadCfModel(join(runDir, 'cf'), s, 1);
  return { s, model, extra: await runPlaylistInputs(join(runDir, 'text'), join(runDir, 'audio'), s, model) };
}

const FILES = ['discover-weekly.jsonl', 'release-radar.jsonl', 'daily-mixes.jsonl'];
const read = (dir: string) => FILES.map((f) => readFileSync(join(dir, f), 'utf8'));

test('shardRows covers every user row once, in order', () => {
  for (const [users, count] of [[0, 1], [1, 3], [10, 3], [101, 7], [5, 5]] as const) {
    const rows: number[] = [];
    for (let index = 0; index < count; index++) {
      const [a, b] = shardRows(users, { index, count });
      for (let r = a; r < b; r++) rows.push(r);
    }
    assert.deepEqual(rows, Array.from({ length: users }, (_, i) => i), `${users} users in ${count} shards`);
  }
  assert.throws(() => shardRows(10, { index: 3, count: 3 }), /bad playlists shard 3 of 3/);
});

test('1, 3 and 7 shards give the same files byte for byte, and the same archive', async () => {
  const { s, model, extra } = await inputs();
  const outs: string[][] = [];
  const sums: unknown[] = [];
  for (const n of [1, 3, 7]) {
    const dir = join(root, `out-${n}`);
    const arch = join(root, `arch-${n}`);
    sums.push(await makePlaylists(ctxFor(dir, arch), s, model, extra, n));
    outs.push(read(dir));
    assert.ok(!existsSync(`${dir}.shards`), 'shard folders removed after the merge');
    // the week's archive: one object per listener bucket, named by the run
    const week = join(arch, 'playlists', 'discover-weekly', '2026-11-23');
    const objects = readdirSync(week).sort().map((b) => `${b}/${readdirSync(join(week, b)).join(',')}:${readFileSync(join(week, b, 'r.jsonl'), 'utf8')}`);
    assert.ok(objects.length > 1, 'more than one bucket');
    outs[outs.length - 1].push(objects.join('\n'));
  }
  assert.ok(outs[0][0].split('\n').length > 50, 'a list per listener');
  assert.deepEqual(outs[1], outs[0]);
  assert.deepEqual(outs[2], outs[0]);
  assert.deepEqual(sums[1], sums[0]);
  assert.deepEqual(sums[2], sums[0]);
});

test('the archive the join writes holds the same bytes as each new list put and flushed one by one', async () => {
  const { s, model, extra } = await inputs();
  const dir = join(root, 'arch-bytes');
  const arch = join(root, 'arch-bytes-home');
  await makePlaylists(ctxFor(dir, arch), s, model, extra, 3);
  // the same lists through put + flush (how the join wrote them before it stopped parsing them)
  const ref = join(root, 'arch-bytes-ref');
  const a = await openPlaylistArchive(ref, { writer: 'r' });
  for (const f of ['discover-weekly.jsonl', 'release-radar.jsonl'])
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean)) {
      const p = JSON.parse(line) as Playlist;
      await a.put(p.kind, p.key, p.userId!, p);
    }
  await a.flush();
  await a.close();
  const tree = (home: string) => {
    const top = join(home, 'playlists');
    return readdirSync(top, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.jsonl'))
      .sort()
      .map((f) => `${f}\n${readFileSync(join(top, f), 'utf8')}`);
  };
  const got = tree(arch);
  assert.ok(got.length > 16, `objects of both kinds, every bucket (${got.length})`);
  assert.deepEqual(got, tree(ref));
});

test('shards run out of order and one run twice (a retried task) merge to the one-shard bytes', async () => {
  const { s, model, extra } = await inputs();
  const one = join(root, 'ooo-1');
  await makePlaylists(ctxFor(one, join(root, 'ooo-arch-1')), s, model, extra, 1);
  const dir = join(root, 'ooo-4');
  const ctx = ctxFor(dir, join(root, 'ooo-arch-4'));
  const product = stepProduct(s, model, extra, ctx.config.cf.seed);
  for (const index of [2, 0, 3, 2, 1]) await makePlaylistsShard(ctx, s, product, { index, count: 4 });
  await mergePlaylistShards(ctx, 4, s.histories.length);
  assert.deepEqual(read(dir), read(one));
});

test('a merge with a shard missing names it', async () => {
  const { s, model, extra } = await inputs();
  const ctx = ctxFor(join(root, 'missing'), join(root, 'missing-arch'));
  await makePlaylistsShard(ctx, s, stepProduct(s, model, extra, 42), { index: 0, count: 2 });
  await assert.rejects(mergePlaylistShards(ctx, 2, s.histories.length), /playlists shard 1 of 2 has no summary/);
});

test('a resumed step keeps the shards an earlier attempt finished, and gives the same bytes', async () => {
  const { s, model, extra } = await inputs();
  const dir = join(root, 'resume');
  const ctx = ctxFor(dir, join(root, 'resume-arch'));
  const product = stepProduct(s, model, extra, ctx.config.cf.seed);
  await makePlaylistsShard(ctx, s, product, { index: 0, count: 3 }); // finished before the "crash"
  const summary = join(shardDir(dir, { index: 0, count: 3 }), 'summary.json');
  const before = statSync(summary).mtimeMs;
  const kept: boolean[] = [];
  const watching: TaskQueue = {
    run: (tasks, handler) =>
      new InProcessQueue().run(tasks, async (t) => {
        await handler(t);
        if (t.id === 'playlists:0-of-3') kept.push(statSync(summary).mtimeMs === before);
      }),
  };
  await makePlaylists(ctx, s, model, extra, 3, watching);
  assert.deepEqual(kept, [true], 'shard 0 was not made again');
  assert.deepEqual(read(dir), read(join(root, 'out-1')));
});

test('a shard that keeps failing is retried, dead-lettered with its error, and fails the step', async () => {
  const { s, model, extra } = await inputs();
  const attempts: string[] = [];
  const poisoned: TaskQueue = {
    run: (tasks, handler) =>
      new InProcessQueue({ attempts: 3, backoffMs: 1 }).run(tasks, async (t) => {
        attempts.push(t.id);
        if (t.id === 'playlists:1-of-2') throw new Error('undecodable input in shard 1');
        await handler(t);
      }),
  };
  const err = await makePlaylists(ctxFor(join(root, 'dead'), join(root, 'dead-arch')), s, model, extra, 2, poisoned).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof DeadTasksError, String(err));
  assert.deepEqual(err.dead, [{ id: 'playlists:1-of-2', kind: 'playlists', attempts: 3, error: 'undecodable input in shard 1' }]);
  assert.match(err.message, /playlists:1-of-2 \(after 3 attempts: undecodable input in shard 1\)/);
  assert.deepEqual(attempts.filter((a) => a === 'playlists:1-of-2').length, 3);
  assert.ok(!existsSync(join(root, 'dead', 'discover-weekly.jsonl')), 'no merged output from a failed step');
});

test('the playlists step on 2 worker threads (a one-process run) gives the one-thread bytes, its shards made off the main thread', async () => {
  const runId = runDir.split('/').pop()!;
  const files: string[][] = [];
  for (const threads of [1, 2]) {
    // a copy of the home with the run before its playlists step, resumed with 4 shards of 15 listeners
    const h = join(root, `threads-${threads}`);
    cpSync(home, h, { recursive: true });
    const store = await openStore({ home: h });
    const results: Record<string, unknown> = {};
    const recording: TaskQueue = {
      async run(tasks, handler) {
        const r = await new InProcessQueue({ concurrency: threads }).run(tasks, handler);
        Object.assign(results, r.results);
        return r;
      },
    };
    try {
      const config = { ...defaultConfig(), home: h, pipeline: { ...defaultConfig().pipeline, threads, usersPerShard: 15 } };
      const m = await runPipeline(
        defaultSteps().filter((s) => s.name !== 'bandit'),
        { config, store, clock: new FixedClock(NOW), resume: runId, queue: recording, threads },
      );
      assert.equal(m.status, 'succeeded');
    } finally {
      await store.close();
    }
    const shards = Object.entries(results).filter(([id]) => id.startsWith('playlists:'));
    assert.equal(shards.length, 4, 'four shard tasks');
    for (const [id, r] of shards) {
      const x = r as { users: number; thread: number };
      assert.equal(x.users, 15, id);
      if (threads === 1) assert.equal(x.thread, 0, `${id} in the main thread`);
      else assert.ok(x.thread > 0, `${id} on a worker thread`);
    }
    files.push(read(join(h, 'runs', runId, 'playlists')));
  }
  assert.ok(files[0][0].split('\n').length > 50);
  assert.deepEqual(files[1], files[0]);
});

// The daily pipeline on a fleet of real processes on loopback — 2 workers, 2 schedulers and 1 API
// node on one PostgreSQL schema and one BullMQ queue prefix of this test's own, with a folder as
// the shared artifact store — on the small generated world with one undecodable audio file:
//   - the day's run completes, is published, and the API node serves it;
//   - a worker SIGKILLed in the middle of a task: the task runs again on the other worker, and
//     every artifact of the run is byte-identical to an undisturbed run's (the embedded mode's,
//     run in this process on the same store: the same tasks on the in-process queue);
//   - the active scheduler SIGKILLed: the other takes over and resumes the run; the day's run
//     happens exactly once;
//   - the poisoned audio batch is retried, then dead-lettered with the file named, while the rest
//     of the run completes (the audio step analyses the batch's other files; the gate publishes).
// Under CI=true PostgreSQL and Redis must answer; elsewhere the file is skipped with the reason.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { pgDown, pgSchema } from '../store/testing/postgres.ts';
import { PostgresStore } from '../store/postgres.ts';
import type { Store } from '../store/index.ts';
import { generateWorld } from '../generate/index.ts';
import { importPath } from '../ingest/index.ts';
import { defaultConfig, type Config } from '../config/config.ts';
import { FixedClock } from '../core/clock.ts';
import { startNode, until, type FleetNodeProcess } from '../server/testing/fleet.ts';
import { startRole, redisDown, type RoleProcess } from './testing/fleet-roles.ts';
import { BullmqQueue } from './bullmq-queue.ts';
import { runPipeline, RUNS_META, type RunManifest } from './runner.ts';
import { defaultSteps } from './steps.ts';
import { DAYS_META, dayRunId, dueRun } from './daily.ts';

const bin = fileURLToPath(new URL('../../bin/deepcut.js', import.meta.url));
const REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const down = (await pgDown()) ?? (await redisDown(REDIS));
if (down && process.env.CI === 'true') it('fleet pipeline: PostgreSQL and Redis must be reachable under CI', () => assert.fail(down));
else if (down) console.log(`# fleet pipeline tests skipped: ${down}`);

/** JSON lines of a process's stream (logs, events); other lines skipped. */
function lines(text: string): Record<string, unknown>[] {
  return text.split('\n').flatMap((l) => {
    try {
      return l.startsWith('{') ? [JSON.parse(l) as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}
const started = (p: RoleProcess, task: string) => lines(p.log()).some((l) => l.msg === 'task started' && l.task === task);
const isActive = (p: RoleProcess) => lines(p.out()).some((l) => l.state === 'active');

/** SHA-256 of every file under `dir` by relative path, the manifest and file list left out. */
async function digests(dir: string, rel = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, await digests(dir, p));
    else if (p !== 'run.json' && p !== 'files.json') out[p] = createHash('sha256').update(await readFile(join(dir, p))).digest('hex');
  }
  return out;
}

describe('fleet pipeline: 2 workers, 2 schedulers, 1 API node', { skip: down ? down : false, timeout: 1_200_000 }, () => {
  let root = '';
  let schema: Awaited<ReturnType<typeof pgSchema>> | undefined;
  let store: Store | undefined;
  const procs: RoleProcess[] = [];
  let node: FleetNodeProcess | undefined;
  const prefix = `deepcut_fp_${process.pid}_${Date.now().toString(36)}`;
  let env: Record<string, string> = {};
  let poisoned = '';
  let runId = '';
  let due = new Date();
  let workers: RoleProcess[] = [];
  let schedulers: RoleProcess[] = [];
  let killedWorker: RoleProcess | undefined;
  let otherWorker: RoleProcess | undefined;
  let takeoverMs = 0;
  let manifest: RunManifest | undefined;
  const cf = { factors: 8, iterations: 4, threads: 1 };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'dc-fleet-pipeline-'));
    const world = join(root, 'world');
    await generateWorld({ size: 'small', seed: 3, out: world });
    // one undecodable audio file: bytes that are no audio format
    const tracks = (await readFile(join(world, 'tracks.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { track_id: string; audio_path?: string });
    const withAudio = tracks.filter((t) => t.audio_path);
    poisoned = withAudio[Math.floor(withAudio.length / 2)].audio_path!;
    await writeFile(join(world, poisoned), 'this is not audio, it is a poisoned input\n'.repeat(64));
    schema = await pgSchema('deepcut_fleetpipe');
    const opened: Store = await PostgresStore.open({ home: join(root, 'importer'), databaseUrl: schema.databaseUrl });
    store = opened;
    await importPath(opened, 'jsonl', world, {});
    env = {
      DATABASE_URL: schema.databaseUrl,
      DEEPCUT_QUEUE_URL: REDIS,
      DEEPCUT_QUEUE_PREFIX: prefix,
      DEEPCUT_QUEUE_LEASE_SECONDS: '10',
      DEEPCUT_QUEUE_BACKOFF_SECONDS: '0.2',
      DEEPCUT_ARTIFACTS_URL: join(root, 'artifacts'),
      DEEPCUT_CF_FACTORS: String(cf.factors),
      DEEPCUT_CF_ITERATIONS: String(cf.iterations),
      DEEPCUT_CF_THREADS: String(cf.threads),
      DEEPCUT_SCHEDULER_RETRAIN_HOUR: '0',
      DEEPCUT_SCHEDULER_TIME_ZONE: 'UTC',
      DEEPCUT_SCHEDULER_TICK_SECONDS: '1',
      DEEPCUT_SCHEDULER_STANDBY_POLL_SECONDS: '1',
      DEEPCUT_LOG_LEVEL: 'info',
    };
  });

  after(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await node?.stop('SIGKILL');
    const q = new BullmqQueue({ url: REDIS, prefix });
    await q.obliterate().catch(() => undefined);
    await q.close().catch(() => undefined);
    await store?.close();
    await schema?.drop().catch(() => undefined);
    if (root) await rm(root, { recursive: true, force: true });
  });

  const role = (kind: 'worker' | 'scheduler', name: string) => {
    const p = startRole(kind, join(root, name), env);
    procs.push(p);
    return p;
  };

  it('the day\'s run starts once; a worker killed mid-task and the active scheduler killed, the run completes and is published', async (t) => {
    t.after(() => {
      // on a failure, what each process said
      if (!manifest) for (const [i, p] of procs.entries()) console.log(`# --- process ${i} stdout:\n${p.out().slice(-3000)}\n# --- stderr:\n${p.log().slice(-6000)}`);
    });
    workers = [role('worker', 'w1'), role('worker', 'w2')];
    schedulers = [role('scheduler', 's1'), role('scheduler', 's2')];
    due = dueRun(0, 'UTC', new Date());
    runId = dayRunId(due);
    const active = await until('a scheduler is active', 120_000, async () => schedulers.find(isActive));
    // the ALS trainer task: SIGKILL the worker that took it, as soon as it has started
    killedWorker = await until('a worker starts the cf task', 600_000, async () => workers.find((w) => started(w, 'cf')), 50);
    otherWorker = workers.find((w) => w !== killedWorker)!;
    assert.equal(await killedWorker.stop('SIGKILL'), 'SIGKILL');
    // then the active scheduler
    const standby = schedulers.find((s) => s !== active)!;
    const t0 = performance.now();
    assert.equal(await active.stop('SIGKILL'), 'SIGKILL');
    await until('the standby scheduler takes over', 120_000, async () => (isActive(standby) ? true : undefined), 50);
    takeoverMs = performance.now() - t0;
    console.log(`# scheduler takeover after SIGKILL: ${takeoverMs.toFixed(0)} ms (target 10 s)`);
    await until('the day run is published', 900_000, async () => ((await store!.getPublication())?.runId === runId ? true : undefined), 500);
    manifest = await store!.getMeta<RunManifest>(RUNS_META, runId);
    assert.equal(manifest?.status, 'succeeded');
  });

  it('the killed worker\'s task ran again on the other worker', () => {
    assert.ok(manifest, 'the run finished');
    assert.ok(started(otherWorker!, 'cf'), `the other worker ran cf: ${otherWorker!.log().slice(-2000)}`);
    assert.equal(manifest!.steps.cf.status, 'done');
    // each worker runs its tasks on a thread of its own (its event loop renews the queue's lease meanwhile)
    for (const w of workers) assert.match(w.log(), /"threads":1,.*"msg":"worker ready"/, `a worker said it runs tasks on a thread: ${w.log().slice(0, 1500)}`);
  });

  it('the day\'s run happened exactly once: one claim, one run, resumed (not restarted) by the new scheduler', async () => {
    assert.ok(manifest, 'the run finished');
    const days = await store!.listMeta<{ runId: string }>(DAYS_META);
    assert.deepEqual(days.map((d) => [d.key, d.value.runId]), [[due.toISOString(), runId]]);
    assert.deepEqual((await store!.listMeta(RUNS_META)).map((r) => r.key), [runId]);
    const events = schedulers.flatMap((s) => lines(s.out()).filter((l) => l.event === 'run'));
    assert.deepEqual(events.map((e) => [e.action, e.runId, e.published]), [['resumed', runId, true]], 'the standby resumed the run; the killed one never reported');
    // the first scheduler's claim is the only start: no second run id was ever enqueued
    assert.ok(takeoverMs > 0);
  });

  it('the poisoned audio file: retried, dead-lettered with the file named, the rest of the run complete', () => {
    assert.ok(manifest, 'the run finished');
    const dead = manifest!.steps.audio.deadLetters ?? [];
    assert.equal(dead.length, 1, JSON.stringify(dead));
    assert.equal(dead[0].attempts, 3);
    assert.match(dead[0].id, /^audio:\d+-of-2$/);
    assert.ok(dead[0].error.includes(poisoned), dead[0].error);
    const a = manifest!.steps.audio.output!.metrics!;
    assert.equal(a.tracks_with_audio, 24);
    assert.equal(a.failed, 1);
    assert.equal(a.analysed, 23);
    assert.match(String(manifest!.steps.audio.output!.info!.failures), new RegExp(poisoned.replace(/[.]/g, '\\.')));
    for (const s of manifest!.order) assert.equal(manifest!.steps[s].status, 'done', s);
    // `deepcut pipeline status` on another machine of the fleet (a home of its own) shows them
    const r = spawnSync(process.execPath, [bin, '--home', join(root, 'ops'), '--json', 'pipeline', 'status'], { encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(r.status, 0, r.stderr);
    const status = JSON.parse(r.stdout.trim().split('\n').pop()!) as { published: { runId: string }; latest: { runId: string }; deadLetters: { step: string; id: string; error: string }[] };
    assert.equal(status.published.runId, runId);
    assert.equal(status.latest.runId, runId);
    assert.deepEqual(status.deadLetters.map((d) => [d.step, d.id]), [['audio', dead[0].id]]);
    assert.ok(status.deadLetters[0].error.includes(poisoned));
  });

  it('the API node serves the published run', async () => {
    assert.ok(manifest, 'the run finished');
    node = await startNode(join(root, 'api'), env);
    await until('the API node is ready', 120_000, async () => ((await fetch(`${node!.url}/readyz`)).status === 200 ? true : undefined), 200);
    const users = await store!.list('users', { limit: 1 });
    const rr = await fetch(`${node.url}/v1/users/${users[0].user_id}/recommendations?k=5`);
    assert.equal(rr.status, 200);
    assert.equal(rr.headers.get('x-deepcut-run'), runId);
    const runs = (await (await fetch(`${node.url}/v1/admin/runs`)).json()) as { runs: { runId: string; deadLetters: { step: string; error: string }[] }[] };
    const listed = runs.runs.find((x) => x.runId === runId);
    assert.ok(listed, 'the API node lists the fleet run');
    assert.deepEqual(listed.deadLetters.map((d) => d.step), ['audio']);
  });

  it('every artifact is byte-identical to an undisturbed run\'s (the same tasks in one process)', async () => {
    assert.ok(manifest, 'the run finished');
    const home = join(root, 'reference');
    const base = defaultConfig();
    const config: Config = { ...base, home, databaseUrl: schema!.databaseUrl, cf: { ...base.cf, ...cf } };
    const ref = await runPipeline(defaultSteps(), { config, store: store!, clock: new FixedClock(new Date()), runId, now: due });
    assert.equal(ref.status, 'succeeded');
    const fleet = await digests(join(root, 'artifacts', runId));
    const listed = JSON.parse(await readFile(join(root, 'artifacts', runId, 'files.json'), 'utf8')) as { files: { path: string; sha256: string }[] };
    assert.deepEqual(Object.fromEntries(listed.files.filter((f) => f.path !== 'run.json').map((f) => [f.path, f.sha256])), fleet, 'the file list names every stored file');
    const local = await digests(join(home, 'runs', runId));
    assert.ok(Object.keys(local).length > 10, `${Object.keys(local).length} files`);
    assert.deepEqual(fleet, local);
  });
});

/**
 * One process of the fleet-pipeline bench (bench/fleet-pipeline.bench.ts): import a generated world
 * into a fresh embedded home, then run every default step with the in-process task queue, timing
 * each step (wall and this process's CPU, worker threads included) and each task kind (the tasks'
 * own time and the queue's time around them). Prints one JSON object
 * ({@link RunFigures}) as the last line of stdout.
 *
 * `node --import tsx bench/fleet-pipeline-run.ts --world DIR --home DIR [--threads N] [--users-per-shard N] [--users N] [--resume RUN]`
 * `--users N` stops after the playlists of the first N listeners (a profile of that step, with
 * `node --cpu-prof`); the steps before it run in full.
 */
import { fileURLToPath } from 'node:url';
import { importPath } from '../src/ingest/import.ts';
import { openStore } from '../src/store/open.ts';
import { defaultConfig } from '../src/config/config.ts';
import { runPipeline, type Step, type StepContext, type StepOutput } from '../src/pipeline/runner.ts';
import type { Snapshot } from '../src/pipeline/snapshot.ts';
import type { Recommender } from '../src/cf/index.ts';
import type { PlaylistInputs } from '../src/pipeline/playlists-step.ts';
import { defaultSteps, playlistInputsOf, stepProduct, makePlaylistsShard } from '../src/pipeline/steps.ts';
import { InProcessQueue, type Task, type TaskQueue, type TaskReport } from '../src/pipeline/tasks.ts';
import { FixedClock } from '../src/core/clock.ts';
import { DEFAULT_CLOCK } from '../src/generate/world.ts';
import { flag } from './bench.ts';

/** Wall and CPU seconds of one piece of work. */
export interface Timing {
  wall_s: number;
  cpu_s: number;
}

/** Per task kind: how many ran, their own time (the handler), and the queue's time around them. */
export interface TaskKindFigures {
  tasks: number;
  /** Sum over the tasks of the handler's wall and CPU seconds. */
  handler: Timing;
  /** The queue's wall time not spent in a handler (enqueue, hand-over, bookkeeping), over all tasks. */
  overhead_s: number;
}

/** What one pipeline process measured. */
export interface RunFigures {
  import: Timing;
  steps: Record<string, Timing>;
  tasks: Record<string, TaskKindFigures>;
  total: Timing;
  peak_rss_mb: number;
  /** Listeners, tracks, listens seen by the signals step. */
  counts: Record<string, number>;
  /** Set with `--users`: the playlists of the first N listeners only. */
  playlists_users?: number;
  playlists_ms_per_listener?: number;
  playlists_cpu_ms_per_listener?: number;
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/**
 * A {@link TaskQueue} around another that times every task: the handler's wall time, the process's
 * CPU time over each call (worker threads included: tasks may run at once, on threads), and the
 * queue's overhead: the call's wall time while no task of it was running (enqueue, hand-over,
 * bookkeeping; with tasks at once, only the time when none runs).
 */
export class TimedQueue implements TaskQueue {
  readonly kinds: Record<string, TaskKindFigures> = {};
  constructor(private readonly inner: TaskQueue) {}
  async run(tasks: readonly Task[], handler: (t: Task) => Promise<unknown>): Promise<TaskReport> {
    const t0 = performance.now();
    const c0 = cpuNow();
    let active = 0;
    let idleSince = t0;
    let idle = 0;
    const kindOf = (kind: string) => (this.kinds[kind] ??= { tasks: 0, handler: { wall_s: 0, cpu_s: 0 }, overhead_s: 0 });
    const r = await this.inner.run(tasks, async (t) => {
      const k = kindOf(t.kind);
      const w = performance.now();
      if (active++ === 0) idle += w - idleSince;
      try {
        return await handler(t);
      } finally {
        const end = performance.now();
        if (--active === 0) idleSince = end;
        k.tasks++;
        k.handler.wall_s += (end - w) / 1000;
      }
    });
    const end = performance.now();
    idle += active === 0 ? end - idleSince : 0;
    const cpu = cpuNow() - c0;
    // the call's CPU and idle time, spread over its kinds by their task counts (one kind per call here)
    for (const kind of new Set(tasks.map((t) => t.kind))) {
      const share = tasks.filter((t) => t.kind === kind).length / tasks.length;
      kindOf(kind).handler.cpu_s += cpu * share;
      kindOf(kind).overhead_s += (idle / 1000) * share;
    }
    return r;
  }
}

/**
 * The default steps with the playlists step's work replaced by `body`, given what a playlists
 * shard loads (`playlistInputsOf`: the run's snapshot, its model ranked by the rank step when that
 * chose to, and the text/audio inputs), so a profile runs the path the step runs.
 */
function withPlaylists(body: (ctx: StepContext, snap: Snapshot, model: Recommender, inputs: PlaylistInputs) => Promise<StepOutput>): Step[] {
  return defaultSteps().map((s): Step =>
    s.name !== 'playlists'
      ? s
      : {
          // the body alone: none of the step's shard tasks (they would make every listener's playlists first)
          name: s.name,
          after: s.after,
          async run(ctx) {
            const { s: snap, model, extra } = await playlistInputsOf(ctx);
            try {
              return await body(ctx, snap, model, extra);
            } finally {
              await (model as Partial<{ close(): Promise<void> }>).close?.();
            }
          },
        },
  );
}

/**
 * The steps with the playlists step cut to about the first `users` listeners, as one shard made
 * directly (no merge, no archive): what `--users` profiles.
 */
const profileSteps = (users: number, out: Partial<RunFigures>): Step[] =>
  withPlaylists(async (ctx, snap, model, inputs) => {
    const product = stepProduct(snap, model, inputs, ctx.config.cf.seed);
    // shard 0 of count: the first ⌊listeners / count⌋ listeners ≈ `users`
    const count = Math.max(1, Math.floor(snap.histories.length / Math.min(users, snap.histories.length)));
    const r = await makePlaylistsShard(ctx, snap, product, { index: 0, count });
    Object.assign(out, { playlists_users: r.users, playlists_ms_per_listener: (1000 * r.seconds) / r.users, playlists_cpu_ms_per_listener: (1000 * r.cpuSeconds) / r.users });
    return {};
  });

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const world = flag(args, 'world');
  const home = flag(args, 'home');
  if (!world || !home) throw new Error('usage: fleet-pipeline-run.ts --world DIR --home DIR [--threads N] [--users-per-shard N] [--users N] [--resume RUN]');
  const perShard = flag(args, 'users-per-shard') === undefined ? undefined : Number(flag(args, 'users-per-shard'));
  const threads = flag(args, 'threads') === undefined ? undefined : Number(flag(args, 'threads'));
  const users = flag(args, 'users') === undefined ? undefined : Number(flag(args, 'users'));
  // --resume RUN: finish a run of this home (no import), e.g. after a step failed
  const resume = flag(args, 'resume');
  const t0 = performance.now();
  const c0 = cpuNow();
  const store = await openStore({ home });
  const figures: Partial<RunFigures> = { steps: {} };
  try {
    if (!resume) await importPath(store, 'jsonl', world, { bulk: 'auto' });
    figures.import = { wall_s: (performance.now() - t0) / 1000, cpu_s: cpuNow() - c0 };
    console.error(`fleet-pipeline: imported ${world} in ${figures.import.wall_s.toFixed(1)} s (${figures.import.cpu_s.toFixed(1)} CPU s)`);
    const base = defaultConfig();
    const config = { ...base, home, pipeline: { ...base.pipeline, ...(threads ? { threads } : {}), ...(perShard ? { usersPerShard: perShard } : {}) } };
    // the embedded mode's tasks, timed: the default steps, a playlists step's shards on `pipeline.threads` worker threads at once
    const queue = new TimedQueue(new InProcessQueue({ concurrency: config.pipeline.threads }));
    const started = new Map<string, [number, number]>();
    const m = await runPipeline(users ? profileSteps(users, figures) : defaultSteps(), {
      config,
      store,
      queue,
      threads: config.pipeline.threads,
      clock: new FixedClock(DEFAULT_CLOCK),
      resume,
      onStep(name, rec) {
        if (rec.status === 'running') started.set(name, [performance.now(), cpuNow()]);
        else {
          const [w, c] = started.get(name)!;
          figures.steps![name] = { wall_s: (performance.now() - w) / 1000, cpu_s: cpuNow() - c };
          console.error(`fleet-pipeline: step ${name} ${rec.status} in ${figures.steps![name].wall_s.toFixed(1)} s (${figures.steps![name].cpu_s.toFixed(1)} CPU s)`);
        }
      },
    });
    if (m.status !== 'succeeded') throw new Error(`pipeline ${m.status}`);
    figures.tasks = queue.kinds;
    figures.counts = m.steps.signals?.output?.metrics ?? {};
  } finally {
    await store.close();
  }
  figures.total = { wall_s: (performance.now() - t0) / 1000, cpu_s: cpuNow() - c0 };
  figures.peak_rss_mb = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify(figures));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();

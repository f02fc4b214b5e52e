/**
 * The daily pipeline at fleet scale: the default demo world with audio (2,000 listeners, 10,000
 * tracks, 400 clips) and the `large` world (100,000 listeners, 50,000 tracks, 5.2M listens, no
 * audio), each imported into a fresh home and run with every default step.
 *
 * Figures per world and mode: wall and CPU seconds of the import and of each step, per task kind
 * (the tasks' own time and the queue's time around them: the overhead per task, target < 5 % of
 * a task), the whole run (target for `large`: ≤ 5 minutes), peak RSS per process; and the
 * BullMQ queue's overhead per task (src/pipeline/bullmq-queue.ts on the machine's Redis, tiny
 * tasks of ~50 ms CPU). Generated worlds are cached in bench/out/fleet-pipeline/world-<size>/
 * (git-ignored), so later runs skip generation; `--fresh` regenerates.
 *
 * Modes (`--modes in-process,workers-1,workers-2`, default in-process): each mode is a
 * {@link RunLauncher}. `in-process` runs bench/fleet-pipeline-run.ts in one child process (the
 * embedded mode: DuckDB, the in-process queue, the playlists shards on worker threads). `workers-N`
 * runs the fleet's roles through {@link workersLauncher} from {@link FLEET_COMMANDS}: N `deepcut
 * worker` processes and `deepcut pipeline run` on the machine's PostgreSQL and Redis.
 * Args: `--worlds default,large` (default both), `--modes …`, `--no-bullmq`, `--fresh`, `--keep`
 * (keep each run's home under bench/out/fleet-pipeline/), `--users-per-shard N` (playlists shards),
 * `--threads N` (the in-process mode's worker threads, `pipeline.threads`).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import type { Bench } from './bench.ts';
import { flag } from './bench.ts';
import { generateWorld, type WorldSize } from '../src/generate/world.ts';
import type { RunFigures, TaskKindFigures, Timing } from './fleet-pipeline-run.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const OUT = join(here, 'out', 'fleet-pipeline');
const RUNNER = join(here, 'fleet-pipeline-run.ts');

/** What a launcher is given: a generated world and a fresh home folder for the run. */
export interface Launch {
  size: WorldSize;
  world: string;
  home: string;
  /** `pipeline.usersPerShard` */
  usersPerShard?: number;
  /** `pipeline.threads` of the in-process mode */
  threads?: number;
}

/** One process of a mode, measured from outside (/proc) or by itself. */
export interface ProcessFigures {
  role: string;
  pid: number;
  wall_s: number;
  cpu_s: number;
  peak_rss_mb: number;
}

/** What a mode's run measured: the run's own figures (steps, tasks) and every process it used. */
export interface LaunchResult {
  run: RunFigures;
  processes: ProcessFigures[];
  wall_s: number;
}

/** Runs the pipeline over a world in some arrangement of processes. */
export type RunLauncher = (o: Launch) => Promise<LaunchResult>;

/** /proc/<pid>/stat times are in clock ticks: 100 per second on Linux (USER_HZ). */
const TICK = 0.01;

/** VmHWM (peak RSS, MB) and utime + stime (s) of a live process, from /proc; undefined once it is gone. */
function sample(pid: number): { rssMb: number; cpuS: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields after the name: state is f[0]; utime is field 14 of stat → f[11], stime f[12]
    return { rssMb: hwm ? Number(hwm[1]) / 1024 : 0, cpuS: (Number(f[11]) + Number(f[12])) * TICK };
  } catch {
    return undefined;
  }
}

/**
 * Spawn `argv` (with `env` added), measure its peak RSS and CPU from /proc every 250 ms, and
 * resolve with its stdout when it exits 0 (reject naming the command and its stderr tail otherwise).
 */
export function spawnMeasured(role: string, argv: string[], env: Record<string, string> = {}): { pid: number; done: Promise<{ stdout: string; figures: ProcessFigures; tasks: TaskLine[] }>; stop(): void } {
  const t0 = performance.now();
  const p = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let errTail = '';
  let partial = '';
  const tasks: TaskLine[] = [];
  p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr!.on('data', (d: Buffer) => {
    process.stderr.write(d);
    errTail = (errTail + d.toString()).slice(-4000);
    // the task executor's `task finished` lines (src/pipeline/task-exec.ts): per-task wall and CPU
    const text = partial + d.toString();
    const lines = text.split('\n');
    partial = lines.pop()!;
    for (const l of lines) if (l.includes('"task finished"')) tasks.push(JSON.parse(l) as TaskLine);
  });
  const last = { rssMb: 0, cpuS: 0 };
  // the largest readings: a process that has exited but is not reaped yet (a zombie) has no VmHWM
  // line, and a sample taken then read 0 MB over the real peak (a worker's peak RSS printed as 0)
  const timer = setInterval(() => {
    const s = sample(p.pid!);
    if (s) Object.assign(last, { rssMb: Math.max(last.rssMb, s.rssMb), cpuS: Math.max(last.cpuS, s.cpuS) });
  }, 250);
  const done = new Promise<{ stdout: string; figures: ProcessFigures; tasks: TaskLine[] }>((res, rej) => {
    p.on('exit', (code, signal) => {
      clearInterval(timer);
      const figures = { role, pid: p.pid!, wall_s: (performance.now() - t0) / 1000, cpu_s: last.cpuS, peak_rss_mb: last.rssMb };
      if (code === 0 || signal === 'SIGTERM') res({ stdout: out, figures, tasks });
      else rej(new Error(`${role} (${argv.join(' ')}) exited with ${code ?? signal}: ${errTail.slice(-1500)}`));
    });
  });
  return { pid: p.pid!, done, stop: () => p.kill('SIGTERM') };
}

/** A `task finished` log line of the task executor: its kind (`<step>` or `<step>:part`), wall, CPU and artifact-store seconds. */
export interface TaskLine {
  task: string;
  kind: string;
  ok: boolean;
  seconds: number;
  cpu_seconds: number;
  io_s: number;
}

/** The last line of `stdout` as JSON (the commands' `--json` convention). */
const lastJson = <T>(stdout: string): T => JSON.parse(stdout.trim().split('\n').pop()!) as T;

/** The embedded mode: import and every step in one process, tasks on the in-process queue. */
export const inProcessLauncher: RunLauncher = async (o) => {
  const argv = [process.execPath, '--import', 'tsx', RUNNER, '--world', o.world, '--home', o.home, ...(o.usersPerShard ? ['--users-per-shard', String(o.usersPerShard)] : []), ...(o.threads ? ['--threads', String(o.threads)] : [])];
  const t0 = performance.now();
  const { stdout, figures } = await spawnMeasured('pipeline (in-process)', argv).done;
  const run = lastJson<RunFigures>(stdout);
  // the process measures its own peak exactly; /proc sampling may miss the last 250 ms
  figures.peak_rss_mb = Math.max(figures.peak_rss_mb, run.peak_rss_mb);
  figures.cpu_s = Math.max(figures.cpu_s, run.total.cpu_s);
  return { run, processes: [figures], wall_s: (performance.now() - t0) / 1000 };
};

/**
 * The commands of the fleet's roles, for {@link workersLauncher}. `prepare` makes what the run
 * needs of its own (a PostgreSQL schema, a queue prefix, an artifact folder) and gives the env of
 * every process; `setup` runs first, one at a time (the import into the fleet's store); then
 * `worker`s start and `run` (enqueuing the run's tasks, waiting for them) runs to its end; the
 * workers are then stopped with SIGTERM. `manifest(stdout)` is the path of the run's run.json.
 */
export interface FleetCommands {
  prepare(o: Launch): Promise<Record<string, string>>;
  setup(o: Launch): string[][];
  run(o: Launch): string[];
  worker(o: Launch, index: number): string[];
  manifest(o: Launch, runStdout: string): string;
  /** Drop the schema and queue keys made for the run. */
  cleanup(o: Launch): Promise<void>;
}

const BIN = join(here, '..', 'bin', 'deepcut.js');
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Per launch: its schema's drop and its queue prefix. */
const made = new Map<string, { drop(): Promise<void>; prefix: string }>();

/**
 * The fleet's roles as this repository's commands: `deepcut import jsonl --bulk auto` into a
 * PostgreSQL schema of the bench's own (the machine's PostgreSQL, TEST_DATABASE_URL), `deepcut
 * worker` processes on a BullMQ prefix of its own (REDIS_URL, default the machine's Redis), and
 * `deepcut pipeline run --no-publish` with `queue.url` set (the tasks go to the workers); a folder
 * of the launch's home is the shared artifact store.
 */
export const FLEET_COMMANDS: FleetCommands = {
  async prepare(o) {
    const { pgSchema } = await import('../src/store/testing/postgres.ts');
    const schema = await pgSchema('deepcut_bench_large_run');
    const prefix = `bench_fleet_pipeline_${process.pid}_${Date.now().toString(36)}`;
    made.set(o.home, { drop: schema.drop, prefix });
    return {
      DATABASE_URL: schema.databaseUrl,
      DEEPCUT_QUEUE_URL: REDIS,
      DEEPCUT_QUEUE_PREFIX: prefix,
      DEEPCUT_ARTIFACTS_URL: join(o.home, 'artifacts'),
      DEEPCUT_LOG_LEVEL: 'info',
      // A task body blocks its worker's event loop for a while (k-means, a model fit's synchronous
      // parts), and the worker renews its BullMQ lease on that loop: on a loaded machine a block
      // outlasts the default 30 s lease and the job is handed to the other worker and run twice
      // (seen: the large world's cf task). The bench measures the work, not the recovery from a dead worker.
      DEEPCUT_QUEUE_LEASE_SECONDS: process.env.DEEPCUT_QUEUE_LEASE_SECONDS ?? '600',
    };
  },
  setup: (o) => [[process.execPath, BIN, '--home', join(o.home, 'importer'), '--json', 'import', 'jsonl', o.world, '--bulk', 'auto']],
  worker: (o, i) => [process.execPath, BIN, '--home', join(o.home, `worker-${i + 1}`), '--json', 'worker', '--concurrency', '1'],
  run: (o) => [process.execPath, BIN, '--home', join(o.home, 'runner'), '--json', 'pipeline', 'run', '--no-publish'],
  manifest: (o, stdout) => join(o.home, 'runner', 'runs', lastJson<{ run: { runId: string } }>(stdout).run.runId, 'run.json'),
  async cleanup(o) {
    const m = made.get(o.home);
    made.delete(o.home);
    if (!m) return;
    const { BullmqQueue } = await import('../src/pipeline/bullmq-queue.ts');
    const q = new BullmqQueue({ url: REDIS, prefix: m.prefix });
    await q.obliterate().catch(() => undefined);
    await q.close().catch(() => undefined);
    await m.drop().catch(() => undefined);
  },
};

/** Workers mode: `n` worker processes and one run process on the fleet's queue and store. */
export function workersLauncher(n: number, cmd: FleetCommands): RunLauncher {
  return async (o) => {
    const t0 = performance.now();
    const processes: ProcessFigures[] = [];
    try {
      const env = await cmd.prepare(o);
      const ti = performance.now();
      let importCpu = 0;
      for (const argv of cmd.setup(o)) {
        const r = await spawnMeasured('import', argv, env).done;
        processes.push(r.figures);
        importCpu += r.figures.cpu_s;
      }
      const importT: Timing = { wall_s: (performance.now() - ti) / 1000, cpu_s: importCpu };
      const workers = Array.from({ length: n }, (_, i) => spawnMeasured(`worker ${i + 1}`, cmd.worker(o, i), env));
      const tr = performance.now();
      const r = await spawnMeasured('pipeline run', cmd.run(o), env).done;
      const runWall = (performance.now() - tr) / 1000;
      workers.forEach((w) => w.stop());
      const ws = await Promise.all(workers.map((w) => w.done));
      processes.push(r.figures, ...ws.map((w) => w.figures));
      const m = JSON.parse(readFileSync(cmd.manifest(o, r.stdout), 'utf8')) as { steps: Record<string, { seconds?: number; output?: { metrics?: Record<string, number> } }> };
      // per step: the manifest's wall and the CPU its tasks reported (each on its worker; the run process only plans)
      const lines = ws.flatMap((w) => w.tasks);
      const steps: Record<string, Timing> = {};
      for (const [k, v] of Object.entries(m.steps)) steps[k] = { wall_s: v.seconds ?? 0, cpu_s: lines.filter((t) => t.kind.split(':')[0] === k).reduce((a, t) => a + t.cpu_seconds, 0) };
      const tasks: Record<string, TaskKindFigures> = {};
      for (const t of lines) {
        const k = (tasks[t.kind] ??= { tasks: 0, handler: { wall_s: 0, cpu_s: 0 }, overhead_s: NaN });
        k.tasks++;
        k.handler.wall_s += t.seconds;
        k.handler.cpu_s += t.cpu_seconds;
      }
      const cpu = processes.reduce((a, p) => a + p.cpu_s, 0);
      const run: RunFigures = { import: importT, steps, tasks, total: { wall_s: importT.wall_s + runWall, cpu_s: cpu }, peak_rss_mb: Math.max(...processes.map((p) => p.peak_rss_mb)), counts: m.steps.signals?.output?.metrics ?? {} };
      return { run, processes, wall_s: (performance.now() - t0) / 1000 };
    } finally {
      await cmd.cleanup(o);
    }
  };
}

/** The generated world of `size`, made once and kept (a `.complete` marker says it was finished). */
async function cachedWorld(size: WorldSize, fresh: boolean): Promise<{ dir: string; generate_s?: number }> {
  const dir = join(OUT, `world-${size}`);
  if (!fresh && existsSync(join(dir, '.complete'))) return { dir };
  await rm(dir, { recursive: true, force: true });
  const t0 = performance.now();
  console.error(`fleet-pipeline: generating the ${size} world into ${dir} (kept for later runs)…`);
  await generateWorld({ size, seed: 42, out: dir });
  await writeFile(join(dir, '.complete'), new Date().toISOString());
  return { dir, generate_s: (performance.now() - t0) / 1000 };
}

/** BullMQ's time per task around tiny tasks (~50 ms of CPU each), one in-process worker. */
export async function bullmqOverhead(tasks = 40): Promise<Record<string, number | string>> {
  const { BullmqQueue } = await import('../src/pipeline/bullmq-queue.ts');
  const prefix = `bench-fleet-pipeline-${process.pid}-${Date.now().toString(36)}`;
  const q = new BullmqQueue({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix, runId: 'bench', pollMs: 50, workHere: true });
  try {
    let inside = 0;
    const t0 = performance.now();
    const r = await q.run(
      Array.from({ length: tasks }, (_, i) => ({ id: `tiny:${i}`, kind: 'tiny', payload: {} })),
      async () => {
        const w = performance.now();
        let x = 0;
        while (performance.now() - w < 50) x += Math.sqrt(x + 1);
        inside += performance.now() - w;
      },
    );
    const total = performance.now() - t0;
    if (r.dead.length) throw new Error(`bullmq: ${r.dead.length} tiny tasks died: ${r.dead[0].error}`);
    const per = (total - inside) / tasks;
    return { bullmq_tasks: tasks, bullmq_task_ms: inside / tasks, bullmq_overhead_ms_per_task: per, bullmq_overhead_share_of_50ms_task: per / (inside / tasks) };
  } finally {
    await q.obliterate().catch(() => undefined);
    await q.close();
  }
}

/** Figures of one world in one mode, keyed `<world>_<mode>_…`. */
export function figuresOf(key: string, r: LaunchResult): Record<string, number> {
  const f: Record<string, number> = {};
  const run = r.run;
  f[`${key}_import_s`] = run.import.wall_s;
  f[`${key}_import_cpu_s`] = run.import.cpu_s;
  for (const [s, t] of Object.entries(run.steps)) {
    f[`${key}_step_${s}_s`] = t.wall_s;
    if (Number.isFinite(t.cpu_s)) f[`${key}_step_${s}_cpu_s`] = t.cpu_s;
  }
  for (const [kind, t] of Object.entries(run.tasks)) {
    f[`${key}_task_${kind}_count`] = t.tasks;
    f[`${key}_task_${kind}_mean_s`] = t.handler.wall_s / t.tasks;
    f[`${key}_task_${kind}_mean_cpu_s`] = t.handler.cpu_s / t.tasks;
    // workers modes: the queue's time around a task is not seen from one process (NaN); BullMQ's per-task overhead is measured apart (bullmq_*)
    if (Number.isFinite(t.overhead_s)) {
      f[`${key}_task_${kind}_queue_overhead_ms`] = (1000 * t.overhead_s) / t.tasks;
      f[`${key}_task_${kind}_queue_overhead_share`] = t.overhead_s / Math.max(1e-9, t.handler.wall_s);
    }
  }
  f[`${key}_total_s`] = run.total.wall_s;
  f[`${key}_total_cpu_s`] = run.total.cpu_s;
  if (run.counts.users) f[`${key}_playlists_cpu_ms_per_listener`] = run.steps.playlists ? (1000 * run.steps.playlists.cpu_s) / run.counts.users : NaN;
  for (const p of r.processes) f[`${key}_peak_rss_mb_${p.role.replace(/\W+/g, '_')}`] = p.peak_rss_mb;
  return f;
}

const bench: Bench = {
  name: 'fleet-pipeline',
  description: 'the daily pipeline on the default world with audio and on the large world (100,000 listeners, 50,000 tracks, 5.2M listens): wall and CPU per step and task kind, queue overhead per task (in-process and BullMQ), peak RSS per process',
  async run(args) {
    const worlds = (flag(args, 'worlds') ?? 'default,large').split(',') as WorldSize[];
    const modes = (flag(args, 'modes') ?? 'in-process').split(',');
    const usersPerShard = flag(args, 'users-per-shard') === undefined ? undefined : Number(flag(args, 'users-per-shard'));
    const threads = flag(args, 'threads') === undefined ? undefined : Number(flag(args, 'threads'));
    const figures: Record<string, number | string> = { load_1m_start: os.loadavg()[0] };
    const notes: string[] = [];
    const targets: Record<string, string> = {};
    await mkdir(OUT, { recursive: true });
    for (const size of worlds) {
      const w = await cachedWorld(size, args.includes('--fresh'));
      if (w.generate_s !== undefined) figures[`${size}_generate_s`] = w.generate_s;
      for (const mode of modes) {
        const m = /^workers-(\d+)$/.exec(mode);
        const launcher: RunLauncher | undefined = mode === 'in-process' ? inProcessLauncher : m ? workersLauncher(Number(m[1]), FLEET_COMMANDS) : undefined;
        if (!launcher) {
          notes.push(`${size} ${mode}: skipped — unknown mode (in-process, workers-N)`);
          continue;
        }
        const home = join(OUT, `home-${size}-${mode}`);
        await rm(home, { recursive: true, force: true });
        console.error(`fleet-pipeline: ${size} world, ${mode}…`);
        const r = await launcher({ size, world: w.dir, home, usersPerShard, threads });
        const key = `${size}_${mode.replace(/-/g, '_')}`;
        Object.assign(figures, figuresOf(key, r));
        if (size === 'large') {
          targets[`${key}_total_s`] = '≤ 300';
          targets[`${key}_playlists_cpu_ms_per_listener`] = '≤ 2';
          // the retrieval-1m bench grows its catalog from this run's ALS factors (the in-process home's runs; a workers mode has none there)
          const runs = join(home, 'runs');
          const id = existsSync(runs) ? (await readdir(runs)).filter((d) => /^\d{8}T/.test(d)).sort().pop() : undefined;
          if (id && existsSync(join(runs, id, 'cf', 'als.bin'))) await copyFile(join(runs, id, 'cf', 'als.bin'), join(OUT, 'large-als.bin'));
        }
        for (const k of Object.keys(figures)) if (k.startsWith(key) && k.endsWith('queue_overhead_share')) targets[k] = '< 0.05';
        if (!args.includes('--keep')) await rm(home, { recursive: true, force: true });
      }
    }
    if (!args.includes('--no-bullmq')) {
      try {
        Object.assign(figures, await bullmqOverhead());
        targets.bullmq_overhead_share_of_50ms_task = 'overhead < 5 % of a task: tasks ≥ 20 × this overhead';
        // each workers-mode task kind: BullMQ's overhead per task over the kind's mean task time
        const per = Number(figures.bullmq_overhead_ms_per_task);
        for (const [k, v] of Object.entries(figures)) {
          const m = /^(.*_workers_\d+_task_.+)_mean_s$/.exec(k);
          if (m && typeof v === 'number' && v > 0) {
            figures[`${m[1]}_bullmq_overhead_share`] = per / (1000 * v);
            targets[`${m[1]}_bullmq_overhead_share`] = '< 0.05';
          }
        }
      } catch (e) {
        notes.push(`BullMQ overhead not measured: ${(e as Error).message}`);
      }
    }
    figures.load_1m_end = os.loadavg()[0];
    notes.push(
      'wall s are inflated by the other sessions sharing the 2 cores (load_1m_*); cpu_s (process CPU time, worker threads included) is the fairer figure',
      'queue_overhead: the queue\'s wall time not spent inside a task, per task; share = over the tasks\' own wall time',
      'peak_rss_mb: per process (VmHWM from /proc, and the process\'s own maxRSS)',
      'bullmq_*: src/pipeline/bullmq-queue.ts on the machine\'s Redis (own key prefix, removed after), 40 tasks of 50 ms busy CPU, one in-process worker: enqueue, hand-over, completion bookkeeping and the run\'s state polling (50 ms) per task',
    );
    return { figures, targets, notes };
  },
};

export default bench;

/**
 * The queue engines the pipeline could run on, measured here on the machine's Redis (BullMQ) and
 * PostgreSQL (pg-boss, graphile-worker): tasks/s through one worker process (no-op tasks,
 * concurrency 8), latency from enqueue to the handler starting on an idle worker (one task at a
 * time), and what a SIGKILLed worker does to the task it held: the seconds until another worker
 * starts it again (each engine set to a 10 s lease where it has the knob). Args: `--tasks N`
 * (default 2000), `--samples N` latency samples (default 100), `--only ENGINE`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { Bench } from './bench.ts';
import { flag, median, numFlag } from './bench.ts';
import { driver, ENGINES, LEASE_S, type EngineName } from './queues/engines.ts';

const child = fileURLToPath(new URL('./queues/killed-child.ts', import.meta.url));
const ns = (what: string) => `${what}_${process.pid}_${Date.now().toString(36)}`;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

async function throughput(engine: EngineName, tasks: number): Promise<number> {
  const name = ns('tp');
  const d = await driver(engine, name);
  try {
    let done = 0;
    let finish!: () => void;
    const all = new Promise<void>((r) => (finish = r));
    await d.work(8, async () => {
      if (++done === tasks) finish();
    });
    const t0 = performance.now();
    await d.enqueue(Array.from({ length: tasks }, (_, id) => ({ id })));
    await Promise.race([all, new Promise((_, rej) => setTimeout(() => rej(new Error(`${engine}: ${done}/${tasks} tasks after 120 s`)), 120_000).unref())]);
    return tasks / ((performance.now() - t0) / 1000);
  } finally {
    await d.stop();
    await d.drop();
  }
}

async function latency(engine: EngineName, samples: number): Promise<number[]> {
  const d = await driver(engine, ns('lat'));
  const out: number[] = [];
  try {
    let started: ((t: number) => void) | undefined;
    await d.work(1, async () => started?.(performance.now()));
    await new Promise((r) => setTimeout(r, 1000)); // the worker idles, as between a run's tasks
    for (let i = 0; i < samples; i++) {
      const got = new Promise<number>((r) => (started = r));
      const t0 = performance.now();
      await d.enqueue([{ id: i }]);
      const t1 = await Promise.race([got, new Promise<number>((_, rej) => setTimeout(() => rej(new Error(`${engine}: task ${i} not started in 30 s`)), 30_000).unref())]);
      out.push(t1 - t0);
    }
    return out;
  } finally {
    await d.stop();
    await d.drop();
  }
}

/** Seconds from SIGKILL of the worker holding a task to another worker starting it (capped at `waitS`). */
async function killed(engine: EngineName, waitS: number): Promise<number> {
  const name = ns('kill');
  const d = await driver(engine, name);
  const p = spawn(process.execPath, ['--import', 'tsx', child, engine, name], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  try {
    const lines = createInterface({ input: p.stdout! });
    let ready!: () => void;
    const started = new Promise<void>((r) => (ready = r));
    lines.on('line', (l) => l.startsWith('started') && ready());
    await d.enqueue([{ id: 'held' }]);
    await Promise.race([started, new Promise((_, rej) => setTimeout(() => rej(new Error(`${engine}: child never started the task`)), 60_000).unref())]);
    process.kill(-p.pid!, 'SIGKILL');
    const tKill = performance.now();
    let again!: (t: number) => void;
    const restarted = new Promise<number>((r) => (again = r));
    await d.work(1, async () => again(performance.now()));
    const t = await Promise.race([restarted, new Promise<number>((r) => setTimeout(() => r(Infinity), waitS * 1000).unref())]);
    return (t - tKill) / 1000;
  } finally {
    try {
      process.kill(-p.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await d.stop();
    await d.drop();
  }
}

const bench: Bench = {
  name: 'queue-engines',
  description: 'BullMQ (Redis), pg-boss and graphile-worker (PostgreSQL): tasks/s, enqueue→start latency, and how soon a SIGKILLed worker’s task runs again',
  async run(args) {
    const tasks = numFlag(args, 'tasks', 2000);
    const samples = numFlag(args, 'samples', 100);
    const waitS = numFlag(args, 'wait', 90);
    const only = flag(args, 'only');
    const figures: Record<string, number | string> = { lease_s: LEASE_S, tasks, latency_samples: samples };
    for (const e of ENGINES.filter((x) => !only || x === only)) {
      figures[`${e}_tasks_per_s`] = Math.round(await throughput(e, tasks));
      const l = await latency(e, samples);
      figures[`${e}_enqueue_to_start_p50_ms`] = +median(l).toFixed(1);
      figures[`${e}_enqueue_to_start_p99_ms`] = +pct(l, 0.99).toFixed(1);
      const k = await killed(e, waitS);
      figures[`${e}_killed_task_rerun_s`] = Number.isFinite(k) ? +k.toFixed(1) : `> ${waitS}`;
    }
    return {
      figures,
      targets: { killed_task_rerun_s: `about the lease (${LEASE_S} s)` },
      notes: [
        'One worker process, concurrency 8, no-op tasks, 2 cores shared with other work: compare engines, not absolutes.',
        'graphile-worker (OSS) releases a crashed worker’s job only after 4 hours (its get_job job_expiry), so the kill figure is the cap.',
      ],
    };
  },
};
export default bench;

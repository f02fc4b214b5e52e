/**
 * The pipeline's fleet roles, as `deepcut worker` and `deepcut scheduler` run them (and a bench
 * or test in-process): a worker takes any run's tasks from the BullMQ queue (`queue.url`) and runs
 * them with the same handler as the embedded mode; a scheduler waits to become the active one
 * (src/pipeline/leader.ts), then starts the daily run when it is due (src/pipeline/daily.ts).
 * {@link runOnQueue} runs the pipeline with its tasks on the queue, for `deepcut pipeline run` in
 * a fleet and for benches that time N workers.
 */
import { hostname } from 'node:os';
import type { Config } from '../config/config.ts';
import type { Store } from '../store/index.ts';
import { openStore } from '../store/index.ts';
import type { Clock } from '../core/clock.ts';
import { DeepcutError } from '../errors.ts';
import { log as makeLog } from '../log.ts';
import { BullmqQueue } from './bullmq-queue.ts';
import { stepTaskHandler } from './task-exec.ts';
import { TaskThreads } from './task-threads.ts';
import { LeaderLock } from './leader.ts';
import { dailyTick, type DailyResult } from './daily.ts';
import { runPipeline, type RunManifest, type RunOptions, type Step } from './runner.ts';

/** The BullMQ queue `config.queue` names (for run `runId` when enqueuing); DeepcutError('config') when `queue.url` is unset. */
export function queueOf(config: Config, runId?: string): BullmqQueue {
  const q = config.queue;
  if (!q.url) throw new DeepcutError('config', 'queue.url is not set: the fleet roles need the task queue (e.g. --set queue.url=redis://127.0.0.1:6379 or DEEPCUT_QUEUE_URL)');
  return new BullmqQueue({ url: q.url, prefix: q.prefix, runId, attempts: q.attempts, backoffMs: q.backoffSeconds * 1000, leaseMs: q.leaseSeconds * 1000 });
}

/** The pipeline's steps, loaded when a role first needs them (they import every model family). */
async function pipelineSteps(): Promise<Step[]> {
  return (await import('./steps.ts')).defaultSteps();
}

export interface WorkerHandle {
  /** Stop taking tasks, let the ones under way finish, close the queue and the store. */
  stop(): Promise<void>;
}

/**
 * A worker: takes pipeline tasks of any run from the queue, `concurrency` at a time, until stopped.
 * Needs `databaseUrl` (the store every role shares) and `queue.url`. Each task runs on a worker
 * thread of its own store connection ({@link TaskThreads} `withStore`), so this thread renews the
 * queue's lease however long a task computes; given its own `steps` (tests), a worker runs them on
 * this thread.
 * @example const w = await startWorker(config, { concurrency: 2 }); … await w.stop()
 */
export async function startWorker(config: Config, o: { concurrency?: number; steps?: readonly Step[] } = {}): Promise<WorkerHandle> {
  if (!config.databaseUrl) throw new DeepcutError('config', 'a worker needs the shared PostgreSQL store: set DATABASE_URL (the embedded mode runs its tasks in the process that runs the pipeline)');
  const queue = queueOf(config);
  // opened here also when the tasks run on threads: its migrations run once, before the threads open theirs
  const store = await openStore({ home: config.home, databaseUrl: config.databaseUrl });
  const log = makeLog('worker');
  const concurrency = o.concurrency ?? 1;
  const threads = o.steps ? undefined : new TaskThreads(config, concurrency, { withStore: true });
  try {
    const handler = threads ? threads.handler() : stepTaskHandler({ config, store, steps: o.steps ?? (await pipelineSteps()) });
    await queue.work(handler, concurrency, {
      started: (t, attempt, waitMs) => log.info({ task: t.id, run: (t.payload as { runId?: string }).runId, attempt, wait_ms: waitMs }, 'task started'),
      completed: (t) => log.info({ task: t.id, run: (t.payload as { runId?: string }).runId }, 'task done'),
      failed: (t, attempts, error) => log.warn({ task: t.id, run: (t.payload as { runId?: string }).runId, attempts, err: error }, 'task failed'),
      error: (e) => log.error({ err: e.message }, 'queue error'),
    });
  } catch (e) {
    await queue.close().catch(() => undefined);
    await threads?.close();
    await store.close();
    throw e;
  }
  log.info({ concurrency, threads: threads ? concurrency : 0, queue: config.queue.prefix, host: hostname(), pid: process.pid }, 'worker ready');
  return {
    async stop() {
      await queue.close();
      await threads?.close();
      await store.close();
    },
  };
}

export interface SchedulerHandle {
  /** Resolves when this scheduler has become the active one. */
  active: Promise<void>;
  /** Stop: give the lock up (a standby takes over at once). A run under way is left to the next active scheduler, which resumes it. */
  stop(): Promise<void>;
}

/**
 * A scheduler: waits for the leader lock (polling every `scheduler.standbyPollSeconds`), then
 * every `scheduler.tickSeconds` starts or resumes the day's run when it is due. `onLost` is called
 * when the lock is lost (the caller must stop acting: the CLI exits).
 */
export function startScheduler(config: Config, o: { clock: Clock; steps?: readonly Step[]; onLost?: (why: string) => void; onTick?: (r: DailyResult) => void }): SchedulerHandle {
  if (!config.databaseUrl) throw new DeepcutError('config', 'a scheduler needs the shared PostgreSQL store (DATABASE_URL): one of several is active through an advisory lock. In the embedded mode `deepcut serve` runs the schedule.');
  queueOf(config).close().catch(() => undefined); // checks queue.url now
  const log = makeLog('scheduler');
  const lock = new LeaderLock(config.databaseUrl);
  const abort = new AbortController();
  let store: Store | undefined;
  let becameActive!: () => void;
  const active = new Promise<void>((res) => (becameActive = res));
  lock.onLost((why) => {
    log.error({ err: why }, 'leader lock lost: this scheduler stops');
    abort.abort();
    o.onLost?.(why);
  });
  const loop = (async () => {
    log.info({ host: hostname(), pid: process.pid }, 'scheduler standing by');
    if (!(await lock.acquire(config.scheduler.standbyPollSeconds * 1000, abort.signal))) return;
    log.info({ host: hostname(), pid: process.pid }, 'scheduler active');
    becameActive();
    store = await openStore({ home: config.home, databaseUrl: config.databaseUrl });
    const steps = o.steps ?? (await pipelineSteps());
    while (!abort.signal.aborted) {
      try {
        o.onTick?.(await dailyTick({ config, store, clock: o.clock, steps, queue: (runId) => queueOf(config, runId), parallelSteps: 4 }));
      } catch (e) {
        log.error({ err: (e as Error).message }, 'scheduler tick failed; trying again at the next tick');
      }
      await new Promise<void>((res) => {
        const t = setTimeout(res, config.scheduler.tickSeconds * 1000);
        abort.signal.addEventListener('abort', () => (clearTimeout(t), res()), { once: true });
      });
    }
  })();
  loop.catch((e: unknown) => log.error({ err: (e as Error).message }, 'scheduler loop failed'));
  return {
    active,
    async stop() {
      abort.abort();
      await lock.close();
      await store?.close().catch(() => undefined);
    },
  };
}

/**
 * Run the pipeline with its tasks on the queue (`queue.url`): `deepcut worker` processes take
 * them; this process only plans and records. A bench starts N workers and calls this.
 * @example const m = await runOnQueue(config, store, { clock: systemClock })
 */
export async function runOnQueue(config: Config, store: Store, o: Omit<RunOptions, 'config' | 'store' | 'queue'> & { steps?: readonly Step[] }): Promise<RunManifest> {
  const steps = o.steps ?? (await pipelineSteps());
  return runPipeline(steps, { ...o, config, store, queue: (runId) => queueOf(config, runId), parallelSteps: o.parallelSteps ?? 4 });
}

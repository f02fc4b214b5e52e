/**
 * The fleet's task queue on BullMQ (Redis): a run's tasks are jobs whose id is `<run>.<task>`, so
 * a task enqueued twice (two schedulers, a resumed run) is one job, a task finished before a crash
 * is not run again, and a dead-lettered one is retried when the run is resumed. Any number of
 * worker processes take jobs ({@link BullmqQueue.work}); a worker killed mid-task loses its lock
 * after `leaseMs` and the job runs again on another worker. Failed attempts are retried with
 * exponential backoff; after the last, the job stays in BullMQ's failed list with its error: our
 * dead letters. docs/scale.md says why BullMQ.
 */
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { permanentCode, type DeadTask, type Task, type TaskHandler, type TaskQueue, type TaskReport } from './tasks.ts';

export interface BullmqOptions {
  /** Redis URL, e.g. `redis://127.0.0.1:6379`. */
  url: string;
  /** Key prefix of every queue key (tests and deployments namespace by it); default `deepcut`. */
  prefix?: string;
  /** The run whose tasks {@link BullmqQueue.run} enqueues: job ids are `<run>.<task id>`. A worker, which takes any run's tasks, needs none. */
  runId?: string;
  attempts?: number;
  backoffMs?: number;
  /** A started job whose worker stops renewing its lock for this long runs again elsewhere; default 10 s. */
  leaseMs?: number;
  /** How often `run` looks at its jobs' states; default 200 ms. */
  pollMs?: number;
  /** Times a job may lose its lease (its worker died or stalled) before it fails; default 2. */
  maxStalls?: number;
  /**
   * Whether the process that calls {@link BullmqQueue.run} works on the tasks too, with the handler
   * it is given (tests, a one-machine fleet). Default false: a fleet's scheduler only enqueues and
   * waits, `deepcut worker` processes run the tasks.
   */
  workHere?: boolean;
}

/** Finished jobs are kept this long (a resumed run finds them); failed ones too (the dead letters). */
const KEEP_SECONDS = 7 * 24 * 3600;

const QUEUE = 'pipeline-tasks';

function connection(url: string) {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379), ...(u.password ? { password: decodeURIComponent(u.password) } : {}), ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}), maxRetriesPerRequest: null };
}

const jobId = (runId: string, task: Task) => `${runId}.${task.id}`.replace(/:/g, '.');

/** What a worker reports as it goes (logging). */
export interface WorkerEvents {
  /** `waitMs`: from the task's enqueueing (or its retry's due time) to its start here. */
  started?(t: Task, attempt: number, waitMs: number): void;
  completed?(t: Task): void;
  failed?(t: Task, attempts: number, error: string): void;
  error?(e: Error): void;
}

export class BullmqQueue implements TaskQueue {
  private readonly queue: Queue;
  private readonly workers: Worker[] = [];

  constructor(private readonly o: BullmqOptions) {
    this.queue = new Queue(QUEUE, { connection: connection(o.url), prefix: o.prefix ?? 'deepcut' });
  }

  /**
   * Take tasks in this process, `concurrency` at a time, with `handler` (a `deepcut worker`).
   * Resolves when the worker is connected.
   */
  async work(handler: TaskHandler, concurrency = 1, events: WorkerEvents = {}): Promise<void> {
    const lease = this.o.leaseMs ?? 10_000;
    const w = new Worker(
      QUEUE,
      async (job: Job) => {
        events.started?.(job.data as Task, job.attemptsMade + 1, Math.max(0, (job.processedOn ?? Date.now()) - job.timestamp - (job.attemptsMade ? 0 : (job.delay ?? 0))));
        try {
          return (await handler(job.data as Task)) ?? null;
        } catch (e) {
          // an expected failure (bad input, a gate): no retry can fix it
          if (permanentCode(e)) throw new UnrecoverableError((e as Error).message);
          throw e;
        }
      },
      { connection: connection(this.o.url), prefix: this.o.prefix ?? 'deepcut', concurrency, lockDuration: lease, stalledInterval: lease / 2, maxStalledCount: this.o.maxStalls ?? 2 },
    );
    w.on('error', (e) => events.error?.(e));
    w.on('failed', (job, e) => job && events.failed?.(job.data as Task, job.attemptsMade, e.message));
    w.on('completed', (job) => events.completed?.(job.data as Task));
    this.workers.push(w);
    await w.waitUntilReady();
  }

  /**
   * Enqueue `tasks` (each once: finished ones are kept, dead ones retried) and wait until every one
   * is done or dead. With `workHere`, this process works on them too with `handler`; otherwise
   * worker processes must.
   */
  async run(tasks: readonly Task[], handler?: TaskHandler): Promise<TaskReport> {
    const runId = this.runId();
    if (handler && this.o.workHere && !this.workers.length) await this.work(handler);
    for (const t of tasks) {
      const id = jobId(runId, t);
      const job = await this.queue.getJob(id);
      if (!job) await this.queue.add(t.kind, t, { jobId: id, attempts: this.o.attempts ?? 3, backoff: { type: 'exponential', delay: this.o.backoffMs ?? 1000 }, removeOnComplete: { age: KEEP_SECONDS }, removeOnFail: { age: KEEP_SECONDS } });
      else if ((await job.getState()) === 'failed') await job.retry('failed');
    }
    const pending = new Set(tasks.map((t) => t.id));
    const dead = new Map<string, DeadTask>();
    const results: Record<string, unknown> = {};
    while (pending.size) {
      for (const t of tasks) {
        if (!pending.has(t.id)) continue;
        const job = await this.queue.getJob(jobId(runId, t));
        const state = job ? await job.getState() : 'unknown';
        if (state === 'completed') {
          pending.delete(t.id);
          if (job?.returnvalue !== null && job?.returnvalue !== undefined) results[t.id] = job.returnvalue;
        } else if (state === 'failed' && job) {
          pending.delete(t.id);
          // read again: the job read before its state may predate the last attempt's failure
          const last = (await this.queue.getJob(jobId(runId, t))) ?? job;
          dead.set(t.id, { id: t.id, kind: t.kind, attempts: last.attemptsMade, error: last.failedReason });
        }
      }
      if (pending.size) await new Promise((r) => setTimeout(r, this.o.pollMs ?? 200));
    }
    return { done: tasks.filter((t) => !dead.has(t.id)).map((t) => t.id), dead: tasks.filter((t) => dead.has(t.id)).map((t) => dead.get(t.id)!), results };
  }

  private runId(): string {
    if (!this.o.runId) throw new Error('BullmqQueue.run needs the run id (options.runId)');
    return this.o.runId;
  }

  /** The dead letters of this queue's run: failed jobs with their errors. */
  async deadLetters(): Promise<DeadTask[]> {
    const failed = await this.queue.getFailed();
    const runId = this.runId();
    return failed.filter((j) => j.id?.startsWith(`${runId}.`)).map((j) => ({ id: (j.data as Task).id, kind: (j.data as Task).kind, attempts: j.attemptsMade, error: j.failedReason }));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    await this.queue.close();
  }

  /** Remove every key of this queue's prefix (tests). */
  async obliterate(): Promise<void> {
    await this.queue.obliterate({ force: true });
  }
}

/**
 * Worker threads for a one-process run: the parts of a step that reads run files only (the
 * playlists shards: `Step.partsInThreads`) run on `pipeline.threads` threads of this process at
 * once, so a 2-core machine makes two shards at a time. Each thread runs the same task handler as
 * any worker (src/pipeline/task-exec.ts) over the default steps, loads the run's inputs once and
 * keeps them for the shards it takes; the bytes a task writes do not depend on the thread.
 *
 * In a one-process run a thread holds no store: a step whose parts touch it must not set
 * `partsInThreads` (its tasks fail naming the store method). A `deepcut worker` runs every task on
 * a thread that opens its own connection to the shared PostgreSQL store (`withStore`), so the
 * worker's event loop stays free to renew the queue's lease while a task computes (a synchronous
 * stretch longer than `queue.leaseSeconds` on the main thread lost the lease, and the task ran on
 * two workers at once). A thread that dies (out of memory, a crash) fails its task, which the queue
 * retries on a fresh thread. Progress bars a thread starts are drawn by this thread.
 */
import { Worker } from 'node:worker_threads';
import { extname } from 'node:path';
import type { Config } from '../config/config.ts';
import { DeepcutError, type ErrorCode } from '../errors.ts';
import { logger } from '../log.ts';
import { progress, type Progress } from '../util/progress.ts';
import type { Task, TaskHandler } from './tasks.ts';

/** What a thread answers for a task. */
export type ThreadReply =
  | { type: 'done'; id: number; result: unknown }
  | { type: 'failed'; id: number; error: string; code?: string }
  | { type: 'progress'; label: string; total: number; tick: number; done?: boolean };

/** What a thread is started with (workerData). */
export interface ThreadData {
  /** The module a thread runs (task-thread-main.ts, or .js when compiled). */
  entry: string;
  config: Config;
  logLevel: string;
  /** Open the config's PostgreSQL store in the thread (a fleet worker's threads); else none. */
  withStore?: boolean;
}

/** Started threads, each running at most one task; a dead one is replaced at the next task. */
export class TaskThreads {
  private readonly idle: Worker[] = [];
  private readonly all = new Set<Worker>();
  private readonly waiting = new Map<number, { resolve(r: unknown): void; reject(e: unknown): void }>();
  private readonly bars = new Map<string, Progress>();
  private next = 1;

  constructor(
    private readonly config: Config,
    readonly size: number,
    private readonly o: { withStore?: boolean } = {},
  ) {}

  /** A handler that runs each task on a free thread (at most {@link size} at once: the queue's concurrency). */
  handler(): TaskHandler {
    return (t) => this.run(t);
  }

  private start(): Worker {
    const ext = extname(new URL(import.meta.url).pathname);
    const data: ThreadData = { entry: new URL(`./task-thread-main${ext}`, import.meta.url).href, config: this.config, logLevel: logger().level, withStore: this.o.withStore };
    const w = new Worker(new URL('./workers/task-thread.mjs', import.meta.url), { workerData: data });
    const current = new Map<number, true>();
    w.on('message', (m: ThreadReply) => {
      if (m.type === 'progress') return this.progress(m);
      const p = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      current.delete(m.id);
      if (!p) return;
      if (m.type === 'done') p.resolve(m.result);
      else p.reject(m.code ? new DeepcutError(m.code as ErrorCode, m.error) : new Error(m.error));
    });
    const dead = (why: string) => {
      this.all.delete(w);
      const i = this.idle.indexOf(w);
      if (i >= 0) this.idle.splice(i, 1);
      for (const id of current.keys()) {
        this.waiting.get(id)?.reject(new Error(`the worker thread running this task died: ${why}`));
        this.waiting.delete(id);
      }
    };
    w.on('error', (e) => dead(e.stack ?? e.message));
    w.on('exit', (code) => dead(`exit code ${code}`));
    (w as Worker & { tasks?: Map<number, true> }).tasks = current;
    this.all.add(w);
    return w;
  }

  private async run(t: Task): Promise<unknown> {
    const w = this.idle.pop() ?? this.start();
    const id = this.next++;
    try {
      return await new Promise((resolve, reject) => {
        this.waiting.set(id, { resolve, reject });
        (w as Worker & { tasks: Map<number, true> }).tasks.set(id, true);
        w.postMessage({ id, task: t });
      });
    } finally {
      if (this.all.has(w)) this.idle.push(w);
    }
  }

  /** A thread's progress bar, drawn here: one bar per label, whichever threads tick it. */
  private progress(m: Extract<ThreadReply, { type: 'progress' }>): void {
    let bar = this.bars.get(m.label);
    if (!bar) this.bars.set(m.label, (bar = progress(m.label, m.total)));
    if (m.tick) bar.tick(m.tick);
  }

  /** Stop every thread (their run inputs are freed) and finish the bars. */
  async close(): Promise<void> {
    for (const b of this.bars.values()) b.done();
    this.bars.clear();
    const ws = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    await Promise.all(ws.map((w) => w.terminate()));
  }
}

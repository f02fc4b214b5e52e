/**
 * Tasks: the pieces a pipeline step is cut into (e.g. "playlists for shard i of n") and the queue
 * that runs them. Every task is idempotent and seeded: run twice, it writes the same bytes, so a
 * retry after a crash or a second worker is harmless. A task that keeps failing is dead-lettered
 * with its error; the step then fails naming it (and the run is never published).
 *
 * {@link InProcessQueue} runs tasks in this process (the embedded mode: `deepcut demo`,
 * `deepcut pipeline run`). The fleet runs the same tasks on BullMQ (docs/scale.md says why): the
 * queue interface here is what a BullMQ-backed queue implements.
 */
export interface Task {
  /** Unique within the run, e.g. `playlists:3-of-10`. */
  id: string;
  kind: string;
  payload: Record<string, unknown>;
}

/** A task that failed every attempt, with its last error. */
export interface DeadTask {
  id: string;
  kind: string;
  attempts: number;
  error: string;
}

export interface TaskReport {
  done: string[];
  dead: DeadTask[];
}

export interface TaskQueue {
  /** Run every task through `handler` (retried on failure); resolves when each is done or dead. */
  run(tasks: readonly Task[], handler: (t: Task) => Promise<void>): Promise<TaskReport>;
}

export interface RetryPolicy {
  /** Attempts per task (first run included); default 3. */
  attempts?: number;
  /** Delay before the first retry; doubled each retry. Default 1000 ms. */
  backoffMs?: number;
  /** Tasks run at once; default 1. */
  concurrency?: number;
  /** Called when an attempt fails (logging). */
  onFailure?: (t: Task, attempt: number, error: string) => void;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Tasks in this process, `concurrency` at a time, each retried with exponential backoff, then dead-lettered. */
export class InProcessQueue implements TaskQueue {
  constructor(private readonly policy: RetryPolicy = {}) {}

  async run(tasks: readonly Task[], handler: (t: Task) => Promise<void>): Promise<TaskReport> {
    const attempts = this.policy.attempts ?? 3;
    const backoff = this.policy.backoffMs ?? 1000;
    const report: TaskReport = { done: [], dead: [] };
    const doneSet = new Set<string>();
    const deadById = new Map<string, DeadTask>();
    let next = 0;
    const one = async (t: Task) => {
      for (let a = 1; ; a++) {
        try {
          await handler(t);
          doneSet.add(t.id);
          return;
        } catch (e) {
          this.policy.onFailure?.(t, a, message(e));
          if (a >= attempts) {
            deadById.set(t.id, { id: t.id, kind: t.kind, attempts: a, error: message(e) });
            return;
          }
          await new Promise((r) => setTimeout(r, backoff * 2 ** (a - 1)));
        }
      }
    };
    const lane = async () => {
      while (next < tasks.length) await one(tasks[next++]);
    };
    await Promise.all(Array.from({ length: Math.max(1, this.policy.concurrency ?? 1) }, lane));
    // in task order, whatever order they finished in
    for (const t of tasks) {
      if (doneSet.has(t.id)) report.done.push(t.id);
      const d = deadById.get(t.id);
      if (d) report.dead.push(d);
    }
    return report;
  }
}

/** A step's failure because some of its tasks died; `dead` lists them with their errors. */
export class DeadTasksError extends Error {
  constructor(
    readonly step: string,
    readonly dead: DeadTask[],
  ) {
    super(`step ${step}: ${dead.length} task(s) dead-lettered: ${dead.map((d) => `${d.id} (after ${d.attempts} attempts: ${d.error})`).join('; ')}`);
    this.name = 'DeadTasksError';
  }
}

/** Throw {@link DeadTasksError} when tasks died: the step fails naming each and its error (the run is never published). */
export function assertNoDeadTasks(step: string, r: TaskReport): void {
  if (r.dead.length) throw new DeadTasksError(step, r.dead);
}

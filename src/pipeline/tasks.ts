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
import { isDeepcutError } from '../errors.ts';

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
  /** The error's kind when it was an expected failure (DeepcutError code, e.g. `blocked`): such a task is not retried. */
  code?: string;
  /** The thrown error itself, when the task ran in this process (not enumerable: never serialized or compared). */
  cause?: unknown;
}

/** Error kinds a retry cannot fix (the input is what it is): the task dies at its first failure. */
export const PERMANENT_CODES: readonly string[] = ['blocked', 'invalid_input', 'config'];

/** The DeepcutError code of `e` when a retry cannot help, else undefined. */
export function permanentCode(e: unknown): string | undefined {
  const code = isDeepcutError(e) ? e.code : undefined;
  return code && PERMANENT_CODES.includes(code) ? code : undefined;
}

export interface TaskReport {
  done: string[];
  dead: DeadTask[];
  /** What each done task's handler returned (JSON), by task id; absent for tasks that return nothing. */
  results: Record<string, unknown>;
}

/** Runs a task where it is taken; what it returns (JSON) is the task's result. */
export type TaskHandler = (t: Task) => Promise<unknown>;

export interface TaskQueue {
  /**
   * Run every task (retried on failure) and resolve when each is done or dead. An in-process
   * queue runs them with `handler`; a fleet's queue may leave them to its workers, whose handler
   * is the same function.
   */
  run(tasks: readonly Task[], handler: TaskHandler): Promise<TaskReport>;
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

  async run(tasks: readonly Task[], handler: TaskHandler): Promise<TaskReport> {
    const attempts = this.policy.attempts ?? 3;
    const backoff = this.policy.backoffMs ?? 1000;
    const report: TaskReport = { done: [], dead: [], results: {} };
    const doneSet = new Set<string>();
    const deadById = new Map<string, DeadTask>();
    let next = 0;
    const one = async (t: Task) => {
      for (let a = 1; ; a++) {
        try {
          const r = await handler(t);
          if (r !== undefined) report.results[t.id] = r;
          doneSet.add(t.id);
          return;
        } catch (e) {
          this.policy.onFailure?.(t, a, message(e));
          const code = permanentCode(e);
          if (a >= attempts || code) {
            deadById.set(t.id, Object.defineProperty({ id: t.id, kind: t.kind, attempts: a, error: message(e), ...(code ? { code } : {}) }, 'cause', { value: e, enumerable: false }));
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
    super(`step ${step}: ${dead.length} task(s) dead-lettered: ${dead.map((d) => `${d.id} (after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}: ${d.error})`).join('; ')}`);
    this.name = 'DeadTasksError';
  }
}

/** Throw {@link DeadTasksError} when tasks died: the step fails naming each and its error (the run is never published). */
export function assertNoDeadTasks(step: string, r: TaskReport): void {
  if (r.dead.length) throw new DeadTasksError(step, r.dead);
}

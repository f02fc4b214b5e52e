/**
 * The fleet's daily run, as the active scheduler (`deepcut scheduler`) drives it: at
 * `scheduler.retrainHour` in `scheduler.timeZone` the day's run is due; the scheduler claims the
 * day with one unique row in the store ({@link DAYS_META}, `Store.claimMeta`), so the run starts
 * once however many schedulers tick, and runs it on the task queue, where `deepcut worker`
 * processes take its tasks. The run's id and its clock come from its scheduled time, so it is the
 * same run wherever and whenever it is (re)started. Its manifest is kept in the store at every
 * change: a scheduler that takes over from a dead one finds the day claimed and its run still
 * `running`, and resumes it — finished tasks are kept (BullMQ holds their results under the
 * run's job ids), tasks under way on workers carry on. A run that succeeds is published if it
 * passes the gate; a failed or gated one is never published.
 */
import { Cron } from 'croner';
import { hostname } from 'node:os';
import type { Config } from '../config/config.ts';
import type { Store } from '../store/index.ts';
import type { Clock } from '../core/clock.ts';
import { log as makeLog } from '../log.ts';
import { RUNS_META, publish, runPipeline, type RunManifest, type Step } from './runner.ts';
import type { TaskQueue } from './tasks.ts';

/** The store's meta namespace of claimed days: key = the run's scheduled time (ISO), value {@link DayClaim}. */
export const DAYS_META = 'pipeline-days';

export interface DayClaim {
  runId: string;
  claimedAt: string;
  /** `host:pid` of the scheduler that claimed it. */
  by: string;
}

/** The latest daily occurrence of `hour`:00 in `timeZone` at or before `now`. */
export function dueRun(hour: number, timeZone: string, now: Date): Date {
  const cron = new Cron(`0 ${hour} * * *`, { timezone: timeZone, paused: true });
  try {
    let due: Date | null = null;
    let next = cron.nextRun(new Date(now.getTime() - 26 * 3600_000));
    while (next && next.getTime() <= now.getTime()) {
      due = next;
      next = cron.nextRun(next);
    }
    if (!due) throw new Error(`no daily occurrence of ${hour}:00 ${timeZone} in the 26 h before ${now.toISOString()}`);
    return due;
  } finally {
    cron.stop();
  }
}

/** The id of the daily run scheduled at `due`: `20261206T030000Z-daily`. */
export function dayRunId(due: Date): string {
  return `${due.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-daily`;
}

export interface DailyOptions {
  config: Config;
  store: Store;
  /** The wall clock (when the run is due; the records' times). */
  clock: Clock;
  steps: readonly Step[];
  /** The task queue for run `runId` (BullMQ in a fleet); closed after the run when it has `close`. */
  queue(runId: string): TaskQueue & { close?(): Promise<void> };
  parallelSteps?: number;
}

export interface DailyResult {
  runId: string;
  /** `started`: claimed now; `resumed`: claimed before by a scheduler that is gone; `none`: the day's run exists and is finished. */
  action: 'started' | 'resumed' | 'none';
  status?: RunManifest['status'];
  published?: boolean;
  error?: string;
}

/**
 * One tick of the active scheduler: start (or resume) the daily run that is due, run it to the
 * end, publish it if it passes the gate. Must only be called by the holder of the leader lock.
 */
export async function dailyTick(o: DailyOptions): Promise<DailyResult> {
  const log = makeLog('scheduler');
  const due = dueRun(o.config.scheduler.retrainHour, o.config.scheduler.timeZone, o.clock.now());
  const runId = dayRunId(due);
  const claimed = await o.store.claimMeta(DAYS_META, due.toISOString(), { runId, claimedAt: o.clock.now().toISOString(), by: `${hostname()}:${process.pid}` } satisfies DayClaim);
  const known = await o.store.getMeta<RunManifest>(RUNS_META, runId);
  if (!claimed && known && known.status !== 'running') return { runId, action: 'none', status: known.status };
  const action = claimed ? 'started' : 'resumed';
  log.info({ run: runId, scheduled_for: due.toISOString() }, claimed ? 'daily run started' : 'daily run resumed (its scheduler is gone)');
  const queue = o.queue(runId);
  try {
    const m = await runPipeline(o.steps, {
      config: o.config,
      store: o.store,
      clock: o.clock,
      ...(known ? { resume: runId, takeover: true } : { runId, now: due }),
      queue,
      parallelSteps: o.parallelSteps,
    });
    try {
      await publish(o.steps, o.config.home, runId, { tolerance: o.config.pipeline.regressionTolerance, clock: o.clock, store: o.store });
      log.info({ run: runId }, 'daily run published');
      return { runId, action, status: m.status, published: true };
    } catch (e) {
      log.error({ run: runId, err: (e as Error).message }, 'daily run not published');
      return { runId, action, status: m.status, published: false, error: (e as Error).message };
    }
  } catch (e) {
    log.error({ run: runId, err: (e as Error).message }, 'daily run failed');
    return { runId, action, status: 'failed', published: false, error: (e as Error).message };
  } finally {
    await queue.close?.();
  }
}

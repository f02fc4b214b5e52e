/**
 * The scheduler: cron jobs (croner) whose last scheduled time is kept in the store, so after
 * downtime each missed job runs once (for its latest missed occurrence), not once per missed
 * occurrence. Jobs: the daily retrain at `scheduler.retrainHour`; Discover Weekly every Monday
 * 00:00 and Release Radar every Friday 00:00 in each user time zone. `tick()` is the whole logic
 * (tests drive it with a fixed clock); `start()` calls it every 30 s.
 */
import { Cron } from 'croner';
import type { Store } from '../store/index.ts';
import type { Clock } from '../core/clock.ts';
import { log } from '../log.ts';

export interface ScheduledJob {
  /** Unique name, also the key of its state: `retrain`, `discover-weekly@Europe/Berlin`. */
  name: string;
  /** Five-field cron expression, e.g. `0 0 * * 1` (Mondays 00:00). */
  cron: string;
  timeZone: string;
  run(scheduledFor: Date): Promise<void>;
}

interface JobState {
  /** The occurrence the job last ran for (ISO). */
  lastScheduledFor: string;
  lastRunAt: string;
  lastError?: string;
}

export interface TickResult {
  job: string;
  scheduledFor: string;
  ok: boolean;
  error?: string;
}

export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<TickResult[]> | undefined;
  private readonly crons: Map<string, Cron>;

  constructor(
    private readonly jobs: readonly ScheduledJob[],
    private readonly store: Store,
    private readonly clock: Clock,
  ) {
    this.crons = new Map(jobs.map((j) => [j.name, new Cron(j.cron, { timezone: j.timeZone, paused: true })]));
  }

  /** The latest occurrence of `job` at or before `now` that is after `after`, or undefined. */
  private latestDue(job: ScheduledJob, after: Date, now: Date): Date | undefined {
    const cron = this.crons.get(job.name)!;
    let due: Date | undefined;
    let next = cron.nextRun(after);
    while (next && next.getTime() <= now.getTime()) {
      due = next;
      next = cron.nextRun(next);
    }
    return due;
  }

  /**
   * Run every job that has an occurrence due since it last ran. A job never seen before starts
   * counting from now (no catch-up of history it never promised).
   */
  async tick(): Promise<TickResult[]> {
    const now = this.clock.now();
    const out: TickResult[] = [];
    for (const job of this.jobs) {
      const state = await this.store.getMeta<JobState>('scheduler', job.name);
      if (!state) {
        await this.store.putMeta('scheduler', job.name, { lastScheduledFor: now.toISOString(), lastRunAt: now.toISOString() } satisfies JobState);
        continue;
      }
      const due = this.latestDue(job, new Date(state.lastScheduledFor), now);
      if (!due) continue;
      const r: TickResult = { job: job.name, scheduledFor: due.toISOString(), ok: true };
      try {
        await job.run(due);
      } catch (e) {
        r.ok = false;
        r.error = e instanceof Error ? e.message : String(e);
        log('scheduler').error({ job: job.name, err: r.error }, 'job failed');
      }
      // a failed job is not retried in a loop: it runs again at its next occurrence
      await this.store.putMeta('scheduler', job.name, { lastScheduledFor: due.toISOString(), lastRunAt: this.clock.now().toISOString(), ...(r.error ? { lastError: r.error } : {}) } satisfies JobState);
      out.push(r);
    }
    return out;
  }

  /** Tick now (catch-up after downtime), then every `intervalMs`; ticks never overlap. */
  start(intervalMs = 30_000): void {
    const go = () => {
      if (!this.running) this.running = this.tick().finally(() => (this.running = undefined));
    };
    go();
    this.timer = setInterval(go, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    for (const c of this.crons.values()) c.stop();
  }
}

export interface JobActions {
  retrain(at: Date): Promise<void>;
  discoverWeekly(timeZone: string, at: Date): Promise<void>;
  releaseRadar(timeZone: string, at: Date): Promise<void>;
}

/** The daily retrain at `retrainHour` in `timeZone`. */
export function retrainJob(retrainHour: number, timeZone: string, run: (at: Date) => Promise<void>): ScheduledJob {
  return { name: 'retrain', cron: `0 ${retrainHour} * * *`, timeZone, run };
}

/** The standard jobs: daily retrain, and Monday/Friday playlists in each users' time zone. */
export function standardJobs(retrainHour: number, schedulerZone: string, userZones: Iterable<string>, a: JobActions): ScheduledJob[] {
  const jobs: ScheduledJob[] = [retrainJob(retrainHour, schedulerZone, (at) => a.retrain(at))];
  for (const tz of [...new Set(userZones)].sort()) {
    jobs.push({ name: `discover-weekly@${tz}`, cron: '0 0 * * 1', timeZone: tz, run: (at) => a.discoverWeekly(tz, at) });
    jobs.push({ name: `release-radar@${tz}`, cron: '0 0 * * 5', timeZone: tz, run: (at) => a.releaseRadar(tz, at) });
  }
  return jobs;
}

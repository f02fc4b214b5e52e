/**
 * The daily retrain inside the serving process (which owns the embedded store): close the
 * impression log's current file so the bandit step loads it, run the pipeline, publish the run
 * if it passes the gate, then swap the serving state for one loaded from the new run, without a
 * restart. A failed or gated run leaves serving as it was and fails the job (the scheduler logs
 * it and tries again at the next occurrence).
 *
 * Listens posted while the pipeline runs: those committed before the `signals` step reads the
 * store are in the new model; those after are kept as they arrive and folded into the new live
 * model after the swap, so no posted listen is missing from recommendations. (A listen committed
 * in the milliseconds between the step's start and its read counts twice in that user's fold-in
 * until the next retrain.)
 */
import type { Config } from '../config/config.ts';
import type { Listen } from '../domain/schemas.ts';
import type { Store } from '../store/index.ts';
import type { Clock } from '../core/clock.ts';
import type { Step } from '../pipeline/index.ts';
import { runPipeline, publish } from '../pipeline/index.ts';
import { loadServingState } from '../serving/index.ts';
import type { ServingState } from '../serving/index.ts';
import { Scheduler, retrainJob } from '../pipeline/index.ts';
import { log } from '../log.ts';

export interface RetrainOptions {
  clock: Clock;
  /** Pipeline steps (default: all). */
  steps?: readonly Step[];
}

/** Replace every source of `state` by those of `next` (the server reads `state` per request). */
export function swapState(state: ServingState, next: ServingState): void {
  for (const k of Object.keys(state) as (keyof ServingState)[]) if (!(k in next)) delete state[k];
  Object.assign(state, next);
}

/** Serve `next` in place of `state`: swap every source, warm the new one, close the old home page (its impressions flushed). */
export async function serveInPlace(state: ServingState, next: ServingState): Promise<void> {
  const old = state.home;
  swapState(state, next);
  next.warmUp?.();
  await (old?.close ?? old?.flush)?.call(old);
}

/** The retrain job's work: pipeline, publish, reload, swap; returns the published run id. */
export async function retrain(store: Store, config: Config, state: ServingState, o: RetrainOptions): Promise<string> {
  const l = log('retrain');
  // the steps (and TensorFlow.js with them) are loaded when a retrain starts, not when serving starts
  const steps = o.steps ?? (await import('../pipeline/steps.ts')).defaultSteps();
  await state.home?.flush?.();
  const late: Pick<Listen, 'user_id' | 'track_id' | 'ms_played' | 'skipped'>[] = [];
  const recs = state.recs;
  const observe = recs?.observe.bind(recs);
  let keeping = false;
  if (recs && observe) {
    recs.observe = (rows) => {
      if (keeping) late.push(...rows);
      observe(rows);
    };
  }
  try {
    const m = await runPipeline(steps, { config, store, clock: o.clock, onStep: (name, rec) => void (name === 'signals' && rec.status === 'running' && (keeping = true)) });
    l.info({ run: m.runId, status: m.status }, 'pipeline finished');
    await publish(steps, config.home, m.runId, { tolerance: config.pipeline.regressionTolerance, clock: o.clock, store });
    const next = await loadServingState(store, config, { foldInSinceRun: false });
    if (late.length) next.recs?.observe(late);
    await serveInPlace(state, next);
    l.info({ run: m.runId, late_listens: late.length }, 'published and serving the new run');
    return m.runId;
  } finally {
    if (recs && observe) recs.observe = observe;
  }
}

/**
 * Start the daily retrain of a serving process at `scheduler.retrainHour` (in
 * `scheduler.timeZone`); after downtime a missed retrain runs once. Returns the scheduler (stop it
 * on shutdown).
 */
export function startRetrainSchedule(store: Store, config: Config, state: ServingState, o: RetrainOptions & { intervalMs?: number }): Scheduler {
  const job = retrainJob(config.scheduler.retrainHour, config.scheduler.timeZone, async () => void (await retrain(store, config, state, o)));
  const s = new Scheduler([job], store, o.clock);
  s.start(o.intervalMs);
  return s;
}

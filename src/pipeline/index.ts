/**
 * The pipeline stage's front door: run, resume, publish, roll back and list runs (runner.ts), the
 * liveness of runs whose process died (liveness.ts), and the daily scheduler (scheduler.ts).
 *
 * Three more doors, each for a reason: `pipeline/steps.ts`, the DAG of steps, imports every model
 * family (TensorFlow.js among them), so only commands that run or rebuild a run load it;
 * `pipeline/published.ts` opens the published run for reading without any step (serving uses it);
 * and `pipeline/fleet-roles.ts`, the fleet's `worker` and `scheduler` and a run on the task queue
 * (`runOnQueue`), loads BullMQ and a PostgreSQL client that nothing else needs.
 *
 * ```ts
 * const run = await runPipeline(defaultSteps(), { config, store, clock: systemClock });
 * await publish(defaultSteps(), config.home, run.runId, { tolerance: 0.02, clock: systemClock });
 * ```
 */
export * from './runner.ts';
export * from './liveness.ts';
export { latestOfAllRuns, listAllRuns, reapDeadRunsEverywhere } from './run-list.ts';
export { mirrorRun, RUNS_META } from './run-mirror.ts';
export * from './scheduler.ts';

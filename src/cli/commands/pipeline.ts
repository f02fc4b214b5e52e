import type { Command } from 'commander';
import { emit, table } from '../output.ts';
import type { RunManifest } from '../../pipeline/index.ts';
import type { Config } from '../../config/config.ts';
import type { Store } from '../../store/index.ts';
import { DeepcutError } from '../../errors.ts';

/** What the actions run, imported only when one runs (`--help` loads none of it: see program.ts). */
const load = async () => ({
  ...(await import('../context.ts')),
  ...(await import('../../log.ts')),
  ...(await import('../../pipeline/index.ts')),
  ...(await import('../../core/clock.ts')),
});
/** The pipeline's steps import every model: only `run` and `publish` load them. */
const loadSteps = async () => ({ ...(await load()), ...(await import('../../pipeline/steps.ts')) });

function runRows(runs: RunManifest[], published?: string) {
  return runs.map((r) => [
    r.runId + (r.runId === published ? ' *' : ''),
    r.blocked ? `blocked at ${r.blocked.step}` : r.status,
    r.order.map((s) => `${s}:${r.steps[s]?.status ?? 'pending'}`).join(' '),
    r.steps.cf?.output?.metrics?.ndcg_at_10 ?? null,
  ]);
}

/**
 * Every run, with runs whose process died marked failed, and the published run: with `DATABASE_URL`
 * from the store (runs mirrored by every builder, the publication row) and this machine's folder;
 * without, from the home's folder (an embedded home's DuckDB file may be held by its server).
 */
async function runsAndPublished(config: Config): Promise<{ runs: RunManifest[]; published: { runId: string; publishedAt: string } | undefined }> {
  const { reapDeadRunsEverywhere, listAllRuns, readPublished, currentPublication, withStore } = await load();
  const read = async (store: Store | undefined) => {
    const reaped = new Map((await reapDeadRunsEverywhere(store, config.home)).map((m) => [m.runId, m]));
    return (await listAllRuns(store, config.home)).map((r) => reaped.get(r.runId) ?? r);
  };
  if (!config.databaseUrl) return { runs: await read(undefined), published: await readPublished(config.home) };
  return withStore(config, async (store) => ({ runs: await read(store), published: await currentPublication(store, config.home) }));
}

/** Dead letters as table rows: step, task, attempts, error. */
const deadRows = (dead: { step: string; id: string; attempts: number; error: string }[]) => dead.map((d) => [d.step, d.id, d.attempts, d.error]);

/** `deepcut pipeline run|status|runs|publish <run>|rollback`. */
export function register(program: Command): void {
  const cmd = program.command('pipeline').description('run, inspect, publish and roll back pipeline runs');
  cmd
    .command('run')
    .description('run the pipeline (import → validate → signals → models → playlists) and publish it if it passes the gate; with queue.url set its tasks run on `deepcut worker` processes')
    .option('--resume <runId>', 'resume a failed or crashed run without redoing finished steps')
    .option('--no-publish', 'leave the run unpublished')
    .action(async (o: { resume?: string; publish: boolean }, c: Command) => {
      const { configFrom, globals, withStore, log, runPipeline, publish, systemClock, defaultSteps } = await loadSteps();
      const config = configFrom(c);
      const steps = defaultSteps();
      const onQueue = config.queue.url ? (await import('../../pipeline/fleet-roles.ts')).queueOf : undefined;
      if (onQueue) process.stderr.write(`pipeline: tasks go to the queue ${config.queue.prefix} on ${new URL(config.queue.url!).host}; \`deepcut worker\` processes run them\n`);
      const result = await withStore(config, async (store) => {
        const m = await runPipeline(steps, {
          config,
          store,
          clock: systemClock,
          resume: o.resume,
          ...(onQueue ? { queue: (runId: string) => onQueue(config, runId), parallelSteps: 4 } : {}),
          onStep: (name, rec) => {
            if (rec.status === 'running') process.stderr.write(`pipeline: ${name} …\n`);
            else process.stderr.write(`pipeline: ${name} ${rec.status} in ${rec.seconds?.toFixed(1)} s\n`);
          },
        });
        let published = false;
        let gateChecks: unknown = undefined;
        if (o.publish) {
          const g = await publish(steps, config.home, m.runId, { tolerance: config.pipeline.regressionTolerance, clock: systemClock, store });
          published = true;
          gateChecks = g.checks;
        }
        return { run: m, published, gate: gateChecks };
      });
      log('pipeline').info({ run: result.run.runId, published: result.published }, 'run finished');
      emit(globals(c), result, (r) => [table(['run', 'status', 'steps', 'ndcg@10'], runRows([r.run])), r.published ? `published ${r.run.runId}` : 'not published'].join('\n'));
    });
  cmd
    .command('status')
    .description('the published run and the latest run')
    .action(async (_o, c: Command) => {
      const { configFrom, globals, deadLetters: deadOf } = await load();
      const config = configFrom(c);
      const { runs, published } = await runsAndPublished(config);
      const latest = runs[runs.length - 1] ?? null;
      const deadLetters = latest ? deadOf(latest) : [];
      emit(globals(c), { published: published ?? null, latest, blocked: latest?.blocked ?? null, deadLetters }, (r) =>
        [
          `published: ${r.published ? `${r.published.runId} (since ${r.published.publishedAt})` : 'none'}`,
          r.latest ? table(['latest run', 'status', 'steps', 'ndcg@10'], runRows([r.latest], r.published?.runId)) : 'no runs yet: `deepcut pipeline run`',
          ...(r.blocked ? ['', `BLOCKED at step ${r.blocked.step} (${r.blocked.at}): ${r.blocked.reason}`] : []),
          ...(r.deadLetters.length ? ['', `DEAD LETTERS (tasks that failed every attempt):`, table(['step', 'task', 'attempts', 'error'], deadRows(r.deadLetters))] : []),
        ].join('\n'),
      );
    });
  cmd
    .command('runs')
    .description('every run with its steps and gated metric (* = published)')
    .action(async (_o, c: Command) => {
      const { configFrom, globals } = await load();
      const config = configFrom(c);
      const { runs, published } = await runsAndPublished(config);
      emit(globals(c), { runs, published: published?.runId ?? null }, (r) => table(['run', 'status', 'steps', 'ndcg@10'], runRows(r.runs, r.published ?? undefined)));
    });
  cmd
    .command('show <runId>')
    .description('one run in full: steps, timings, metrics')
    .action(async (runId: string, _o, c: Command) => {
      const { configFrom, globals } = await load();
      const config = configFrom(c);
      const m = (await runsAndPublished(config)).runs.find((r) => r.runId === runId);
      if (!m) throw new DeepcutError('not_found', `no pipeline run ${runId}${config.databaseUrl ? ' in the store or' : ''} in ${config.home}/runs`);
      emit(globals(c), m, (r) =>
        table(['step', 'status', 'seconds', 'metrics'], r.order.map((s) => [s, r.steps[s].status, r.steps[s].seconds ?? null, JSON.stringify(r.steps[s].output?.metrics ?? r.steps[s].error ?? '')])),
      );
    });
  cmd
    .command('publish <runId>')
    .description('publish a succeeded run (after the promotion gate unless --force)')
    .option('--force', 'publish even if gated metrics regressed')
    .action(async (runId: string, o: { force?: boolean }, c: Command) => {
      const { configFrom, globals, publish, systemClock, defaultSteps, withStore } = await loadSteps();
      const config = configFrom(c);
      const g = await withStore(config, (store) => publish(defaultSteps(), config.home, runId, { tolerance: config.pipeline.regressionTolerance, force: o.force, clock: systemClock, store }));
      emit(globals(c), { published: runId, gate: g }, (r) => [`published ${r.published}`, table(['metric', 'candidate', 'published', 'pass'], r.gate.checks.map((x) => [x.metric, x.candidate, x.published, x.pass ? 'yes' : 'no']))].join('\n'));
    });
  cmd
    .command('rollback')
    .description('switch serving back to the previously published run')
    .action(async (_o, c: Command) => {
      const { configFrom, globals, rollback, systemClock, withStore } = await load();
      const config = configFrom(c);
      const p = await withStore(config, (store) => rollback(config.home, systemClock, store));
      emit(globals(c), p, (r) => `published ${r.runId}`);
    });
}

/**
 * The admin dashboard's actions and reports beyond the core admin routes (routes.ts), admin scope:
 * start a pipeline run (the in-process retrain: pipeline, gate, publish, swap) and follow it,
 * publish a run or roll back to the one before (the store's publication row, switched in a
 * transaction; this process serves the switched run at once, a fleet's API nodes hear of it by
 * NOTIFY), the bandit step's off-policy report per run, and a user inspector (history beside
 * recommendations and home shelves with their reasons, nothing logged as an impression).
 */
import { z } from 'zod';
import { DeepcutError } from '../errors.ts';
import { listAllRuns, publish, rollback, type RunManifest } from '../pipeline/index.ts';
import { loadServingState } from '../serving/index.ts';
import { log } from '../log.ts';
import { route, type RouteDef } from './route.ts';
import type { ServerContext } from './context.ts';
import { retrain, serveInPlace } from './retrain.ts';
import { requireListener } from './listeners.ts';

/** The latest pipeline run started from the dashboard, per store (one at a time). */
interface Job {
  state: 'running' | 'succeeded' | 'failed';
  started_at: string;
  finished_at: string | null;
  /** The run it published (set when it succeeded). */
  run_id: string | null;
  error: string | null;
}
const jobs = new WeakMap<ServerContext['store'], Job>();
const JobZ = z.object({ state: z.enum(['idle', 'running', 'succeeded', 'failed']), started_at: z.string().nullable(), finished_at: z.string().nullable(), run_id: z.string().nullable(), error: z.string().nullable() });
const idle = { state: 'idle' as const, started_at: null, finished_at: null, run_id: null, error: null };

/** The pipeline's steps, loaded on first use (they bring TensorFlow.js; serving starts without them). */
const steps = async () => (await import('../pipeline/steps.ts')).defaultSteps();

/**
 * Serve the run the publication row now names: in place of the current state (as the scheduled
 * retrain does), the old home page flushed and closed after. A fleet's API node does nothing here:
 * its FleetNode hears of the switch and loads the run itself.
 */
async function serveSwitched(ctx: ServerContext): Promise<void> {
  if (ctx.fleet) return;
  await serveInPlace(ctx.slot.current, await loadServingState(ctx.store, ctx.config, { clock: ctx.clock, fallback: false }));
}

/** The bandit step's figures of a run, from its manifest (absent: the run has no finished bandit step). */
function banditReport(m: RunManifest) {
  const s = m.steps.bandit;
  if (!s || s.status !== 'done') return undefined;
  const x = s.output?.metrics ?? {};
  const num = (k: string) => (typeof x[k] === 'number' && Number.isFinite(x[k]) ? x[k] : null);
  const reason = s.output?.info?.reason;
  return {
    run_id: m.runId,
    created_at: m.createdAt,
    logged_requests: num('logged_requests') ?? 0,
    training_rows: num('training_rows'),
    promoted: x.promoted === 1,
    reason: typeof reason === 'string' ? reason : '',
    candidate: num('candidate_value') === null ? null : { value: num('candidate_value')!, lo: num('candidate_lo'), hi: num('candidate_hi') },
    live: num('live_value') === null ? null : { value: num('live_value')!, lo: num('live_lo'), hi: num('live_hi') },
  };
}
const Interval = z.object({ value: z.number(), lo: z.number().nullable(), hi: z.number().nullable() }).describe('a SNIPS estimate of the policy value (streams per home request) with its 95% interval');

/** What the actions without arguments take: an explicit yes, so a stray POST starts nothing. */
const Confirm = z.object({ confirm: z.literal(true).describe('must be true: the caller confirmed the action') }).strict();

const Published = z.object({ published: z.string(), previous: z.string().nullable(), serving: z.string().nullable() });

export function adminRoutes(): RouteDef<any, any, any>[] {
  return [
    route({
      method: 'POST',
      url: '/v1/admin/pipeline/run',
      summary: 'Start a pipeline run now (`{"confirm": true}`), as the daily retrain does (pipeline, gate, publish, serve the new run): 202 with the job; GET /v1/admin/pipeline/job follows it. 409 while one runs; not on a fleet API node (runs belong to the scheduler and workers)',
      tag: 'admin',
      scope: 'admin',
      body: Confirm,
      response: JobZ,
      async handler({ reply, ctx }) {
        if (ctx.fleet) throw new DeepcutError('conflict', 'this server is an API node of a fleet: pipeline runs are started by `deepcut scheduler` (or `deepcut pipeline run`) and done by workers');
        const cur = jobs.get(ctx.store);
        if (cur?.state === 'running') throw new DeepcutError('conflict', `a pipeline run started from the dashboard at ${cur.started_at} is still running`);
        const job: Job = { state: 'running', started_at: ctx.clock.now().toISOString(), finished_at: null, run_id: null, error: null };
        jobs.set(ctx.store, job);
        const l = log('admin');
        l.info('pipeline run started from the dashboard');
        void steps()
          .then((s) => retrain(ctx.store, ctx.config, ctx.slot.current, { clock: ctx.clock, steps: s }))
          .then(
            (runId) => Object.assign(job, { state: 'succeeded', run_id: runId }),
            (e: unknown) => {
              Object.assign(job, { state: 'failed', error: (e as Error).message });
              l.warn({ err: (e as Error).message }, 'pipeline run started from the dashboard failed; the published run keeps serving');
            },
          )
          .finally(() => (job.finished_at = ctx.clock.now().toISOString()));
        void reply.status(202);
        return job;
      },
    }),
    route({
      method: 'GET',
      url: '/v1/admin/pipeline/job',
      summary: 'The pipeline run last started from the dashboard: running, succeeded (with the run it published) or failed (with why); idle when none was',
      tag: 'admin',
      scope: 'admin',
      response: JobZ,
      async handler({ ctx }) {
        return jobs.get(ctx.store) ?? idle;
      },
    }),
    route({
      method: 'POST',
      url: '/v1/admin/publish',
      summary: 'Publish a succeeded run after the promotion gate (409 naming each regressed metric unless `force`), and serve it',
      tag: 'admin',
      scope: 'admin',
      body: z.object({ run_id: z.string().min(1).max(200), force: z.boolean().default(false) }),
      response: Published.extend({ checks: z.array(z.object({ metric: z.string(), candidate: z.number(), published: z.number().nullable(), pass: z.boolean() })) }),
      async handler({ body, ctx }) {
        const runs = await listAllRuns(ctx.store, ctx.config.home);
        if (!runs.some((r) => r.runId === body.run_id)) throw new DeepcutError('not_found', `no pipeline run ${body.run_id}`);
        const before = (await ctx.store.getPublication())?.runId ?? null;
        const g = await publish(await steps(), ctx.config.home, body.run_id, { tolerance: ctx.config.pipeline.regressionTolerance, force: body.force, clock: ctx.clock, store: ctx.store });
        log('admin').info({ run: body.run_id, previous: before, force: body.force }, 'run published from the dashboard');
        await serveSwitched(ctx);
        return { published: body.run_id, previous: before, serving: ctx.slot.current.recs?.info.runId ?? null, checks: g.checks };
      },
    }),
    route({
      method: 'POST',
      url: '/v1/admin/rollback',
      summary: 'Switch the publication back to the run published before the current one (`{"confirm": true}`), and serve it; 404 when there is none',
      tag: 'admin',
      scope: 'admin',
      body: Confirm,
      response: Published,
      async handler({ ctx }) {
        const before = (await ctx.store.getPublication())?.runId ?? null;
        const p = await rollback(ctx.config.home, ctx.clock, ctx.store);
        log('admin').info({ run: p.runId, previous: before }, 'rolled back from the dashboard');
        await serveSwitched(ctx);
        return { published: p.runId, previous: before, serving: ctx.slot.current.recs?.info.runId ?? null };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/admin/bandit',
      summary: "The bandit step's off-policy report of every run, oldest first: logged home requests, the candidate reward model's and the live policy's estimated value (SNIPS, 95% interval), promoted or not and why",
      tag: 'admin',
      scope: 'admin',
      response: z.object({ runs: z.array(z.object({ run_id: z.string(), created_at: z.string(), logged_requests: z.number(), training_rows: z.number().nullable(), promoted: z.boolean(), reason: z.string(), candidate: Interval.nullable(), live: Interval.nullable() })) }),
      async handler({ ctx }) {
        return { runs: (await listAllRuns(ctx.store, ctx.config.home)).flatMap((m) => banditReport(m) ?? []) };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/admin/users/:id',
      summary: "A listener inspected: what they played (most played, latest listens with their context) beside what they are recommended and their home shelves, each card with its reason. Nothing is logged as an impression; 404 for an id that is no listener",
      tag: 'admin',
      scope: 'admin',
      params: z.object({ id: z.string().min(1).max(512) }),
      query: z.object({ k: z.coerce.number().int().min(1).max(100).default(20) }),
      response: z.object({ user_id: z.string(), model: z.string().nullable(), listens: z.number(), most_played: z.array(z.object({ track_id: z.string(), title: z.string().nullable(), artists: z.array(z.string()) })), recent: z.array(z.object({ started_at: z.string(), track_id: z.string(), title: z.string().nullable(), artists: z.array(z.string()), ms_played: z.number(), skipped: z.boolean(), context: z.string() })), recommendations: z.array(z.unknown()), shelves: z.array(z.object({ id: z.string(), title: z.string(), cards: z.array(z.unknown()) })) }),
      async handler({ params, query, ctx }) {
        await requireListener(ctx, params.id);
        const recs = ctx.state.recs;
        const c = ctx.state.catalog;
        const named = (id: string) => ({ track_id: id, title: c.trackTitle(id), artists: c.trackArtists(id).map((a) => c.artistName(a) ?? a) });
        const rows = await ctx.store.list('listens', { where: { user_id: params.id }, limit: 100_000 });
        rows.sort((a, b) => b.started_at.localeCompare(a.started_at));
        // the home as the listener would get it, its impressions deferred and never reported seen: none logged
        const home = recs && ctx.state.home ? await ctx.state.home.home(params.id, recs, { deferImpressions: true }) : undefined;
        return {
          user_id: params.id,
          model: recs ? `${recs.info.kind}:${recs.info.model}${recs.info.runId ? ` (run ${recs.info.runId})` : ''}` : null,
          listens: rows.length,
          most_played: (recs?.heard(params.id, query.k) ?? []).map(named),
          recent: rows.slice(0, query.k).map((l) => ({ ...named(l.track_id), started_at: l.started_at, ms_played: l.ms_played, skipped: l.skipped, context: l.context })),
          recommendations: recs?.forUser(params.id, query.k) ?? [],
          shelves: home?.shelves ?? [],
        };
      },
    }),
  ];
}

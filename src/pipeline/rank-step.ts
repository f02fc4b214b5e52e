/**
 * The rank step: the learned ranking stage of src/rank/ trained on the run's own last
 * `rank.validationDays` (see src/rank/train.ts), saved in `<run>/rank/`; rank-load.ts puts it over
 * the run's CF model for the playlists step, the CLI and the API.
 */
import { join } from 'node:path';
import { isDeepcutError } from '../errors.ts';
import type { Step, StepContext, StepOutput } from './runner.ts';
import type { Snapshot } from './snapshot.ts';
import { runSnapshot } from './persist.ts';
import { loadCfModel, loadUndecayedTailSource, makeRecommender, type ProductionSpec, type Recommender, TAIL_SOURCE_NEIGHBOURS } from '../cf/index.ts';
import type { Csr } from '../signals/index.ts';
import { confidenceSettings, listenSignal } from '../signals/index.ts';
import { runRankWorld } from './rank-load.ts';
import { saveStage, timeSplit, trainStage, worldSources, WorldTables, type ListenEvents, type RankWorld } from '../rank/index.ts';
import { log } from '../log.ts';
import { cpuSeconds } from '../util/cpu.ts';

const DAY_MS = 86_400_000;

/** The snapshot's listens as events in its rows (listens of tracks or users it does not know are left out). */
async function runListens(ctx: StepContext, s: Snapshot): Promise<ListenEvents> {
  const l = await ctx.store.readListens({ until: new Date(s.lastListenAt + 1) });
  const n = l.user.length;
  const e = { user: new Int32Array(n), track: new Int32Array(n), at: new Float64Array(n), signal: new Int8Array(n) };
  const rule = s.signals ?? confidenceSettings(ctx.config);
  const userOf = Int32Array.from({ length: l.users.size }, (_, r) => s.users.row(l.users.id(r)));
  const trackOf = Int32Array.from({ length: l.tracks.size }, (_, r) => s.catalog.trackRows.row(l.tracks.id(r)));
  let m = 0;
  for (let i = 0; i < n; i++) {
    const u = userOf[l.user[i]];
    const t = trackOf[l.track[i]];
    if (u < 0 || t < 0) continue;
    e.user[m] = u;
    e.track[m] = t;
    e.at[m] = l.startedAt[i];
    e.signal[m++] = listenSignal(l.msPlayed[i], l.skipped[i], rule);
  }
  return { user: e.user.subarray(0, m), track: e.track.subarray(0, m), at: e.at.subarray(0, m), signal: e.signal.subarray(0, m) };
}

/** The stage's item-kNN source: cosine, 100 neighbours. */
const KNN = { kind: 'itemknn', weighting: 'cosine', neighbours: 100 } as const;

/**
 * Item-kNN on the run's whole matrix (the stage's `knn` source). The cf step's dial fits that very
 * model as its tail source when nothing decays and the neighbours agree, so it is read instead of
 * fitted again.
 */
async function knnOnEverything(ctx: StepContext, m: Csr): Promise<Recommender> {
  const spec = ctx.outputs.cf?.info?.spec as Partial<ProductionSpec> | undefined;
  const stored = TAIL_SOURCE_NEIGHBOURS === KNN.neighbours ? await loadUndecayedTailSource(ctx.dirOf('cf'), spec) : undefined;
  if (stored) return stored;
  const knn = await makeRecommender({ ...KNN, threads: ctx.config.cf.threads });
  await knn.fit(m);
  return knn;
}

async function close(m: Recommender): Promise<void> {
  await (m as Partial<{ close(): Promise<void> }>).close?.();
}

export const rankStep: Step = {
  name: 'rank',
  after: ['cf', 'text', 'audio'],
  async run(ctx): Promise<StepOutput> {
    const cfg = ctx.config.rank;
    if (!cfg.enabled) return { metrics: { used: 0 }, info: { ranker: 'off', reason: 'rank.enabled is false: recommendations are the CF model\'s' } };
    const cpu0 = cpuSeconds();
    const s = await runSnapshot(ctx);
    const world = await runRankWorld({ rank: ctx.dir, text: ctx.dirOf('text'), audio: ctx.dirOf('audio') }, s);
    const cut = s.lastListenAt - cfg.validationDays * DAY_MS;
    const split = timeSplit(await runListens(ctx, s), s.users.size, s.catalog.tracks.length, cut, s.signals ?? confidenceSettings(ctx.config));
    const past = new WorldTables({ ...world, matrix: split.matrix, lastAt: split.lastAt, now: split.now });
    const c = ctx.config.cf;
    // the past's models: ALS as configured (the run's factor model) and item-kNN
    const als = await makeRecommender({ kind: 'als', factors: c.factors, iterations: c.iterations, regularization: c.regularization, cgSteps: c.cgSteps, seed: c.seed, threads: c.threads });
    const knn = await makeRecommender({ ...KNN, threads: c.threads });
    let trained;
    try {
      await als.fit(split.matrix);
      await knn.fit(split.matrix);
      trained = trainStage(past, worldSources(past, { cf: als, knn }), split.future, { seed: c.seed, depth: cfg.depth, minTailShare: cfg.minTailShare, tailShares: [0, 0.2, 0.3, 0.4] });
    } catch (e) {
      if (!(isDeepcutError(e) && e.code === 'invalid_input')) throw e;
      const reason = `no ranker: ${e.message}; recommendations stay the CF model's`;
      log('pipeline').warn({ step: 'rank' }, reason);
      return { metrics: { used: 0 }, info: { ranker: 'fallback', reason } };
    } finally {
      await close(als);
    }
    const r = { ...trained.report, cut };
    let finalKnn: Recommender | undefined;
    if (r.use) finalKnn = await knnOnEverything(ctx, s.userTracks);
    await saveStage(ctx.dir, { runId: ctx.runId, depth: cfg.depth, recentDays: past.recentDays, report: r, ranker: trained.ranker.toJSON() }, finalKnn);
    if (!r.use) log('pipeline').warn({ step: 'rank' }, `rank: falling back: ${r.fallback}`);
    const cpu = cpuSeconds() - cpu0;
    log('pipeline').info({ step: 'rank', plain_hit_rate: r.plain.hit_rate, ranked_hit_rate: r.ranked.hit_rate, long_tail_share: r.ranked.long_tail_share, dial: r.dial, cpu_seconds: cpu }, r.use ? 'ranker used' : 'ranker not used');
    return {
      metrics: {
        used: r.use ? 1 : 0,
        plain_hit_rate: r.plain.hit_rate,
        ranked_hit_rate: r.ranked.hit_rate,
        plain_long_tail_share: r.plain.long_tail_share,
        ranked_long_tail_share: r.ranked.long_tail_share,
        validation_listeners: r.users.fit + r.users.check,
        cpu_seconds: cpu,
      },
      info: { ranker: r.use ? 'used' : 'fallback', ...(r.fallback ? { reason: r.fallback } : {}), dial: r.dial, sources: r.sources, validation_days: cfg.validationDays },
    };
  },
};

/** The CF model of a run's folder wrapped by its rank stage (re-exported for the steps). */
export { loadCfModel };

/**
 * The pipeline's steps: validate → signals → cf → text, audio → rank → playlists, and the home bandit's retraining. Each step reads the
 * store or earlier steps' folders and writes its own artifacts; models and playlist rules live in
 * their stage folders, this file only wires them.
 */
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import type { Step, StepContext } from './runner.ts';
import { buildSnapshot } from './snapshot.ts';
import { saveSnapshot, runSnapshot, cacheSnapshot } from './persist.ts';
import { fitProduction, PRODUCTION_FILE, ProductionRecommender } from '../cf/index.ts';
import type { Recommender } from '../cf/index.ts';
import { loadCfModel } from '../cf/index.ts';
import { runPlaylistInputs, playlistTasks, playlistsShardTask, joinPlaylistShards, runShardCount, type PlaylistShard, type ShardLoader } from './playlists-step.ts';
import type { Snapshot } from './snapshot.ts';
import { log } from '../log.ts';
import { DeepcutError } from '../errors.ts';
import { assertNotBlocked } from '../validate/index.ts';
import { textStep } from './text-step.ts';
import { banditStep } from './bandit-step.ts';
import { audioStep } from './audio-step.ts';
import { rankStep } from './rank-step.ts';
import { rankedModelOf } from './rank-load.ts';

async function close(m: Recommender): Promise<void> {
  await (m as Partial<{ close(): Promise<void> }>).close?.();
}

/** The CF model of a run: the cf family's loader (src/cf/load.ts), re-exported for the steps. */
export { loadCfModel } from '../cf/index.ts';
export * from './text-step.ts';
export * from './playlists-step.ts';
export * from './audio-step.ts';
export { rankStep } from './rank-step.ts';
export { rankedModelOf, runDirsOf, runRankWorld, type RunDirs } from './rank-load.ts';

export const validateStep: Step = {
  name: 'validate',
  after: [],
  async run(ctx) {
    // Validation records a verdict per imported batch; a blocked batch stops the run here.
    await assertNotBlocked(ctx.store);
    return {};
  },
};

export const signalsStep: Step = {
  name: 'signals',
  after: ['validate'],
  async run(ctx) {
    const s = await buildSnapshot(ctx.store, ctx.config);
    if (s.catalog.tracks.length === 0) throw new DeepcutError('blocked', 'the store has no tracks: import a catalog first (`deepcut import jsonl <folder>`)');
    await saveSnapshot(ctx.dir, s, ctx.runId);
    cacheSnapshot(ctx.dirOf('signals'), s);
    // info.audio_tracks: the audio step plans its analysis tasks from it
    return { metrics: { users: s.users.size, tracks: s.catalog.tracks.length, artists: s.catalog.artists.length, listens: s.listens, nnz: s.userTracks.indices.length }, info: { audio_tracks: s.catalog.tracks.filter((t) => t.audioPath).length } };
  },
};

export const cfStep: Step = {
  name: 'cf',
  after: ['signals'],
  gated: ['time_ndcg_at_10'],
  async run(ctx) {
    const s = await runSnapshot(ctx);
    const cfg = ctx.config.cf;
    const time = pairTimes(s);
    const fit = await fitProduction(s.userTracks, time, s.lastListenAt, {
      model: cfg.model,
      halfLifeDays: cfg.halfLifeDays,
      tailShare: cfg.tailShare,
      als: { factors: cfg.factors, iterations: cfg.iterations, regularization: cfg.regularization, cgSteps: cfg.cgSteps, seed: cfg.seed, threads: cfg.threads },
      easeLambda: cfg.easeLambda,
      easeMaxSide: cfg.easeMaxSide,
      seed: cfg.seed,
      onCandidate: (c) => log('pipeline').info({ step: 'cf', candidate: c.label, ndcg_at_10: Number(c.ndcg_at_10.toFixed(4)), seconds: Number(c.seconds.toFixed(1)) }, 'validation (time split)'),
    });
    // plain ALS as als.bin; the production model (another family ranks, decay or the dial) as production.bin with its parts
    await fit.model.save(join(ctx.dir, fit.model instanceof ProductionRecommender ? PRODUCTION_FILE : 'als.bin'), { runId: ctx.runId });
    await close(fit.model);
    const v = fit.selection.metrics;
    if (fit.selection.skipped) {
      log('pipeline').warn({ step: 'cf', model: fit.model.name }, `cf: ${fit.selection.skipped}`);
      return { metrics: {} as Record<string, number>, info: { model: fit.model.name, spec: fit.selection.spec, skipped: fit.selection.skipped } };
    }
    return {
      // the gate reads time_ndcg_at_10: the chosen model's NDCG@10 on the latest 10% of pairs (trained on the rest) without
      // the long-tail dial, so a changed cf.tailShare (a choice made on the dial's curve) is not a regression of the model;
      // ndcg_at_10 and the other figures are those of the list with the dial, as it ships
      metrics: { time_ndcg_at_10: v.undialed_ndcg_at_10, ndcg_at_10: v.ndcg_at_10, p_at_10: v.p_at_10, r_at_10: v.r_at_10, long_tail_share: v.long_tail_share, coverage: v.coverage, popularity_ndcg_at_10: v.popularity_ndcg_at_10 },
      info: { model: fit.model.name, spec: fit.selection.spec, validation: fit.selection.candidates, split: fit.selection.split },
    };
  },
};

/** The last listen time (ms) of every pair of the snapshot's confidence matrix, aligned with its entries. */
function pairTimes(s: Snapshot): Float64Array {
  const m = s.userTracks;
  const out = new Float64Array(m.indices.length);
  for (let u = 0; u < m.rows; u++) {
    const plays = s.histories[u]?.plays;
    for (let p = m.indptr[u]; p < m.indptr[u + 1]; p++) out[p] = plays?.get(m.indices[p])?.lastAt ?? s.lastListenAt;
  }
  return out;
}

/** The run's snapshot, model (CF, ranked by the rank step when it chose to) and text/audio inputs, as a playlists shard reads them. */
export async function playlistInputsOf(ctx: StepContext): ReturnType<ShardLoader> {
  const s = await runSnapshot(ctx);
  const model = await rankedModelOf({ rank: ctx.dirOf('rank'), text: ctx.dirOf('text'), audio: ctx.dirOf('audio') }, s, await loadCfModel(ctx.dirOf('cf'), s, ctx.config.cf.threads), ctx.runId);
  return { s, model, extra: await runPlaylistInputs(ctx.dirOf('text'), ctx.dirOf('audio'), s, model) };
}

/**
 * The playlists step: one task per shard of listeners (src/pipeline/playlists-step.ts; any worker,
 * the same bytes for any shard count), then the join, which concatenates them and fills the archive.
 */
export const playlistsStep: Step = {
  name: 'playlists',
  after: ['cf', 'text', 'audio', 'rank'],
  parts: (outputs, config) => playlistTasks(runShardCount(outputs, config.pipeline.usersPerShard)).map((t) => ({ id: t.id.slice('playlists:'.length), payload: t.payload })),
  // a shard reads run files only (no store): a one-process run makes shards on worker threads at once
  partsInThreads: true,
  runPart: (ctx, part) => playlistsShardTask(ctx, part as unknown as PlaylistShard, playlistInputsOf),
  async run(ctx) {
    // the listener count from the signals step's output (the snapshot is not loaded for it)
    const users = ctx.outputs.signals?.metrics?.users ?? (await runSnapshot(ctx)).histories.length;
    const r = await joinPlaylistShards(ctx, runShardCount(ctx.outputs, ctx.config.pipeline.usersPerShard), users);
    await writeFile(join(ctx.dir, 'summary.json'), JSON.stringify(r, null, 2));
    return { metrics: r.metrics, info: { counts: r.counts } };
  },
};

export function defaultSteps(): Step[] {
  return [validateStep, signalsStep, cfStep, textStep, audioStep, rankStep, playlistsStep, banditStep];
}

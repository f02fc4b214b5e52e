/**
 * The pipeline's steps: validate → signals → cf → text, audio → playlists, and the home bandit's retraining. Each step reads the
 * store or earlier steps' folders and writes its own artifacts; models and playlist rules live in
 * their stage folders, this file only wires them.
 */
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import type { Step, StepContext } from './runner.ts';
import { buildSnapshot } from './snapshot.ts';
import { saveSnapshot, runSnapshot, cacheSnapshot } from './persist.ts';
import { makeRecommender, alsAvailable } from '../cf/index.ts';
import type { Recommender } from '../cf/index.ts';
import { isFactorized } from '../cf/index.ts';
import { randomHoldout } from '../cf/index.ts';
import { evaluate } from '../cf/index.ts';
import type { Csr } from '../signals/index.ts';
import { loadCfModel } from '../cf/index.ts';
import { PopularityRecommender } from '../cf/index.ts';
import { runPlaylistInputs, playlistTasks, playlistsShardTask, joinPlaylistShards, runShardCount, type PlaylistShard } from './playlists-step.ts';
import { DeepcutError } from '../errors.ts';
import { assertNotBlocked } from '../validate/index.ts';
import { textStep } from './text-step.ts';
import { banditStep } from './bandit-step.ts';
import { audioStep } from './audio-step.ts';

/** Keep only positive entries (streams), as the relevant items of a holdout. */
function positives(m: Csr): Csr {
  const indptr = new Int32Array(m.rows + 1);
  const idx: number[] = [];
  const val: number[] = [];
  for (let r = 0; r < m.rows; r++) {
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) {
      if (m.data[p] > 0) {
        idx.push(m.indices[p]);
        val.push(m.data[p]);
      }
    }
    indptr[r + 1] = idx.length;
  }
  return { rows: m.rows, cols: m.cols, indptr, indices: Int32Array.from(idx), data: Float32Array.from(val) };
}

async function close(m: Recommender): Promise<void> {
  await (m as Partial<{ close(): Promise<void> }>).close?.();
}

/** The CF model of a run: the cf family's loader (src/cf/load.ts), re-exported for the steps. */
export { loadCfModel } from '../cf/index.ts';
export * from './text-step.ts';
export * from './playlists-step.ts';
export * from './audio-step.ts';

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
  gated: ['ndcg_at_10'],
  async run(ctx) {
    const s = await runSnapshot(ctx);
    const cfg = ctx.config.cf;
    const als = await alsAvailable();
    const mc = als ? ({ kind: 'als', factors: cfg.factors, iterations: cfg.iterations, regularization: cfg.regularization, cgSteps: cfg.cgSteps, seed: cfg.seed, threads: cfg.threads } as const) : ({ kind: 'popularity' } as const);
    // 1. offline metrics on a seeded 10% holdout of each user's streams (the promotion gate reads them)
    const split = randomHoldout(s.userTracks, 0.1, cfg.seed);
    const test = positives(split.test);
    const held = await makeRecommender(mc);
    await held.fit(split.train);
    const m = await evaluate(held, split.train, test, { k: 10, users: 2000, seed: cfg.seed });
    await close(held);
    const pop = new PopularityRecommender();
    await pop.fit(split.train);
    const pm = await evaluate(pop, split.train, test, { k: 10, users: 2000, seed: cfg.seed });
    // 2. the serving model on every listen
    const model = await makeRecommender(mc);
    let lastLoss: number | undefined;
    await model.fit(s.userTracks, { onIteration: (p) => (lastLoss = p.loss) });
    if (isFactorized(model)) await model.save(join(ctx.dir, 'als.bin'), { runId: ctx.runId });
    await close(model);
    return {
      metrics: { ndcg_at_10: m.ndcg_at_10, p_at_10: m.p_at_10, r_at_10: m.r_at_10, popularity_ndcg_at_10: pm.ndcg_at_10, ...(lastLoss !== undefined ? { loss: lastLoss } : {}) },
      info: { model: held.name },
    };
  },
};

/** The run's snapshot, CF model and text/audio inputs, as a playlists shard reads them. */
async function playlistInputsOf(ctx: StepContext) {
  const s = await runSnapshot(ctx);
  const model = await loadCfModel(ctx.dirOf('cf'), s, ctx.config.cf.threads);
  return { s, model, extra: await runPlaylistInputs(ctx.dirOf('text'), ctx.dirOf('audio'), s, model) };
}

/**
 * The playlists step: one task per shard of listeners (src/pipeline/playlists-step.ts; any worker,
 * the same bytes for any shard count), then the join, which concatenates them and fills the archive.
 */
export const playlistsStep: Step = {
  name: 'playlists',
  after: ['cf', 'text', 'audio'],
  parts: (outputs) => playlistTasks(runShardCount(outputs)).map((t) => ({ id: t.id.slice('playlists:'.length), payload: t.payload })),
  runPart: (ctx, part) => playlistsShardTask(ctx, part as unknown as PlaylistShard, playlistInputsOf),
  async run(ctx) {
    const s = await runSnapshot(ctx);
    const r = await joinPlaylistShards(ctx, runShardCount(ctx.outputs), s.histories.length);
    await writeFile(join(ctx.dir, 'summary.json'), JSON.stringify(r, null, 2));
    return { metrics: r.metrics, info: { counts: r.counts } };
  },
};

export function defaultSteps(): Step[] {
  return [validateStep, signalsStep, cfStep, textStep, audioStep, playlistsStep, banditStep];
}

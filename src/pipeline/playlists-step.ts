/**
 * The playlists step: Discover Weekly for each user's current week (Monday in their time zone),
 * Release Radar for their latest Friday, and Daily Mixes. A week's Discover Weekly and Release
 * Radar are made once and kept in the playlist archive (`<home>/playlists/<kind>/<date>.jsonl`):
 * stable for the week across daily retrains, past weeks kept.
 */
import { join } from 'node:path';
import { createWriteStream } from 'node:fs';
import type { StepContext } from './runner.ts';
import type { Snapshot } from './snapshot.ts';
import type { Recommender } from '../cf/index.ts';
import { isFactorized } from '../cf/index.ts';
import { Product, toPlaylist, weeklyKey, playlistTitles, PlaylistArchive, type CandidateSource, type FlowFeatures } from '../playlists/index.ts';
import { Scorer } from '../cf/index.ts';
import { wasmAvailable } from '../cf/index.ts';
import { yielder } from '../util/yield.ts';
import { isDeepcutError } from '../errors.ts';
import { textPlaylistInputs } from './text-step.ts';
import { audioPlaylistInputs } from './audio-step.ts';

export interface PlaylistsSummary {
  counts: Record<string, number>;
  metrics: Record<string, number>;
}

/** Extra sources and flow features that later stages (text, audio) contribute. */
export interface PlaylistInputs {
  sources?: CandidateSource[];
  flow?: (track: number) => FlowFeatures | undefined;
}

/**
 * The product over a run's snapshot and model with the run's extra inputs (text and audio
 * sources, flow): the pipeline, the CLI and the API build it this way for the same run.
 * Daily Mixes use the SIMD scorer when the kernels are built (same ranking as the plain search).
 */
export function runProduct(s: Snapshot, model: Recommender, extra: PlaylistInputs, seed: number): Product {
  const scorer = isFactorized(model) && model.factors % 4 === 0 && wasmAvailable() ? new Scorer(model.itemFactors(), model.itemFactors().length / model.factors, model.factors) : undefined;
  const nearest = scorer
    ? (q: Float32Array, k: number) => {
        const r = scorer.top(q, k, [], false);
        return Array.from(r.items, (track, i) => ({ track, score: r.scores[i] }));
      }
    : undefined;
  return new Product({ world: s, model, sources: extra.sources, flow: extra.flow, seed, nearest });
}

/**
 * The extra playlist inputs a run's folder holds: the text step's source and the audio step's
 * source and flow features (`<run>/text`, `<run>/audio`), as the playlists step reads them. A run
 * made without the text step (no `text.json`) contributes no text source.
 */
export async function runPlaylistInputs(textDir: string, audioDir: string, s: Snapshot, model: Recommender): Promise<PlaylistInputs> {
  const noText = (e: unknown): Promise<PlaylistInputs> | PlaylistInputs => (isDeepcutError(e) && e.code === 'not_found' ? {} : Promise.reject(e));
  const text = await textPlaylistInputs(textDir, s, model).catch(noText);
  const audio = await audioPlaylistInputs(audioDir, s, model);
  return { sources: [...(text.sources ?? []), ...(audio.sources ?? [])], flow: audio.flow };
}

/**
 * The product over a finished run's folder (the published run, for the CLI and the API): its
 * snapshot and model with the text and audio inputs stored in `<run>/text` and `<run>/audio`, as
 * the run's playlists step had them. A run made without the text step contributes no text source.
 */
export async function productOfRun(run: { dir: string; snapshot: Snapshot; model: Recommender }, seed: number): Promise<Product> {
  return runProduct(run.snapshot, run.model, await runPlaylistInputs(join(run.dir, 'text'), join(run.dir, 'audio'), run.snapshot, run.model), seed);
}

export async function makePlaylists(ctx: StepContext, s: Snapshot, model: Recommender, extra: PlaylistInputs = {}): Promise<PlaylistsSummary> {
  const { catalog } = s;
  const now = ctx.clock.now();
  const createdAt = now.toISOString();
  const product = runProduct(s, model, extra, ctx.config.cf.seed);

  const files = {
    dw: createWriteStream(join(ctx.dir, 'discover-weekly.jsonl')),
    rr: createWriteStream(join(ctx.dir, 'release-radar.jsonl')),
    mix: createWriteStream(join(ctx.dir, 'daily-mixes.jsonl')),
  };
  const archive = new PlaylistArchive(ctx.config.home);
  const counts = { discover_weekly_new: 0, discover_weekly_kept: 0, release_radar: 0, daily_mixes: 0 };
  // head = most played tracks holding 80% of streams; long tail = the rest
  const byPlays = catalog.tracks.map((t, i) => [i, t.plays] as const).sort((a, b) => b[1] - a[1]);
  const total = byPlays.reduce((a, [, p]) => a + p, 0);
  const head = new Set<number>();
  let acc = 0;
  for (const [i, p] of byPlays) {
    if (acc >= 0.8 * total || p === 0) break;
    head.add(i);
    acc += p;
  }
  let dwTracks = 0, dwTail = 0, dwNewArtist = 0, dwArtists = 0;
  const artistPlays = new Float64Array(catalog.artists.length);
  catalog.tracks.forEach((t) => t.artists.forEach((a) => (artistPlays[a] += t.plays)));
  const tick = yielder(); // a server in this process (the in-process retrain) keeps answering
  for (const user of s.histories) {
    await tick();
    const week = weeklyKey('discover-weekly', now, user.timeZone);
    let dw = await archive.get('discover-weekly', week, user.id);
    if (!dw) {
      dw = toPlaylist('discover-weekly', playlistTitles['discover-weekly'], user.id, week, product.discoverWeekly(user), catalog, ctx.runId, createdAt);
      await archive.put('discover-weekly', week, user.id, dw);
      counts.discover_weekly_new++;
    } else counts.discover_weekly_kept++;
    files.dw.write(JSON.stringify(dw) + '\n');
    const artistsSeen = new Set<number>();
    for (const t of dw.tracks) {
      const r = catalog.trackRows.row(t.trackId);
      if (r < 0) continue;
      dwTracks++;
      if (!head.has(r)) dwTail++;
      if (catalog.tracks[r].artists.every((a) => artistPlays[a] === 0)) dwNewArtist++;
      catalog.tracks[r].artists.forEach((a) => artistsSeen.add(a));
    }
    dwArtists += artistsSeen.size;

    const friday = weeklyKey('release-radar', now, user.timeZone);
    let rr = await archive.get('release-radar', friday, user.id);
    if (!rr) {
      rr = toPlaylist('release-radar', playlistTitles['release-radar'], user.id, friday, product.releaseRadar(user, friday), catalog, ctx.runId, createdAt);
      await archive.put('release-radar', friday, user.id, rr);
    }
    if (rr.tracks.length) counts.release_radar++;
    files.rr.write(JSON.stringify(rr) + '\n');

    const mixes = product.dailyMixes(user);
    counts.daily_mixes += mixes.length;
    mixes.forEach((m, i) => files.mix.write(JSON.stringify(toPlaylist('daily-mix', m.title, user.id, `${now.toISOString().slice(0, 10)}/${i + 1}`, m.tracks, catalog, ctx.runId, createdAt)) + '\n'));
  }
  await archive.flush();
  await Promise.all(Object.values(files).map((f) => new Promise<void>((res, rej) => f.end((e?: Error | null) => (e ? rej(e) : res())))));
  return {
    counts,
    metrics: {
      discover_weekly_long_tail_share: dwTracks ? dwTail / dwTracks : 0,
      discover_weekly_new_artist_share: dwTracks ? dwNewArtist / dwTracks : 0,
      discover_weekly_artists_per_playlist: s.histories.length ? dwArtists / s.histories.length : 0,
      discover_weekly_mean_length: s.histories.length ? dwTracks / s.histories.length : 0,
    },
  };
}

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
import type { Recommender } from '../cf/recommender.ts';
import { isFactorized } from '../cf/recommender.ts';
import { weekStart } from '../core/clock.ts';
import { cfSource, popularitySource, nearestByInnerProduct, type Vectors } from '../playlists/sources.ts';
import { discoverWeekly, releaseRadar, dailyMixes } from '../playlists/makers.ts';
import { reasonText, type Candidate, type CandidateSource, type FlowFeatures, type Playlist, type CatalogView } from '../playlists/types.ts';
import { topK } from '../cf/base.ts';
import { Scorer } from '../cf/kernels/scorer.ts';
import { wasmAvailable } from '../cf/kernels/wasm.ts';
import { PlaylistArchive } from '../playlists/archive.ts';
import type { UserId } from '../domain/ids.ts';
import { yielder } from '../util/yield.ts';

/** Turn ranked candidates into a stored playlist. */
export function toPlaylist(kind: Playlist['kind'], title: string, user: UserId | undefined, key: string, c: Candidate[], catalog: CatalogView, runId: string, createdAt: string): Playlist {
  return {
    kind,
    id: `${kind}:${user ?? 'seed'}:${key}`,
    title,
    userId: user,
    key,
    createdAt,
    runId,
    tracks: c.map((x) => {
      const t = catalog.tracks[x.track];
      return { trackId: t.id, title: t.title, artists: t.artists.map((a) => catalog.artists[a].name), durationMs: t.durationMs, reason: reasonText(x.reason), source: x.source, ...(t.audioPath ? { audioPath: t.audioPath } : {}) };
    }),
  };
}

export interface PlaylistsSummary {
  counts: Record<string, number>;
  metrics: Record<string, number>;
}

/** Extra sources and flow features that later stages (text, audio) contribute. */
export interface PlaylistInputs {
  sources?: CandidateSource[];
  flow?: (track: number) => FlowFeatures | undefined;
}

export async function makePlaylists(ctx: StepContext, s: Snapshot, model: Recommender, extra: PlaylistInputs = {}): Promise<PlaylistsSummary> {
  const { catalog } = s;
  const now = ctx.clock.now();
  const createdAt = now.toISOString();
  const itemVectors: Vectors | undefined = isFactorized(model) ? { dim: model.factors, data: model.itemFactors() } : undefined;
  const userVectors = isFactorized(model) ? model.userFactors() : undefined;
  const sources: CandidateSource[] = [cfSource(model, s.users, s.userTracks, catalog, itemVectors), ...(extra.sources ?? []), popularitySource(catalog)];
  const affinity = (u: { id: string }, tracks: number[]) => {
    const r = s.users.row(u.id);
    if (!itemVectors || !userVectors || r < 0) return tracks.map((t) => catalog.tracks[t].plays);
    const f = itemVectors.dim;
    return tracks.map((t) => {
      let d = 0;
      for (let i = 0; i < f; i++) d += userVectors[r * f + i] * itemVectors.data[t * f + i];
      return d;
    });
  };
  // artists as the mean of their tracks' factors; similar artists by cosine, memoised
  const artistVec = itemVectors ? catalog.tracksByArtist.map((ts) => {
    const v = new Float32Array(itemVectors.dim);
    for (const t of ts) for (let i = 0; i < itemVectors.dim; i++) v[i] += itemVectors.data[t * itemVectors.dim + i];
    const n = Math.hypot(...v) || 1;
    return v.map((x) => x / n);
  }) : undefined;
  const similarMemo = new Map<number, number[]>();
  const similarArtists = (a: number, k: number): number[] => {
    if (!artistVec) return [];
    let r = similarMemo.get(a);
    if (!r) {
      const sc = new Float32Array(artistVec.length);
      const exclude = new Uint8Array(artistVec.length);
      exclude[a] = 1;
      artistVec.forEach((v, b) => {
        let d = 0;
        for (let i = 0; i < v.length; i++) d += v[i] * artistVec[a][i];
        sc[b] = d;
      });
      r = Array.from(topK(sc, 20, exclude).items);
      similarMemo.set(a, r);
    }
    return r.slice(0, k);
  };
  // nearest tracks to a taste centre: the SIMD scorer when the kernels are built, else plain TS
  const scorer = itemVectors && itemVectors.dim % 4 === 0 && wasmAvailable() ? new Scorer(itemVectors.data, itemVectors.data.length / itemVectors.dim, itemVectors.dim) : undefined;
  const nearest = (q: Float32Array, k: number) => {
    if (!itemVectors) return [];
    if (!scorer) return nearestByInnerProduct(itemVectors, q, k);
    const r = scorer.top(q, k, [], false);
    return Array.from(r.items, (track, i) => ({ track, score: r.scores[i] }));
  };

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
    const week = weekStart(now, user.timeZone, 1);
    let dw = await archive.get('discover-weekly', week, user.id);
    if (!dw) {
      const c = discoverWeekly(user, catalog, sources, { flow: extra.flow });
      dw = toPlaylist('discover-weekly', 'Discover Weekly', user.id, week, c, catalog, ctx.runId, createdAt);
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

    const friday = weekStart(now, user.timeZone, 5);
    let rr = await archive.get('release-radar', friday, user.id);
    if (!rr) {
      const c = releaseRadar(user, catalog, { friday, affinity, similarArtists });
      rr = toPlaylist('release-radar', 'Release Radar', user.id, friday, c, catalog, ctx.runId, createdAt);
      await archive.put('release-radar', friday, user.id, rr);
    }
    if (rr.tracks.length) counts.release_radar++;
    files.rr.write(JSON.stringify(rr) + '\n');

    if (itemVectors) {
      const mixes = dailyMixes(user, catalog, { vector: (t) => itemVectors.data.subarray(t * itemVectors.dim, (t + 1) * itemVectors.dim), nearest, seed: ctx.config.cf.seed, size: 30 });
      counts.daily_mixes += mixes.length;
      mixes.forEach((m, i) => files.mix.write(JSON.stringify(toPlaylist('daily-mix', m.title, user.id, `${now.toISOString().slice(0, 10)}/${i + 1}`, m.tracks, catalog, ctx.runId, createdAt)) + '\n'));
    }
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

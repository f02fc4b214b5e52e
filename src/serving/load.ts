/**
 * Build the serving state at start: the catalog and the model to answer from. When a pipeline run
 * is published, serving answers from it — its CF model (with real-time fold-in), its snapshot's id
 * maps and histories, and its playlists from the archive; otherwise from the popularity fallback
 * over the store's listens, with playlists answering "not computed yet".
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Config } from '../config/config.ts';
import type { Store } from '../store/store.ts';
import { Catalog } from './catalog.ts';
import { LiveModel } from './live.ts';
import { confidenceSettings } from '../signals/index.ts';
import { popularityFromStore, type ServingState, type PlaylistSource, type Playlist as ServedPlaylist, type PlaylistKind, type AudioFeatureSource } from './state.ts';
import { openPublished, type PublishedRun } from '../pipeline/published.ts';
import { readPublished } from '../pipeline/runner.ts';
import { PlaylistArchive, Product, readRunPlaylists, reasonText, storedWeekly, type Playlist } from '../playlists/index.ts';
import type { TrackCard } from './recommendations.ts';
import { log } from '../log.ts';
import { BanditHome } from './home.ts';
import { itemRetrieval } from './retrieval.ts';
import { policyFor } from '../bandit/policy.ts';
import { ImpressionLog, impressionLogDir } from '../bandit/impression-log.ts';
import { loadRewardModel } from '../bandit/models.ts';

/** A stored playlist as the API shows it. */
function served(p: Playlist, catalog: Catalog): ServedPlaylist {
  return {
    playlist_id: p.id,
    kind: p.kind === 'daily-mix' ? 'daily-mixes' : (p.kind as PlaylistKind),
    title: p.title,
    made_at: p.createdAt,
    run_id: p.runId,
    tracks: p.tracks.map(
      (t, i): TrackCard => ({
        track_id: t.trackId,
        title: t.title,
        artist_ids: catalog.trackArtists(t.trackId),
        artist_names: t.artists,
        score: p.tracks.length - i,
        reason: { kind: t.source === 'popularity' ? 'popular' : 'similar_listeners', text: t.reason },
      }),
    ),
  };
}

/**
 * Playlists of the published run: this week's from the archive, Daily Mixes from the run folder,
 * radio made by the product (as `deepcut playlist` reads and makes them).
 */
export async function playlistSource(run: PublishedRun, home: string, catalog: Catalog, now: () => Date = () => new Date()): Promise<PlaylistSource> {
  const archive = new PlaylistArchive(home);
  const mixes = await readRunPlaylists(join(run.dir, 'playlists', 'daily-mixes.jsonl'));
  // radio reads only the run's catalog and model (no candidate sources, no clustering seed)
  const product = new Product({ world: run.snapshot, model: run.model, seed: 0 });
  const tzOf = (user: string) => {
    const r = run.snapshot.users.row(user);
    return r >= 0 ? run.snapshot.histories[r].timeZone : 'UTC';
  };
  return {
    async get(user, kind) {
      if (kind === 'daily-mixes') return mixes.get(user)?.map((p) => served(p, catalog));
      const p = await storedWeekly(archive, kind, user, tzOf(user), now());
      return p && [served(p, catalog)];
    },
    async radio(seed, k) {
      const r = product.radio(seed, k);
      const c = run.snapshot.catalog;
      const by = c.trackRows.row(seed) >= 0 ? { track_id: seed } : { artist_id: seed };
      return r?.tracks.map((x): TrackCard => {
        const id = c.tracks[x.track].id;
        return { track_id: id, title: c.tracks[x.track].title, artist_ids: c.tracks[x.track].artists.map((a) => c.artists[a].id), artist_names: c.tracks[x.track].artists.map((a) => c.artists[a].name), score: Math.round(x.score * 1e4) / 1e4, reason: { kind: 'similar_to', text: reasonText(x.reason), ...by } };
      });
    },
  };
}

/** Scalar features the API shows per track (beat grids stay in the run's features.jsonl). */
const AUDIO_FIELDS = ['tempo_bpm', 'tempo_confidence', 'time_signature', 'time_signature_confidence', 'key', 'mode', 'key_confidence', 'loudness_lufs', 'mean_db', 'energy', 'danceability', 'duration_s'] as const;

/**
 * Audio features of the published run's audio step (`<run>/audio/features.jsonl`, one line per
 * analysed track), or undefined when the run has none. Distributions sample up to 2,000 tracks.
 */
export async function audioFeatureSource(run: Pick<PublishedRun, 'dir'>): Promise<AudioFeatureSource | undefined> {
  const file = join(run.dir, 'audio', 'features.jsonl');
  if (!existsSync(file)) return undefined;
  const byTrack = new Map<string, Record<string, number>>();
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (!line) continue;
    const row = JSON.parse(line) as Record<string, unknown>;
    const f: Record<string, number> = {};
    for (const k of AUDIO_FIELDS) if (typeof row[k] === 'number') f[k] = row[k] as number;
    byTrack.set(String(row.track_id), f);
  }
  if (byTrack.size === 0) return undefined;
  const sample = [...byTrack.values()].slice(0, 2000);
  const distributions = Object.fromEntries(AUDIO_FIELDS.map((k) => [k, sample.map((f) => f[k]).filter((v) => v !== undefined)]));
  return {
    get: async (track) => byTrack.get(track),
    distributions: async () => distributions,
  };
}

export async function loadServingState(store: Store, config: Config): Promise<ServingState> {
  const catalog = await Catalog.load(store);
  if (await readPublished(config.home)) {
    try {
      const run = await openPublished(config.home, { threads: 1 });
      const s = run.snapshot;
      const itemIndex = itemRetrieval(run.model, s.userTracks);
      // new listens are folded in with the settings the run was built with, not today's config
      if (!s.signals) log('serve').warn({ run: run.runId }, 'the run predates recorded signal settings (snapshot version 1): folding in with the current config');
      const confidence = s.signals ?? confidenceSettings(config);
      const recs = new LiveModel({ recommender: run.model, users: s.users, tracks: s.catalog.trackRows, userItems: s.userTracks, catalog, confidence, kind: 'published-run', runId: run.runId, itemIndex });
      log('serve').info({ run: run.runId, model: run.model.name }, 'serving the published run');
      const audio = await audioFeatureSource(run);
      const playlists = await playlistSource(run, config.home, catalog);
      // the home page: shelves ordered by the bandit over the run's reward model (uniform until one is learnt), every card logged
      // to the impression log, which the pipeline's bandit step loads into the store
      const banditFile = join(run.dir, 'bandit', 'reward-model.json');
      const reward = existsSync(banditFile) ? loadRewardModel(JSON.parse(await readFile(banditFile, 'utf8'))) : undefined;
      const home = new BanditHome({ policy: policyFor(reward, { epsilon: config.bandit.epsilon }), catalog, playlists, log: new ImpressionLog(impressionLogDir(config.home)) });
      return { recs, catalog, playlists, home, ...(audio ? { audio } : {}) };
    } catch (e) {
      log('serve').error({ err: (e as Error).message }, 'could not load the published run; serving the popularity fallback');
    }
  }
  const recs = await popularityFromStore(store, catalog, confidenceSettings(config));
  return { recs, catalog };
}

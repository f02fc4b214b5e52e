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
import type { Store } from '../store/index.ts';
import { canNotify } from '../store/index.ts';
import { Catalog } from './catalog.ts';
import { IdMap } from '../domain/ids.ts';
import { LiveModel } from './live.ts';
import { confidenceSettings } from '../signals/index.ts';
import { readAudioFeatures } from '../audio/index.ts';
import { popularityFromStore, type ServingState, type PlaylistSource, type Playlist as ServedPlaylist, type PlaylistKind, type AudioFeatureSource } from './state.ts';
import { openRunAt, currentPublication, runFolder, type PublishedRun } from '../pipeline/published.ts';
import { Product, readRunPlaylists, reasonText, storedWeekly, type Playlist, type Reason as PlaylistReason, type RunPlaylists } from '../playlists/index.ts';
import type { TrackCard } from './recommendations.ts';
import { log } from '../log.ts';
import { DeepcutError } from '../errors.ts';
import type { Clock } from '../core/clock.ts';
import { BanditHome, processStaging } from './home.ts';
import { sharedPlaylistArchive, type ArchiveHome } from './archive.ts';
import { itemRetrieval } from './retrieval.ts';
import { policyFor } from '../bandit/index.ts';
import { ImpressionLog, impressionLogDir, StoreImpressionWriter } from '../bandit/index.ts';
import { readHomeBandit } from '../bandit/index.ts';
import { artifactFetchStats } from '../artifacts/index.ts';

/** The reason kind of a track of a list stored before tracks kept their reason's kind: by its source. */
const KIND_OF_SOURCE: Record<string, PlaylistReason['kind']> = { cf: 'because_you_listen', text: 'described_as', audio: 'sounds_like', popularity: 'popular', follows: 'new_release', artists: 'new_release', favourites: 'favourite' };

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
        reason: { kind: t.reasonKind ?? KIND_OF_SOURCE[t.source] ?? 'popular', text: t.reason, ...(t.reasonTrackId ? { track_id: t.reasonTrackId } : {}), ...(t.reasonArtistId ? { artist_id: t.reasonArtistId } : {}) },
      }),
    ),
  };
}

const LABEL: Record<PlaylistKind, string> = { 'discover-weekly': 'Discover Weekly', 'release-radar': 'Release Radar', 'daily-mixes': 'Daily Mixes' };

/**
 * A listener's time zone: the published run's, for a listener the run saw; else their row in the
 * store's users table (a listener who joined after the run); else UTC. A store failure is
 * `unavailable` (503), never a 500.
 */
export async function timeZoneOf(run: Pick<PublishedRun, 'snapshot'>, store: Pick<Store, 'get'>, user: string): Promise<string> {
  const r = run.snapshot.users.row(user);
  const h = r >= 0 ? run.snapshot.histories[r] : undefined;
  if (h) return h.timeZone;
  try {
    return (await store.get('users', [user]))?.time_zone ?? 'UTC';
  } catch (e) {
    throw new DeepcutError('unavailable', `store read users failed: ${(e as Error).message}`, {}, { cause: e });
  }
}

/**
 * Playlists of the published run: this week's from the archive, Daily Mixes from the run folder,
 * radio made by the product (as `deepcut playlist` reads and makes them). A listener the run did
 * not see (one who joined, or first listened, after it) has none until the next pipeline run makes
 * them: `get` answers undefined and `whyNone` says so.
 */
export async function playlistSource(run: PublishedRun, home: ArchiveHome, catalog: Catalog, store: Pick<Store, 'get'>, now: () => Date = () => new Date()): Promise<PlaylistSource> {
  const archive = await sharedPlaylistArchive(home);
  // the run's Daily Mixes (tens of MB for a few thousand listeners) are indexed by listener on the
  // first request for them, not at start; a listener's lines are parsed when asked for
  let mixes: Promise<RunPlaylists> | undefined;
  const mixesOf = async (user: string) => (await (mixes ??= readRunPlaylists(join(run.dir, 'playlists', 'daily-mixes.jsonl')))).get(user);
  // radio reads only the run's catalog and model (no candidate sources, no clustering seed); made on first use
  let product: Product | undefined;
  return {
    async get(user, kind) {
      if (kind === 'daily-mixes') return (await mixesOf(user))?.map((p) => served(p, catalog));
      // this week's list, or the latest one made in the last four weeks (before this week's job ran)
      const p = await storedWeekly(archive, kind, user, await timeZoneOf(run, store, user), now());
      return p && [served(p, catalog)];
    },
    async radio(seed, k) {
      const r = (product ??= new Product({ world: run.snapshot, model: run.model, seed: 0 })).radio(seed, k);
      const c = run.snapshot.catalog;
      const by = c.trackRows.row(seed) >= 0 ? { track_id: seed } : { artist_id: seed };
      return r?.tracks.map((x): TrackCard => {
        const id = c.tracks[x.track].id;
        return { track_id: id, title: c.tracks[x.track].title, artist_ids: c.tracks[x.track].artists.map((a) => c.artists[a].id), artist_names: c.tracks[x.track].artists.map((a) => c.artists[a].name), score: Math.round(x.score * 1e4) / 1e4, reason: { kind: 'similar_to', text: reasonText(x.reason), ...by } };
      });
    },
    async whyNone(user, kind) {
      const next = 'the next pipeline run makes it (the daily retrain, or `deepcut pipeline run`)';
      if (run.snapshot.users.row(user) < 0) return `no ${LABEL[kind]} for ${user} yet: the published run ${run.runId} was made before their first listen; ${next}`;
      return `the published run ${run.runId} made no ${kind} for user ${user}${kind === 'daily-mixes' ? '' : ' in the last four weeks'}; ${next}`;
    },
  };
}

/** Scalar features the API shows per track (beat grids stay in the run's features.jsonl). */
const AUDIO_FIELDS = ['tempo_bpm', 'tempo_confidence', 'tempo_alt_bpm', 'tuning_cents', 'time_signature', 'time_signature_confidence', 'key', 'mode', 'key_confidence', 'loudness_lufs', 'mean_db', 'energy', 'danceability', 'duration_s'] as const;

/**
 * Audio features of the published run's audio step (`<run>/audio/features.jsonl`, one line per
 * analysed track), or undefined when the run has none. Distributions sample up to 2,000 tracks.
 */
export async function audioFeatureSource(run: Pick<PublishedRun, 'dir'>): Promise<AudioFeatureSource | undefined> {
  const byTrack = new Map<string, Record<string, number>>();
  for (const row of await readAudioFeatures(join(run.dir, 'audio'))) {
    const f: Record<string, number> = {};
    for (const k of AUDIO_FIELDS) {
      const v = row[k];
      if (typeof v === 'number') f[k] = v;
    }
    byTrack.set(row.track_id, f);
  }
  if (byTrack.size === 0) return undefined;
  const sample = [...byTrack.values()].slice(0, 2000);
  const distributions = Object.fromEntries(AUDIO_FIELDS.map((k) => [k, sample.map((f) => f[k]).filter((v) => v !== undefined)]));
  return {
    get: async (track) => byTrack.get(track),
    distributions: async () => distributions,
  };
}

/**
 * Fold the listens stored since the run's snapshot into the live model: those that started after
 * the latest listen the snapshot holds (`lastListenAt`, ms since epoch), at most `max`, the newest
 * (when there are more, a warning says how many are left to the next run). A listen stored after
 * the run but started before its latest listen (a late upload) waits for the next run. They are
 * folded in as posted ones are, with the live model's signal settings. Returns how many listens
 * were stored since the run (`since`) and how many of them were folded in (`folded`).
 */
export async function foldInSinceRun(store: Pick<Store, 'readListens'>, recs: Pick<LiveModel, 'observe'>, lastListenAt: number, max: number): Promise<{ folded: number; since: number }> {
  if (max <= 0) return { folded: 0, since: 0 };
  const l = await store.readListens({ since: new Date(lastListenAt + 1) });
  const n = l.user.length;
  const from = Math.max(0, n - max);
  if (from > 0) log('serve').warn({ since_run: n, folded: max, 'server.startFoldInMax': max }, `${n} listens stored since the published run: folding in the newest ${max}; the next run learns from all`);
  const rows: { user_id: string; track_id: string; ms_played: number; skipped: boolean }[] = [];
  // readListens orders by start time: the newest are at the end
  for (let i = from; i < n; i++) rows.push({ user_id: l.users.id(l.user[i]), track_id: l.tracks.id(l.track[i]), ms_played: l.msPlayed[i], skipped: l.skipped[i] === 1 });
  recs.observe(rows);
  return { folded: rows.length, since: n };
}

export interface LoadOptions {
  /** Load this run (default: the store's published run). */
  runId?: string;
  /**
   * When the run cannot be loaded: false throws (an API node keeps serving the run it has);
   * true (default) serves the popularity fallback over the store's listens, with an error logged.
   */
  fallback?: boolean;
  /**
   * Fold in the listens stored since the run's snapshot (default true). The in-process retrain
   * turns it off: it keeps the listens posted while it ran and folds those in itself.
   */
  foldInSinceRun?: boolean;
  /** What "now" is for this week's playlists and the home page's new releases (default: the system clock; the demo: its world's day). */
  clock?: Clock;
}

let fetchesLogged = false;
/** Log the process's artifact fetches (src/artifacts): a retry as a warning, a fetch given up as an error. */
function logArtifactFetches(): void {
  if (fetchesLogged) return;
  fetchesLogged = true;
  const l = log('artifacts');
  artifactFetchStats.on((e) => {
    if (e.type === 'retry') l.warn({ run: e.runId, key: e.key, attempt: e.attempt, retry_in_ms: e.delayMs, err: e.error }, 'artifact download failed; retrying');
    else if (e.type === 'failed') l.error({ run: e.runId, key: e.key, err: e.error }, 'artifact fetch gave up');
    else if (e.type === 'fetched') l.info({ run: e.runId, files: e.files, downloaded: e.downloaded, cached: e.cached, bytes: e.bytes }, 'run fetched from the artifact store');
  });
}

export async function loadServingState(store: Store, config: Config, o: LoadOptions = {}): Promise<ServingState> {
  logArtifactFetches();
  // the catalog comes from the store while the run's files are read
  const catalogP = Catalog.load(store);
  catalogP.catch(() => undefined); // awaited below; not unhandled meanwhile
  const runId = o.runId ?? (await currentPublication(store, config.home))?.runId;
  if (runId) {
    try {
      // the run's folder through the artifact store (in place for the default store, else fetched into <home>/cache)
      const run = await openRunAt(await runFolder(config, runId), runId, { threads: 1 });
      const catalog = await catalogP;
      const s = run.snapshot;
      // the live model's own copy of the run's listeners: it adds new ones, the snapshot stays the run's
      // new listens are folded in with the settings the run was built with, not today's config
      if (!s.signals) log('serve').warn({ run: run.runId }, 'the run predates recorded signal settings (snapshot version 1): folding in with the current config');
      const confidence = s.signals ?? confidenceSettings(config);
      const recs = new LiveModel({ recommender: run.model, users: new IdMap(s.users.toArray()), tracks: s.catalog.trackRows, userItems: s.userTracks, catalog, confidence, kind: 'published-run', runId: run.runId, artistIdOf: (a) => s.catalog.artists[a]?.id });
      // listens posted since the run, stored but not in its model: folded in now, not forgotten until the next run
      const since = o.foldInSinceRun === false ? undefined : await foldInSinceRun(store, recs, s.lastListenAt, config.server.startFoldInMax);
      log('serve').info({ run: run.runId, model: run.model.name, ...(since ? { listens_since_run: since.since, folded_in: since.folded } : {}) }, 'serving the published run');
      const audio = await audioFeatureSource(run);
      const now = o.clock ? () => o.clock!.now() : undefined;
      const playlists = await playlistSource(run, config, catalog, store, now);
      // the home page: shelves ordered by the bandit over the run's reward model (uniform until one is learnt), every card logged
      // to the impression log, which the pipeline's bandit step loads into the store
      const bandit = await readHomeBandit(join(run.dir, 'bandit'));
      if (bandit.skipped) log('serve').warn({ run: run.runId }, bandit.skipped);
      // an embedded server logs impressions to local files (cheap); a fleet's API node commits them to the shared store before it answers;
      // shelves waiting to be seen (the web app's pages): a fleet's wait in the store, so any node logs them; one process keeps
      // them in memory across its run swaps (a DuckDB write per page cost the home ten times its CPU)
      const fleet = canNotify(store);
      const sink = fleet ? new StoreImpressionWriter(store) : new ImpressionLog(impressionLogDir(config.home));
      const staging = fleet && !store.readOnly ? store : processStaging(store);
      const home = new BanditHome({ policy: policyFor(bandit.model, { epsilon: config.bandit.epsilon }), catalog, playlists, log: sink, durable: fleet, staging, now, evidence: bandit.evidence });
      // the item index is built (and measured against the model's scan) once the server answers
      const warmUp = () => recs.useItemIndex(itemRetrieval(run.model, s.userTracks));
      return { recs, catalog, playlists, home, warmUp, ...(audio ? { audio } : {}) };
    } catch (e) {
      if (o.fallback === false) throw e;
      log('serve').error({ err: (e as Error).message }, 'could not load the published run; serving the popularity fallback');
    }
  }
  const catalog = await catalogP;
  const recs = await popularityFromStore(store, catalog, confidenceSettings(config));
  return { recs, catalog };
}

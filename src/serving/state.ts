/**
 * Everything the server answers from, swappable as a whole when a run is published: the live
 * recommendation model and optional sources for playlists, the home page, audio features and
 * admin reports. A source that is absent means "not computed yet": the routes answer 503 with a
 * message that says how to compute it, never 500.
 *
 * Contracts for the pipeline (so it can plug in without touching the server):
 * - `PlaylistSource.get(user, kind)` returns the user's latest playlist of that kind, or undefined
 *   when the published run made none for this user (a listener who is new since the run, among
 *   others); `whyNone` says why in a sentence the API answers with (200, no playlists).
 * - `HomeSource.home(user, recs)` composes the shelves; {@link composeHome} is the default.
 * - `AudioFeatureSource` answers per-track features (name → number) and per-feature samples.
 */
import type { Store } from '../store/index.ts';
import { listenConfidence, defaultConfidence, type ConfidenceOptions } from '../signals/index.ts';
import { PopularityRecommender } from '../cf/index.ts';
import { Catalog } from './catalog.ts';
import { LiveModel } from './live.ts';
import type { Recommendations, TrackCard } from './recommendations.ts';

export type PlaylistKind = 'discover-weekly' | 'release-radar' | 'daily-mixes';

export interface Playlist {
  playlist_id: string;
  kind: PlaylistKind;
  title: string;
  /** ISO timestamp of when the playlist was made. */
  made_at: string;
  run_id: string | null;
  tracks: TrackCard[];
}

export interface PlaylistSource {
  /** The user's playlists of `kind` (one for discover-weekly/release-radar, several daily mixes). */
  get(user: string, kind: PlaylistKind): Promise<Playlist[] | undefined>;
  /** Why `get` has nothing for this user, e.g. "… made before their first listen; the next pipeline run makes it". */
  whyNone?(user: string, kind: PlaylistKind): Promise<string>;
  /** Radio from a seed track or artist id; undefined when the seed is unknown. */
  radio?(seed: string, k: number): Promise<TrackCard[] | undefined>;
}

export interface Shelf {
  id: string;
  title: string;
  cards: TrackCard[];
}

export interface Home {
  user_id: string;
  source: string;
  shelves: Shelf[];
}

export interface HomeSource {
  /**
   * The user's shelves. Impressions are logged at once, or — `deferImpressions` (the web app) —
   * only for the shelves the page later reports as seen ({@link HomeSource.viewed}).
   */
  home(user: string, recs: Recommendations, opts?: { deferImpressions?: boolean }): Promise<Home>;
  /** Log the impressions of shelves `shelves` of home answer `requestId` (each once); returns the cards logged. */
  viewed?(user: string, requestId: string, shelves: readonly string[]): Promise<number>;
  /** Resolves when everything the source logs (impressions) is written; called before the store closes. */
  flush?(): Promise<void>;
  /** Flush, and release what the source holds (timers); called when a new run's state replaces it. */
  close?(): Promise<void>;
}

export interface AudioFeatureSource {
  /** Features of one track (e.g. tempo_bpm, energy, …), or undefined when not analysed. */
  get(track: string): Promise<Record<string, number> | undefined>;
  /** A sample of each feature's values across the catalog, for the admin histograms. */
  distributions(): Promise<Record<string, number[]>>;
}

export interface ServingState {
  /** undefined when there is nothing to recommend from yet (no run published, no listens stored). */
  recs: Recommendations | undefined;
  catalog: Catalog;
  playlists?: PlaylistSource;
  home?: HomeSource;
  audio?: AudioFeatureSource;
  /**
   * Work that only makes answers faster (building the item index: ~0.3 CPU s on the default
   * world, synchronous): the server calls it once as it starts listening, and after swapping in a
   * new run; answers are the same before and after. It still runs before the first request is
   * answered, so readiness includes it; persisting the index with the run would remove it.
   */
  warmUp?(): void;
}

/**
 * The fallback model over whatever the store holds: popularity fitted on every stored listen,
 * with co-listening similarity. undefined when the store has no listens.
 */
export async function popularityFromStore(store: Store, catalog: Catalog, conf: ConfidenceOptions = defaultConfidence): Promise<LiveModel | undefined> {
  const l = await store.readListens();
  if (l.user.length === 0) return undefined;
  const m = listenConfidence(l, conf);
  if (m.indices.length === 0) return undefined;
  const rec = new PopularityRecommender();
  await rec.fit(m);
  return new LiveModel({ recommender: rec, users: l.users, tracks: l.tracks, userItems: m, catalog, confidence: conf, kind: 'store-popularity' });
}

/**
 * The default home: shelves composed from the live model — "Made for you", "More like <the
 * user's most played track>", and "Popular with everyone" — each card with its reason.
 */
export function composeHome(user: string, recs: Recommendations, perShelf = 12): Home {
  const shelves: Shelf[] = [];
  const made = recs.forUser(user, perShelf);
  shelves.push({ id: 'made-for-you', title: 'Made for you', cards: made });
  const heard = new Set(recs.heard(user, 1000));
  const seen = new Set([...made.map((c) => c.track_id), ...heard]);
  for (const seed of recs.heard(user, 2)) {
    const more = (recs.similarTracks(seed, perShelf + seen.size) ?? []).filter((c) => !seen.has(c.track_id)).slice(0, perShelf);
    if (more.length === 0) continue;
    for (const c of more) seen.add(c.track_id);
    const title = more[0].reason.kind === 'similar_to' ? more[0].reason.text.replace(/^similar to /, '') : seed;
    shelves.push({ id: `more-like:${seed}`, title: `More like ${title}`, cards: more });
  }
  return { user_id: user, source: `${recs.info.kind}:${recs.info.model}`, shelves };
}

/**
 * What the HTTP layer asks of the serving-side model. One small interface, answered by
 * {@link LiveModel} over any fitted `Recommender` (ALS with fold-in, popularity, item-kNN) plus the
 * id maps of its run; the server never sees rows or matrices.
 */
import type { Listen } from '../domain/schemas.ts';
import type { Reason as PlaylistReason } from '../playlists/index.ts';

/** Why a track is recommended, shown next to it in the web page. */
export type Reason =
  | { kind: 'because_you_played'; text: string; track_id: string }
  | { kind: 'similar_listeners'; text: string }
  | { kind: 'popular'; text: string }
  | { kind: 'similar_to'; text: string; track_id?: string; artist_id?: string }
  /** A stored playlist's reason: its kind (playlists/types.ts) and the track or artist it names. */
  | { kind: PlaylistReason['kind']; text: string; track_id?: string; artist_id?: string };

export interface TrackCard {
  track_id: string;
  title: string | null;
  artist_ids: string[];
  artist_names: string[];
  score: number;
  reason: Reason;
}

export interface ArtistCard {
  artist_id: string;
  name: string | null;
  score: number;
}

export interface ForUserOptions {
  /** Track ids to leave out besides the ones the user has heard. */
  exclude?: Iterable<string>;
}

/** Where the answers come from: a published pipeline run, or the popularity fallback over the store. */
export interface ModelInfo {
  kind: 'published-run' | 'store-popularity' | 'in-process';
  model: string;
  runId: string | null;
  users: number;
  tracks: number;
  foldIn: boolean;
}

export interface Recommendations {
  readonly info: ModelInfo;
  /**
   * Top-`k` tracks for `user`, unheard ones only, each with its reason. A user the model never saw
   * gets the cold-start answer (popular tracks) rather than an error.
   */
  forUser(user: string, k: number, opts?: ForUserOptions): TrackCard[];
  /** Tracks most like `track`; undefined when the model does not know the track. */
  similarTracks(track: string, k: number): TrackCard[] | undefined;
  /** Artists most like `artist`; undefined when the model does not know the artist. */
  similarArtists(artist: string, k: number): ArtistCard[] | undefined;
  /**
   * Take committed listens into the users' histories; the users' vectors are folded in again
   * (lazily, before their next answer) without a retrain. Listens of unknown tracks are ignored.
   */
  observe(listens: readonly Pick<Listen, 'user_id' | 'track_id' | 'ms_played' | 'skipped'>[]): void;
  /** Track ids `user` has heard (net plays > 0), most played first, at most `k`. */
  heard(user: string, k: number): string[];
  /** Every track `user` has streamed or skipped (net plays ≠ 0): what a shelf of new things must leave out. */
  played(user: string): Set<string>;
  /** True when the model has a history for `user` (from its run, or folded in since). */
  knows(user: string): boolean;
  /** Up to `limit` user ids the model knows, in row order (for pickers). */
  knownUsers(limit: number): string[];
  /** Listeners of `track` in the run the model was fitted on (users with a net stream of it); 0 for an unknown track. Optional: a model without it shows no counts. */
  listeners?(track: string): number;
}

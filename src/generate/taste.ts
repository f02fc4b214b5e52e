/**
 * Hidden taste: how a listener picks tracks and whether they like them. The same model drives the
 * listen generator and the oracle that evaluations compare against, and it is built only from the
 * truth files (truth/artists.jsonl, truth/tracks.jsonl, truth/taste.jsonl), so a test can rebuild
 * it from disk.
 *
 * A listener's next track, at time fraction τ of the training window (0 = first day, 1 = clock):
 * - with probability `fav_share`, a favourite artist (by weight), then one of its tracks by track
 *   popularity;
 * - with probability `explore`, any track by global popularity;
 * - otherwise a genre from the drifting mixture w(τ) = (1 − dτ)·w_start + dτ·w_to, an artist of
 *   that genre by popularity^`mainstream`, then one of its tracks by popularity.
 * They like it with p = σ(−0.4 + log(G·w(τ)[genre] + 0.05) + 1.5·[favourite] + 4·(quality − 0.55)).
 */
import { GENRES } from './genres.ts';
import type { ArtistTruth, TrackTruth } from './catalog.ts';
import { cumulative } from './util.ts';

/** A listener's hidden taste (one line of truth/taste.jsonl). */
export interface UserTaste {
  user_id: string;
  kind: 'mainstream' | 'niche' | 'eclectic';
  /** Genre mixture at the start of the window (sums to 1), and the one it drifts towards. */
  genres_start: Record<string, number>;
  genres_drift_to: Record<string, number>;
  /** Drift strength d: at the clock the mixture is (1 − d)·start + d·drift_to. */
  drift: number;
  /** Favourite artists with weights (sum to 1). */
  favourites: [artist_id: string, weight: number][];
  /** Exponent on artist popularity when picking inside a genre: low = niche, high = mainstream. */
  mainstream: number;
  fav_share: number;
  explore: number;
  /** Probability that a pick is a replay of a recently finished track. */
  replay: number;
  new_listener: boolean;
  time_zone: string;
}

/** Taste exponents a listener can have (precomputed samplers exist for each). */
export const MAINSTREAM_LEVELS = [0.3, 0.6, 0.9, 1.2] as const;

/** The catalog side of the taste model: samplers and normalizers, built once. */
export class TasteModel {
  readonly nGenres = GENRES.length;
  readonly nTracks: number;
  readonly artistIndex = new Map<string, number>();
  readonly artistGenre: Int32Array;
  readonly trackGenre: Int32Array;
  readonly trackQuality: Float64Array;
  readonly trackPop: Float64Array;
  readonly trackArtists: Int32Array[];
  /** Tracks of each artist (primary or featured) and their cumulative popularity. */
  readonly artistTracks: Int32Array[];
  readonly artistTrackCum: Float64Array[];
  /** Artists of each genre; cumulative popularity^level per genre and level. */
  readonly genreArtists: Int32Array[];
  readonly genreArtistCum: Float64Array[][];
  readonly globalTrackCum: Float64Array;
  private readonly artistPop: Float64Array;
  /** artistPow[level][a] = popularity(a)^MAINSTREAM_LEVELS[level]. */
  private readonly artistPow: Float64Array[];

  constructor(artists: readonly Pick<ArtistTruth, 'artist_id' | 'genre' | 'popularity'>[], tracks: readonly Pick<TrackTruth, 'genre' | 'artist_ids' | 'popularity' | 'quality'>[]) {
    const gIndex = new Map(GENRES.map((g, i) => [g.name, i]));
    artists.forEach((a, i) => this.artistIndex.set(a.artist_id, i));
    this.artistGenre = Int32Array.from(artists, (a) => gIndex.get(a.genre) ?? 0);
    this.artistPop = Float64Array.from(artists, (a) => a.popularity);
    this.artistPow = MAINSTREAM_LEVELS.map((lv) => Float64Array.from(this.artistPop, (p) => p ** lv));
    this.nTracks = tracks.length;
    this.trackGenre = Int32Array.from(tracks, (t) => gIndex.get(t.genre) ?? 0);
    this.trackQuality = Float64Array.from(tracks, (t) => t.quality);
    this.trackPop = Float64Array.from(tracks, (t) => t.popularity);
    this.trackArtists = tracks.map((t) => Int32Array.from(t.artist_ids, (id) => this.artistIndex.get(id) ?? -1));
    const lists: number[][] = artists.map(() => []);
    this.trackArtists.forEach((as, t) => as.forEach((a) => lists[a].push(t)));
    this.artistTracks = lists.map((l) => Int32Array.from(l));
    this.artistTrackCum = this.artistTracks.map((l) => cumulative(Float64Array.from(l, (t) => this.trackPop[t])));
    const byGenre: number[][] = GENRES.map(() => []);
    this.artistGenre.forEach((g, a) => byGenre[g].push(a));
    this.genreArtists = byGenre.map((l) => Int32Array.from(l));
    this.genreArtistCum = this.genreArtists.map((l) => MAINSTREAM_LEVELS.map((_, lv) => cumulative(Float64Array.from(l, (a) => this.artistPow[lv][a]))));
    this.globalTrackCum = cumulative(this.trackPop);
  }

  /** Index of the mainstream level closest to `m`. */
  level(m: number): number {
    let best = 0;
    for (let i = 1; i < MAINSTREAM_LEVELS.length; i++) if (Math.abs(MAINSTREAM_LEVELS[i] - m) < Math.abs(MAINSTREAM_LEVELS[best] - m)) best = i;
    return best;
  }

  /** Genre weights (length G, sum 1) of a taste at time fraction τ (clamped to [0, 1.5]). */
  genreWeights(u: UserTaste, tau: number): Float64Array {
    const d = u.drift * Math.min(1.5, Math.max(0, tau));
    const w = new Float64Array(this.nGenres);
    GENRES.forEach((g, i) => (w[i] = (1 - d) * (u.genres_start[g.name] ?? 0) + d * (u.genres_drift_to[g.name] ?? 0)));
    return w;
  }

  /** Favourite weights by artist row. */
  favourites(u: UserTaste): Map<number, number> {
    const m = new Map<number, number>();
    for (const [id, w] of u.favourites) {
      const a = this.artistIndex.get(id);
      if (a !== undefined) m.set(a, w);
    }
    return m;
  }

  /** Probability that listener `u` likes track `t` given genre weights `w` and favourites `fav`. */
  pLike(t: number, w: Float64Array, fav: Map<number, number>): number {
    let isFav = 0;
    for (const a of this.trackArtists[t]) if (fav.has(a)) isFav = 1;
    const z = -0.4 + Math.log(this.nGenres * w[this.trackGenre[t]] + 0.05) + 1.5 * isFav + 4 * (this.trackQuality[t] - 0.55);
    return 1 / (1 + Math.exp(-z));
  }

  /**
   * The oracle: for every track, the probability that `u`'s next fresh (non-replay) pick at time
   * τ is that track AND they like it. Length nTracks. Ranking by it is the best any model can do.
   */
  oracleScores(u: UserTaste, tau: number): Float64Array {
    const w = this.genreWeights(u, tau);
    const fav = this.favourites(u);
    const lv = this.level(u.mainstream);
    const pGenre = 1 - u.fav_share - u.explore;
    const genreTotal = this.genreArtistCum.map((c) => c[lv][c[lv].length - 1] ?? 1);
    const genreLogit = Float64Array.from(w, (x) => Math.log(this.nGenres * x + 0.05));
    // Per artist: probability mass per unit of track popularity, and whether a favourite.
    const nA = this.artistPop.length;
    const perPop = new Float64Array(nA);
    const isFav = new Uint8Array(nA);
    for (let a = 0; a < nA; a++) {
      const g = this.artistGenre[a];
      const total = this.artistTrackCum[a][this.artistTrackCum[a].length - 1] ?? 1;
      const f = fav.get(a);
      perPop[a] = (pGenre * w[g] * this.artistPow[lv][a]) / genreTotal[g] / total + (f !== undefined ? (u.fav_share * f) / total : 0);
      isFav[a] = f !== undefined ? 1 : 0;
    }
    const globalShare = u.explore / this.globalTrackCum[this.nTracks - 1];
    const s = new Float64Array(this.nTracks);
    for (let t = 0; t < this.nTracks; t++) {
      let e = globalShare;
      let fz = 0;
      for (const a of this.trackArtists[t]) {
        e += perPop[a];
        fz |= isFav[a];
      }
      const z = -0.4 + genreLogit[this.trackGenre[t]] + 1.5 * fz + 4 * (this.trackQuality[t] - 0.55);
      s[t] = (e * this.trackPop[t]) / (1 + Math.exp(-z));
    }
    return s;
  }
}

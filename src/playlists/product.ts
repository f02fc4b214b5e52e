/**
 * The product over one run: Discover Weekly, Release Radar, Daily Mixes, radio, similar tracks and
 * similar artists, each defined once here from the run's catalog, listener histories, model and
 * extra candidate sources. The pipeline's playlists step, the CLI and the API build a
 * {@link Product} from the same run and call the same methods, so they give the same lists.
 */
import type { Csr } from '../signals/index.ts';
import type { IdMap, UserId } from '../domain/ids.ts';
import { isFactorized, ranksByFactors, type Recommender } from '../cf/index.ts';
import { explainsRanking, RankedRecommender } from '../rank/index.ts';
import { weekStart } from '../core/clock.ts';
import { cfSource, popularitySource, nearestByInnerProduct, rankedSource, type Vectors } from './sources.ts';
import { rowSearch, type RowSearch } from './retrieval.ts';
import { discoverWeekly, releaseRadar, dailyMixes, radio, freshTracks, type DailyMix } from './makers.ts';
import { artistSpace, CoListening, similarArtists, similarTracks, type ArtistSpace, type Neighbour } from './similar.ts';
import { reasonRef, reasonText, type Candidate, type CandidateSource, type CatalogView, type FlowFeatures, type Playlist, type UserHistory } from './types.ts';

/** What one run holds for the product: its catalog, id maps, histories and confidence matrix (a pipeline `Snapshot` is one). */
export interface RunWorld {
  catalog: CatalogView;
  users: IdMap<UserId>;
  /** By user row. */
  histories: UserHistory[];
  /** users × tracks confidence (rows = user rows, cols = catalog track rows). */
  userTracks: Csr;
}

export interface ProductInputs {
  world: RunWorld;
  model: Recommender;
  /** Candidate sources the run's later stages add to Discover Weekly (text, audio), between CF and popularity. */
  sources?: CandidateSource[];
  /** Flow features (tempo, key) for sequencing Discover Weekly. */
  flow?: (track: number) => FlowFeatures | undefined;
  /** Seed of the Daily Mix clustering (`cf.seed`). */
  seed: number;
  /**
   * Track rows nearest a query vector by inner product, best first (Daily Mixes). Default: the
   * exact plain-TS search; the pipeline passes the SIMD scorer, which ranks the same.
   */
  nearest?: (query: Float32Array, k: number) => { track: number; score: number }[];
  /**
   * An index over the model's item factors ({@link rowSearch}): CF candidates and the Daily Mixes'
   * nearest tracks are then searched in it instead of scoring every track (the playlists step at
   * catalog scale). Same lists as the scan, up to float rounding.
   */
  search?: RowSearch;
}

/** Discover Weekly's quotas over the ranking stage's list (see {@link Product.discoverWeekly}). */
export const rankedDiscoverQuotas = { ranked: 1 };

/** The weekly playlists, keyed by the date of their weekday in the user's zone. */
export type WeeklyKind = 'discover-weekly' | 'release-radar';

/** Discover Weekly's week starts Monday, Release Radar's Friday, in the listener's time zone. */
export const weeklyDay: Record<WeeklyKind, number> = { 'discover-weekly': 1, 'release-radar': 5 };

/**
 * The key (YYYY-MM-DD) of the weekly playlist of `kind` live at `at` in zone `tz`.
 * @example weeklyKey('discover-weekly', new Date('2026-11-25T12:00:00Z'), 'UTC') // '2026-11-23'
 */
export function weeklyKey(kind: WeeklyKind, at: Date, tz: string): string {
  return weekStart(at, tz, weeklyDay[kind]);
}

export const playlistTitles: Record<WeeklyKind, string> = { 'discover-weekly': 'Discover Weekly', 'release-radar': 'Release Radar' };

/** Turn ranked candidates into a stored playlist (id `<kind>:<user or 'seed'>:<key>`). */
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
      const ref = reasonRef(x.reason);
      return {
        trackId: t.id,
        title: t.title,
        artists: t.artists.map((a) => catalog.artists[a].name),
        durationMs: t.durationMs,
        reason: reasonText(x.reason),
        reasonKind: x.reason.kind,
        ...(ref.trackId ? { reasonTrackId: ref.trackId } : {}),
        ...(ref.artistId ? { reasonArtistId: ref.artistId } : {}),
        source: x.source,
        ...(t.audioPath ? { audioPath: t.audioPath } : {}),
      };
    }),
  };
}

/** A radio: the seed's name and the blended tracks. */
export interface Radio {
  seedName: string;
  tracks: Candidate[];
}

/** Neighbours per seed track for radio (before blending and caps). */
const RADIO_NEIGHBOURS = 60;
/** Seed tracks of an artist radio: its most streamed tracks. */
const ARTIST_RADIO_SEEDS = 5;

/**
 * The product over one run. Build once per run (it memoises artist vectors and co-listening);
 * every method is deterministic for the run and its inputs.
 * @example const p = new Product({ world: snapshot, model, seed: 42 }); p.discoverWeekly(snapshot.histories[0])
 */
export class Product {
  readonly world: RunWorld;
  readonly model: Recommender;
  private readonly sources: CandidateSource[];
  /** True when the run's model is the ranking stage's: Discover Weekly is its list (the other sources fill what it leaves). */
  private readonly ranked: boolean;
  private readonly flow: ProductInputs['flow'];
  private readonly seed: number;
  private readonly itemVectors: Vectors | undefined;
  private readonly nearestFn: (q: Float32Array, k: number) => { track: number; score: number }[];
  private coListening: CoListening | undefined;
  private artists: ArtistSpace | undefined;
  private readonly similarArtistMemo = new Map<number, number[]>();
  private readonly search: RowSearch | undefined;
  private artistIndex: RowSearch | undefined;
  private readonly freshMemo = new Map<string, { of: (a: number) => number[]; rows: (readonly number[] | undefined)[] }>();

  constructor(i: ProductInputs) {
    this.world = i.world;
    this.model = i.model;
    this.flow = i.flow;
    this.seed = i.seed;
    const { catalog } = i.world;
    this.itemVectors = isFactorized(i.model) ? { dim: i.model.factors, data: i.model.itemFactors() } : undefined;
    // the ranking stage's list when the run has one (its cf source searched in the index too), else CF's
    const m = i.model;
    if (i.search && m instanceof RankedRecommender && ranksByFactors(m.undialedCf)) {
      const userF = m.undialedCf.userFactors();
      const f = m.undialedCf.factors;
      const search = i.search;
      m.useCfSearch((u, k, exclude) => search.top(userF.subarray(u * f, (u + 1) * f), k, exclude));
    }
    this.ranked = explainsRanking(m);
    const first = explainsRanking(m) ? rankedSource(m, i.world.users, i.world.userTracks, catalog) : cfSource(m, i.world.users, i.world.userTracks, catalog, this.itemVectors, i.search);
    this.sources = [first, ...(i.sources ?? []), popularitySource(catalog)];
    const v = this.itemVectors;
    const s = i.search;
    this.search = s;
    this.nearestFn = s
      ? (q, k) => {
          const r = s.top(q, k);
          return Array.from(r.items, (track, j) => ({ track, score: r.scores[j] }));
        }
      : (i.nearest ?? ((q, k) => (v ? nearestByInnerProduct(v, q, k) : [])));
  }

  /** The history of user id `user`, or undefined when the run does not know the user. */
  history(user: string): UserHistory | undefined {
    const r = this.world.users.row(user);
    return r >= 0 ? this.world.histories[r] : undefined;
  }

  /**
   * Discover Weekly: 30 tracks the user never streamed nor skipped, blended from CF, the run's
   * extra sources (text, audio) and popularity by quota, sequenced for flow (see makers.ts). With
   * the ranking stage, the ranked list fills it (it already holds the text, audio and popular
   * candidates, ranked); the other sources only fill places it leaves.
   */
  discoverWeekly(user: UserHistory): Candidate[] {
    return discoverWeekly(user, this.world.catalog, this.sources, { flow: this.flow, ...(this.ranked ? { quotas: rankedDiscoverQuotas } : {}) });
  }

  /** Release Radar for the week ending `friday` (YYYY-MM-DD in the user's zone), by predicted affinity. */
  releaseRadar(user: UserHistory, friday: string): Candidate[] {
    return releaseRadar(user, this.world.catalog, { friday, affinity: (u, ts) => this.affinity(u, ts), similarArtists: (a, k) => this.similarArtistRows(a, k), fresh: this.freshOn(friday) });
  }

  /** Daily Mixes (30 tracks each); none without a factor model. */
  dailyMixes(user: UserHistory): DailyMix[] {
    const v = this.itemVectors;
    if (!v) return [];
    return dailyMixes(user, this.world.catalog, { vector: (t) => v.data.subarray(t * v.dim, (t + 1) * v.dim), nearest: this.nearestFn, seed: this.seed, size: 30 });
  }

  /**
   * Song or artist radio from a seed id (a track id, else an artist id): the seed tracks' neighbours
   * ({@link similarTracks}), blended with at most 2 tracks per artist and album, seeds left out.
   * An artist's seeds are its first 5 streamed tracks. Undefined when the id is neither.
   */
  radio(seed: string, size = 50): Radio | undefined {
    const { catalog } = this.world;
    const t = catalog.trackRows.row(seed);
    const a = t >= 0 ? -1 : catalog.artistRows.row(seed);
    if (t < 0 && a < 0) return undefined;
    const seeds = t >= 0 ? [t] : catalog.tracksByArtist[a].filter((x) => catalog.tracks[x].plays > 0).slice(0, ARTIST_RADIO_SEEDS);
    const seedName = t >= 0 ? catalog.tracks[t].title : catalog.artists[a].name;
    const cf = seeds
      .flatMap((x) => this.similarTracks(x, RADIO_NEIGHBOURS))
      .map((n) => ({ track: n.row, score: n.score }))
      .sort((x, y) => y.score - x.score);
    return { seedName, tracks: radio(catalog, { seedName, similar: { cf }, exclude: (x) => seeds.includes(x), size }) };
  }

  /** The `k` tracks most like track row `t`, best first (see similar.ts). */
  similarTracks(t: number, k: number): Neighbour[] {
    return similarTracks(this.model, () => this.listens(), t, k);
  }

  /** The `k` artists most like artist row `a` by CF, best first; undefined when `a` has no vector. */
  similarArtists(a: number, k: number): Neighbour[] | undefined {
    this.artists ??= artistSpace(this.model, this.world.catalog.tracksByArtist, () => this.listens());
    return similarArtists(this.artists, a, k);
  }

  /**
   * Similar artist rows for Release Radar's third tier, memoised per artist (top 20 kept). With an
   * index over the item factors (the playlists step), artists are searched in an index over the
   * artist vectors too: the same rows as {@link similarArtists}, without a scan of every artist.
   */
  private similarArtistRows(a: number, k: number): number[] {
    let r = this.similarArtistMemo.get(a);
    if (!r) this.similarArtistMemo.set(a, (r = this.search ? this.similarArtistsIndexed(a, 20) : (this.similarArtists(a, 20) ?? []).map((n) => n.row)));
    return r.slice(0, k);
  }

  private similarArtistsIndexed(a: number, k: number): number[] {
    this.artists ??= artistSpace(this.model, this.world.catalog.tracksByArtist, () => this.listens());
    const space = this.artists;
    if (space.kind !== 'factors') return (similarArtists(space, a, k) ?? []).map((n) => n.row);
    const vs = space.vectors;
    if (a < 0 || a >= vs.length || !vs[a].some((x) => x !== 0)) return [];
    if (!this.artistIndex) {
      const dim = vs[0]?.length ?? 0;
      const flat = new Float32Array(vs.length * dim);
      const rows: number[] = [];
      vs.forEach((v, b) => {
        flat.set(v, b * dim);
        if (v.some((x) => x !== 0)) rows.push(b);
      });
      this.artistIndex = rowSearch(flat, dim, rows, this.seed);
    }
    return Array.from(this.artistIndex.top(vs[a], k, [a]).items);
  }

  /** An artist's releases in the week up to `friday`, remembered per artist (a radar per listener reads the same artists). */
  private freshOn(friday: string): (artist: number) => readonly number[] {
    let memo = this.freshMemo.get(friday);
    if (!memo) this.freshMemo.set(friday, (memo = { of: freshTracks(this.world.catalog, friday), rows: [] }));
    const m = memo;
    return (a) => (m.rows[a] ??= m.of(a));
  }

  /** Predicted affinity: user · item factors, or the track's plays without factors. */
  private affinity(u: { id: string }, tracks: number[]): number[] {
    const { catalog, users } = this.world;
    const r = users.row(u.id);
    const v = this.itemVectors;
    if (!v || !isFactorized(this.model) || r < 0) return tracks.map((t) => catalog.tracks[t].plays);
    const U = this.model.userFactors();
    const f = v.dim;
    return tracks.map((t) => {
      let d = 0;
      for (let i = 0; i < f; i++) d += U[r * f + i] * v.data[t * f + i];
      return d;
    });
  }

  private listens(): CoListening {
    return (this.coListening ??= new CoListening(this.world.userTracks));
  }
}

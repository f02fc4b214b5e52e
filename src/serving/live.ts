/**
 * The serving-side model: a fitted `Recommender` with its run's id maps, the catalog, and every
 * user's history kept live. New listens change a user's history at once; models with `FoldIn`
 * (ALS) recompute that user's vector from the new history before the user's next answer, so a
 * listen shows in the recommendations without a retrain.
 *
 * History is kept as the net play count per (user, track) — plays minus quick skips, classified by
 * the signals' one rule (`listenSignal`) — and turned into confidences with the settings the run
 * was built with (`confidence`; serving passes the run's recorded settings). The base matrix of the run is patched with the changed rows lazily: at most
 * every `rebuildMs`, or at once for a user the matrix does not have yet.
 */
import type { Listen } from '../domain/schemas.ts';
import { IdMap, type TrackId, type UserId } from '../domain/ids.ts';
import { topK } from '../core/topk.ts';
import type { Csr } from '../signals/index.ts';
import { defaultConfidence, listenSignal, signedConfidence, type ConfidenceOptions } from '../signals/index.ts';
import { canFoldIn, isFactorized, type Factorized, type FoldIn, type Ranked, type Recommender } from '../cf/index.ts';
import type { ArtistCard, ForUserOptions, ModelInfo, Reason, Recommendations, TrackCard } from './recommendations.ts';
import type { Catalog } from './catalog.ts';
import { artistSpace, CoListening, similarArtists, similarTracks, type ArtistSpace } from '../playlists/index.ts';
import { explainsRanking, type Origin } from '../rank/index.ts';

export interface LiveModelParts {
  recommender: Recommender;
  users: IdMap<UserId>;
  tracks: IdMap<TrackId>;
  /** The confidence matrix the model was fitted on (users.size × tracks.size). */
  userItems: Csr;
  catalog: Catalog;
  confidence?: ConfidenceOptions;
  kind: ModelInfo['kind'];
  runId?: string | null;
  /** Longest wait before changed histories are merged into the matrix (ms, default 250). */
  rebuildMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
  /**
   * Retrieval over the model's item factors by inner product (e.g. the exact IVF index,
   * src/index/ivf.ts): used for a user's top-k when the model is factorized; otherwise, or when
   * absent, the model's own `recommend`.
   */
  itemIndex?: ItemRetrieval;
  /** The artist id of an artist row of the run's catalog (reasons of the ranking stage name artists by row). */
  artistIdOf?: (row: number) => string | undefined;
}

/** What serving needs of an item index: top-k by inner product with excluded rows. */
export interface ItemRetrieval {
  search(query: Float32Array, k: number, opts?: { exclude?: Iterable<number> }): Ranked;
}

/** Inverse of `confidence`: the net play count that gives confidence `c` (sign kept). */
function netOfConfidence(c: number, o: ConfidenceOptions): number {
  const a = Math.abs(c);
  const n = (o.scale ?? 'log') === 'linear' ? (a - 1) / o.alpha : o.epsilon * Math.expm1((a - 1) / o.alpha);
  return Math.sign(c) * Math.round(n * 1e4) / 1e4;
}

const REASON_SOURCES = 20;
/** Seed tracks whose neighbour lists are kept (all dropped when full). */
const SIMILAR_CACHE = 20_000;

export class LiveModel implements Recommendations {
  readonly info: ModelInfo;
  private readonly rec: Recommender;
  private readonly users: IdMap<UserId>;
  private readonly tracks: IdMap<TrackId>;
  private readonly catalog: Catalog;
  private readonly conf: ConfidenceOptions;
  private matrix: Csr;
  /** Full net-play rows of users changed since the matrix was built: user row → track row → net. */
  private readonly changed = new Map<number, Map<number, number>>();
  /** Users whose vector must be folded in again before their next answer. */
  private readonly stale = new Set<number>();
  private lastBuild: number;
  private readonly rebuildMs: number;
  private readonly now: () => number;
  /** Item-popularity order for cold start (track rows, most listeners first). */
  private readonly popular: Int32Array;
  private readonly popularCount: Float32Array;
  /** Co-listening over the current matrix (rebuilt with it). */
  private itemUsers: CoListening | undefined;
  /** Users the recommender has a row for (grows by fold-in). */
  private modelUsers: number;
  private artistTracks: Map<string, number[]> | undefined;
  private itemIndex: ItemRetrieval | undefined;
  private readonly similarCache = new Map<string, TrackCard[]>();
  /** Artist CF vectors of a factorized model (item factors do not change while serving). */
  private artistFactors: ArtistSpace | undefined;

  private readonly artistIdOf: LiveModelParts['artistIdOf'];

  constructor(p: LiveModelParts) {
    this.itemIndex = p.itemIndex;
    this.artistIdOf = p.artistIdOf;
    this.rec = p.recommender;
    this.users = p.users;
    this.tracks = p.tracks;
    this.catalog = p.catalog;
    this.conf = p.confidence ?? defaultConfidence;
    this.matrix = p.userItems;
    this.rebuildMs = p.rebuildMs ?? 250;
    this.now = p.now ?? (() => performance.now());
    this.lastBuild = this.now();
    this.modelUsers = p.users.size;
    this.info = { kind: p.kind, model: p.recommender.name, runId: p.runId ?? null, users: p.users.size, tracks: p.tracks.size, foldIn: canFoldIn(p.recommender) };
    this.popularCount = new Float32Array(this.tracks.size);
    for (let q = 0; q < this.matrix.indices.length; q++) if (this.matrix.data[q] > 0) this.popularCount[this.matrix.indices[q]]++;
    this.popular = topK(this.popularCount, 500).items;
  }

  forUser(user: string, k: number, opts: ForUserOptions = {}): TrackCard[] {
    const u = this.users.row(user);
    const exclude = new Set<number>();
    for (const t of opts.exclude ?? []) {
      const r = this.tracks.row(t);
      if (r >= 0) exclude.add(r);
    }
    if (u < 0) return this.coldStart(k, exclude, new Set());
    const m = this.current(u);
    const heard = this.heardRows(u);
    if (heard.size === 0) return this.coldStart(k, exclude, heard);
    const filter = { filterHeard: true, filterItems: [...exclude, ...heard] };
    // the ranking stage's model says which source proposed each track: its reason is kept
    const explained = explainsRanking(this.rec) ? this.rec.recommendExplained(u, m, k, filter) : undefined;
    const ranked = explained ?? (this.itemIndex && isFactorized(this.rec) ? this.retrieve(this.rec, u, k, [...exclude, ...heard]) : this.rec.recommend(u, m, k, filter));
    const sources = this.reasonSources(u);
    const out: TrackCard[] = [];
    for (let i = 0; i < ranked.items.length; i++) out.push(this.card(ranked.items[i], ranked.scores[i], explained ? this.originReason(explained.origins[i], ranked.items[i], sources) : this.reasonFor(ranked.items[i], sources)));
    if (out.length < k) out.push(...this.coldStart(k - out.length, new Set([...exclude, ...ranked.items]), heard));
    return out;
  }

  similarTracks(track: string, k: number): TrackCard[] | undefined {
    // item factors do not change while serving, so neighbours of a factorized model are kept
    const key = `${k}\u0000${track}`;
    const hit = this.similarCache.get(key);
    if (hit) return [...hit];
    const cards = this.computeSimilarTracks(track, k);
    if (cards && isFactorized(this.rec)) {
      if (this.similarCache.size >= SIMILAR_CACHE) this.similarCache.clear();
      this.similarCache.set(key, cards);
    }
    return cards && [...cards];
  }

  /** Similar tracks as playlists/similar.ts defines them (the CLI and radio use the same). */
  private computeSimilarTracks(track: string, k: number): TrackCard[] | undefined {
    const t = this.tracks.row(track);
    if (t < 0) return undefined;
    const title = this.catalog.trackTitle(track) ?? track;
    const reason: Reason = { kind: 'similar_to', text: `similar to ${title}`, track_id: track };
    return similarTracks(this.rec, () => this.coListening(), t, k).map((n) => this.card(n.row, n.score, reason));
  }

  /** Similar artists as playlists/similar.ts defines them, over the artists of the tracks the model knows. */
  similarArtists(artist: string, k: number): ArtistCard[] | undefined {
    const groups = this.artistGroups();
    const own = groups.get(artist);
    if (!own || own.length === 0) return undefined;
    const names = [...groups.keys()];
    const space = this.artistFactors ?? artistSpace(this.rec, [...groups.values()], () => this.coListening());
    if (space.kind === 'factors') this.artistFactors = space;
    return similarArtists(space, names.indexOf(artist), k)?.map((n) => ({ artist_id: names[n.row], name: this.catalog.artistName(names[n.row]), score: round(n.score) }));
  }

  observe(listens: readonly Pick<Listen, 'user_id' | 'track_id' | 'ms_played' | 'skipped'>[]): void {
    for (const l of listens) {
      const t = this.tracks.row(l.track_id);
      if (t < 0) continue;
      const d = listenSignal(l.ms_played, l.skipped, this.conf);
      if (d === 0) continue;
      let u = this.users.row(l.user_id);
      if (u < 0) u = this.users.add(l.user_id as UserId);
      const row = this.rowOf(u);
      row.set(t, (row.get(t) ?? 0) + d);
      this.stale.add(u);
    }
  }

  /** Answer top-k through `index` from now on (serving builds it once the server answers), or the model's scan when undefined. */
  useItemIndex(index: ItemRetrieval | undefined): void {
    this.itemIndex = index;
  }

  heard(user: string, k: number): string[] {
    const u = this.users.row(user);
    if (u < 0) return [];
    const row = this.rowOf(u, false);
    return [...row].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, k).map(([t]) => this.tracks.id(t));
  }

  played(user: string): Set<string> {
    const u = this.users.row(user);
    const out = new Set<string>();
    if (u >= 0) for (const t of this.heardRows(u)) out.add(this.tracks.id(t));
    return out;
  }

  knows(user: string): boolean {
    return this.users.row(user) >= 0;
  }

  knownUsers(limit: number): string[] {
    return this.users.toArray().slice(0, limit);
  }

  listeners(track: string): number {
    const t = this.tracks.row(track);
    return t < 0 ? 0 : this.popularCount[t];
  }

  /** Top-k for user row `u` through the item index (the user's vector is current: `current(u)` folded it in). */
  private retrieve(rec: Recommender & Factorized, u: number, k: number, exclude: number[]): Ranked {
    const f = rec.factors;
    return this.itemIndex!.search(rec.userFactors().subarray(u * f, (u + 1) * f), k, { exclude });
  }

  /** The matrix with changed rows merged, rebuilt when due; folds `u` in again when stale. */
  private current(u: number): Csr {
    const due = this.changed.size > 0 && (u >= this.matrix.rows || (this.changed.has(u) && this.now() - this.lastBuild >= this.rebuildMs));
    if (due) this.rebuild();
    if (canFoldIn(this.rec)) {
      // FoldIn grows the user table one row at a time: new users are folded in in row order.
      while (this.modelUsers <= u) {
        this.foldIn(this.rec, this.modelUsers);
        this.stale.delete(this.modelUsers++);
      }
      if (this.stale.has(u)) this.foldIn(this.rec, u);
    }
    this.stale.delete(u);
    return this.matrix;
  }

  private foldIn(rec: Recommender & FoldIn, u: number): void {
    const row = this.rowOf(u, false);
    const items: number[] = [];
    const conf: number[] = [];
    for (const [t, n] of [...row].sort((a, b) => a[0] - b[0])) {
      if (n === 0) continue;
      items.push(t);
      conf.push(signedConfidence(n, this.conf));
    }
    const keep = conf.map((c, i) => (c !== 0 ? i : -1)).filter((i) => i >= 0);
    rec.foldIn(u, Int32Array.from(keep, (i) => items[i]), Float32Array.from(keep, (i) => conf[i]));
  }

  /** The user's full net-play row, copied out of the matrix the first time the user changes. */
  private rowOf(u: number, create = true): Map<number, number> {
    let row = this.changed.get(u);
    if (row) return row;
    row = new Map();
    if (u < this.matrix.rows) for (let q = this.matrix.indptr[u]; q < this.matrix.indptr[u + 1]; q++) row.set(this.matrix.indices[q], netOfConfidence(this.matrix.data[q], this.conf));
    if (create) this.changed.set(u, row);
    return row;
  }

  private heardRows(u: number): Set<number> {
    const out = new Set<number>();
    for (const [t, n] of this.rowOf(u, false)) if (n !== 0) out.add(t);
    return out;
  }

  private rebuild(): void {
    const m = this.matrix;
    const rows = this.users.size;
    const indptr = new Int32Array(rows + 1);
    const idx: number[] = [];
    const val: number[] = [];
    const indices: Int32Array[] = [];
    const data: Float32Array[] = [];
    let nnz = 0;
    for (let u = 0; u < rows; u++) {
      const row = this.changed.get(u);
      if (row) {
        idx.length = 0;
        val.length = 0;
        for (const [t, n] of [...row].sort((a, b) => a[0] - b[0])) {
          const c = signedConfidence(n, this.conf);
          if (c !== 0) (idx.push(t), val.push(c));
        }
        indices.push(Int32Array.from(idx));
        data.push(Float32Array.from(val));
        nnz += idx.length;
      } else if (u < m.rows) {
        indices.push(m.indices.subarray(m.indptr[u], m.indptr[u + 1]));
        data.push(m.data.subarray(m.indptr[u], m.indptr[u + 1]));
        nnz += m.indptr[u + 1] - m.indptr[u];
      } else {
        indices.push(new Int32Array(0));
        data.push(new Float32Array(0));
      }
      indptr[u + 1] = nnz;
    }
    const I = new Int32Array(nnz);
    const D = new Float32Array(nnz);
    for (let u = 0; u < rows; u++) {
      I.set(indices[u], indptr[u]);
      D.set(data[u], indptr[u]);
    }
    this.matrix = { rows, cols: m.cols, indptr, indices: I, data: D };
    this.changed.clear();
    this.itemUsers = undefined;
    this.lastBuild = this.now();
  }

  private coldStart(k: number, exclude: Set<number>, heard: Set<number>): TrackCard[] {
    const out: TrackCard[] = [];
    for (const t of this.popular) {
      if (out.length >= k) break;
      if (exclude.has(t) || heard.has(t)) continue;
      out.push(this.card(t, this.popularCount[t], { kind: 'popular', text: `popular: ${this.popularCount[t]} listeners` }));
    }
    return out;
  }

  /** The user's most-played heard tracks, used to explain recommendations. */
  private reasonSources(u: number): number[] {
    return [...this.rowOf(u, false)].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, REASON_SOURCES).map(([t]) => t);
  }

  private reasonFor(t: number, sources: number[]): Reason {
    if (isFactorized(this.rec) && sources.length) {
      const F = this.rec.itemFactors();
      const f = this.rec.factors;
      let best = -1;
      let bestScore = -Infinity;
      for (const s of sources) {
        let d = 0;
        for (let j = 0; j < f; j++) d += F[t * f + j] * F[s * f + j];
        if (d > bestScore) (bestScore = d), (best = s);
      }
      if (!(bestScore > 0)) return { kind: 'popular', text: 'filling the shelf: nothing you played is close to it' };
      const id = this.tracks.id(best);
      return { kind: 'because_you_played', text: `because you played ${this.catalog.trackTitle(id) ?? id}`, track_id: id };
    }
    return { kind: 'similar_listeners', text: `popular with listeners like you` };
  }

  /** The reason of a ranked track from the source that proposed it (src/rank's {@link Origin}). */
  private originReason(o: Origin, t: number, sources: number[]): Reason {
    const artistOf = (row: number) => this.catalog.trackArtists(this.tracks.id(row))[0];
    const artist = (id: string | undefined) => (id ? { artist_id: id, name: this.catalog.artistName(id) ?? id } : undefined);
    switch (o.source) {
      case 'artist': {
        const a = artist(artistOf(t));
        return a ? { kind: 'because_you_listen', text: `because you listen to ${a.name}`, artist_id: a.artist_id } : this.reasonFor(t, sources);
      }
      case 'recent':
        return { kind: 'popular', text: 'popular right now' };
      case 'text': {
        const a = o.artist !== undefined ? artist(this.artistIdOfRow(o.artist, t)) : undefined;
        return a ? { kind: 'similar_to_seed', text: `described like ${a.name}`, artist_id: a.artist_id } : this.reasonFor(t, sources);
      }
      case 'audio':
      case 'cf':
      case 'knn': {
        if (o.track === undefined) return this.reasonFor(t, sources);
        const id = this.tracks.id(o.track);
        const title = this.catalog.trackTitle(id) ?? id;
        return o.source === 'audio' ? { kind: 'sounds_like', text: `sounds like ${title}`, track_id: id } : { kind: 'because_you_played', text: `because you played ${title}`, track_id: id };
      }
    }
  }

  /** The id of artist row `a` of the run's catalog (the ranked track's own artist when the parts give no map). */
  private artistIdOfRow(a: number, t: number): string | undefined {
    return this.artistIdOf?.(a) ?? this.catalog.trackArtists(this.tracks.id(t))[0];
  }

  private coListening(): CoListening {
    return (this.itemUsers ??= new CoListening(this.matrix));
  }

  private artistGroups(): Map<string, number[]> {
    if (this.artistTracks) return this.artistTracks;
    const g = new Map<string, number[]>();
    for (let t = 0; t < this.tracks.size; t++) {
      for (const a of this.catalog.trackArtists(this.tracks.id(t))) {
        let l = g.get(a);
        if (!l) g.set(a, (l = []));
        l.push(t);
      }
    }
    return (this.artistTracks = g);
  }

  private card(t: number, score: number, reason: Reason): TrackCard {
    const id = this.tracks.id(t);
    const artists = this.catalog.trackArtists(id);
    return { track_id: id, title: this.catalog.trackTitle(id), artist_ids: artists, artist_names: artists.map((a) => this.catalog.artistName(a) ?? a), score: round(score), reason };
  }
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

/**
 * The production ranking stage's candidates and features (the second stage of a two-stage
 * recommender, Covington et al. 2016), over one listening world: a users × tracks confidence
 * matrix with each pair's last listen time, the catalog's artist, album and release per track, and
 * optional content vectors (artist text vectors, track audio embeddings).
 *
 * Sources, each proposing a listener's best `depth` unheard tracks with a score:
 *   cf      the run's collaborative model (ALS by default)
 *   knn     item-kNN (cosine, 100 neighbours)
 *   artist  unheard tracks of the artists the listener streams, by (the artist's share of the
 *           listener's streamed tracks) × log(1 + listeners of the track)
 *   recent  the tracks with the most listeners in the last `recentDays`
 *   text    tracks of the artists whose text vector is nearest the listener's recent artists
 *   audio   tracks whose audio embedding is nearest the listener's recent tracks
 * Features of a (listener, track) candidate, in {@link featureNames} order: per source its rank (0 =
 * best; `depth` when absent) and score / the source's best score; how many sources proposed it;
 * the track's listeners, its trend (share of its listeners in the last `recentDays`), its recent
 * listeners, days since its release; its artist's listeners; the artist's share of the listener's
 * streamed tracks, the listener's streamed tracks of the artist, days since the listener last
 * played the artist, whether they follow it; cosine of the track's text and audio vectors with
 * the listener's recent plays; the listener's activity and days since their last play. Counts are
 * log(1 + x); listener counts are divided by the world's maximum so that a ranker trained on an
 * earlier, smaller world reads the same scale.
 */
import type { Csr } from '../signals/index.ts';
import { rowNorms as matrixRowNorms, tailQuota, type Recommender, type Ranked } from '../cf/index.ts';
import { TopK } from '../core/topk.ts';
import { DeepcutError } from '../errors.ts';
import type { Candidates } from './candidates.ts';

const DAY_MS = 86_400_000;

/** Row-major vectors, `dim` wide; an all-zero row means "no vector". */
export interface RankVectors {
  dim: number;
  data: Float32Array;
}

/** What the stage reads of a world (the run's snapshot, or the validation split's past). */
export interface RankWorld {
  /** users × tracks confidences (positive: streamed, negative: skipped). */
  matrix: Csr;
  /** Last listen time (ms) of every entry of `matrix`. */
  lastAt: Float64Array;
  /** The world's "now" (ms): its latest listen. */
  now: number;
  /** Main artist row of each track (-1: none), album row (-1: none), release time (ms, NaN: unknown). */
  artistOf: Int32Array;
  albumOf: Int32Array;
  releasedAt: Float64Array;
  /** Artist rows each listener row follows. */
  follows?: (user: number) => ReadonlySet<number> | undefined;
  /** Unit text vectors by artist row, and audio embeddings by track row, when the run has them. */
  text?: RankVectors;
  audio?: RankVectors;
}

export const SOURCES = ['cf', 'knn', 'artist', 'recent', 'text', 'audio'] as const;
export type SourceName = (typeof SOURCES)[number];

const TRACK_FEATURES = ['sources', 'track_listeners', 'track_trend', 'track_recent', 'release_days', 'artist_listeners', 'artist_share', 'artist_tracks', 'artist_days', 'follows', 'text_sim', 'audio_sim', 'user_activity', 'user_days'] as const;

/** The track features after `sources` that depend on the track alone ({@link WorldTables.trackFeatures}). */
const TRACK_ONLY = 5;

/** Feature names, in column order, for the given sources. */
export function featureNames(sources: readonly string[]): string[] {
  return [...sources.flatMap((s) => [`${s}_rank`, `${s}_score`]), ...TRACK_FEATURES];
}

/** One listener's history as the stage reads it: entries of a matrix row with their last times. */
export interface UserRow {
  items: Int32Array;
  conf: Float32Array;
  lastAt: Float64Array;
}

/** The entries of row `u` of `w.matrix`. */
export function userRowOf(w: Pick<RankWorld, 'matrix' | 'lastAt'>, u: number): UserRow {
  const m = w.matrix;
  if (u >= m.rows) return { items: new Int32Array(0), conf: new Float32Array(0), lastAt: new Float64Array(0) };
  const a = m.indptr[u];
  const b = m.indptr[u + 1];
  return { items: m.indices.subarray(a, b), conf: m.data.subarray(a, b), lastAt: w.lastAt.subarray(a, b) };
}

/** A source's proposal for one listener: item rows best first, with scores. */
export interface Proposal {
  items: ArrayLike<number>;
  scores: ArrayLike<number>;
}

/** A candidate source of the stage: the `k` best unheard tracks of listener row `u` (history `row`). */
export interface StageSource {
  readonly name: SourceName;
  top(u: number, row: UserRow, heard: ReadonlySet<number>, k: number): Proposal;
}

/** Per-track and per-artist counts of a world, shared by its sources and features. */
export class WorldTables {
  readonly listeners: Float64Array;
  readonly recent: Float64Array;
  readonly artistListeners: Float64Array;
  /** Each artist's tracks, most listeners first (ties: lower row). */
  readonly artistTracks: Int32Array[];
  /** Tracks by recent listeners (ties: listeners, lower row), those with any. */
  readonly recentOrder: Int32Array;
  /** Artists in the head: the top 20% by listeners (the long tail is the rest, as the demo evaluation counts it). */
  readonly headArtist: Uint8Array;
  readonly maxListeners: number;
  readonly maxRecent: number;
  readonly maxArtist: number;
  readonly maxActivity: number;

  constructor(
    readonly w: RankWorld,
    readonly recentDays = 14,
  ) {
    const m = w.matrix;
    const n = m.cols;
    if (w.lastAt.length !== m.indices.length) throw new DeepcutError('invalid_input', `rank: ${w.lastAt.length} times for ${m.indices.length} pairs`);
    if (w.artistOf.length !== n) throw new DeepcutError('invalid_input', `rank: ${w.artistOf.length} artists for ${n} tracks`);
    this.listeners = new Float64Array(n);
    this.recent = new Float64Array(n);
    const since = w.now - recentDays * DAY_MS;
    let maxActivity = 0;
    for (let u = 0; u < m.rows; u++) {
      maxActivity = Math.max(maxActivity, m.indptr[u + 1] - m.indptr[u]);
      for (let p = m.indptr[u]; p < m.indptr[u + 1]; p++) {
        if (!(m.data[p] > 0)) continue;
        this.listeners[m.indices[p]]++;
        if (w.lastAt[p] >= since) this.recent[m.indices[p]]++;
      }
    }
    const artists = w.artistOf.reduce((a, b) => Math.max(a, b), -1) + 1;
    this.artistListeners = new Float64Array(artists);
    const lists: number[][] = Array.from({ length: artists }, () => []);
    for (let t = 0; t < n; t++) {
      const a = w.artistOf[t];
      if (a < 0) continue;
      this.artistListeners[a] += this.listeners[t];
      lists[a].push(t);
    }
    this.artistTracks = lists.map((l) => Int32Array.from(l.sort((x, y) => this.listeners[y] - this.listeners[x] || x - y)));
    const byRecent: number[] = [];
    for (let t = 0; t < n; t++) if (this.recent[t] > 0) byRecent.push(t);
    byRecent.sort((x, y) => this.recent[y] - this.recent[x] || this.listeners[y] - this.listeners[x] || x - y);
    this.recentOrder = Int32Array.from(byRecent);
    const order = Array.from({ length: artists }, (_, a) => a).sort((x, y) => this.artistListeners[y] - this.artistListeners[x] || x - y);
    this.headArtist = new Uint8Array(artists);
    for (const a of order.slice(0, Math.ceil(0.2 * artists))) this.headArtist[a] = 1;
    const lmax = (x: Float64Array) => Math.log1p(x.reduce((a, b) => Math.max(a, b), 0)) || 1;
    this.maxListeners = lmax(this.listeners);
    this.maxRecent = lmax(this.recent);
    this.maxArtist = lmax(this.artistListeners);
    this.maxActivity = Math.log1p(maxActivity) || 1;
  }

  private xs = new Float64Array(0);
  /** Scratch for {@link userCandidates}: a buffer whose first `n` entries are 0. */
  scratch(n: number): Float64Array {
    if (this.xs.length < n) this.xs = new Float64Array(n);
    else this.xs.fill(0, 0, n);
    return this.xs;
  }

  private slot: Int32Array | undefined;
  /** Scratch per track row for {@link userCandidates} (−1 between calls). */
  slots(): Int32Array {
    return (this.slot ??= new Int32Array(this.w.matrix.cols).fill(-1));
  }

  private readonly normsOf: { text?: Float64Array; audio?: Float64Array } = {};
  /** Row norms of the world's text or audio vectors ({@link rowNorms}), computed once. */
  norms(space: 'text' | 'audio'): Float64Array {
    const v = this.w[space];
    if (!v) throw new DeepcutError('invalid_input', `rank: the world has no ${space} vectors`);
    return (this.normsOf[space] ??= rowNorms(v));
  }

  private ofTrack: Float64Array | undefined;
  /**
   * The features of a candidate that depend on its track alone, {@link TRACK_ONLY} per track row
   * (track_listeners, track_trend, track_recent, release_days, artist_listeners), computed once:
   * {@link userCandidates} copies them.
   */
  trackFeatures(): Float64Array {
    if (this.ofTrack) return this.ofTrack;
    const w = this.w;
    const n = w.matrix.cols;
    const out = new Float64Array(n * TRACK_ONLY);
    const days = (ms: number) => Math.log1p(Math.max(0, w.now - ms) / DAY_MS);
    for (let i = 0; i < n; i++) {
      const a = w.artistOf[i];
      let c = i * TRACK_ONLY;
      out[c++] = Math.log1p(this.listeners[i]) / this.maxListeners;
      out[c++] = this.listeners[i] > 0 ? this.recent[i] / this.listeners[i] : 0;
      out[c++] = Math.log1p(this.recent[i]) / this.maxRecent;
      out[c++] = Number.isFinite(w.releasedAt[i]) ? days(w.releasedAt[i]) : 10;
      out[c++] = a >= 0 ? Math.log1p(this.artistListeners[a]) / this.maxArtist : 0;
    }
    return (this.ofTrack = out);
  }

  private head: Uint8Array | undefined;
  /** 1 for tracks of head artists, per track row. */
  headItems(): Uint8Array {
    return (this.head ??= Uint8Array.from(this.w.artistOf, (a) => (a >= 0 && this.headArtist[a] === 1 ? 1 : 0)));
  }

  /** True when track `t`'s artist is outside the head (see {@link headArtist}). */
  isTail(t: number): boolean {
    const a = this.w.artistOf[t];
    return a < 0 || this.headArtist[a] === 0;
  }
}

/** A listener's artists: streamed tracks per artist row and the last time each was played. */
function artistsOf(w: RankWorld, row: UserRow): { tracks: Map<number, number>; last: Map<number, number>; streamed: number } {
  const tracks = new Map<number, number>();
  const last = new Map<number, number>();
  let streamed = 0;
  for (let j = 0; j < row.items.length; j++) {
    const a = w.artistOf[row.items[j]];
    if (a < 0) continue;
    if (row.lastAt[j] > (last.get(a) ?? -Infinity)) last.set(a, row.lastAt[j]);
    if (!(row.conf[j] > 0)) continue;
    streamed++;
    tracks.set(a, (tracks.get(a) ?? 0) + 1);
  }
  return { tracks, last, streamed };
}

/** The listener's `n` most recent streamed tracks (ties: higher confidence, lower row). */
export function recentStreams(row: UserRow, n: number): number[] {
  const idx: number[] = [];
  for (let j = 0; j < row.items.length; j++) if (row.conf[j] > 0) idx.push(j);
  idx.sort((x, y) => row.lastAt[y] - row.lastAt[x] || row.conf[y] - row.conf[x] || row.items[x] - row.items[y]);
  return idx.slice(0, n).map((j) => row.items[j]);
}

/** What the sources and features read of one listener's row, each part computed once per row object. */
interface RowView {
  recent?: number[];
  recentArtists?: number[];
  artists?: ReturnType<typeof artistsOf>;
  textP?: { p: Float32Array | undefined; norm: number };
  audioP?: { p: Float32Array | undefined; norm: number };
}
const views = new WeakMap<UserRow, RowView>();
function viewOf(row: UserRow): RowView {
  let v = views.get(row);
  if (!v) views.set(row, (v = {}));
  return v;
}

/** The listener's {@link PROFILE} most recent streamed tracks ({@link recentStreams}), once per row. */
export function profileTracks(row: UserRow): number[] {
  const v = viewOf(row);
  return (v.recent ??= recentStreams(row, PROFILE));
}

/** The distinct artists of {@link profileTracks}, in the tracks' order, once per row. */
export function profileArtists(w: Pick<RankWorld, 'artistOf'>, row: UserRow): number[] {
  const v = viewOf(row);
  return (v.recentArtists ??= [...new Set(profileTracks(row).map((t) => w.artistOf[t]))]);
}

function rowArtists(w: RankWorld, row: UserRow): ReturnType<typeof artistsOf> {
  const v = viewOf(row);
  return (v.artists ??= artistsOf(w, row));
}

/** The text profile (the listener's recent artists) and its norm, once per row. */
function textProfile(w: RankWorld, row: UserRow): { p: Float32Array | undefined; norm: number } {
  const v = viewOf(row);
  if (!v.textP) {
    const p = w.text ? profileOf(w.text, profileTracks(row).map((i) => w.artistOf[i])) : undefined;
    v.textP = { p, norm: norm(p) };
  }
  return v.textP;
}

/** The audio profile (the listener's recent tracks) and its norm, once per row. */
function audioProfile(w: RankWorld, row: UserRow): { p: Float32Array | undefined; norm: number } {
  const v = viewOf(row);
  if (!v.audioP) {
    const p = w.audio ? profileOf(w.audio, profileTracks(row)) : undefined;
    v.audioP = { p, norm: norm(p) };
  }
  return v.audioP;
}

/** Mean of the unit rows `rows` of `v` (zero rows skipped); undefined when none has a vector. */
function profileOf(v: RankVectors, rows: Iterable<number>): Float32Array | undefined {
  const p = new Float32Array(v.dim);
  let n = 0;
  for (const r of rows) {
    if (r < 0 || (r + 1) * v.dim > v.data.length) continue;
    let norm = 0;
    for (let i = 0; i < v.dim; i++) norm += v.data[r * v.dim + i] ** 2;
    if (norm === 0) continue;
    norm = Math.sqrt(norm);
    for (let i = 0; i < v.dim; i++) p[i] += v.data[r * v.dim + i] / norm;
    n++;
  }
  return n ? p : undefined;
}

/** Cosine of row `r` of `v` with `p` (0 without a vector); `rowNorm` holds each row's norm ({@link rowNorms}). */
function cosine(v: RankVectors, rowNorm: Float64Array, r: number, p: Float32Array | undefined, pNorm: number): number {
  if (!p || r < 0 || (r + 1) * v.dim > v.data.length || pNorm === 0) return 0;
  const n = rowNorm[r];
  if (!(n > 0)) return 0;
  let d = 0;
  const o = r * v.dim;
  for (let i = 0; i < v.dim; i++) d += v.data[o + i] * p[i];
  return d / n / pNorm;
}

/** The L2 norm of every row of `v`, unrounded (summed in dimension order, as {@link cosine} needs them). */
export function rowNorms(v: RankVectors): Float64Array {
  const n = Math.floor(v.data.length / v.dim);
  return matrixRowNorms(v.data, n, v.dim, new Float64Array(n));
}

const norm = (p: Float32Array | undefined) => (p ? Math.sqrt(p.reduce((a, x) => a + x * x, 0)) : 0);

/** How many recent plays make the text and audio profiles. */
const PROFILE = 30;

/**
 * Exact top-k by inner product over the rows of `v` that have a vector (a scan: the stage's
 * content sets are artists, or tracks with audio). Scores are the double-precision dot product
 * rounded to float32, ties to the lower row. The rows with a vector are packed once as doubles
 * (the same products as over the float32 rows, without converting them per query) in blocks of
 * {@link BLOCK} rows laid out dimension by dimension, so one pass over the query scores a block:
 * each row's sum still runs in dimension order (the same bits as one row at a time).
 *
 * When the space's first dimensions hold most of its energy (LSA's, ordered by singular value),
 * a row's sum is first taken over those `head` dimensions only: once k rows are kept, a row whose
 * partial sum plus the Cauchy–Schwarz bound of the rest (‖q_tail‖·‖x_tail‖) stays below the
 * k-th score, with a margin far above the rounding of both, cannot place and is not finished.
 * A finished row continues the same sum from its partial one, so its score is unchanged; a row
 * left out scores below every kept one, so the answer is the full scan's.
 */
export function scanSearch(v: RankVectors): { top(q: Float32Array, k: number, exclude?: ReadonlySet<number>): Proposal } {
  const dim = v.dim;
  const n = v.data.length / dim;
  const rows: number[] = [];
  for (let r = 0; r < n; r++) if (v.data.subarray(r * dim, (r + 1) * dim).some((x) => x !== 0)) rows.push(r);
  const blocks = Math.ceil(rows.length / BLOCK);
  const head = headDims(v, rows);
  const rest = dim - head;
  // row ids per block slot (−1: padding); the blocks' first `head` dimensions (block b, dimension i, slot s at
  // (b·head + i)·BLOCK + s), and the other dimensions row by row (slot j at j·rest)
  const rowOf = new Int32Array(blocks * BLOCK).fill(-1);
  const packed = new Float64Array(blocks * BLOCK * head);
  const tail = new Float64Array(blocks * BLOCK * rest);
  rows.forEach((r, j) => {
    rowOf[j] = r;
    const b = Math.floor(j / BLOCK);
    const slot = j % BLOCK;
    for (let i = 0; i < head; i++) packed[(b * head + i) * BLOCK + slot] = v.data[r * dim + i];
    for (let i = head; i < dim; i++) tail[j * rest + i - head] = v.data[r * dim + i];
  });
  // per packed slot: the norm of the row's dimensions past `head`, and of the whole row
  const tailNorm = new Float64Array(blocks * BLOCK);
  const rowNorm = new Float64Array(blocks * BLOCK);
  rows.forEach((r, j) => {
    let t = 0;
    let a = 0;
    for (let i = 0; i < dim; i++) {
      const x = v.data[r * dim + i] * v.data[r * dim + i];
      a += x;
      if (i >= head) t += x;
    }
    tailNorm[j] = Math.sqrt(t);
    rowNorm[j] = Math.sqrt(a);
  });
  const q64 = new Float64Array(dim);
  const d = new Float64Array(BLOCK);
  // rows that passed the bound, finished 4 at a time (4 sums side by side, each in dimension order)
  const waiting = new Int32Array(4);
  const partial = new Float64Array(4);
  let held = 0;
  const finishFour = (top: TopK) => {
    let s0 = partial[0];
    let s1 = partial[1];
    let s2 = partial[2];
    let s3 = partial[3];
    const o0 = waiting[0] * rest - head;
    const o1 = waiting[1] * rest - head;
    const o2 = waiting[2] * rest - head;
    const o3 = waiting[3] * rest - head;
    for (let i = head; i < dim; i++) {
      const qi = q64[i];
      s0 += qi * tail[o0 + i];
      s1 += qi * tail[o1 + i];
      s2 += qi * tail[o2 + i];
      s3 += qi * tail[o3 + i];
    }
    top.push(rowOf[waiting[0]], Math.fround(s0));
    top.push(rowOf[waiting[1]], Math.fround(s1));
    top.push(rowOf[waiting[2]], Math.fround(s2));
    top.push(rowOf[waiting[3]], Math.fround(s3));
    held = 0;
  };
  return {
    top: function scanTop(q, k, exclude) {
      held = 0;
      let qTail = 0;
      let qAll = 0;
      for (let i = 0; i < dim; i++) {
        q64[i] = q[i];
        qAll += q64[i] * q64[i];
        if (i >= head) qTail += q64[i] * q64[i];
      }
      qTail = Math.sqrt(qTail);
      // the margin covers the sums' rounding (under 1e-7 of ‖q‖·‖x‖)
      const slack = 1e-6 * Math.sqrt(qAll);
      const top = new TopK(Math.min(k, n));
      // the k-th score so far (−∞ until k rows are kept): a row bounded below it cannot place
      let floor = -Infinity;
      for (let b = 0; b < blocks; b++) {
        let d0 = 0;
        let d1 = 0;
        let d2 = 0;
        let d3 = 0;
        let d4 = 0;
        let d5 = 0;
        let d6 = 0;
        let d7 = 0;
        for (let i = 0, o = b * head * BLOCK; i < head; i++, o += BLOCK) {
          const qi = q64[i];
          d0 += qi * packed[o];
          d1 += qi * packed[o + 1];
          d2 += qi * packed[o + 2];
          d3 += qi * packed[o + 3];
          d4 += qi * packed[o + 4];
          d5 += qi * packed[o + 5];
          d6 += qi * packed[o + 6];
          d7 += qi * packed[o + 7];
        }
        d[0] = d0;
        d[1] = d1;
        d[2] = d2;
        d[3] = d3;
        d[4] = d4;
        d[5] = d5;
        d[6] = d6;
        d[7] = d7;
        for (let slot = 0; slot < BLOCK; slot++) {
          const j = b * BLOCK + slot;
          if (d[slot] + qTail * tailNorm[j] + slack * rowNorm[j] < floor) continue;
          const r = rowOf[j];
          if (r < 0 || (exclude !== undefined && exclude.has(r))) continue;
          waiting[held] = j;
          partial[held++] = d[slot];
          if (held === 4) {
            finishFour(top);
            floor = top.floor;
          }
        }
      }
      // the last rows waiting, one by one
      for (let h = 0; h < held; h++) {
        let s = partial[h];
        for (let i = head, o = waiting[h] * rest; i < dim; i++, o++) s += q64[i] * tail[o];
        top.push(rowOf[waiting[h]], Math.fround(s));
      }
      held = 0;
      return top.result();
    },
  };
}

/**
 * The dimensions a {@link scanSearch} sums first: the fewest leading ones holding 3/4 of the rows'
 * energy (Σ x²), when that is at most a quarter of them; else all (no partial sums).
 */
function headDims(v: RankVectors, rows: readonly number[]): number {
  const dim = v.dim;
  const e = new Float64Array(dim);
  for (const r of rows) for (let i = 0; i < dim; i++) e[i] += v.data[r * dim + i] * v.data[r * dim + i];
  const total = e.reduce((a, x) => a + x, 0);
  let acc = 0;
  for (let h = 1; h <= dim; h++) {
    acc += e[h - 1];
    if (acc >= 0.75 * total) return h <= dim / 4 ? h : dim;
  }
  return dim;
}

/** Rows scored together by {@link scanSearch} (its loop is written for 8). */
const BLOCK = 8;

/** A recommender as a source (cf, knn): its top unheard tracks of the matrix row. */
export function modelSource(name: 'cf' | 'knn', model: Recommender, matrix: () => Csr): StageSource {
  return { name, top: (u, _row, heard, k) => model.recommend(u, matrix(), k, { filterHeard: true, filterItems: heard }) };
}

/** Item-kNN models that expose their kept neighbours (the item-kNN recommender of src/cf). */
export interface ItemNeighbours {
  neighboursOf(item: number): { items: Int32Array; scores: Float32Array };
}

export function hasItemNeighbours(m: Recommender): m is Recommender & ItemNeighbours {
  return typeof (m as Partial<ItemNeighbours>).neighboursOf === 'function';
}

/**
 * The item-kNN source from the model's neighbour lists: a listener's score for track j is
 * Σ_i c_ui · S[i, j] over the tracks i of their row, summed into float32 in row order as the model's
 * own `recommend` does, but over the tracks their neighbours reach instead of the whole catalog.
 * The answer is the model's (same items, scores and order): unreached tracks score 0, so when
 * fewer than k reached tracks are left they are filled by the lowest unheard rows, ties by row.
 * `items` is the model's track count; a user row outside `matrix` goes to the model itself.
 */
export function knnSource(model: Recommender & ItemNeighbours, matrix: () => Csr, items: number): StageSource {
  const score = new Float32Array(items);
  const reached = new Uint8Array(items);
  const inRow = new Uint8Array(items);
  let touched = new Int32Array(1024);
  return {
    name: 'knn',
    top: function knnTop(u, row, heard, k) {
      const m = matrix();
      if (u >= m.rows || m.cols !== items) return model.recommend(u, m, k, { filterHeard: true, filterItems: heard });
      if (!Number.isInteger(k) || k <= 0) return model.recommend(u, m, k, { filterHeard: true, filterItems: heard });
      let nt = 0;
      const a = m.indptr[u];
      const b = m.indptr[u + 1];
      // inRow marks the row's tracks and the heard ones: the tracks left out (one array read, not a set's)
      for (const i of heard) if (i >= 0 && i < items) inRow[i] = 1;
      for (let p = a; p < b; p++) {
        const i = m.indices[p];
        inRow[i] = 1;
        const c = m.data[p];
        const nb = model.neighboursOf(i);
        for (let q = 0; q < nb.items.length; q++) {
          const j = nb.items[q];
          if (reached[j] === 0) {
            reached[j] = 1;
            if (nt === touched.length) {
              const g = new Int32Array(2 * nt);
              g.set(touched);
              touched = g;
            }
            touched[nt++] = j;
          }
          score[j] += c * nb.scores[q];
        }
      }
      const out = new TopK(Math.min(k, items));
      try {
        for (let t = 0; t < nt; t++) {
          const j = touched[t];
          if (inRow[j] === 0) out.push(j, score[j]);
        }
        // unreached unheard tracks score 0: only the k lowest rows of them can place
        let filled = 0;
        for (let j = 0; j < items && filled < k; j++) {
          if (reached[j] !== 0 || inRow[j] !== 0) continue;
          out.push(j, 0);
          filled++;
        }
      } finally {
        for (let t = 0; t < nt; t++) {
          score[touched[t]] = 0;
          reached[touched[t]] = 0;
        }
        for (let p = a; p < b; p++) inRow[m.indices[p]] = 0;
        for (const i of heard) if (i >= 0 && i < items) inRow[i] = 0;
      }
      return out.result();
    },
  };
}

/** Unheard tracks of the listener's artists (see the module comment). */
export function artistSource(t: WorldTables): StageSource {
  return {
    name: 'artist',
    top(_u, row, heard, k) {
      const { tracks, streamed } = rowArtists(t.w, row);
      const out: { item: number; score: number }[] = [];
      const artists = [...tracks].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 40);
      for (const [a, c] of artists) {
        let taken = 0;
        for (const i of t.artistTracks[a]) {
          if (taken >= 10) break;
          if (heard.has(i)) continue;
          out.push({ item: i, score: (c / streamed) * Math.log1p(1 + t.listeners[i]) });
          taken++;
        }
      }
      out.sort((x, y) => y.score - x.score || x.item - y.item);
      const top = out.slice(0, k);
      return { items: top.map((x) => x.item), scores: top.map((x) => x.score) };
    },
  };
}

/** The tracks with the most recent listeners, unheard. */
export function recentSource(t: WorldTables): StageSource {
  return {
    name: 'recent',
    top(_u, _row, heard, k) {
      const items: number[] = [];
      const scores: number[] = [];
      for (const i of t.recentOrder) {
        if (items.length >= k) break;
        if (heard.has(i)) continue;
        items.push(i);
        scores.push(t.recent[i]);
      }
      return { items, scores };
    },
  };
}

/** Tracks of the artists nearest (text vectors) the listener's recent artists, most listened first, two per artist. */
export function textSource(t: WorldTables, text: RankVectors): StageSource {
  const search = scanSearch(text);
  return {
    name: 'text',
    top(_u, row, heard, k) {
      const { p } = textProfile(t.w, row);
      if (!p) return { items: [], scores: [] };
      const near = search.top(p, Math.ceil(k / 2) + 10);
      const items: number[] = [];
      const scores: number[] = [];
      for (let j = 0; j < near.items.length && items.length < k; j++) {
        let two = 0;
        for (const i of t.artistTracks[near.items[j]] ?? []) {
          if (two === 2 || items.length >= k) break;
          if (heard.has(i)) continue;
          items.push(i);
          scores.push(near.scores[j]);
          two++;
        }
      }
      return { items, scores };
    },
  };
}

/** Tracks whose audio embedding is nearest the listener's recent tracks (cosine). */
export function audioSource(t: WorldTables, audio: RankVectors): StageSource {
  const n = audio.data.length / audio.dim;
  const unit = new Float32Array(audio.data.length);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let i = 0; i < audio.dim; i++) s += audio.data[r * audio.dim + i] ** 2;
    if (s === 0) continue;
    for (let i = 0; i < audio.dim; i++) unit[r * audio.dim + i] = audio.data[r * audio.dim + i] / Math.sqrt(s);
  }
  const search = scanSearch({ dim: audio.dim, data: unit });
  return {
    name: 'audio',
    top(_u, row, heard, k) {
      const { p } = audioProfile(t.w, row);
      return p ? search.top(p, k, heard) : { items: [], scores: [] };
    },
  };
}

/**
 * The world's sources, in {@link SOURCES} order: `cf` and `knn` from the given models (skipped when
 * absent), `artist`, `recent`, and `text` / `audio` when the world has those vectors.
 */
export function worldSources(t: WorldTables, models: { cf?: Recommender; knn?: Recommender }, matrix: () => Csr = () => t.w.matrix): StageSource[] {
  const out: StageSource[] = [];
  if (models.cf) out.push(modelSource('cf', models.cf, matrix));
  if (models.knn) out.push(hasItemNeighbours(models.knn) ? knnSource(models.knn, matrix, t.w.matrix.cols) : modelSource('knn', models.knn, matrix));
  out.push(artistSource(t), recentSource(t));
  if (t.w.text) out.push(textSource(t, t.w.text));
  if (t.w.audio) out.push(audioSource(t, t.w.audio));
  return out;
}

/** The candidate rows of one listener, and which source ranked each best (its origin). */
export interface UserCandidates {
  items: Int32Array;
  /** items × dim features, row-major. */
  x: Float64Array;
  /** Index into the sources of the source that ranked the item best (ties: earlier source). */
  origin: Uint8Array;
}

/**
 * The union of the sources' `depth`-deep proposals for listener `u` with their features (see the
 * module comment). `heard`: every track the listener played (streamed or skipped), left out.
 * `used` (per feature column): columns marked 0 are left at 0 when costly to compute (the text
 * and audio similarities), for a ranker that never reads them ({@link LearnedRanker.usedFeatures}).
 * With `scratch`, `x` is a view of `t`'s scratch buffer, valid until the next call (a caller that
 * scores the rows at once); else a copy.
 */
export function userCandidates(t: WorldTables, sources: readonly StageSource[], u: number, row: UserRow, heard: ReadonlySet<number>, depth: number, used?: Uint8Array, scratch = false): UserCandidates {
  const w = t.w;
  const S = sources.length;
  const dim = 2 * S + TRACK_FEATURES.length;
  const slot = t.slots();
  const items: number[] = [];
  const origin: number[] = [];
  // each source proposes at most `depth` tracks: S × depth rows hold the union
  const x = t.scratch(Math.max(1, S * depth) * dim);
  try {
    for (let s = 0; s < S; s++) {
      const r = sources[s].top(u, row, heard, depth);
      const best = r.items.length > 0 && r.scores[0] > 0 ? r.scores[0] : 0;
      const m = Math.min(depth, r.items.length);
      for (let q = 0; q < m; q++) {
        const i = r.items[q];
        if (heard.has(i)) continue;
        let f = slot[i];
        if (f < 0) {
          f = items.length;
          slot[i] = f;
          items.push(i);
          for (let z = 0; z < S; z++) x[f * dim + 2 * z] = depth;
          origin.push(s);
        }
        const o = f * dim;
        if (q < x[o + 2 * s] || x[o + 2 * s] === depth) {
          x[o + 2 * s] = q;
          x[o + 2 * s + 1] = best > 0 ? r.scores[q] / best : 0;
        }
        if (q < x[o + 2 * origin[f]]) origin[f] = s;
        x[o + 2 * S]++;
      }
    }
  } finally {
    for (const i of items) slot[i] = -1;
  }
  const { tracks, last, streamed } = rowArtists(w, row);
  const col = 2 * S + 1;
  // columns of text_sim and audio_sim
  const wantText = w.text !== undefined && (used === undefined || used[col + 9] === 1);
  const wantAudio = w.audio !== undefined && (used === undefined || used[col + 10] === 1);
  const text = wantText ? textProfile(w, row) : undefined;
  const audio = wantAudio ? audioProfile(w, row) : undefined;
  const textNorms = wantText ? t.norms('text') : undefined;
  const audioNorms = wantAudio ? t.norms('audio') : undefined;
  const follows = w.follows?.(u);
  let lastPlay = -Infinity;
  for (const v of row.lastAt) lastPlay = Math.max(lastPlay, v);
  const days = (ms: number) => Math.log1p(Math.max(0, w.now - ms) / DAY_MS);
  const activity = Math.log1p(row.items.length) / t.maxActivity;
  const userDays = Number.isFinite(lastPlay) ? days(lastPlay) : 10;
  const ofTrack = t.trackFeatures();
  for (let f = 0; f < items.length; f++) {
    const i = items[f];
    const a = w.artistOf[i];
    let c = f * dim + col;
    for (let q = i * TRACK_ONLY; q < (i + 1) * TRACK_ONLY; q++) x[c++] = ofTrack[q];
    const own = a >= 0 ? (tracks.get(a) ?? 0) : 0;
    x[c++] = streamed > 0 ? own / streamed : 0;
    x[c++] = Math.log1p(own);
    const lastA = a >= 0 ? last.get(a) : undefined;
    x[c++] = lastA !== undefined ? days(lastA) : 10;
    x[c++] = a >= 0 && follows?.has(a) ? 1 : 0;
    x[c++] = text ? cosine(w.text!, textNorms!, a, text.p, text.norm) : 0;
    x[c++] = audio ? cosine(w.audio!, audioNorms!, i, audio.p, audio.norm) : 0;
    x[c++] = activity;
    x[c++] = userDays;
  }
  return { items: Int32Array.from(items), x: scratch ? x.subarray(0, items.length * dim) : x.slice(0, items.length * dim), origin: Uint8Array.from(origin) };
}

/** Many listeners' candidates as one {@link Candidates} table (what the learned ranker fits on). */
export function stackCandidates(users: readonly number[], per: readonly UserCandidates[], dim: number): Candidates {
  const offsets = new Int32Array(users.length + 1);
  per.forEach((c, j) => (offsets[j + 1] = offsets[j] + c.items.length));
  const n = offsets[users.length];
  const items = new Int32Array(n);
  const x = new Float64Array(n * dim);
  per.forEach((c, j) => {
    items.set(c.items, offsets[j]);
    x.set(c.x, offsets[j] * dim);
  });
  return { users: Int32Array.from(users), offsets, items, x, dim };
}

/**
 * Discover Weekly's caps over a ranked list: the first `size` items with at most `perArtist` per
 * artist and `perAlbum` per album (the playlist's rules, applied in the validation as in the product).
 */
export function cappedTop(order: ArrayLike<number>, w: Pick<RankWorld, 'artistOf' | 'albumOf'>, size: number, perArtist: number, perAlbum: number): number[] {
  const out: number[] = [];
  const byArtist = new Map<number, number>();
  const byAlbum = new Map<number, number>();
  for (let j = 0; j < order.length && out.length < size; j++) {
    const i = order[j];
    const a = w.artistOf[i];
    const b = w.albumOf[i];
    if (a >= 0 && (byArtist.get(a) ?? 0) >= perArtist) continue;
    if (b >= 0 && (byAlbum.get(b) ?? 0) >= perAlbum) continue;
    if (a >= 0) byArtist.set(a, (byArtist.get(a) ?? 0) + 1);
    if (b >= 0) byAlbum.set(b, (byAlbum.get(b) ?? 0) + 1);
    out.push(i);
  }
  return out;
}

/** How the ranked list leans to the long tail: a popularity penalty β and a tail quota (see {@link rankedOrder}). */
export interface TailDial {
  beta: number;
  tailShare: number;
}

/**
 * The candidates `items` ordered by log p − β·log(1 + listeners) (ties: lower item), then with
 * the tail quota: every block of 10 places gives at least `tailShare` of them, its last ones, to
 * tracks of long-tail artists ({@link WorldTables.isTail}), the best of them first (cf's `tailQuota`).
 */
export function rankedOrder(t: WorldTables, items: Int32Array, p: ArrayLike<number>, dial: TailDial): Ranked {
  const n = items.length;
  const s = new Float64Array(n);
  const idx = new Array<number>(n);
  for (let r = 0; r < n; r++) {
    s[r] = Math.log(Math.max(p[r], 1e-12)) - dial.beta * Math.log1p(t.listeners[items[r]]);
    idx[r] = r;
  }
  idx.sort((x, y) => s[y] - s[x] || items[x] - items[y]);
  const ranked = { items: new Int32Array(n), scores: new Float32Array(n) };
  for (let j = 0; j < n; j++) {
    ranked.items[j] = items[idx[j]];
    ranked.scores[j] = s[idx[j]];
  }
  return dial.tailShare > 0 ? tailQuota(ranked, ranked.items.length, dial.tailShare, t.headItems()) : ranked;
}

/** The ranked list's Ranked form (re-export for callers of this module). */
export type { Ranked };

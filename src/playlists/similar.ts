/**
 * Similar tracks and similar artists: the one definition of each, which the pipeline (Release
 * Radar's third tier), the CLI (`deepcut similar`, radio) and the API (`/v1/tracks/:id/similar`,
 * `/v1/artists/:id/similar`, radio) all call.
 *
 * - Similar tracks: the model's own item neighbours when it has factors (`similarItems`, cosine of
 *   ALS item factors); otherwise co-listening (cosine over the user × track matrix).
 * - Similar artists by CF: an artist's vector is the normalised sum of the factors of all its
 *   tracks; neighbours by cosine, the artist itself and artists without a vector left out. Without
 *   factors: listeners shared with the artist's tracks, summed per artist.
 * - Similar artists by text: nearest in the run's LSA embedding of documents about artists.
 */
import type { Csr } from '../signals/index.ts';
import { isFactorized, type Recommender } from '../cf/index.ts';
import { topK } from '../cf/index.ts';
import type { Vectors } from './sources.ts';

/** A neighbour: a row (track or artist) and its similarity, best first in every list here. */
export interface Neighbour {
  row: number;
  score: number;
}

/** Positive-listen co-occurrence over a user × track matrix; the transpose is built once per matrix. */
export class CoListening {
  private readonly itemUsers: Csr;
  constructor(private readonly m: Csr) {
    this.itemUsers = transposePositive(m);
  }

  /** Cosine over shared listeners between track `t` and every track (length = tracks). */
  track(t: number): Float32Array {
    const m = this.m;
    const T = this.itemUsers;
    const scores = new Float32Array(m.cols);
    for (let p = T.indptr[t]; p < T.indptr[t + 1]; p++) {
      const u = T.indices[p];
      for (let q = m.indptr[u]; q < m.indptr[u + 1]; q++) if (m.data[q] > 0) scores[m.indices[q]] += 1;
    }
    const nt = T.indptr[t + 1] - T.indptr[t];
    for (let i = 0; i < scores.length; i++) if (scores[i] > 0) scores[i] /= Math.sqrt(nt * (T.indptr[i + 1] - T.indptr[i]));
    return scores;
  }
}

/**
 * The `k` tracks most like track row `t`, best first. A factorized model answers with its item
 * neighbours; any other model by co-listening in `listens()` (called only then), positive scores only.
 * @example similarTracks(model, () => snapshot.userTracks, catalog.trackRows.row('t42'), 10)
 */
export function similarTracks(model: Recommender, listens: () => CoListening, t: number, k: number): Neighbour[] {
  if (isFactorized(model)) {
    const r = model.similarItems(t, k);
    return Array.from(r.items, (row, i) => ({ row, score: r.scores[i] }));
  }
  const scores = listens().track(t);
  scores[t] = 0;
  const exclude = new Uint8Array(scores.length);
  scores.forEach((s, i) => (exclude[i] = s > 0 ? 0 : 1));
  const r = topK(scores, k, exclude);
  return Array.from(r.items, (row, i) => ({ row, score: r.scores[i] }));
}

/**
 * One CF vector per artist: the sum of the item factors of its tracks, scaled to unit length
 * (an artist without tracks keeps an all-zero row: no vector). Rows follow `tracksByArtist`.
 * Shapes: items rows × dim → artists × dim.
 */
export function artistVectors(tracksByArtist: readonly (readonly number[])[], items: Vectors): Float32Array[] {
  const d = items.dim;
  return tracksByArtist.map((ts) => {
    const v = new Float32Array(d);
    for (const t of ts) for (let i = 0; i < d; i++) v[i] += items.data[t * d + i];
    const n = Math.hypot(...v) || 1;
    return v.map((x) => x / n);
  });
}

/** Artists by CF: either unit factor vectors ({@link artistVectors}) or co-listening over their tracks. */
export type ArtistSpace =
  | { kind: 'factors'; vectors: Float32Array[] }
  | { kind: 'co-listening'; tracksByArtist: readonly (readonly number[])[]; listens: CoListening };

/** The CF artist space of a model: factor vectors when it has factors, else co-listening over `listens()`. */
export function artistSpace(model: Recommender, tracksByArtist: readonly (readonly number[])[], listens: () => CoListening): ArtistSpace {
  if (isFactorized(model)) return { kind: 'factors', vectors: artistVectors(tracksByArtist, { dim: model.factors, data: model.itemFactors() }) };
  return { kind: 'co-listening', tracksByArtist, listens: listens() };
}

/**
 * The `k` artist rows most like artist row `a` by CF, best first; `a` itself and artists without
 * a vector (or without shared listeners) are left out. Undefined when `a` has no vector.
 */
export function similarArtists(space: ArtistSpace, a: number, k: number): Neighbour[] | undefined {
  const n = space.kind === 'factors' ? space.vectors.length : space.tracksByArtist.length;
  if (a < 0 || a >= n) return undefined;
  const sc = new Float32Array(n);
  const exclude = new Uint8Array(n);
  exclude[a] = 1;
  if (space.kind === 'factors') {
    const q = space.vectors[a];
    if (!q.some((x) => x !== 0)) return undefined;
    space.vectors.forEach((v, b) => {
      let d = 0;
      for (let i = 0; i < v.length; i++) d += v[i] * q[i];
      sc[b] = d;
      if (!v.some((x) => x !== 0)) exclude[b] = 1;
    });
  } else {
    const own = space.tracksByArtist[a];
    if (own.length === 0) return undefined;
    let perTrack: Float32Array | undefined;
    for (const t of own) {
      const s = space.listens.track(t);
      if (!perTrack) perTrack = s;
      else for (let i = 0; i < s.length; i++) perTrack[i] += s[i];
    }
    space.tracksByArtist.forEach((ts, b) => {
      for (const t of ts) sc[b] += perTrack![t];
      if (!(sc[b] > 0)) exclude[b] = 1;
    });
  }
  const r = topK(sc, k, exclude);
  return Array.from(r.items, (row, i) => ({ row, score: r.scores[i] }));
}

/** What similar artists by text need: the run's artist rows of its LSA embedding and a search over it. */
export interface TextArtistSpace {
  /** Text row of an artist id, or -1. */
  row(artist: string): number;
  id(row: number): string;
  /** Nearest text rows to text row `r` by cosine (may include `r` itself), best first. */
  search(r: number, k: number): Neighbour[];
}

/** The `k` artists nearest to text row `r` in the LSA embedding, itself left out, best first. */
export function similarArtistsByText(space: TextArtistSpace, r: number, k: number): Neighbour[] {
  return space.search(r, k + 1).filter((x) => x.row !== r).slice(0, k);
}

function transposePositive(m: Csr): Csr {
  const indptr = new Int32Array(m.cols + 1);
  for (let q = 0; q < m.indices.length; q++) if (m.data[q] > 0) indptr[m.indices[q] + 1]++;
  for (let i = 0; i < m.cols; i++) indptr[i + 1] += indptr[i];
  const pos = indptr.slice(0, m.cols);
  const indices = new Int32Array(indptr[m.cols]);
  for (let u = 0; u < m.rows; u++) for (let q = m.indptr[u]; q < m.indptr[u + 1]; q++) if (m.data[q] > 0) indices[pos[m.indices[q]]++] = u;
  return { rows: m.cols, cols: m.rows, indptr, indices, data: new Float32Array(indices.length).fill(1) };
}

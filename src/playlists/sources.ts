/**
 * Candidate sources: CF neighbours, content vectors (text descriptors mapped into taste space,
 * audio embeddings) and popularity. Each proposes tracks for a user with a score and a reason;
 * makers blend them. Sources work on catalog track rows (= CF item rows, see snapshot.ts).
 */
import type { Recommender } from '../cf/index.ts';
import type { Csr } from '../signals/index.ts';
import { topK, isFactorized, ranksByFactors, rowNorms as matrixRowNorms } from '../cf/index.ts';
import { rowSearch, type RowSearch } from './retrieval.ts';
import type { Candidate, CandidateSource, CatalogView, Reason, UserHistory } from './types.ts';
import type { IdMap, UserId } from '../domain/ids.ts';
import type { ExplainsRanking, Origin } from '../rank/index.ts';

/** The user's most streamed tracks (streams > skips), most first: the seeds of explanations. */
export function favourites(user: UserHistory, n: number): number[] {
  return [...user.plays.entries()]
    .filter(([, p]) => p.streams > p.skips)
    .sort((a, b) => b[1].streams - a[1].streams || b[1].lastAt - a[1].lastAt || a[0] - b[0])
    .slice(0, n)
    .map(([t]) => t);
}

/** Row-major matrix of vectors, `dim` wide: the shape every embedding here shares. */
export interface Vectors {
  dim: number;
  /** rows × dim, row r = catalog track row r; an all-zero row means "no vector". */
  data: Float32Array;
}

export function row(v: Vectors, r: number): Float32Array {
  return v.data.subarray(r * v.dim, (r + 1) * v.dim);
}

/** Euclidean norm of every row of `v`. */
export function rowNorms(v: Vectors): Float32Array {
  return matrixRowNorms(v.data, v.data.length / v.dim, v.dim);
}

const normsMemo = new WeakMap<Float32Array, Float32Array>();

/**
 * The favourite whose vector is closest (cosine) to `track`'s, or -1. Row norms are computed once
 * per vector matrix and remembered; no per-call allocation (this runs for every candidate of
 * every listener).
 */
export function nearestFavourite(v: Vectors, track: number, favs: number[]): number {
  let norms = normsMemo.get(v.data);
  if (!norms) normsMemo.set(v.data, (norms = rowNorms(v)));
  const d = v.dim;
  const x = v.data;
  const xo = track * d;
  let best = -1;
  let bestS = -Infinity;
  for (const f of favs) {
    const fo = f * d;
    let s = 0;
    for (let i = 0; i < d; i++) s += x[xo + i] * x[fo + i];
    const den = norms[track] * norms[f];
    const c = den > 0 ? s / den : 0;
    if (c > bestS) {
      bestS = c;
      best = f;
    }
  }
  return best;
}

/**
 * A candidate whose reason is worked out only when read: a source proposes hundreds of tracks per
 * listener and a playlist keeps a few dozen, so the "nearest favourite" search runs for those.
 */
export class LazyCandidate implements Candidate {
  private why: Reason | undefined;
  constructor(
    readonly track: number,
    public score: number,
    readonly source: string,
    private readonly explain: (track: number) => Reason,
  ) {}
  get reason(): Reason {
    return (this.why ??= this.explain(this.track));
  }
}

/**
 * Collaborative filtering: the model's top tracks for the user (heard ones filtered), explained by
 * the favourite closest in factor space ("because you listen to X"), or by the track's artist
 * ("fans of Y also like this") when the model has no factors. With `search` (an index over the
 * item factors) the top tracks come from the index, not from scoring every track.
 */
export function cfSource(model: Recommender, users: IdMap<UserId>, userTracks: Csr, catalog: CatalogView, itemVectors?: Vectors, search?: RowSearch): CandidateSource {
  const userF = search && ranksByFactors(model) ? model.userFactors() : undefined;
  const f = isFactorized(model) ? model.factors : 0;
  return {
    name: 'cf',
    candidates(user, k) {
      const u = users.row(user.id);
      if (u < 0 || u >= userTracks.rows) return [];
      const r =
        userF && search && (u + 1) * f <= userF.length
          ? search.top(userF.subarray(u * f, (u + 1) * f), k, userTracks.indices.subarray(userTracks.indptr[u], userTracks.indptr[u + 1]))
          : model.recommend(u, userTracks, k, { filterHeard: true });
      let favs: number[] | undefined;
      const explain = (t: number): Reason => {
        favs ??= favourites(user, 20);
        const fav = itemVectors && favs.length ? nearestFavourite(itemVectors, t, favs) : -1;
        const a = catalog.artists[catalog.tracks[fav >= 0 ? fav : t].artists[0]];
        if (fav >= 0) return { kind: 'because_you_listen', artist: a?.name ?? 'an artist you play', artistId: a?.id };
        return { kind: 'fans_also_like', artist: a?.name ?? 'this artist', artistId: a?.id };
      };
      return Array.from(r.items, (t, i) => new LazyCandidate(t, r.scores[i], 'cf', explain));
    },
  };
}

/**
 * The ranking stage's list (src/rank: candidates of every source scored by the learned ranker):
 * each track keeps the source that proposed it (`ranked:<source>`) and its reason — an artist the
 * listener plays, the favourite nearest it, the listener's artist described most alike, the track
 * it sounds like, or what is popular right now ({@link originReason}).
 */
export function rankedSource(model: Recommender & ExplainsRanking, users: IdMap<UserId>, userTracks: Csr, catalog: CatalogView): CandidateSource {
  return {
    name: 'ranked',
    candidates(user, k) {
      const u = users.row(user.id);
      if (u < 0 || u >= userTracks.rows) return [];
      // the reason (an origin's nearest play) is found for the tracks the playlist keeps
      const r = model.recommendSourced(u, userTracks, k, { filterHeard: true });
      const why = (t: number, i: number) => () => originReason(r.origin(i), t, catalog);
      return Array.from(r.items, (t, i): Candidate => new LazyCandidate(t, r.scores[i], `ranked:${r.sources[i]}`, why(t, i)));
    },
  };
}

/** The reason of a ranked track from its {@link Origin} (track `t`). */
export function originReason(o: Origin, t: number, catalog: CatalogView): Reason {
  const artist = (a: number | undefined) => (a !== undefined && a >= 0 ? catalog.artists[a] : undefined);
  const own = artist(catalog.tracks[t]?.artists[0]);
  switch (o.source) {
    case 'artist': {
      const a = artist(o.artist) ?? own;
      return { kind: 'because_you_listen', artist: a?.name ?? 'an artist you play', artistId: a?.id };
    }
    case 'text': {
      const a = artist(o.artist);
      return a ? { kind: 'similar_to_seed', seed: a.name, by: 'text' } : { kind: 'fans_also_like', artist: own?.name ?? 'this artist', artistId: own?.id };
    }
    case 'audio':
      return soundsLike(catalog, o.track ?? -1);
    case 'recent':
      return { kind: 'popular' };
    case 'cf':
    case 'knn': {
      const a = o.track !== undefined ? artist(catalog.tracks[o.track]?.artists[0]) : undefined;
      return a ? { kind: 'because_you_listen', artist: a.name, artistId: a.id } : { kind: 'fans_also_like', artist: own?.name ?? 'this artist', artistId: own?.id };
    }
  }
}

/**
 * Content vectors (audio embeddings, text descriptors): the user's profile is the mean of their
 * favourites' unit vectors; tracks are scored by cosine to it (searched in an index over the unit
 * rows), so tracks nobody has played yet (new and underrated artists) can be found.
 * `explain(track, nearestFavourite)` gives the reason.
 */
export function contentSource(name: string, v: Vectors, explain: (track: number, fav: number) => Reason, opts: { favourites?: number; exclude?: (track: number) => boolean } = {}): CandidateSource {
  const rows = v.data.length / v.dim;
  const norms = rowNorms(v);
  const unit = new Float32Array(v.data.length);
  const keep: number[] = [];
  for (let r = 0; r < rows; r++) {
    if (norms[r] === 0 || opts.exclude?.(r)) continue;
    keep.push(r);
    for (let i = 0; i < v.dim; i++) unit[r * v.dim + i] = v.data[r * v.dim + i] / norms[r];
  }
  const search = rowSearch(unit, v.dim, keep);
  return {
    name,
    candidates(user, k) {
      const favs = favourites(user, opts.favourites ?? 30).filter((t) => norms[t] > 0);
      if (favs.length === 0) return [];
      const profile = new Float32Array(v.dim);
      for (const f of favs) {
        const x = row(v, f);
        for (let i = 0; i < v.dim; i++) profile[i] += x[i] / norms[f];
      }
      const top = search.top(profile, k, user.plays.keys());
      const why = (t: number) => explain(t, nearestFavourite(v, t, favs));
      return Array.from(top.items, (t, i) => new LazyCandidate(t, top.scores[i], name, why));
    },
  };
}

/**
 * "Sounds like <favourite>" for a track whose audio is nearest the listener's favourite `fav`; when
 * no favourite has audio (`fav` < 0), "its sound fits what you play" — never the track itself.
 */
export function soundsLike(catalog: CatalogView, fav: number): Reason {
  if (fav < 0) return { kind: 'sound_fits_taste' };
  const tr = catalog.tracks[fav];
  return { kind: 'sounds_like', track: tr.title, artist: catalog.artists[tr.artists[0]]?.name ?? 'an artist', trackId: tr.id };
}

/** Most streamed tracks overall: the fallback when a user has no history yet. */
export function popularitySource(catalog: CatalogView): CandidateSource {
  const order = catalog.tracks.map((t, i) => [i, t.plays] as const).sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([i]) => i);
  return {
    name: 'popularity',
    candidates(user, k) {
      const out: Candidate[] = [];
      for (const t of order) {
        if (out.length >= k) break;
        if (user.plays.has(t)) continue;
        out.push({ track: t, score: catalog.tracks[t].plays, source: 'popularity', reason: { kind: 'popular' } });
      }
      return out;
    },
  };
}

/** Track rows whose vectors have the largest inner product with `q`, best first (exact search). */
export function nearestByInnerProduct(v: Vectors, q: Float32Array, k: number): { track: number; score: number }[] {
  const n = v.data.length / v.dim;
  const sc = new Float32Array(n);
  for (let t = 0; t < n; t++) {
    let d = 0;
    const o = t * v.dim;
    for (let i = 0; i < v.dim; i++) d += q[i] * v.data[o + i];
    sc[t] = d;
  }
  const r = topK(sc, k);
  return Array.from(r.items, (track, i) => ({ track, score: r.scores[i] }));
}

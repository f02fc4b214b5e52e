/**
 * The playlist makers. Each is a pure function of a catalog snapshot, one user's history, the
 * candidate sources and a date, so the rules are tested with a fixed clock.
 */
import type { Candidate, CandidateSource, CatalogView, FlowFeatures, UserHistory } from './types.ts';
import { blend, blendDeep, disliked, gather, heardOrDisliked, sequence } from './rules.ts';
import { addDays } from '../core/clock.ts';
import { Rng } from '../util/rng.ts';

export interface DiscoverWeeklyOptions {
  size?: number;
  maxPerArtist?: number;
  maxPerAlbum?: number;
  /** Share of the list per source; the default mixes CF neighbours with text and audio. */
  quotas?: Record<string, number>;
  flow?: (track: number) => FlowFeatures | undefined;
}

export const defaultDiscoverQuotas = { cf: 0.6, text: 0.15, audio: 0.15, popularity: 0.1 };

/**
 * Discover Weekly: `size` (30) tracks the user has never streamed nor skipped, nothing disliked,
 * at most 2 per artist and 1 per album, blended from the sources by quota and sequenced for flow.
 */
export function discoverWeekly(user: UserHistory, catalog: CatalogView, sources: readonly CandidateSource[], o: DiscoverWeeklyOptions = {}): Candidate[] {
  const size = o.size ?? 30;
  // candidates 2 × size deep first, size × 8 deep only when a source runs dry (the same list either way)
  const picked = blendDeep(catalog, (k) => gather(sources, user, k), size * 2, size * 8, {
    size,
    quotas: o.quotas ?? defaultDiscoverQuotas,
    maxPerArtist: o.maxPerArtist ?? 2,
    maxPerAlbum: o.maxPerAlbum ?? 1,
    exclude: (t) => heardOrDisliked(user, catalog, t),
  });
  return o.flow ? sequence(picked, o.flow) : picked;
}

export interface ReleaseRadarOptions {
  /** The Friday (YYYY-MM-DD, in the user's zone) the radar is for; the window is the 7 days up to it. */
  friday: string;
  size?: number;
  /** Predicted affinity of the user for each track row (higher is better). */
  affinity: (user: UserHistory, tracks: number[]) => number[];
  /** Artists similar to an artist row, best first. */
  similarArtists?: (artist: number, k: number) => number[];
  maxPerAlbum?: number;
  /**
   * The tracks of an artist row released in the radar's window, in catalog order (what the
   * default computes by reading every track of the artist); a product making many radars for one
   * Friday remembers them per artist ({@link freshTracks}).
   */
  fresh?: (artist: number) => readonly number[];
}

/**
 * The tracks of `artist` released in the 7 days up to `friday` (YYYY-MM-DD), in catalog order.
 * @example freshTracks(catalog, '2026-11-20')(3) // rows of artist 3's releases of 14–20 Nov
 */
export function freshTracks(catalog: CatalogView, friday: string): (artist: number) => number[] {
  const from = addDays(friday, -6);
  return (a) => (catalog.tracksByArtist[a] ?? []).filter((t) => {
    const d = catalog.tracks[t].releaseDate;
    return d >= from && d <= friday;
  });
}

/**
 * Release Radar: tracks released in the 7 days up to Friday, from artists the user follows, then
 * artists they stream most, then artists similar to those; up to `size` (30), ordered by affinity.
 */
export function releaseRadar(user: UserHistory, catalog: CatalogView, o: ReleaseRadarOptions): Candidate[] {
  const size = o.size ?? 30;
  const fresh = o.fresh ?? freshTracks(catalog, o.friday);
  const streamsByArtist = new Map<number, number>();
  for (const [t, p] of user.plays) for (const a of catalog.tracks[t].artists) streamsByArtist.set(a, (streamsByArtist.get(a) ?? 0) + p.streams);
  const top = [...streamsByArtist.entries()].filter(([, s]) => s > 0).sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([a]) => a);
  const tiers: { artists: number[]; followed: boolean }[] = [
    { artists: [...user.follows].sort((a, b) => a - b), followed: true },
    { artists: top.slice(0, 50), followed: false },
    { artists: o.similarArtists ? [...new Set(top.slice(0, 10).flatMap((a) => o.similarArtists!(a, 10)))] : [], followed: false },
  ];
  const chosen = new Map<number, Candidate>();
  const perAlbum = new Map<number, number>();
  for (const tier of tiers) {
    for (const a of tier.artists) {
      if (user.dislikedArtists.has(a)) continue;
      for (const t of fresh(a)) {
        if (chosen.size >= size * 3) break;
        if (chosen.has(t) || user.dislikedTracks.has(t)) continue;
        chosen.set(t, { track: t, score: 0, source: tier.followed ? 'follows' : 'artists', reason: { kind: 'new_release', artist: catalog.artists[a].name, followed: tier.followed, artistId: catalog.artists[a].id } });
      }
    }
  }
  const cands = [...chosen.values()];
  const scores = o.affinity(user, cands.map((c) => c.track));
  cands.forEach((c, i) => (c.score = scores[i]));
  // followed artists first, each tier by affinity; one album never fills the radar
  const tierOf = (c: Candidate) => (c.source === 'follows' ? 0 : 1);
  cands.sort((a, b) => tierOf(a) - tierOf(b) || b.score - a.score || a.track - b.track);
  const out: Candidate[] = [];
  for (const c of cands) {
    const album = catalog.tracks[c.track].album;
    if (album >= 0 && (perAlbum.get(album) ?? 0) >= (o.maxPerAlbum ?? 2)) continue;
    if (album >= 0) perAlbum.set(album, (perAlbum.get(album) ?? 0) + 1);
    out.push(c);
    if (out.length >= size) break;
  }
  return out.sort((a, b) => b.score - a.score || a.track - b.track);
}

export interface DailyMixOptions {
  /** Up to this many mixes (6). */
  mixes?: number;
  size?: number;
  /** Share of each mix taken from the user's favourites (the rest is new). */
  familiarShare?: number;
  /** Factor vector of a track row, or undefined when the model has none. */
  vector: (track: number) => Float32Array | undefined;
  /** Track rows nearest to a query vector by inner product, best first. */
  nearest: (query: Float32Array, k: number) => { track: number; score: number }[];
  seed: number;
}

export interface DailyMix {
  title: string;
  tracks: Candidate[];
}

/**
 * Daily Mixes: the user's favourite tracks clustered in factor space (k-means, seeded), one mix per
 * cluster of at least 4 favourites, mixing favourites with new tracks near the cluster centre.
 */
export function dailyMixes(user: UserHistory, catalog: CatalogView, o: DailyMixOptions): DailyMix[] {
  const size = o.size ?? 50;
  const favs = [...user.plays.entries()]
    .filter(([t, p]) => p.streams > 0 && p.streams >= p.skips && o.vector(t) && !disliked(user, catalog, t))
    .sort((a, b) => b[1].streams - a[1].streams || a[0] - b[0])
    .slice(0, 120)
    .map(([t]) => t);
  if (favs.length < 4) return [];
  const vecs = favs.map((t) => o.vector(t)!);
  const dim = vecs[0].length;
  const k = Math.max(1, Math.min(o.mixes ?? 6, Math.floor(favs.length / 4)));
  const { assign, centres } = kmeans(vecs, k, dim, new Rng(o.seed));
  const mixes: DailyMix[] = [];
  for (let c = 0; c < centres.length; c++) {
    const members = favs.filter((_, i) => assign[i] === c);
    if (members.length < 4) continue;
    const nFamiliar = Math.min(members.length, Math.round(size * (o.familiarShare ?? 0.5)));
    const familiar: Candidate[] = members.slice(0, nFamiliar).map((t) => {
      const a = catalog.artists[catalog.tracks[t].artists[0]];
      return { track: t, score: 1, source: 'favourites', reason: { kind: 'favourite', artist: a.name, artistId: a.id } };
    });
    const anchorArtist = catalog.artists[catalog.tracks[members[0]].artists[0]];
    const anchor = anchorArtist.name;
    // one reason for every new track of the mix (read only)
    const because: Candidate['reason'] = { kind: 'because_you_listen', artist: anchor, artistId: anchorArtist.id };
    const fresh = (k: number) => {
      const near = o.nearest(centres[c], k);
      const cf: Candidate[] = [];
      for (const x of near) if (!heardOrDisliked(user, catalog, x.track)) cf.push({ track: x.track, score: x.score, source: 'cf', reason: because });
      return { lists: new Map([['favourites', familiar], ['cf', cf]]), full: new Set(near.length >= k ? ['cf'] : []) };
    };
    const tracks = blendDeep(catalog, fresh, size * 2, size * 6, {
      size,
      quotas: { favourites: 0.5, cf: 0.5 },
      maxPerArtist: 4,
      maxPerAlbum: 3,
      exclude: () => false,
    });
    const genres = ranked(members.flatMap((t) => catalog.tracks[t].artists.flatMap((a) => catalog.artists[a].genres)));
    const artists = [anchor, ...ranked(members.map((t) => catalog.artists[catalog.tracks[t].artists[0]].name)).filter((a) => a !== anchor)];
    mixes.push({ title: '', tracks, genres, artists } as DailyMix & Naming);
  }
  // largest first; each takes the first name no other mix has: its top genre with its top artist, else the next artist or genre
  const used = new Set<string>();
  return (mixes as (DailyMix & Naming)[])
    .sort((a, b) => b.tracks.length - a.tracks.length)
    .map((m, i) => {
      const names = (m.genres.length ? m.genres : ['']).flatMap((g) => m.artists.map((a) => (g ? `${g} with ${a}` : a)));
      const name = names.find((n) => !used.has(n)) ?? `${names[0]} (${i + 1})`;
      used.add(name);
      return { title: `Daily Mix ${i + 1}: ${name}`, tracks: m.tracks };
    });
}

/** What a mix may be named after: its genres and artists, most frequent first. */
interface Naming {
  genres: string[];
  artists: string[];
}

/** Distinct values, most frequent first (ties by name). */
function ranked(xs: string[]): string[] {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([x]) => x);
}

/**
 * k-means++ seeding then Lloyd iterations on cosine-normalised vectors; deterministic for a seed.
 * Flat float32 rows, no allocation per step (it runs for every listener's favourites). Squared
 * distances as ‖x‖² + ‖c‖² − 2·x·c, with the norms computed once per centre update.
 */
export function kmeans(vecs: Float32Array[], k: number, dim: number, rng: Rng, iterations = 20): { assign: Int32Array; centres: Float32Array[] } {
  const n = vecs.length;
  const xs = new Float32Array(n * dim);
  const xn = new Float64Array(n);
  vecs.forEach((v, i) => {
    let s = 0;
    for (let j = 0; j < dim; j++) s += v[j] * v[j];
    const r = Math.sqrt(s) || 1;
    let q = 0;
    for (let j = 0; j < dim; j++) {
      const x = (xs[i * dim + j] = v[j] / r);
      q += x * x;
    }
    xn[i] = q;
  });
  const C = new Float32Array(k * dim);
  const cn = new Float64Array(k);
  const norm = (c: number) => {
    let s = 0;
    for (let j = c * dim; j < (c + 1) * dim; j++) s += C[j] * C[j];
    cn[c] = s;
  };
  const dot = (i: number, c: number) => {
    let s = 0;
    const xo = i * dim;
    const co = c * dim;
    for (let j = 0; j < dim; j++) s += xs[xo + j] * C[co + j];
    return s;
  };
  const dist = (i: number, c: number) => Math.max(0, xn[i] + cn[c] - 2 * dot(i, c));
  const setCentre = (c: number, i: number) => {
    C.set(xs.subarray(i * dim, (i + 1) * dim), c * dim);
    norm(c);
  };
  setCentre(0, rng.int(n));
  // nearest-centre distance of every row, updated as centres are added
  const d = new Float64Array(n).fill(Infinity);
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      d[i] = Math.min(d[i], dist(i, c - 1));
      total += d[i];
    }
    let r = rng.next() * total;
    let i = 0;
    while (i < n - 1 && (r -= d[i]) > 0) i++;
    setCentre(c, i);
  }
  const assign = new Int32Array(n);
  const sum = new Float32Array(k * dim);
  const members = new Int32Array(k);
  const dots = new Float64Array(k + 3);
  for (let it = 0; it < iterations; it++) {
    let moved = false;
    for (let i = 0; i < n; i++) {
      // x·c for 4 centres at once (each sum in dimension order, as dot() adds), past k on the last centre
      const xo = i * dim;
      for (let c = 0; c < k; c += 4) {
        const o0 = c * dim;
        const o1 = Math.min(c + 1, k - 1) * dim;
        const o2 = Math.min(c + 2, k - 1) * dim;
        const o3 = Math.min(c + 3, k - 1) * dim;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let j = 0; j < dim; j++) {
          const x = xs[xo + j];
          s0 += x * C[o0 + j];
          s1 += x * C[o1 + j];
          s2 += x * C[o2 + j];
          s3 += x * C[o3 + j];
        }
        dots[c] = s0;
        dots[c + 1] = s1;
        dots[c + 2] = s2;
        dots[c + 3] = s3;
      }
      // the nearest centre minimises ‖c‖² − 2·x·c (‖x‖² is the same for every c)
      let best = 0;
      let bestD = cn[0] - 2 * dots[0];
      for (let c = 1; c < k; c++) {
        const dd = cn[c] - 2 * dots[c];
        if (dd < bestD) (best = c), (bestD = dd);
      }
      if (assign[i] !== best) moved = true;
      assign[i] = best;
    }
    // nothing moved: the centres are those of this assignment already
    if (!moved && it > 0) break;
    sum.fill(0);
    members.fill(0);
    for (let i = 0; i < n; i++) {
      const co = assign[i] * dim;
      members[assign[i]]++;
      for (let j = 0; j < dim; j++) sum[co + j] += xs[i * dim + j];
    }
    for (let c = 0; c < k; c++) {
      if (!members[c]) continue;
      for (let j = 0; j < dim; j++) C[c * dim + j] = sum[c * dim + j] / members[c];
      norm(c);
    }
  }
  return { assign, centres: Array.from({ length: k }, (_, c) => C.slice(c * dim, (c + 1) * dim)) };
}

export interface RadioOptions {
  size?: number;
  /** Similar tracks by each signal, best first: `{ cf: [...], audio: [...], text: [...] }`. */
  similar: Record<string, { track: number; score: number }[]>;
  seedName: string;
  quotas?: Record<string, number>;
  exclude?: (track: number) => boolean;
}

/** Song or artist radio: the seed's neighbours by CF, audio and text, blended, at most 2 per artist. */
export function radio(catalog: CatalogView, o: RadioOptions): Candidate[] {
  const lists = new Map<string, Candidate[]>();
  for (const [by, list] of Object.entries(o.similar)) {
    lists.set(by, list.map((x) => ({ track: x.track, score: x.score, source: by, reason: { kind: 'similar_to_seed', seed: o.seedName, by: by as 'cf' | 'audio' | 'text' } })));
  }
  return blend(catalog, lists, { size: o.size ?? 50, quotas: o.quotas ?? { cf: 0.5, audio: 0.3, text: 0.2 }, maxPerArtist: 2, maxPerAlbum: 2, exclude: o.exclude ?? (() => false) });
}

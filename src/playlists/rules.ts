/**
 * Rules shared by every playlist maker: blending candidate sources by quota, caps per artist and
 * album, and sequencing for flow (tempo and key transitions).
 */
import type { Candidate, CandidateSource, CatalogView, FlowFeatures, UserHistory } from './types.ts';

export interface BlendOptions {
  size: number;
  /** Share of the list each source should fill, e.g. `{ cf: 0.6, text: 0.2, audio: 0.2 }`; missing sources get 0. */
  quotas: Record<string, number>;
  maxPerArtist: number;
  maxPerAlbum: number;
  /** Track rows that must not appear. */
  exclude: (track: number) => boolean;
  /** Receives the names of the sources that ran out of candidates before the list was full. */
  dry?: Set<string>;
}

/** True when the user has streamed or skipped `track`, or disliked it or its artists. */
export function heardOrDisliked(user: UserHistory, catalog: CatalogView, track: number): boolean {
  return user.plays.has(track) || disliked(user, catalog, track);
}

/** True when the user disliked `track` or one of its artists. */
export function disliked(user: UserHistory, catalog: CatalogView, track: number): boolean {
  if (user.dislikedTracks.has(track)) return true;
  for (const a of catalog.tracks[track].artists) if (user.dislikedArtists.has(a)) return true;
  return false;
}

/**
 * Fill `size` slots from several candidate lists: the source furthest below its quota picks next,
 * taking its best remaining candidate that passes the exclusions and caps. A source that runs
 * dry leaves its slots to the others, so the list fills whenever any source still has tracks.
 */
export function blend(catalog: CatalogView, lists: CandidateLists, o: BlendOptions): Candidate[] {
  const out: Candidate[] = [];
  const used = new Set<number>();
  const perArtist = new Map<number, number>();
  const perAlbum = new Map<number, number>();
  const pos = new Map<string, number>();
  const filled = new Map<string, number>();
  const names = [...lists.keys()];
  const share = (n: string) => o.quotas[n] ?? 0;
  const fits = (c: Candidate) => {
    if (used.has(c.track) || o.exclude(c.track)) return false;
    const t = catalog.tracks[c.track];
    if (t.artists.some((a) => (perArtist.get(a) ?? 0) >= o.maxPerArtist)) return false;
    if (t.album >= 0 && (perAlbum.get(t.album) ?? 0) >= o.maxPerAlbum) return false;
    return true;
  };
  const take = (name: string): boolean => {
    const list = lists.get(name)!;
    let i = pos.get(name) ?? 0;
    while (i < list.length && !fits(list[i])) i++;
    pos.set(name, i + 1);
    if (i >= list.length) return false;
    const c = list[i];
    out.push(c);
    used.add(c.track);
    const t = catalog.tracks[c.track];
    for (const a of t.artists) perArtist.set(a, (perArtist.get(a) ?? 0) + 1);
    if (t.album >= 0) perAlbum.set(t.album, (perAlbum.get(t.album) ?? 0) + 1);
    filled.set(name, (filled.get(name) ?? 0) + 1);
    return true;
  };
  const dry = new Set<string>();
  while (out.length < o.size && dry.size < names.length) {
    // the live source with the lowest filled/quota ratio; sources without quota only fill leftovers
    const live = names.filter((n) => !dry.has(n));
    const withQuota = live.filter((n) => share(n) > 0);
    const pool = withQuota.length ? withQuota : live;
    pool.sort((a, b) => (filled.get(a) ?? 0) / (share(a) || 1) - (filled.get(b) ?? 0) / (share(b) || 1) || names.indexOf(a) - names.indexOf(b));
    const name = pool[0];
    if (!take(name)) dry.add(name);
  }
  for (const n of dry) o.dry?.add(n);
  return out;
}

/**
 * {@link blend} over candidate lists fetched only as deep as needed: `fetch(k)` gives each
 * source's best `k` and whether it might have more (`full`); the blend runs on `first`-deep lists
 * and again on `max`-deep ones only when a source that might have had more ran dry. Blending reads
 * every list in order and stops at `size`, so the answer is the one on `max`-deep lists.
 */
export function blendDeep(catalog: CatalogView, fetch: (k: number) => Gathered, first: number, max: number, o: BlendOptions): Candidate[] {
  for (let k = Math.min(first, max); ; k = Math.min(max, k * 4)) {
    const { lists, full } = fetch(k);
    const dry = new Set<string>();
    const out = blend(catalog, lists, { ...o, dry });
    if (k >= max || ![...dry].some((n) => full.has(n))) return out;
  }
}

/**
 * Candidate lists by source name, in source order: a `Map`, or lists fetched on first read
 * ({@link gather}). {@link blend} reads a list only when its source picks.
 */
export interface CandidateLists {
  keys(): Iterable<string>;
  get(name: string): Candidate[] | undefined;
}

/** Each source's candidates (`lists`) and the sources that gave all k asked for (`full`: they may have more). */
export interface Gathered {
  lists: CandidateLists;
  full: { has(name: string): boolean };
}

/**
 * Each source's candidates for a user (k per source), keyed by source name. A source is asked
 * only when the blend first reads its list: with Discover Weekly over the ranking stage's list,
 * the other sources only fill places it leaves, so most users never need them.
 */
export function gather(sources: readonly CandidateSource[], user: UserHistory, k: number): Gathered {
  const byName = new Map(sources.map((s) => [s.name, s]));
  const got = new Map<string, Candidate[]>();
  const get = (name: string): Candidate[] | undefined => {
    let c = got.get(name);
    if (c) return c;
    const s = byName.get(name);
    if (!s) return undefined;
    c = s.candidates(user, k);
    got.set(name, c);
    return c;
  };
  return { lists: { keys: () => byName.keys(), get }, full: { has: (name) => (got.get(name)?.length ?? 0) >= k } };
}

/**
 * Position of a key on the Camelot wheel (1–12): keys a fifth apart are neighbours, and a minor
 * key shares its number with its relative major (A minor = C major = 8).
 */
export function camelot(key: number, mode: number): number {
  const majorPc = mode === 1 ? key : (key + 3) % 12;
  return ((majorPc * 7 + 7) % 12) + 1; // C major → 8
}

/** Harmonic distance between two keys: steps around the wheel, plus 1 for a change of mode. */
export function keyDistance(a: FlowFeatures, b: FlowFeatures): number {
  const d = Math.abs(camelot(a.key, a.mode) - camelot(b.key, b.mode));
  return Math.min(d, 12 - d) + (a.mode === b.mode ? 0 : 1);
}

/** Cost of playing `b` after `a`: tempo change in octaves (half/double time counts as close) plus key distance. */
export function transitionCost(a: FlowFeatures, b: FlowFeatures): number {
  const r = Math.abs(Math.log2(b.tempo / a.tempo));
  const tempo = Math.min(r, Math.abs(r - 1));
  return tempo * 4 + keyDistance(a, b) / 3;
}

/**
 * Order tracks for flow: start with the best-scored track, then repeatedly play the remaining track
 * with the lowest transition cost, with its rank as a small tie-breaker. Tracks without features
 * keep their place order at the end.
 */
export function sequence(cands: Candidate[], flow: (track: number) => FlowFeatures | undefined): Candidate[] {
  const withF = cands.filter((c) => flow(c.track));
  const without = cands.filter((c) => !flow(c.track));
  if (withF.length < 3) return cands;
  const rank = new Map(withF.map((c, i) => [c.track, i / withF.length]));
  const rest = withF.slice(1);
  const out = [withF[0]];
  while (rest.length) {
    const last = flow(out[out.length - 1].track)!;
    let best = 0;
    let bestCost = Infinity;
    for (let i = 0; i < rest.length; i++) {
      const cost = transitionCost(last, flow(rest[i].track)!) + 0.5 * rank.get(rest[i].track)!;
      if (cost < bestCost) {
        bestCost = cost;
        best = i;
      }
    }
    out.push(rest.splice(best, 1)[0]);
  }
  return out.concat(without);
}

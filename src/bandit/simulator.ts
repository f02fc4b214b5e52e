/**
 * A home-page simulator in which learning is measurable: listeners of the seeded demo world
 * (src/generate: catalog, hidden tastes and listening histories from `generateCatalog` and
 * `ListenerGenerator`, in memory) answer impressions of cards with explanations, and the true
 * probability of every answer is known, so cumulative reward, regret against an oracle and the true
 * value of any policy (to check off-policy estimates) can be computed.
 *
 * A request: a listener (uniform over users) opens the home page at a local hour (the demo world's
 * daily profile) on a day (days 5 and 6 of each week are the weekend). Candidate cards come from
 * seven shelves built from the listener's history (see {@link SHELF_KINDS}); the policy fills `slots`
 * card slots. The explanation shown is the card's shelf (the treatment, McInerney et al. 2018).
 *
 * Hidden truth (never a feature): reward = a stream ≥ 30 s started from the card,
 *
 *   P(reward | card a at slot s) = e(s) · σ(−1.2 + explanation effect + time-of-day effect) · like(a)
 *
 * - like(a): the demo world's P(like) (`TasteModel.pLike`: genre mixture at the clock, favourite
 *   artists, track quality);
 * - explanation effects depend on hidden taste: "Popular now" works on mainstream listeners and
 *   puts niche ones off, "Hidden gems" the reverse; "Because you listened to <artist>" works when
 *   the artist is a favourite; "New releases" when the track is new; "Jump back in" with listeners
 *   who replay;
 * - time of day: calm genres (ambient, classical, jazz, folk) +1 at night (21:00–06:59), energetic
 *   ones −0.6; party genres +0.4 on weekend evenings;
 * - examination e(s) = 1 / (1 + 0.35 s) falls with the slot.
 *
 * The policy sees {@link FEATURES}: time, what the history says about the user (size, share
 * of replays, how mainstream — the mean of three z-scores over listeners: the streams' mean
 * popularity, minus their genres' rarity, minus the concentration on few genres —, share of the
 * card's genre and artist, plays of the track, whether the listener follows the card's artist), the card (popularity and
 * completion rate of the track and its artist from everyone's listens, age, new, calm/party genre) and the explanation. The interactions above are what a
 * linear model cannot represent and trees can. It also sees the home page's own evidence so far
 * ({@link Feedback}: streams per examined impression of the track, and of this listener per shelf
 * kind, artist and genre), which is how it learns what the history does not show.
 */
import { Rng } from '../util/rng.ts';
import { generateCatalog, type Catalog } from '../generate/index.ts';
import { GENRES } from '../generate/index.ts';
import { ListenerGenerator } from '../generate/index.ts';
import type { TasteModel, UserTaste } from '../generate/index.ts';
import { DAY_MS, hash32, pickWeighted } from '../generate/index.ts';
import { DEFAULT_CLOCK } from '../generate/index.ts';
import { trainingSet, type Decision, type LoggedChoice, type Policy, type TrainingOptions } from './policy.ts';
import { topK } from '../core/topk.ts';
import { defaultConfidence, listenSignal, STREAM } from '../signals/index.ts';
import { sigmoid, type RewardModel } from './reward.ts';
import { EVIDENCE_FEATURES, HomeEvidence, type CardKeys } from './evidence.ts';
import { directMethod, doublyRobust, ips, snips, type Estimate, type LoggedDecision } from './ope.ts';

/** Shelves that make candidate cards; the shelf is the card's explanation. */
export const SHELF_KINDS = ['made-for-you', 'jump-back-in', 'because-you-listened', 'new-releases', 'fans-also-like', 'hidden-gems', 'popular-now'] as const;
export type ShelfKind = (typeof SHELF_KINDS)[number];

/** Feature names, in row order (dim = FEATURES.length). */
export const FEATURES = [
  'hour_sin', 'hour_cos', 'weekend', 'history_log', 'repeat_rate', 'user_mainstream', 'genre_share', 'artist_share', 'popularity', 'completion', 'artist_completion', 'age_log', 'is_new', 'plays_log', 'calm_genre', 'party_genre', 'energetic_genre', 'recent_genre_share', 'follows_artist',
  ...SHELF_KINDS.map((k) => `shelf:${k}`),
  'slot',
  ...EVIDENCE_FEATURES,
] as const;
const DIM = FEATURES.length;
/**
 * The slot a card was shown at (0 = first): position-based click model. A logged card's row
 * carries its slot, so the reward model learns examination apart from appeal; candidates are
 * scored at slot 0 (their appeal where it is seen for sure), and the best goes first.
 */
const F_SLOT = FEATURES.indexOf('slot');
const F_FEEDBACK = FEATURES.indexOf('card_rate');

/**
 * What the home page's own logs say so far ({@link HomeEvidence}, evidence.ts: streams per examined
 * impression per track, and per listener, listener × shelf kind, × artist and × genre, with the
 * examination curve estimated by IPS under a position-based click model), for the simulator's
 * requests: the same features serving computes from the store for the same impressions.
 * Updated at day end, with the models; an impression log (slot, propensity, reward) rebuilds it.
 */
export class Feedback {
  private readonly ev: HomeEvidence;
  constructor(
    private readonly world: { cat: Pick<Catalog, 'trackArtist' | 'trackGenre'> },
    readonly slots = 6,
  ) {
    this.ev = new HomeEvidence(slots);
  }
  /** The evidence keys of candidate `a` of `q` (ids are the world's rows, genres by name). */
  keys(q: Request, a: number): CardKeys {
    const t = q.tracks[a];
    return { user: String(q.user), shelf: q.shelves[a], track: String(t), artist: String(this.world.cat.trackArtist[t]), genre: GENRES[this.world.cat.trackGenre[t]].name };
  }
  /** Candidate `a` of `q` was shown at `slot` with logging propensity `propensity` and got `reward`. */
  add(q: Request, a: number, reward: number, slot = 0, propensity = 1 / q.decision.n): void {
    this.ev.add({ ...this.keys(q, a), slot, propensity, candidates: q.decision.n, reward });
  }
  /** ê(s), the estimated examination probability of each slot relative to the first (1 before any stream at slot 0). */
  examination(): Float64Array {
    return this.ev.examination();
  }
  /** The request's candidate rows with the evidence filled in (a copy; the request is untouched). */
  decision(q: Request): Decision {
    const d = q.decision;
    const x = d.x.slice();
    for (let a = 0; a < d.n; a++) this.ev.write(this.keys(q, a), x, a * d.dim + F_FEEDBACK);
    return { n: d.n, dim: d.dim, x };
  }
}

/** A logged card's feature row: the candidate's row with the slot it was shown at. */
function shownRow(d: Decision, a: number, s: number, slotAware: boolean): Float64Array {
  const x = d.x.slice(a * d.dim, (a + 1) * d.dim);
  if (slotAware) x[F_SLOT] = s;
  return x;
}
const F_EXPL = FEATURES.indexOf('shelf:made-for-you');

const CALM = new Set(['ambient', 'classical', 'jazz', 'folk']);
const ENERGETIC = new Set(['metal', 'rock', 'hip-hop', 'electronic']);
const PARTY = new Set(['electronic', 'hip-hop', 'pop', 'reggae']);
/** Local hour-of-day weights of home-page visits (the demo world's session profile). */
const HOURS = [0.3, 0.15, 0.08, 0.05, 0.05, 0.1, 0.4, 0.9, 1.2, 0.9, 0.7, 0.7, 0.9, 0.8, 0.7, 0.7, 0.8, 1.0, 1.2, 1.3, 1.4, 1.3, 1.0, 0.6];
const NEW_DAYS = 56;

export interface WorldOptions {
  seed: number;
  users: number;
  tracks: number;
  /** Mean history length per user (listens before the clock). */
  listensPerUser: number;
  /** Cards drawn from each shelf per request (default 3). */
  perShelf?: number;
}

/** One home-page request: who, when, the candidate cards with features, and the hidden truth. */
export interface Request {
  user: number;
  hour: number;
  weekend: boolean;
  /** Track row and shelf of each candidate card. */
  tracks: Int32Array;
  shelves: ShelfKind[];
  decision: Decision;
  /** True P(reward) of each candidate at slot 0 (multiply by {@link HomeWorld.examine}). */
  pTrue: Float64Array;
}

interface SimUser {
  taste: UserTaste;
  genreW: Float64Array;
  fav: Map<number, number>;
  plays: Map<number, number>;
  artistPlays: Map<number, number>;
  genreShare: Float64Array;
  /** The same over the last quarter of the history's streams (tastes drift). */
  recentGenreShare: Float64Array;
  total: number;
  mainstream: number;
  pools: Int32Array[];
  /** The listener's history in time order: track row, streamed (≥ 30 s), the listen's context kind. */
  history: { t: number; streamed: boolean; context: string }[];
  /** Artist rows the listener follows. */
  followed: Set<number>;
  /** How mainstream the history is: mean of the z-scores (over listeners) of {@link mainstream}, −{@link genreRarity} and −(genre concentration). */
  mainstreamMix: number;
  /** Mean over streams of −log(the genre's share of everyone's streams), shrunk towards log G (5 pseudo-streams). */
  genreRarity: number;
  /** Share of starts in chosen contexts (playlist, search, home) that replay a track streamed earlier (2 pseudo-starts at 0.1). */
  replayChoice: number;
}

/** Examination probability of slot s (0-based). */
export const examine = (s: number) => 1 / (1 + 0.35 * s);

/** The demo world's listeners as a home-page environment. */
export class HomeWorld {
  readonly cat: Catalog;
  readonly model: TasteModel;
  readonly users: SimUser[] = [];
  private readonly popularity: Float64Array;
  /** Share of a track's listens (all users) that lasted ≥ 30 s, smoothed towards the mean. */
  private readonly completion: Float64Array;
  /** The same over all tracks of the track's primary artist (more listens, less noise). */
  private readonly artistCompletion: Float64Array;
  private readonly clockMs: number;
  private readonly perShelf: number;

  constructor(readonly o: WorldOptions) {
    this.clockMs = Date.parse(DEFAULT_CLOCK);
    this.perShelf = o.perShelf ?? 3;
    this.cat = generateCatalog({ seed: o.seed, tracks: o.tracks, clockMs: this.clockMs });
    const gen = new ListenerGenerator(this.cat, { seed: o.seed, clockMs: this.clockMs, weeks: 8, users: o.users, listens: o.users * o.listensPerUser });
    this.model = gen.model;
    const trackRow = new Map(this.cat.tracks.map((t, i) => [t.track_id, i]));
    const artistRow = new Map(this.cat.artists.map((a, i) => [a.artist_id, i]));
    const nT = this.cat.tracks.length;
    const counts = new Float64Array(nT);
    const starts = new Float64Array(nT);
    const worlds = Array.from({ length: o.users }, (_, i) => gen.user(i));
    const recent: Float64Array[] = [];
    const histories: SimUser['history'][] = [];
    const plays: Map<number, number>[] = worlds.map((w) => {
      const m = new Map<number, number>();
      const streamed: number[] = [];
      const h: SimUser['history'] = [];
      histories.push(h);
      for (const l of [...w.listens].sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at))) {
        const t = trackRow.get(l.track_id)!;
        starts[t]++;
        const isStream = listenSignal(l.ms_played, l.skipped, defaultConfidence) === STREAM;
        h.push({ t, streamed: isStream, context: l.context.split(':')[0] });
        if (!isStream) continue;
        m.set(t, (m.get(t) ?? 0) + 1);
        counts[t]++;
        streamed.push(t);
      }
      const r = new Float64Array(GENRES.length);
      const last = streamed.slice(Math.floor(streamed.length * 0.75));
      for (const t of last) r[this.cat.trackGenre[t]] += 1 / last.length;
      recent.push(r);
      return m;
    });
    const maxLog = Math.log1p(Math.max(1, ...counts));
    this.popularity = Float64Array.from(counts, (c) => Math.log1p(c) / maxLog);
    const mean = counts.reduce((a, b) => a + b, 0) / Math.max(1, starts.reduce((a, b) => a + b, 0));
    this.completion = Float64Array.from(counts, (c, t) => (c + 4 * mean) / (starts[t] + 4));
    const aDone = new Float64Array(this.cat.artists.length), aStarts = new Float64Array(this.cat.artists.length);
    for (let t = 0; t < nT; t++) {
      aDone[this.cat.trackArtist[t]] += counts[t];
      aStarts[this.cat.trackArtist[t]] += starts[t];
    }
    this.artistCompletion = Float64Array.from(this.cat.trackArtist, (a) => (aDone[a] + 4 * mean) / (aStarts[a] + 4));
    const byPop = topK(this.popularity, nT).items;
    const popular = byPop.slice(0, 30);
    worlds.forEach((w, u) => {
      const p = plays[u];
      const G = GENRES.length;
      const genreShare = new Float64Array(G);
      const artistPlays = new Map<number, number>();
      let total = 0, pop = 0;
      for (const [t, c] of p) {
        total += c;
        genreShare[this.cat.trackGenre[t]] += c;
        const a = this.cat.trackArtist[t];
        artistPlays.set(a, (artistPlays.get(a) ?? 0) + c);
        pop += c * this.popularity[t];
      }
      if (total > 0) for (let g = 0; g < G; g++) genreShare[g] /= total;
      const topGenres = topK(genreShare, 2).items.filter((g) => genreShare[g] > 0);
      const topArtists = [...artistPlays.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 3).map(([a]) => a);
      const unheard = (t: number) => !p.has(t);
      const inTop = (t: number) => topGenres.includes(this.cat.trackGenre[t]);
      const topArtistSet = new Set(topArtists);
      const mainGenres = new Set(topArtists.map((a) => this.cat.artistGenre[a]));
      const take = (xs: Iterable<number>, n: number) => Int32Array.from([...xs].slice(0, n));
      const filter = (pred: (t: number) => boolean) => byPop.filter(pred);
      const pools: Record<ShelfKind, Int32Array> = {
        'made-for-you': take(filter((t) => unheard(t) && inTop(t)), 15),
        'jump-back-in': take([...p.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([t]) => t), 12),
        'because-you-listened': take(topArtists.flatMap((a) => this.cat.artistTracks[a].filter(unheard)), 12),
        'new-releases': take(filter((t) => this.clockMs - this.cat.trackReleaseMs[t] <= NEW_DAYS * DAY_MS && (inTop(t) || artistPlays.has(this.cat.trackArtist[t]))), 12),
        'fans-also-like': take(filter((t) => unheard(t) && mainGenres.has(this.cat.trackGenre[t]) && !topArtistSet.has(this.cat.trackArtist[t])).slice(15), 15),
        'hidden-gems': take(filter((t) => unheard(t) && inTop(t) && this.popularity[t] < 0.5).reverse(), 15),
        'popular-now': popular,
      };
      this.users.push({
        taste: w.taste,
        genreW: this.model.genreWeights(w.taste, 1),
        fav: this.model.favourites(w.taste),
        plays: p,
        artistPlays,
        genreShare,
        recentGenreShare: recent[u],
        total,
        mainstream: total > 0 ? pop / total : 0,
        pools: SHELF_KINDS.map((k) => pools[k]),
        history: histories[u],
        followed: new Set(w.follows.map((f) => artistRow.get(f.artist_id)!)),
        mainstreamMix: 0,
        genreRarity: 0,
        replayChoice: 0,
      });
    });
    this.estimateTraits();
  }

  private estimateTraits(): void {
    const G = GENRES.length;
    const gCount = new Float64Array(G);
    for (const u of this.users) for (const [t, c] of u.plays) gCount[this.cat.trackGenre[t]] += c;
    const gTot = gCount.reduce((a, b) => a + b, 0);
    const rarity = this.users.map((u) => {
      let gr = 0;
      for (const [t, c] of u.plays) gr += c * -Math.log((gCount[this.cat.trackGenre[t]] + 1) / (gTot + G));
      return (u.genreRarity = (gr + 5 * Math.log(G)) / (u.total + 5));
    });
    const hhi = this.users.map((u) => u.genreShare.reduce((a, x) => a + x * x, 0));
    const z = (v: number[]) => {
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length) || 1;
      return v.map((x) => (x - m) / sd);
    };
    const zm = z(this.users.map((u) => u.mainstream)), zr = z(rarity), zh = z(hhi);
    this.users.forEach((u, i) => {
      u.mainstreamMix = (zm[i] - zr[i] - zh[i]) / 3;
      const liked = new Set<number>();
      let rep = 0, m = 0;
      for (const l of u.history) {
        if (l.context === 'playlist' || l.context === 'search' || l.context === 'home') {
          m++;
          if (liked.has(l.t)) rep++;
        }
        if (l.streamed) liked.add(l.t);
      }
      u.replayChoice = (rep + 2 * 0.1) / (m + 2);
    });
  }

  get dim(): number {
    return DIM;
  }

  /**
   * The history statistics behind the listener features, old and new, for the diagnostic
   * src/eval/bandit-traits.ts (how well each estimates the hidden trait it stands for; never a
   * policy input): per listener, and per (listener, track) for the card-level ones.
   */
  traitFeatures(): { listener: Record<string, number[]>; card: Record<string, (user: number, t: number) => number> } {
    const G = GENRES.length;
    const listener: Record<string, number[]> = {
      'mean popularity (the feature before)': this.users.map((u) => u.mainstream),
      'genre rarity': this.users.map((u) => u.genreRarity),
      'genre concentration': this.users.map((u) => u.genreShare.reduce((a, x) => a + x * x, 0)),
      'user_mainstream (composite)': this.users.map((u) => u.mainstreamMix),
      'repeat_rate (1 − distinct / streams)': this.users.map((u) => (u.total > 0 ? 1 - u.plays.size / u.total : 0)),
      'replays of liked tracks among chosen starts': this.users.map((u) => u.replayChoice),
    };
    const perUser = this.users.map((u) => {
      const aStarts = new Map<number, number>(), aStreams = new Map<number, number>();
      const gStarts = new Float64Array(G), gStreams = new Float64Array(G);
      for (const l of u.history) {
        const a = this.cat.trackArtist[l.t], g = this.cat.trackGenre[l.t];
        aStarts.set(a, (aStarts.get(a) ?? 0) + 1);
        gStarts[g]++;
        if (l.streamed) aStreams.set(a, (aStreams.get(a) ?? 0) + 1), gStreams[g]++;
      }
      return { aStarts, aStreams, gStarts, gStreams };
    });
    const artist = (t: number) => this.cat.trackArtist[t], genre = (t: number) => this.cat.trackGenre[t];
    const card: Record<string, (user: number, t: number) => number> = {
      artist_share: (x, t) => (this.users[x].total > 0 ? (this.users[x].artistPlays.get(artist(t)) ?? 0) / this.users[x].total : 0),
      follows_artist: (x, t) => +this.users[x].followed.has(artist(t)),
      'follows + log(1 + streams of the artist)': (x, t) => +this.users[x].followed.has(artist(t)) + Math.log1p(perUser[x].aStreams.get(artist(t)) ?? 0),
      'streams / starts of the artist': (x, t) => ((perUser[x].aStreams.get(artist(t)) ?? 0) + 1) / ((perUser[x].aStarts.get(artist(t)) ?? 0) + 2),
      genre_share: (x, t) => this.users[x].genreShare[genre(t)],
      recent_genre_share: (x, t) => this.users[x].recentGenreShare[genre(t)],
      'streams / starts of the genre': (x, t) => (perUser[x].gStreams[genre(t)] + 1) / (perUser[x].gStarts[genre(t)] + 2),
    };
    return { listener, card };
  }


  /** The `r`-th request of `day` (a pure function of the world's seed, day and r). */
  request(day: number, r: number): Request {
    const rng = new Rng(hash32(this.o.seed, 0xb0a7, day, r));
    const user = rng.int(this.users.length);
    const u = this.users[user];
    const hour = pickWeighted(rng, HOURS);
    const weekend = day % 7 >= 5;
    const tracks: number[] = [];
    const shelves: ShelfKind[] = [];
    SHELF_KINDS.forEach((kind, s) => {
      const pool = u.pools[s];
      const idx = Array.from({ length: pool.length }, (_, i) => i);
      for (let q = 0; q < Math.min(this.perShelf, pool.length); q++) {
        const j = q + rng.int(pool.length - q);
        [idx[q], idx[j]] = [idx[j], idx[q]];
        tracks.push(pool[idx[q]]);
        shelves.push(kind);
      }
    });
    const n = tracks.length;
    const x = new Float64Array(n * DIM);
    const pTrue = new Float64Array(n);
    const nowMs = this.clockMs + day * DAY_MS;
    const night = hour >= 21 || hour < 7;
    for (let i = 0; i < n; i++) {
      const t = tracks[i];
      const g = this.cat.trackGenre[t];
      const gName = GENRES[g].name;
      const a = this.cat.trackArtist[t];
      const ageDays = Math.max(0, (nowMs - this.cat.trackReleaseMs[t]) / DAY_MS);
      const isNew = ageDays <= NEW_DAYS;
      const row = x.subarray(i * DIM, (i + 1) * DIM);
      row[0] = Math.sin((2 * Math.PI * hour) / 24);
      row[1] = Math.cos((2 * Math.PI * hour) / 24);
      row[2] = +weekend;
      row[3] = Math.log1p(u.total) / 6;
      row[4] = u.total > 0 ? 1 - u.plays.size / u.total : 0;
      row[5] = u.mainstreamMix;
      row[6] = u.genreShare[g];
      row[7] = u.total > 0 ? (u.artistPlays.get(a) ?? 0) / u.total : 0;
      row[8] = this.popularity[t];
      row[9] = this.completion[t];
      row[10] = this.artistCompletion[t];
      row[11] = Math.log1p(ageDays / 7) / 6;
      row[12] = +isNew;
      row[13] = Math.log1p(u.plays.get(t) ?? 0) / 3;
      row[14] = +CALM.has(gName);
      row[15] = +PARTY.has(gName);
      row[16] = +ENERGETIC.has(gName);
      row[17] = u.recentGenreShare[g];
      row[18] = +u.followed.has(a);
      row[F_EXPL + SHELF_KINDS.indexOf(shelves[i])] = 1;
      // hidden truth
      const like = this.model.pLike(t, u.genreW, u.fav);
      let z = -1.2;
      switch (shelves[i]) {
        case 'made-for-you':
          z += 0.2;
          break;
        case 'jump-back-in':
          z += 6 * (u.taste.replay - 0.15);
          break;
        case 'because-you-listened':
          z += u.fav.has(a) ? 1.5 : -0.5;
          break;
        case 'new-releases':
          z += isNew ? 0.8 : -0.8;
          break;
        case 'fans-also-like':
          z += 0.1;
          break;
        case 'hidden-gems':
          z += u.taste.kind === 'niche' ? 1.5 : u.taste.kind === 'eclectic' ? 0.3 : -1.2;
          break;
        case 'popular-now':
          z += u.taste.kind === 'mainstream' ? 1.2 : u.taste.kind === 'niche' ? -1.5 : 0;
          break;
      }
      if (night && CALM.has(gName)) z += 1.5;
      if (night && ENERGETIC.has(gName)) z -= 1;
      if (weekend && hour >= 18 && PARTY.has(gName)) z += 0.8;
      pTrue[i] = sigmoid(z) * like;
    }
    return { user, hour, weekend, tracks: Int32Array.from(tracks), shelves, decision: { n, dim: DIM, x }, pTrue };
  }

  /** Expected reward of showing `chosen` in slot order. */
  value(req: Request, chosen: ArrayLike<number>): number {
    let v = 0;
    for (let s = 0; s < chosen.length; s++) v += examine(s) * req.pTrue[chosen[s]];
    return v;
  }

  /** The oracle's slate: the top `k` by true probability (optimal since e(s) falls with s). */
  oracle(req: Request, k: number): Int32Array {
    return topK(req.pTrue, k).items;
  }
}

export interface Arm {
  name: string;
  policy: Policy;
}

export interface SimOptions {
  days: number;
  requestsPerDay: number;
  slots: number;
  seed: number;
  training?: TrainingOptions;
  /** Train on the slot each card was shown at (position-based click model; default false: measured worse, docs/bandit.md), else on the card alone. */
  slotAware?: boolean;
  /** Card- and shelf-level evidence from each arm's own logs as features ({@link Feedback}; default true). */
  feedback?: boolean;
  /**
   * Fit the reward model under a position-based click model: each logged card's examination is
   * the arm's own estimate ê(slot) ({@link Feedback.examination}, from its logs), passed to the
   * model as {@link Dataset.exam} (BART learns attractiveness; other models ignore it). Default false.
   */
  positionModel?: boolean;
  /**
   * Logs of a previous deployment (another world's pages, {@link priorLogs}): every arm with a
   * reward model is fitted on them before day 0 and keeps them at the head of its training log,
   * where its own logs push them out (`training.maxRows`). Default: none (day 0 is uniform).
   */
  warm?: readonly LoggedChoice[];
  /** Called after each policy's day (progress). */
  onDay?: (day: number, arm: string, seconds: number) => void;
}

export interface ArmResult {
  name: string;
  /** Per day, cumulative over days: realized rewards (streams), expected reward, and regret vs the oracle. */
  cumReward: number[];
  cumExpected: number[];
  cumRegret: number[];
  /**
   * Where the regret goes, per day, cumulative (expected streams), for policies over a reward model
   * (empty otherwise): `cumGreedy` what the model's mean would have shown (top k by mean prediction),
   * `cumGreedySorted` the same cards in the true order. chosen → greedy is the cost of exploration,
   * greedy → sorted the cost of the model's order among the cards it picked, sorted → oracle the
   * cost of picking the wrong cards. Before the first fit all three equal the chosen slate's value.
   */
  cumGreedy: number[];
  cumGreedySorted: number[];
  /** Seconds spent choosing (all requests) and fitting (all days). */
  chooseS: number;
  fitS: number;
}

export interface SimResult {
  arms: ArmResult[];
  /** Every arm's logged cards, in order (the warm rows not included). */
  logs: LoggedChoice[][];
  oracle: { cumReward: number[]; cumExpected: number[] };
  impressions: number;
}

/**
 * Simulate `days` days: each day every arm serves the same requests (common random numbers: the same
 * listeners, candidates and reward coin flips per slot), logs (features, reward, propensity) of
 * every shown card, and at day end refits on all its logs so far, IPS-weighted ({@link trainingSet}).
 */
export function simulate(world: HomeWorld, arms: readonly Arm[], o: SimOptions): SimResult {
  const logs: LoggedChoice[][] = arms.map(() => [...(o.warm ?? [])]);
  const res: ArmResult[] = arms.map((a) => ({ name: a.name, cumReward: [], cumExpected: [], cumRegret: [], cumGreedy: [], cumGreedySorted: [], chooseS: 0, fitS: 0 }));
  const rngs = arms.map((_, i) => new Rng(hash32(o.seed, 0x9011, i)));
  const feedback = arms.map(() => new Feedback(world, o.slots));
  const oracle = { cumReward: [] as number[], cumExpected: [] as number[] };
  let oR = 0, oE = 0;
  const tot = arms.map(() => ({ r: 0, e: 0, g: 0, mean: 0, sorted: 0 }));
  const models = arms.map((a) => (a.policy as Partial<{ model: RewardModel }>).model);
  const training = (i: number): TrainingOptions => (o.positionModel ? { ...o.training, examination: feedback[i].examination() } : o.training ?? {});
  if (o.warm?.length) arms.forEach((a, i) => models[i] && a.policy.fit(trainingSet(logs[i], world.dim, o.training), rngs[i]));
  for (let day = 0; day < o.days; day++) {
    const reqs = Array.from({ length: o.requestsPerDay }, (_, r) => world.request(day, r));
    const coins = reqs.map((_, r) => {
      const c = new Rng(hash32(o.seed, 0xc017, day, r));
      return Float64Array.from({ length: o.slots }, () => c.next());
    });
    reqs.forEach((q, r) => {
      const best = world.oracle(q, o.slots);
      oE += world.value(q, best);
      best.forEach((a, s) => (oR += +(coins[r][s] < examine(s) * q.pTrue[a])));
    });
    oracle.cumReward.push(oR);
    oracle.cumExpected.push(oE);
    arms.forEach((arm, i) => {
      const t0 = performance.now();
      const shown: [Request, number, number, number, number][] = [];
      let diagMs = 0;
      reqs.forEach((q, r) => {
        const d = o.feedback === false ? q.decision : feedback[i].decision(q);
        const sl = arm.policy.choose(d, o.slots, rngs[i]);
        const v = world.value(q, sl.chosen);
        tot[i].e += v;
        tot[i].g += world.value(q, world.oracle(q, o.slots)) - v;
        const m = models[i];
        if (m) {
          const tg = performance.now();
          let g: ArrayLike<number> = sl.chosen;
          if (m.fitted) {
            const sc = new Float64Array(d.n);
            m.predict(d.x, d.n, sc);
            g = topK(sc, o.slots).items;
          }
          tot[i].mean += world.value(q, g);
          tot[i].sorted += world.value(q, Array.from(g).sort((a, b) => q.pTrue[b] - q.pTrue[a]));
          diagMs += performance.now() - tg;
        }
        sl.chosen.forEach((a, s) => {
          const reward = coins[r][s] < examine(s) * q.pTrue[a] ? 1 : 0;
          tot[i].r += reward;
          shown.push([q, a, reward, s, sl.propensity[s]]);
          logs[i].push({ x: shownRow(d, a, s, o.slotAware ?? false), reward, propensity: sl.propensity[s], slot: s });
        });
      });
      for (const [q, a, reward, s, p] of shown) feedback[i].add(q, a, reward, s, p);
      const t1 = performance.now();
      arm.policy.fit(trainingSet(logs[i], world.dim, training(i)), rngs[i]);
      const t2 = performance.now();
      res[i].chooseS += (t1 - t0 - diagMs) / 1000;
      res[i].fitS += (t2 - t1) / 1000;
      res[i].cumReward.push(tot[i].r);
      res[i].cumExpected.push(tot[i].e);
      res[i].cumRegret.push(tot[i].g);
      if (models[i]) res[i].cumGreedy.push(tot[i].mean), res[i].cumGreedySorted.push(tot[i].sorted);
      o.onDay?.(day, arm.name, (t2 - t0) / 1000);
    });
  }
  return { arms: res, logs: logs.map((l) => l.slice(o.warm?.length ?? 0)), oracle, impressions: o.days * o.requestsPerDay * o.slots };
}

/** Log `n` requests (starting at request index `from` of `day`) with `policy`; for fitting fixed policies. */
export function collectLogs(world: HomeWorld, policy: Policy, o: { day: number; from: number; n: number; slots: number; seed: number; slotAware?: boolean }): LoggedChoice[] {
  const rng = new Rng(hash32(o.seed, 0x1065));
  const out: LoggedChoice[] = [];
  for (let r = o.from; r < o.from + o.n; r++) {
    const q = world.request(o.day, r);
    const sl = policy.choose(q.decision, o.slots, rng);
    sl.chosen.forEach((a, s) => out.push({ x: shownRow(q.decision, a, s, o.slotAware ?? false), reward: rng.next() < examine(s) * q.pTrue[a] ? 1 : 0, propensity: sl.propensity[s], slot: s }));
  }
  return out;
}

export interface OpeCheck {
  /** V(π): mean over the logged requests of Σ_s Σ_a π(a, s | x) e(s) p(a | x), from the simulator's truth. */
  truth: number;
  /** The logging policy's own true value on the same requests. */
  loggingTruth: number;
  estimates: Estimate[];
}

/**
 * Off-policy evaluation against the truth: log `n` requests of `day` with `logging`, estimate the
 * value of `target` with IPS, SNIPS, DR and DM (reward model `q` for DR/DM, not position-aware:
 * q̂(x, a, s) = q̂(x, a)), and compute the target's true value on the same requests. The target's
 * marginals are those the estimators use (for Thompson sampling a Monte Carlo estimate, i.e. the
 * evaluated policy is the one with those marginals), so truth and estimate refer to one policy.
 */
export function opeCheck(world: HomeWorld, logging: Policy, target: Policy, q: RewardModel, o: { day: number; n: number; slots: number; seed: number; level?: number }): OpeCheck {
  const rng = new Rng(hash32(o.seed, 0x0be0));
  const rows: LoggedDecision[] = [];
  let truth = 0, loggingTruth = 0;
  for (let r = 0; r < o.n; r++) {
    const req = world.request(o.day, r);
    const d = req.decision;
    const sl = logging.choose(d, o.slots, rng);
    const kk = sl.chosen.length;
    const pi = target.marginals(d, o.slots, rng);
    const qh = new Float64Array(d.n);
    q.predict(d.x, d.n, qh);
    loggingTruth += world.value(req, sl.chosen);
    for (let s = 0; s < kk; s++) {
      let qPi = 0;
      for (let a = 0; a < d.n; a++) {
        qPi += pi[a * kk + s] * qh[a];
        truth += pi[a * kk + s] * examine(s) * req.pTrue[a];
      }
      const a = sl.chosen[s];
      const reward = rng.next() < examine(s) * req.pTrue[a] ? 1 : 0;
      rows.push({ request: r, reward, pLog: sl.propensity[s], pTarget: pi[a * kk + s], qLogged: qh[a], qTarget: qPi });
    }
  }
  const lv = { level: o.level ?? 0.95 };
  return { truth: truth / o.n, loggingTruth: loggingTruth / o.n, estimates: [ips(rows, lv), snips(rows, lv), doublyRobust(rows, lv), directMethod(rows, lv)] };
}

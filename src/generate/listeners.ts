/**
 * Listeners of the demo world: a hidden taste per user (see taste.ts), a time zone and country,
 * follows, and weeks of sessions up to the clock plus one held-out week after it. In a session a
 * listener starts from a context (a playlist, an album, an artist, search, a home card, radio, the
 * library), finishes the tracks they like and skips the others within seconds, and replays
 * favourites. Each user is generated from its own seeded stream, so users can be produced one at a
 * time with bounded memory.
 */
import type { Follow, Listen, User } from '../domain/schemas.ts';
import { Rng } from '../util/rng.ts';
import type { Catalog } from './catalog.ts';
import { ids } from './catalog.ts';
import { GENRES, HOME_SHELVES, PLATFORMS, ZONES } from './genres.ts';
import { MAINSTREAM_LEVELS, TasteModel, type UserTaste } from './taste.ts';
import { DAY_MS, WEEK_MS, hash32, hashUnit, isoSeconds, pickCumulative, pickWeighted, uniform } from './util.ts';

export interface ListenerOptions {
  seed: number;
  clockMs: number;
  /** Weeks of listening before the clock. */
  weeks: number;
  users: number;
  /** Expected number of training listens over all users. */
  listens: number;
}

/** Everything generated for one user. */
export interface UserWorld {
  user: User;
  taste: UserTaste;
  follows: Follow[];
  listens: Listen[];
  /** Held-out listens in the week after the clock. */
  future: Listen[];
}

/** Local hour-of-day profile of session starts (24 weights). */
const HOURS = [0.3, 0.15, 0.08, 0.05, 0.05, 0.1, 0.4, 0.9, 1.2, 0.9, 0.7, 0.7, 0.9, 0.8, 0.7, 0.7, 0.8, 1.0, 1.2, 1.3, 1.4, 1.3, 1.0, 0.6];
const CONTEXTS = ['playlist', 'album', 'artist', 'search', 'home', 'radio', 'library'] as const;
const CONTEXT_WEIGHTS = [0.3, 0.15, 0.1, 0.12, 0.2, 0.06, 0.07];

/** Generates users one at a time: `for (let i = 0; i < n; i++) gen.user(i)`. */
export class ListenerGenerator {
  readonly model: TasteModel;
  private readonly windowStart: number;
  private readonly genreShares = GENRES.map((g) => g.share);
  private readonly tz = new TimeZones();
  private readonly zoneWeights = ZONES.map((z) => z[2]);
  private readonly platformWeights = PLATFORMS.map((p) => p[1]);

  constructor(
    private readonly cat: Catalog,
    private readonly o: ListenerOptions,
  ) {
    this.model = new TasteModel(cat.artistTruth, cat.trackTruth);
    this.windowStart = o.clockMs - o.weeks * WEEK_MS;
  }

  /** The `i`-th user with taste, follows, training listens and held-out future listens. */
  user(i: number): UserWorld {
    const rng = new Rng(hash32(this.o.seed, 0x05e7, i));
    const userId = ids.user(i);
    const [zone, country] = ZONES[pickWeighted(rng, this.zoneWeights)];
    const isNew = rng.next() < 0.06;
    const taste = this.drawTaste(rng, userId, zone, isNew);
    const createdMs = isNew ? this.o.clockMs - uniform(rng, 0.5, 6.5) * DAY_MS : this.windowStart - uniform(rng, 1, 3 * 365) * DAY_MS;
    const user: User = { user_id: userId, time_zone: zone, country, created_at: isoSeconds(createdMs) };

    // Follows: most favourite artists, plus a little noise.
    const follows: Follow[] = [];
    const followed = new Set<number>();
    const sinceMs = () => createdMs + rng.next() * (this.o.clockMs - createdMs);
    for (const [artistId] of taste.favourites) {
      if (rng.next() < 0.65) {
        followed.add(this.model.artistIndex.get(artistId)!);
        follows.push({ user_id: userId, artist_id: artistId, since: isoSeconds(sinceMs()) });
      }
    }
    for (let k = rng.int(3); k > 0; k--) {
      const a = rng.int(this.cat.artists.length);
      if (followed.has(a)) continue;
      followed.add(a);
      follows.push({ user_id: userId, artist_id: this.cat.artists[a].artist_id, since: isoSeconds(sinceMs()) });
    }

    // Activity: log-normal with mean listens/users; new listeners have a handful of events.
    const mean = this.o.listens / this.o.users;
    const nTrain = isNew ? 1 + rng.int(6) : Math.max(3, Math.round((mean / 0.9) * Math.exp(1.0 * rng.normal() - 0.5)));
    const nFuture = isNew ? rng.int(4) : Math.max(1, Math.round((nTrain / this.o.weeks) * uniform(rng, 0.7, 1.3)));
    const st = new SessionState(this, rng, i, userId, taste, zone, followed);
    const from = Math.max(createdMs, this.windowStart);
    const listens = st.listensBetween(from, this.o.clockMs, nTrain, 0);
    const future = st.listensBetween(this.o.clockMs, this.o.clockMs + WEEK_MS, nFuture, listens.length);
    return { user, taste, follows, listens, future };
  }

  /** Time fraction τ of an instant: 0 at the window start, 1 at the clock. */
  tau(ms: number): number {
    return (ms - this.windowStart) / (this.o.clockMs - this.windowStart);
  }

  private drawTaste(rng: Rng, userId: string, zone: string, isNew: boolean): UserTaste {
    const G = GENRES.length;
    const r = rng.next();
    const kind: UserTaste['kind'] = r < 0.45 ? 'mainstream' : r < 0.7 ? 'niche' : 'eclectic';
    const w = new Float64Array(G);
    const main = pickWeighted(rng, kind === 'niche' ? this.genreShares.map((s) => 1 / s) : this.genreShares);
    for (let g = 0; g < G; g++) w[g] = this.genreShares[g] * Math.exp(1.2 * rng.normal()) * (kind === 'niche' ? 0.08 : 0.4);
    w[main] += kind === 'niche' ? 2.5 : kind === 'mainstream' ? 1.0 : 0.6;
    if (kind === 'eclectic') for (let k = 0; k < 2; k++) w[rng.int(G)] += 0.5;
    normalize(w);
    // Drift: part of the mass moves to a genre that was not the main one.
    const to = Float64Array.from(w);
    let target = rng.int(G);
    if (target === main) target = (target + 1) % G;
    for (let g = 0; g < G; g++) to[g] *= 0.6;
    to[target] += 0.4;
    const lv = kind === 'mainstream' ? 2 + rng.int(2) : kind === 'niche' ? rng.int(2) : 1 + rng.int(2);
    // Favourite artists: drawn from the genre mixture, by popularity^level.
    const nFav = 3 + rng.int(kind === 'eclectic' ? 20 : 12);
    const fav = new Map<number, number>();
    for (let k = 0; k < nFav * 3 && fav.size < nFav; k++) {
      const g = pickWeighted(rng, w);
      const artists = this.model.genreArtists[g];
      if (!artists.length) continue;
      const a = artists[pickCumulative(rng, this.model.genreArtistCum[g][lv])];
      fav.set(a, (fav.get(a) ?? 0) + Math.exp(0.8 * rng.normal()));
    }
    const favTotal = [...fav.values()].reduce((s, x) => s + x, 0);
    const asRecord = (x: Float64Array) => Object.fromEntries(GENRES.map((g, i) => [g.name, round4(x[i])]));
    return {
      user_id: userId,
      kind,
      genres_start: asRecord(w),
      genres_drift_to: asRecord(to),
      drift: round4(uniform(rng, 0.05, 0.35)),
      favourites: [...fav.entries()].sort((a, b) => a[0] - b[0]).map(([a, x]) => [this.cat.artists[a].artist_id, round4(x / favTotal)]),
      mainstream: MAINSTREAM_LEVELS[lv],
      fav_share: round4(uniform(rng, 0.15, 0.45)),
      explore: round4(uniform(rng, 0.05, 0.2)),
      replay: round4(uniform(rng, 0.05, 0.25)),
      new_listener: isNew,
      time_zone: zone,
    };
  }

  /** @internal for SessionState */
  get catalog(): Catalog {
    return this.cat;
  }
  get options(): ListenerOptions {
    return this.o;
  }
  get zones(): TimeZones {
    return this.tz;
  }
  platform(rng: Rng): string {
    return PLATFORMS[pickWeighted(rng, this.platformWeights)][0];
  }
}

/** The running state of one listener while their sessions are generated. */
class SessionState {
  private readonly m: TasteModel;
  private readonly fav: Map<number, number>;
  private readonly favIds: number[];
  private readonly favCum: Float64Array;
  private readonly level: number;
  private readonly rotation: number[] = [];
  private readonly platforms: string[];
  private w: Float64Array;
  private wAt = -1;
  private listenSeq = 0;

  constructor(
    private readonly gen: ListenerGenerator,
    private readonly rng: Rng,
    private readonly userIdx: number,
    private readonly userId: string,
    private readonly taste: UserTaste,
    private readonly zone: string,
    private readonly followed: Set<number>,
  ) {
    this.m = gen.model;
    this.fav = this.m.favourites(taste);
    this.favIds = [...this.fav.keys()];
    let s = 0;
    this.favCum = Float64Array.from(this.favIds, (a) => (s += this.fav.get(a)!));
    this.level = this.m.level(taste.mainstream);
    this.platforms = [gen.platform(rng), gen.platform(rng)];
    this.w = this.m.genreWeights(taste, 0);
  }

  /** About `n` listens in sessions between `fromMs` and `toMs` (none at or after `toMs`). */
  listensBetween(fromMs: number, toMs: number, n: number, seqStart: number): Listen[] {
    this.listenSeq = seqStart;
    const rng = this.rng;
    // Session starts: a day in the range, a local hour from the daily profile.
    const starts: number[] = [];
    let planned = 0;
    const lengths: number[] = [];
    const kinds: number[] = [];
    while (planned < n) {
      const kind = pickWeighted(rng, CONTEXT_WEIGHTS);
      const len = Math.min(n - planned, CONTEXTS[kind] === 'search' ? 1 + rng.int(3) : 1 + Math.floor(-Math.log(1 - rng.next()) * 9));
      kinds.push(kind);
      const dayMs = fromMs + rng.next() * (toMs - fromMs);
      const localHour = pickWeighted(rng, HOURS) + rng.next();
      const utcDay = Math.floor(dayMs / DAY_MS) * DAY_MS;
      let t = utcDay + localHour * 3_600_000 - this.gen.zones.offsetMs(this.zone, dayMs);
      if (t < fromMs || t >= toMs) t = dayMs;
      starts.push(t);
      lengths.push(len);
      planned += len;
    }
    const order = starts.map((_, i) => i).sort((a, b) => starts[a] - starts[b] || a - b);
    const out: Listen[] = [];
    let busyUntil = -Infinity;
    for (const s of order) {
      const start = Math.max(starts[s], busyUntil + 600_000);
      if (start >= toMs) break;
      busyUntil = this.session(start, lengths[s], CONTEXTS[kinds[s]], toMs, out);
    }
    return out;
  }

  /** One session of up to `len` listens starting at `t`; returns when it ends. */
  private session(t: number, len: number, kind: (typeof CONTEXTS)[number], toMs: number, out: Listen[]): number {
    const rng = this.rng;
    const cat = this.gen.catalog;
    this.refreshWeights(t);
    const platform = rng.next() < 0.8 ? this.platforms[0] : this.platforms[1];
    let queue: number[] = [];
    let context: string;
    let pick: () => number = () => this.pickTrack(t);
    switch (kind) {
      case 'playlist':
        context = rng.next() < 0.6 ? `playlist:pl-${this.userIdx}-${rng.int(4)}` : `playlist:pl-ed-${GENRES[pickWeighted(rng, this.w)].name}`;
        break;
      case 'album': {
        const album = cat.trackAlbum[this.pickTrack(t)];
        context = `album:${cat.albums[album].album_id}`;
        queue = [...cat.albumTracks[album]];
        break;
      }
      case 'artist': {
        const a = cat.trackArtist[this.pickTrack(t)];
        context = `artist:${cat.artists[a].artist_id}`;
        pick = () => this.trackOfArtist(a, t);
        break;
      }
      case 'search':
        context = 'search';
        break;
      case 'home': {
        const shelf = HOME_SHELVES[rng.int(HOME_SHELVES.length)];
        const recent = shelf === 'new-releases' ? this.recentRelease(t) : -1;
        if (recent >= 0) {
          context = `home:${shelf}:${cat.albums[recent].album_id}`;
          queue = [...cat.albumTracks[recent]];
        } else context = `home:${shelf === 'new-releases' ? 'made-for-you' : shelf}:card-${rng.int(6)}`;
        break;
      }
      case 'radio': {
        const seed = this.pickTrack(t);
        const g = cat.trackGenre[seed];
        context = `radio:${cat.tracks[seed].track_id}`;
        pick = () => this.trackOfGenre(g, t);
        break;
      }
      default:
        context = 'library';
        pick = () => (this.rotation.length ? this.rotation[rng.int(this.rotation.length)] : this.pickTrack(t));
    }
    for (let k = 0; k < len && t < toMs; k++) {
      let tr = queue.length ? queue.shift()! : pick();
      // A track not released yet at `t` is replaced by another pick (a few tries).
      for (let tries = 0; cat.trackReleaseMs[tr] > t && tries < 6; tries++) tr = pick();
      if (cat.trackReleaseMs[tr] > t) continue;
      t = this.emit(tr, t, context, platform, out);
    }
    return t;
  }

  /** Write one listen of track `tr` at `t`; returns when the next one starts. */
  private emit(tr: number, t: number, context: string, platform: string, out: Listen[]): number {
    const rng = this.rng;
    const cat = this.gen.catalog;
    const duration = cat.tracks[tr].duration_ms;
    const liked = hashUnit(this.gen.options.seed, 0x11ce, this.userIdx, tr) < this.m.pLike(tr, this.w, this.fav);
    let ms: number;
    let reason: Listen['reason_end'];
    let skipped = false;
    if (liked) {
      const r = rng.next();
      if (r < 0.04) (ms = Math.round(uniform(rng, 30_000, duration))), (reason = rng.next() < 0.5 ? 'endplay' : 'logout');
      else (ms = duration), (reason = 'trackdone');
      if (!this.rotation.includes(tr)) {
        this.rotation.push(tr);
        if (this.rotation.length > 30) this.rotation.shift();
      }
    } else {
      ms = Math.round(uniform(rng, 800, 9_500));
      reason = 'fwdbtn';
      skipped = true;
    }
    out.push({
      listen_id: `l-${String(this.userIdx).padStart(6, '0')}-${String(this.listenSeq++).padStart(5, '0')}`,
      user_id: this.userId,
      track_id: cat.tracks[tr].track_id,
      started_at: isoSeconds(t),
      ms_played: ms,
      reason_end: reason,
      skipped,
      context,
      platform,
    });
    return t + ms + rng.int(3000);
  }

  private refreshWeights(t: number): void {
    const tau = this.gen.tau(t);
    if (Math.abs(tau - this.wAt) > 0.02) {
      this.w = this.m.genreWeights(this.taste, tau);
      this.wAt = tau;
    }
  }

  /** One pick of the taste model (taste.ts), replays included; released by `t` when possible. */
  private pickTrack(t: number): number {
    const rng = this.rng;
    if (this.rotation.length && rng.next() < this.taste.replay) return this.rotation[rng.int(this.rotation.length)];
    for (let attempt = 0; attempt < 8; attempt++) {
      const r = rng.next();
      let tr: number;
      if (r < this.taste.fav_share && this.favIds.length) tr = this.trackOfArtist(this.favIds[pickCumulative(rng, this.favCum)], t);
      else if (r < this.taste.fav_share + this.taste.explore) tr = pickCumulative(rng, this.m.globalTrackCum);
      else tr = this.trackOfGenre(pickWeighted(rng, this.w), t);
      if (this.gen.catalog.trackReleaseMs[tr] <= t) return tr;
    }
    return pickCumulative(rng, this.m.globalTrackCum);
  }

  private trackOfGenre(g: number, _t: number): number {
    const artists = this.m.genreArtists[g];
    const a = artists[pickCumulative(this.rng, this.m.genreArtistCum[g][this.level])];
    return this.trackOfArtist(a, _t);
  }

  private trackOfArtist(a: number, _t: number): number {
    return this.m.artistTracks[a][pickCumulative(this.rng, this.m.artistTrackCum[a])];
  }

  /** An album released in the four weeks before `t` by a followed or favourite artist, or -1. */
  private recentRelease(t: number): number {
    const cat = this.gen.catalog;
    const candidates: number[] = [];
    for (const a of new Set([...this.followed, ...this.favIds])) {
      const tracks = cat.artistTracks[a];
      for (let k = tracks.length - 1; k >= 0; k--) {
        const rel = cat.trackReleaseMs[tracks[k]];
        if (rel <= t && rel > t - 4 * WEEK_MS) candidates.push(cat.trackAlbum[tracks[k]]);
        if (rel <= t - 4 * WEEK_MS) break;
      }
    }
    if (!candidates.length) return -1;
    return candidates[this.rng.int(candidates.length)];
  }
}

/** UTC offsets of IANA zones, cached per zone and UTC day. */
export class TimeZones {
  private readonly formats = new Map<string, Intl.DateTimeFormat>();
  private readonly cache = new Map<string, number>();

  /** Offset of `zone` at `utcMs` in ms (local = UTC + offset), e.g. +13 h for Pacific/Auckland in summer. */
  offsetMs(zone: string, utcMs: number): number {
    const day = Math.floor(utcMs / DAY_MS);
    const key = `${zone}|${day}`;
    let off = this.cache.get(key);
    if (off === undefined) {
      let f = this.formats.get(zone);
      if (!f) {
        f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
        this.formats.set(zone, f);
      }
      const at = day * DAY_MS + 12 * 3_600_000;
      const p = Object.fromEntries(f.formatToParts(new Date(at)).map((x) => [x.type, x.value]));
      const local = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute);
      off = local - at;
      this.cache.set(key, off);
    }
    return off;
  }
}

function normalize(w: Float64Array): void {
  let s = 0;
  for (const x of w) s += x;
  for (let i = 0; i < w.length; i++) w[i] /= s;
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

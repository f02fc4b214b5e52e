/**
 * The home page as a bandit over shelves: a {@link HomeSource} that builds the user's candidate
 * shelves from the serving state (the live model, the catalog and, when present, the published
 * playlists), orders them with a {@link Policy}, and logs every card shown as an impression with the
 * policy's name and the propensity of its shelf at its position, so streams started from home cards
 * (listen context `home:<shelf>:<card>`) can be attributed and policies trained and evaluated
 * offline (bandit/ope.ts). An impression means shown to a listener who can act on it: the web app
 * asks for the page with `deferImpressions` and reports each shelf once it is on screen
 * ({@link BanditHome.viewed}), so browsing past a shelf feeds the bandit nothing. The shelves of a
 * deferred page wait in the store's `staged_shelves` ({@link BanditHomeOptions.staging}), so the
 * page may be rendered by one API node and reported seen to another; each shelf is logged once.
 *
 * Candidate shelves (each card keeps the reason the model gave it; the shelf title is the
 * explanation): Made for you, Discover Weekly, Release Radar, Jump back in, Because you listened
 * to <artist>, Fans of <artist> also like, New releases for you, Hidden gems, Popular now. Empty
 * shelves are dropped and no track appears twice on a page.
 *
 * Shelf features ({@link SHELF_FEATURES}, bandit/shelves.ts): only what an impression log can
 * rebuild, so the policy is trained on the features it is served with (bandit/train.ts).
 *
 * Impressions go to an {@link ImpressionSink}: a serving process appends them to the impression
 * log (files the pipeline loads, bandit/impression-log.ts); tests and tools may write them into the store
 * in the background (`store`). Either way logging never delays the answer, and `flush()` makes
 * everything logged so far durable (the server calls it on shutdown).
 */
import { Rng } from '../util/rng.ts';
import type { Impression } from '../domain/schemas.ts';
import { InProcessStaging, type ShelfStaging, type StagedShelf, type Store } from '../store/index.ts';
import { log as logger } from '../log.ts';
import type { Catalog } from './catalog.ts';
import type { Recommendations, TrackCard } from './recommendations.ts';
import type { Home, HomeSource, PlaylistSource, Shelf } from './state.ts';
import type { Decision, Policy } from '../bandit/index.ts';
import { StoreImpressionWriter, type ImpressionSink } from '../bandit/index.ts';
import { cardKeys, SHELF_FEATURES, shelfRow, type HomeEvidence, type HomeShelfKind } from '../bandit/index.ts';

const DIM = SHELF_FEATURES.length;
const NOBODY = '\u0000popular-now';
const NEW_RELEASE_DAYS = 56;
/** Deferred home answers kept waiting for their shelves to be seen, without a store. */
const MAX_PENDING = 10_000;
/** One process's staged shelves per store: kept across the homes of successive runs (a run swap keeps the pages shown before it). */
const byStore = new WeakMap<object, InProcessStaging>();

/** The in-memory staging of this process for `store` (one server, no other node to report views to): the same one for every run it loads. */
export function processStaging(store: object): InProcessStaging {
  let s = byStore.get(store);
  if (!s) byStore.set(store, (s = new InProcessStaging(MAX_PENDING)));
  return s;
}
/** How long a deferred shelf waits to be seen, in ms (a page left open longer logs nothing more). */
export const STAGED_SHELF_TTL_MS = 30 * 60_000;
/** Expired staged shelves are dropped at most this often by one home, in ms. */
const EXPIRE_EVERY_MS = 5 * 60_000;
/** Cards of one artist on a shelf at most: no artist fills a shelf. */
const PER_ARTIST = 2;

export interface BanditHomeOptions {
  policy: Policy;
  catalog: Catalog;
  playlists?: PlaylistSource;
  /** Where impressions go (a server: an `ImpressionLog`); omitted, and no `store`, = not logged. */
  log?: ImpressionSink;
  /** Or: write impressions into this store in the background (batched, see `StoreImpressionWriter`). */
  store?: Pick<Store, 'put'>;
  now?: () => Date;
  /** Seed of the policy's random choices (default 1). */
  seed?: number;
  /** Cards per shelf (default 12). */
  perShelf?: number;
  /** Shelves shown at most (default: all candidates, ordered). */
  maxShelves?: number;
  /** With `store`: longest an impression waits for a fuller write, in ms (default 250). */
  writeDelayMs?: number;
  /** Answer a page only once its impressions are committed (the sink's `durable`): an API node of a fleet. */
  durable?: boolean;
  /**
   * Where deferred pages' shelves wait to be seen: the store (a server: any node, or a restarted
   * one, logs them). Default: this process's memory (the newest 10,000 pages).
   */
  staging?: ShelfStaging;
  /**
   * What the impression logs said at the published run (its `bandit/evidence.json`): the
   * evidence features of every candidate shelf (bandit/evidence.ts). Default: none yet.
   */
  evidence?: HomeEvidence;
}

/** A home page with what the bandit decided (the HTTP response keeps the `Home` fields). */
export interface BanditHomeAnswer extends Home {
  request_id: string;
  policy: string;
  /** π(shelf at its position | context), one per shelf, in page order. */
  propensities: number[];
}

interface Candidate {
  kind: HomeShelfKind;
  shelf: Shelf;
}

export class BanditHome implements HomeSource {
  private readonly rng: Rng;
  private readonly now: () => Date;
  private readonly perShelf: number;
  private seq = 0;
  private readonly sink: ImpressionSink | undefined;
  /** Deferred answers' shelves until they are seen. */
  private readonly staging: ShelfStaging;
  private expiredAt = 0;

  constructor(private readonly o: BanditHomeOptions) {
    this.rng = new Rng(o.seed ?? 1);
    this.now = o.now ?? (() => new Date());
    this.perShelf = o.perShelf ?? 12;
    this.sink = o.log ?? (o.store ? new StoreImpressionWriter(o.store, o.writeDelayMs) : undefined);
    this.staging = o.staging ?? new InProcessStaging(MAX_PENDING);
  }

  async home(user: string, recs: Recommendations, opts: { deferImpressions?: boolean } = {}): Promise<BanditHomeAnswer> {
    const at = this.now();
    const heardList = recs.heard(user, 1000);
    const cands = await this.candidates(user, recs, at, heardList);
    const request_id = `home-${at.getTime().toString(36)}-${(this.seq++).toString(36)}-${this.rng.nextU32().toString(36)}`;
    const source = `bandit:${this.o.policy.name}:${recs.info.kind}:${recs.info.model}`;
    if (cands.length === 0) return { user_id: user, source, shelves: [], request_id, policy: this.o.policy.name, propensities: [] };
    const d = shelfFeatures(cands, { user, at, heardCount: heardList.length, perShelf: this.perShelf, catalog: this.o.catalog, evidence: this.o.evidence });
    const slate = this.o.policy.choose(d, this.o.maxShelves ?? cands.length, this.rng);
    const shelves = Array.from(slate.chosen, (i) => cands[i].shelf);
    const propensities = Array.from(slate.propensity);
    if (this.sink) {
      const byShelf = new Map<string, Impression[]>();
      shelves.forEach((sh, s) =>
        byShelf.set(
          sh.id,
          sh.cards.map((c, j) => ({ request_id, user_id: user, shelf: sh.id, card: c.track_id, slot: s * 1000 + j, policy: this.o.policy.name, propensity: propensities[s], shown_at: at.toISOString() })),
        ),
      );
      // a deferred page is answered once its shelves are staged: the listener may report them seen to any node at once
      if (opts.deferImpressions) await this.stage(user, request_id, byShelf);
      else await this.log([...byShelf.values()].flat());
    }
    return { user_id: user, source, shelves, request_id, policy: this.o.policy.name, propensities };
  }

  /** Log `rows`: a durable sink answers only once they are committed (a fleet's API node may die). */
  private async log(rows: Impression[]): Promise<void> {
    if (this.o.durable && this.sink?.durable) await this.sink.durable(rows);
    else this.sink?.append(rows);
  }

  private async stage(user: string, requestId: string, byShelf: Map<string, Impression[]>): Promise<void> {
    // staging expires by the wall clock, not `now` (a demo's world day stands still)
    const wall = Date.now();
    const expiresAt = new Date(wall + STAGED_SHELF_TTL_MS).toISOString();
    const rows: StagedShelf[] = [...byShelf].map(([shelf, impressions]) => ({ requestId, userId: user, shelf, impressions, expiresAt }));
    await this.staging.stageShelves(rows);
    if (wall - this.expiredAt >= EXPIRE_EVERY_MS) {
      this.expiredAt = wall;
      this.staging.expireStagedShelves(new Date(wall).toISOString()).catch((e: unknown) => logger('home').warn({ err: (e as Error).message }, 'could not drop expired staged shelves'));
    }
  }

  /**
   * Log the impressions of the shelves `shelves` of deferred answer `requestId` (each shelf once,
   * whichever node or call reports it first); returns the cards this call logged. The rows are
   * logged before their staging is deleted, so a node dying in between loses nothing: the shelf is
   * logged again on the next report, and the impressions' key (request, slot) keeps one copy.
   */
  async viewed(user: string, requestId: string, shelves: readonly string[]): Promise<number> {
    if (!this.sink) return 0;
    const staged = await this.staging.stagedShelves(user, requestId, shelves, new Date().toISOString());
    if (staged.length === 0) return 0;
    await this.log(staged.flatMap((s) => s.impressions));
    const mine = new Set(await this.staging.unstageShelves(requestId, staged.map((s) => s.shelf)));
    return staged.reduce((n, s) => n + (mine.has(s.shelf) ? s.impressions.length : 0), 0);
  }

  /** Resolves when every impression logged so far is durable (or its write has failed and been logged). */
  async flush(): Promise<void> {
    await this.sink?.flush();
  }

  /** Flush, and stop the sink's timers (an `ImpressionLog` stops rotating). */
  async close(): Promise<void> {
    await (this.sink?.close ?? this.sink?.flush)?.call(this.sink);
  }

  /** The user's non-empty candidate shelves, no track twice (`heardList`: the user's heard tracks, most played first). */
  async candidates(user: string, recs: Recommendations, at: Date, heardList = recs.heard(user, 1000)): Promise<Candidate[]> {
    const k = this.perShelf;
    const cat = this.o.catalog;
    // streamed or skipped: only Jump back in shows what the listener has played
    const heard = new Set([...heardList, ...recs.played(user)]);
    const seen = new Set<string>();
    const out: Candidate[] = [];
    const add = (kind: HomeShelfKind, id: string, title: string, cards: readonly TrackCard[]) => {
      const fresh: TrackCard[] = [];
      const perArtist = new Map<string, number>();
      for (const c of cards) {
        if (fresh.length === k) break;
        if (seen.has(c.track_id) || fresh.some((f) => f.track_id === c.track_id)) continue;
        if (kind !== 'jump-back-in' && heard.has(c.track_id)) continue;
        const main = c.artist_ids[0] ?? '';
        if ((perArtist.get(main) ?? 0) >= PER_ARTIST) continue;
        perArtist.set(main, (perArtist.get(main) ?? 0) + 1);
        fresh.push(c);
      }
      if (fresh.length === 0) return;
      for (const c of fresh) seen.add(c.track_id);
      out.push({ kind, shelf: { id, title, cards: fresh } });
    };
    const card = (track: string, reason: TrackCard['reason']): TrackCard => ({ track_id: track, title: cat.trackTitle(track), artist_ids: cat.trackArtists(track), artist_names: cat.trackArtists(track).map((a) => cat.artistName(a) ?? a), score: 0, reason });
    const artistName = (a: string) => cat.artistName(a) ?? a;

    // specific shelves first, so that the general ones (Made for you, Popular now) get what is left
    add('jump-back-in', 'jump-back-in', 'Jump back in', heardList.slice(0, k).map((t) => card(t, { kind: 'because_you_played', text: 'you played this', track_id: t })));
    // Release Radar before Discover Weekly: the ranked Discover Weekly also proposes unheard tracks of
    // the listener's artists, so taken first it could leave Release Radar's new releases nothing fresh
    for (const kind of ['release-radar', 'discover-weekly'] as const) {
      // the archive unreachable (object storage down): the page goes without this shelf
      const p = (await this.o.playlists?.get(user, kind).catch((e: unknown) => void logger('home').warn({ kind, err: (e as Error).message }, 'could not read the weekly list: shelf left out')))?.[0];
      if (p) add(kind, kind, p.title, p.tracks);
    }
    const forYou = recs.forUser(user, 10 * k);
    const cutoff = at.getTime() - NEW_RELEASE_DAYS * 86_400_000;
    add('new-releases', 'new-releases', 'New releases for you', forYou.filter((c) => Date.parse(cat.releaseDate(c.track_id) ?? '') >= cutoff));
    // the artists of the most played tracks, in order
    const topArtists: { artist: string; track: string }[] = [];
    for (const t of heardList) {
      const a = cat.trackArtists(t)[0];
      if (a && !topArtists.some((x) => x.artist === a)) topArtists.push({ artist: a, track: t });
      if (topArtists.length === 2) break;
    }
    if (topArtists[0]) {
      const { artist, track } = topArtists[0];
      add('because-you-listened', `because-you-listened:${artist}`, `Because you listened to ${artistName(artist)}`, recs.similarTracks(track, 6 * k) ?? []);
    }
    if (topArtists[1]) {
      const { artist, track } = topArtists[1];
      add('fans-also-like', `fans-also-like:${artist}`, `Fans of ${artistName(artist)} also like`, (recs.similarTracks(track, 6 * k) ?? []).filter((c) => !c.artist_ids.includes(artist)));
    }
    const popular = recs.forUser(NOBODY, 10 * k);
    const popularSet = new Set(popular.map((c) => c.track_id));
    add('hidden-gems', 'hidden-gems', 'Hidden gems', forYou.filter((c) => !popularSet.has(c.track_id)));
    add('made-for-you', 'made-for-you', 'Made for you', forYou);
    add('popular-now', 'popular-now', 'Popular now', popular);
    return out;
  }
}

/** Feature rows of `user`'s candidate shelves (n × SHELF_FEATURES.length), as bandit/train.ts rebuilds them from the logs. */
export function shelfFeatures(
  cands: readonly Candidate[],
  o: { user: string; at: Date; heardCount: number; perShelf: number; catalog: Pick<Catalog, 'trackArtists' | 'artistGenres'>; evidence?: HomeEvidence },
): Decision {
  const n = cands.length;
  const x = new Float64Array(n * DIM);
  cands.forEach((c, i) =>
    shelfRow(x.subarray(i * DIM, (i + 1) * DIM), o.at, o.heardCount, c.kind, c.shelf.cards.map((card) => cardKeys(o.user, c.kind, card.track_id, o.catalog)), o.perShelf, o.evidence),
  );
  return { n, dim: DIM, x };
}

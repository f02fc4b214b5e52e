/**
 * The daily loop of the home bandit, from what the store holds: impressions (written by
 * `BanditHome`) joined with the listens they started give, per shown shelf, its features (rebuilt
 * with `shelfRow`), its logging propensity and its reward — 1 when a card of the shelf started a
 * stream of ≥ `minStreamMs` (context `home:<shelf>:<card>`) within `sessionMs` after the page was
 * shown, else 0 (no click, or only quick skips). A stream is what the signals' one rule calls a
 * stream ({@link listenSignal}), with the run's `signals` settings.
 *
 *   const logs = await homeLogs(store, { since, until, signals: config.signals });
 *   candidate.fit(trainingSet(toChoices(logs), SHELF_FEATURES.length), rng);   // IPS-weighted
 *   const verdict = gate(snips(opeRows(logs, candidate, rng)), snips(opeRows(logs, live, rng)));
 *
 * The off-policy rows treat the shelves shown on a page as its candidate set, which is exact when
 * the page shows every candidate shelf (BanditHome's default: `maxShelves` unset).
 */
import type { Rng } from '../util/rng.ts';
import type { Impression, Listen } from '../domain/schemas.ts';
import type { Store } from '../store/index.ts';
import { pagesOf } from '../store/index.ts';
import { cardKeys, HOME_SHELF_KINDS, SHELF_FEATURES, shelfKindOf, shelfRow, type CardCatalog, type HomeShelfKind } from './shelves.ts';
import { HomeEvidence, type CardKeys } from './evidence.ts';
import type { Artist, Track } from '../domain/schemas.ts';
import { DAY_MS } from '../core/clock.ts';
import type { Decision, LoggedChoice, Policy } from './policy.ts';
import type { RewardModel } from './reward.ts';
import type { LoggedDecision } from './ope.ts';
import { defaultConfidence, listenSignal, STREAM, type ListenRule } from '../signals/index.ts';

const DIM = SHELF_FEATURES.length;

export interface HomeLogOptions {
  /** Impressions shown in [since, until). */
  since: Date;
  until: Date;
  /** A stream counts when it starts within this long after the page was shown (default 30 min). */
  sessionMs?: number;
  /** What a stream is (config `signals.minStreamMs`, `signals.quickSkipMs`; default: the config's defaults). */
  signals?: ListenRule;
  /** Cards per shelf the server was configured with (default 12, as BanditHome). */
  perShelf?: number;
  /** Rows per store query (default 10 000). */
  page?: number;
  /** Each card's artist and genre, for the evidence features (default: read from the store's tracks and artists). */
  catalog?: CardCatalog;
}

export interface LoggedShelf {
  id: string;
  kind: HomeShelfKind;
  slot: number;
  cards: string[];
  /** The cards that started a stream within the session. */
  won: string[];
  /** Each card's evidence keys (user, shelf kind, track, artist, genre). */
  keys: CardKeys[];
  propensity: number;
  reward: 0 | 1;
  x: Float64Array;
}

export interface HomeRequestLog {
  request_id: string;
  user_id: string;
  policy: string;
  shown_at: Date;
  /** Distinct tracks the user had streamed before the page. */
  heard: number;
  /** In slot order. */
  shelves: LoggedShelf[];
}

/**
 * Impressions of [since, until) with rewards and features, one entry per request, in time order.
 * Shelves whose id is not a known kind are left out (logged by another version). A page's evidence
 * features are those of the window's pages of earlier UTC days ({@link homeEvidence}): what serving
 * had, since the daily run that published its model computed them from the logs before it.
 */
export async function homeLogs(store: Pick<Store, 'list'>, o: HomeLogOptions): Promise<HomeRequestLog[]> {
  const sessionMs = o.sessionMs ?? 30 * 60_000;
  const rule = o.signals ?? defaultConfidence;
  const perShelf = o.perShelf ?? 12;
  const page = o.page ?? 10_000;
  const to = o.until.getTime();
  const byReq = new Map<string, Impression[]>();
  for await (const rows of pagesOf(store, 'impressions', { range: { field: 'shown_at', from: o.since.toISOString(), until: o.until.toISOString() } }, page)) {
    for (const r of rows as Impression[]) {
      const l = byReq.get(r.request_id);
      if (l) l.push(r);
      else byReq.set(r.request_id, [r]);
    }
  }
  if (byReq.size === 0) return []; // nothing shown in the window: no need to read the listens
  const users = new Set([...byReq.values()].map((rows) => rows[0].user_id));
  // streams from home cards (user|shelf|card → start times) and first streams per user and track
  const fromHome = new Map<string, number[]>();
  const firstStream = new Map<string, Map<string, number>>();
  // every listen before the window's last session ends: rewards, and how much each user had heard before each page
  for await (const rows of pagesOf(store, 'listens', { range: { field: 'started_at', until: new Date(to + sessionMs).toISOString() } }, page)) {
    for (const l of rows as Listen[]) {
      if (listenSignal(l.ms_played, l.skipped, rule) !== STREAM || !users.has(l.user_id)) continue;
      const t = Date.parse(l.started_at);
      let f = firstStream.get(l.user_id);
      if (!f) firstStream.set(l.user_id, (f = new Map()));
      if (!(f.get(l.track_id)! <= t)) f.set(l.track_id, t);
      if (!l.context.startsWith('home:')) continue;
      const rest = l.context.slice(5);
      const cut = rest.lastIndexOf(':');
      if (cut <= 0) continue;
      const key = `${l.user_id}|${rest.slice(0, cut)}|${rest.slice(cut + 1)}`;
      const s = fromHome.get(key);
      if (s) s.push(t);
      else fromHome.set(key, [t]);
    }
  }
  const out: HomeRequestLog[] = [];
  for (const [request_id, rows] of byReq) {
    const { user_id, policy } = rows[0];
    const shown_at = new Date(rows[0].shown_at);
    const t0 = shown_at.getTime();
    let heard = 0;
    for (const t of firstStream.get(user_id)?.values() ?? []) if (t < t0) heard++;
    const bySlot = new Map<number, Impression[]>();
    for (const r of rows) {
      const s = Math.floor(r.slot / 1000);
      const l = bySlot.get(s);
      if (l) l.push(r);
      else bySlot.set(s, [r]);
    }
    const shelves: LoggedShelf[] = [];
    for (const [slot, cards] of [...bySlot].sort((a, b) => a[0] - b[0])) {
      const id = cards[0].shelf;
      const kind = shelfKindOf(id);
      if (!kind) continue;
      const won = cards.filter((c) => (fromHome.get(`${user_id}|${id}|${c.card}`) ?? []).some((t) => t >= t0 && t < t0 + sessionMs)).map((c) => c.card);
      shelves.push({ id, kind, slot, cards: cards.map((c) => c.card), won, keys: [], propensity: cards[0].propensity, reward: won.length ? 1 : 0, x: new Float64Array(DIM) });
    }
    if (shelves.length) out.push({ request_id, user_id, policy, shown_at, heard, shelves });
  }
  out.sort((a, b) => a.shown_at.getTime() - b.shown_at.getTime() || (a.request_id < b.request_id ? -1 : 1));
  const cat = o.catalog ?? (await storeCardCatalog(store, new Set(out.flatMap((r) => r.shelves.flatMap((s) => s.cards)))));
  // features: each page with the evidence of the pages of earlier days
  const ev = new HomeEvidence(HOME_SHELF_KINDS.length);
  let day = -Infinity, from = 0;
  out.forEach((r, i) => {
    const d = Math.floor(r.shown_at.getTime() / DAY_MS);
    if (d !== day) {
      for (; from < i; from++) addPage(ev, out[from]);
      day = d;
    }
    for (const s of r.shelves) {
      s.keys = s.cards.map((c) => cardKeys(r.user_id, s.kind, c, cat));
      shelfRow(s.x, r.shown_at, r.heard, s.kind, s.keys, perShelf, ev);
    }
  });
  return out;
}

/** Add every card of logged page `r` to `ev` (slot = the shelf's position, reward = whether that card started a stream). */
function addPage(ev: HomeEvidence, r: HomeRequestLog): void {
  r.shelves.forEach((s, pos) => {
    const won = new Set(s.won);
    for (const k of s.keys) ev.add({ ...k, slot: pos, propensity: s.propensity, candidates: r.shelves.length, reward: +won.has(k.track) });
  });
}

/**
 * The evidence of all of `logs` (what serving uses until the next run): per card, listener × shelf
 * kind, × artist, × genre and listener, position-normalized (evidence.ts).
 */
export function homeEvidence(logs: readonly HomeRequestLog[]): HomeEvidence {
  const ev = new HomeEvidence(HOME_SHELF_KINDS.length);
  for (const r of logs) addPage(ev, r);
  return ev;
}

/** The artists and genres of `tracks`, from the store's catalog. */
export async function storeCardCatalog(store: Pick<Store, 'list'>, tracks: ReadonlySet<string>): Promise<CardCatalog> {
  const artistsOf = new Map<string, readonly string[]>();
  const genresOf = new Map<string, readonly string[]>();
  if (tracks.size === 0) return { trackArtists: () => [], artistGenres: () => [] };
  for await (const rows of pagesOf(store, 'tracks')) for (const t of rows as Track[]) if (tracks.has(t.track_id)) artistsOf.set(t.track_id, t.artist_ids);
  const wanted = new Set([...artistsOf.values()].map((a) => a[0]));
  for await (const rows of pagesOf(store, 'artists')) for (const a of rows as Artist[]) if (wanted.has(a.artist_id)) genresOf.set(a.artist_id, a.genres ?? []);
  return { trackArtists: (t) => artistsOf.get(t) ?? [], artistGenres: (a) => genresOf.get(a) ?? [] };
}

/** Every shown shelf as a training row (for {@link trainingSet}). */
export function toChoices(logs: readonly HomeRequestLog[]): LoggedChoice[] {
  return logs.flatMap((r) => r.shelves.map((s) => ({ x: s.x, reward: s.reward, propensity: s.propensity })));
}

/** The shelves of one logged page as a decision (rows in slot order). */
export function decisionOf(r: HomeRequestLog): Decision {
  const x = new Float64Array(r.shelves.length * DIM);
  r.shelves.forEach((s, i) => x.set(s.x, i * DIM));
  return { n: r.shelves.length, dim: DIM, x };
}

/**
 * Off-policy rows for ips/snips/doublyRobust: the logged shelf at each slot with the logging
 * propensity and `target`'s marginal π(shelf, slot | page); with `q`, DR's model terms.
 */
export function opeRows(logs: readonly HomeRequestLog[], target: Policy, rng: Rng, q?: RewardModel): LoggedDecision[] {
  const out: LoggedDecision[] = [];
  for (const r of logs) {
    const d = decisionOf(r);
    const k = d.n;
    const pi = target.marginals(d, k, rng);
    const qh = new Float64Array(d.n);
    q?.predict(d.x, d.n, qh);
    r.shelves.forEach((s, i) => {
      let qTarget = 0;
      for (let a = 0; a < d.n; a++) qTarget += pi[a * k + i] * qh[a];
      out.push({ request: r.request_id, reward: s.reward, pLog: s.propensity, pTarget: pi[i * k + i], ...(q ? { qLogged: qh[i], qTarget } : {}) });
    });
  }
  return out;
}

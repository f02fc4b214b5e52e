/**
 * An API node of a fleet (several `deepcut serve` on one PostgreSQL): it follows the store's
 * publication row and shares accepted listens with the other nodes, both over PostgreSQL
 * LISTEN/NOTIFY (the store's `Notifier`; channels namespaced by the store's schema). No cluster
 * protocol of its own: PostgreSQL delivers, the publication row is the truth.
 *
 * - Publication: a switch NOTIFYs `publication` in its transaction; the node reads the row and, if
 *   it names another run than the one served, loads that run beside the current one and swaps
 *   (slot.ts). A node that missed the message (connection lost, started late) catches up at its
 *   next poll of the row (`fleet.pollSeconds`) or right after its LISTEN connection is back.
 * - Listens: after a batch of listens commits, the node NOTIFYs `listens` with the batch in compact
 *   form (chunks under PostgreSQL's 8000-byte payload limit); every other node folds them into its
 *   live model, so a listen accepted by any node changes that listener's recommendations
 *   everywhere. Why this and not a per-request read of the store: docs/scale.md, with the numbers.
 * - Catalog rows (tracks, artists, albums) a node stores go to every other node's catalog on `catalog`.
 *   Listens sent while a node's LISTEN connection was down are caught up from the store once it is
 *   back ({@link FleetNode.catchUp}).
 */
import { hostname } from 'node:os';
import type { Config } from '../config/config.ts';
import type { Album, Artist, Listen } from '../domain/schemas.ts';
import type { MatchableTrack } from '../domain/match.ts';
import { NOTIFY_MAX_BYTES, type Notifier, type Publication, type Store } from '../store/index.ts';
import { loadServingState, type Catalog } from '../serving/index.ts';
import { log } from '../log.ts';
import type { Metrics } from './metrics.ts';
import type { ServingSlot } from './slot.ts';

type Row = Pick<Listen, 'user_id' | 'track_id' | 'ms_played' | 'skipped'>;

/** A listens message: the sending node, when it was sent (ms since epoch), rows as [user, track, ms_played, skipped 0/1]. */
interface ListensMessage {
  n: string;
  t: number;
  l: [string, string, number, 0 | 1][];
}

/**
 * Cut `rows` into NOTIFY payloads of at most `max` bytes each (UTF-8), every row whole, in order.
 * @example listenPayloads('node-1', rows, Date.now()).forEach((p) => store.notify('listens', p))
 */
export function listenPayloads(node: string, rows: readonly Row[], now: number, max = NOTIFY_MAX_BYTES): string[] {
  return chunked((l) => `{"n":${JSON.stringify(node)},"t":${now},"l":[${l}]}`, rows.map((r) => JSON.stringify([r.user_id, r.track_id, r.ms_played, r.skipped ? 1 : 0])), max, (n) => {
    throw new Error(`a listen of ${n} bytes does not fit a notification of ${max}`);
  });
}

/**
 * JSON `items` joined with commas into `head(list)` payloads of at most `max` bytes each, in order;
 * an item that cannot fit even alone goes to `tooBig` (its byte size) instead.
 */
function chunked(head: (list: string) => string, items: readonly string[], max: number, tooBig: (bytes: number, i: number) => void): string[] {
  const fixed = Buffer.byteLength(head(''));
  const out: string[] = [];
  let parts: string[] = [];
  let size = fixed;
  items.forEach((e, i) => {
    const n = Buffer.byteLength(e) + 1;
    if (fixed + n > max) return tooBig(n, i);
    if (size + n > max) {
      out.push(head(parts.join(',')));
      parts = [];
      size = fixed;
    }
    parts.push(e);
    size += n;
  });
  if (parts.length) out.push(head(parts.join(',')));
  return out;
}

/** Catalog rows a node added to its catalog, as every node's in-memory catalog needs them. */
export type CatalogRows =
  | { kind: 'tracks'; rows: MatchableTrack[] }
  | { kind: 'artists'; rows: Pick<Artist, 'artist_id' | 'name' | 'mbid'>[] }
  | { kind: 'albums'; rows: (Pick<Album, 'album_id' | 'title'> & Partial<Pick<Album, 'release_date' | 'album_type'>>)[] };

const CATALOG_KINDS: readonly string[] = ['tracks', 'artists', 'albums'] satisfies CatalogRows['kind'][];

/** A catalog row's id, whatever its kind. */
function catalogId(c: CatalogRows, i: number): string {
  return c.kind === 'tracks' ? c.rows[i].track_id : c.kind === 'artists' ? c.rows[i].artist_id : c.rows[i].album_id;
}

/** Catalog rows into a serving catalog (and its matcher). */
export function addCatalogRows(catalog: Catalog, c: CatalogRows): void {
  if (c.kind === 'tracks') catalog.addTracks(c.rows);
  else if (c.kind === 'artists') catalog.addArtists(c.rows);
  else catalog.addAlbums(c.rows);
}

/**
 * NOTIFY payloads for catalog rows (`{"n":node,"k":kind,"r":[rows]}` under the limit); a row too
 * large for one payload goes by its id alone (`"i":[ids]`) and receivers read it from the store.
 */
export function catalogPayloads(node: string, c: CatalogRows, max = NOTIFY_MAX_BYTES): string[] {
  const ids: string[] = [];
  const idOf = (i: number) => catalogId(c, i);
  const head = (field: 'r' | 'i') => (l: string) => `{"n":${JSON.stringify(node)},"k":"${c.kind}","${field}":[${l}]}`;
  const out = chunked(head('r'), (c.rows as object[]).map((r) => JSON.stringify(r)), max, (_n, i) => ids.push(idOf(i)));
  return [...out, ...chunked(head('i'), ids.map((id) => JSON.stringify(id)), max, () => undefined)];
}

/** A catalog message: sender, kind, and the rows, or the ids of rows to read from the store. */
export function parseCatalog(payload: string): { node: string; kind: CatalogRows['kind']; rows: object[]; ids: string[] } | undefined {
  try {
    const m = JSON.parse(payload) as { n?: unknown; k?: unknown; r?: unknown; i?: unknown };
    if (typeof m.n !== 'string' || typeof m.k !== 'string' || !CATALOG_KINDS.includes(m.k)) return undefined;
    return { node: m.n, kind: m.k as CatalogRows['kind'], rows: Array.isArray(m.r) ? (m.r as object[]) : [], ids: Array.isArray(m.i) ? (m.i as string[]) : [] };
  } catch {
    return undefined;
  }
}

/** The rows of a listens message, its sender and send time; undefined when it is not one. */
export function parseListens(payload: string): { node: string; sentAt: number; rows: Row[] } | undefined {
  try {
    const m = JSON.parse(payload) as ListensMessage;
    if (typeof m.n !== 'string' || typeof m.t !== 'number' || !Array.isArray(m.l)) return undefined;
    return { node: m.n, sentAt: m.t, rows: m.l.map(([user_id, track_id, ms_played, s]) => ({ user_id, track_id, ms_played, skipped: s === 1 })) };
  } catch {
    return undefined;
  }
}

export interface FleetNodeOptions {
  store: Store & Notifier;
  config: Config;
  slot: ServingSlot;
  metrics: Metrics;
  /** This node's name in listens messages (default host:pid). */
  nodeId?: string;
}

export class FleetNode {
  readonly nodeId: string;
  /** The publication row as last read (undefined: nothing published, or not read yet). */
  published: Publication | undefined;
  private stops: (() => Promise<void>)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private again = false;
  private readonly l = log('fleet');

  constructor(private readonly o: FleetNodeOptions) {
    this.nodeId = o.nodeId ?? `${hostname()}:${process.pid}`;
  }

  /** Listen for publications and listens, start the poll, and start loading the published run (`check()` resolves when loaded). */
  async start(): Promise<void> {
    const { store } = this.o;
    this.stops.push(await store.subscribe('publication', () => void this.check(), () => void this.check()));
    this.stops.push(await store.subscribe('listens', (p) => this.heard(p), () => void this.catchUp()));
    this.stops.push(await store.subscribe('catalog', (p) => void this.heardCatalog(p)));
    this.timer = setInterval(() => void this.check(), this.o.config.fleet.pollSeconds * 1000);
    this.timer.unref();
    void this.check();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const s of this.stops.splice(0)) await s();
    await this.checking?.catch(() => undefined);
  }

  /**
   * Read the publication row and load its run when it is not the one served. Calls while a check
   * runs make it check once more when done (a second switch during a load is not missed).
   */
  check(): Promise<void> {
    if (this.checking) {
      this.again = true;
      return this.checking;
    }
    this.checking = (async () => {
      do {
        this.again = false;
        await this.checkOnce();
      } while (this.again);
    })().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    const { store, config, slot, metrics } = this.o;
    let p: Publication | undefined;
    try {
      p = await store.getPublication();
    } catch (e) {
      this.l.warn({ err: (e as Error).message }, 'could not read the publication row: serving on, next poll retries');
      return;
    }
    this.published = p;
    if (!p) return;
    if (p.runId === slot.runId) {
      slot.publishedAt = Date.parse(p.publishedAt);
      return;
    }
    try {
      await slot.load(p.runId, () => loadServingState(store, config, { runId: p.runId, fallback: false }), Date.parse(p.publishedAt));
      metrics.swaps.inc();
      metrics.swapSeconds.observe({}, slot.lastSwapSeconds);
    } catch (e) {
      metrics.swapFailures.inc();
      this.l.error({ run: p.runId, err: (e as Error).message }, 'could not load the published run: serving on with the current one; the next poll retries');
    }
  }

  /**
   * After the listens channel reconnects (other nodes' listens sent meanwhile were not delivered):
   * follow the publication first, and if the run served did not change, reload it beside the current
   * state, which folds in every listen stored since the run, the missed ones included, and swap
   * (the same path as a publication: no answer fails or mixes states).
   */
  async catchUp(): Promise<void> {
    const { store, config, slot, metrics } = this.o;
    const swaps = slot.swaps;
    await this.check();
    const runId = slot.runId;
    if (slot.swaps !== swaps || !runId) return;
    this.l.info({ run: runId }, 'listens channel reconnected: reloading the run to fold in the listens missed meanwhile');
    try {
      await slot.load(runId, () => loadServingState(store, config, { runId, fallback: false }), slot.publishedAt);
      metrics.catchUps.inc();
    } catch (e) {
      metrics.swapFailures.inc();
      this.l.error({ run: runId, err: (e as Error).message }, 'could not reload the run after a reconnect: listens missed meanwhile reach this node at its next run load');
    }
  }

  /** Share listens this node committed with the other nodes (errors logged: the listens are stored either way). */
  async announce(rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    try {
      await this.o.store.notify('listens', listenPayloads(this.nodeId, rows, Date.now()));
    } catch (e) {
      this.o.metrics.storeErrors.inc({ op: 'notify listens' });
      this.l.warn({ err: (e as Error).message, rows: rows.length }, 'could not share listens with the other nodes: they see them after their next load');
    }
  }

  /** Share catalog rows this node stored and added to its catalog (errors logged: the rows are stored either way). */
  async announceCatalog(c: CatalogRows): Promise<void> {
    if (c.rows.length === 0) return;
    try {
      await this.o.store.notify('catalog', catalogPayloads(this.nodeId, c));
    } catch (e) {
      this.o.metrics.storeErrors.inc({ op: 'notify catalog' });
      this.l.warn({ err: (e as Error).message, kind: c.kind, rows: c.rows.length }, 'could not share catalog rows with the other nodes: they see them after their next load');
    }
  }

  private async heardCatalog(payload: string): Promise<void> {
    const m = parseCatalog(payload);
    if (!m || m.node === this.nodeId) return;
    const { store, slot } = this.o;
    try {
      const fetched = (await Promise.all(m.ids.map((id) => store.get(m.kind, [id])))).filter((r) => r !== undefined);
      const rows = [...m.rows, ...fetched];
      addCatalogRows(slot.current.catalog, { kind: m.kind, rows } as CatalogRows);
      this.o.metrics.catalogRows.inc({}, rows.length);
    } catch (e) {
      this.l.warn({ err: (e as Error).message, kind: m.kind }, 'could not read announced catalog rows: this node sees them after its next load');
    }
  }

  private heard(payload: string): void {
    const m = parseListens(payload);
    if (!m || m.node === this.nodeId) return;
    this.o.slot.observe(m.rows);
    this.o.metrics.listenLag.observe({}, Math.max(0, Date.now() - m.sentAt) / 1000);
  }
}

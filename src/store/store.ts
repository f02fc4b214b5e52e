/**
 * The store: one interface, one file per backend (DuckDB embedded, PostgreSQL for servers), chosen
 * by {@link openStore} from the config. Every backend passes the same contract suite
 * (`store.case.test.ts`). Keep this interface small: a new need is usually `put`/`list` of an
 * entity or a JSON document under `meta`, not a new method.
 */
import type { EntityKind, EntityRow, Impression } from '../domain/schemas.ts';
import type { IdMap, UserId, TrackId } from '../domain/ids.ts';

/** Counts from a write: rows newly stored, and rows whose key was already stored (left unchanged). */
export interface PutResult {
  inserted: number;
  duplicates: number;
}

/** A rejected input row, kept with why and where so it can be inspected and replayed. */
export interface QuarantinedRow {
  /** Assigned by the store. */
  id?: number;
  /** Import batch that rejected it. */
  batch: string;
  /** Entity the row was meant to be, or the source format (`spotify-history`) when not known. */
  entity: string;
  format: string;
  file: string;
  line: number;
  field: string | null;
  code: string;
  reason: string;
  /** The row as read from the file (a JSON line, a CSV line), so replay can parse it again. */
  raw: string;
  quarantined_at: string;
}

/** All listens as columns, ids dictionary-encoded to dense rows, for training. */
export interface ListenColumns {
  users: IdMap<UserId>;
  tracks: IdMap<TrackId>;
  /** Length n each: row in `users`, row in `tracks`, ms played, start (ms since epoch, UTC), 1 if skipped. */
  user: Int32Array;
  track: Int32Array;
  msPlayed: Int32Array;
  startedAt: Float64Array;
  skipped: Uint8Array;
}

/** Aggregated interactions as columns (HetRec play counts, generic user,item,weight CSVs). */
export interface InteractionColumns {
  users: IdMap<UserId>;
  items: IdMap<string>;
  user: Int32Array;
  item: Int32Array;
  weight: Float32Array;
}

export interface ListOptions {
  limit?: number;
  /** Rows to skip; for reading a whole large table page by page use `after`, which stays linear. */
  offset?: number;
  /** Equality filters on columns, e.g. `{ user_id: 'u1' }`. */
  where?: Record<string, string>;
  /** Only rows whose instant `field` is in [from, until) (ISO 8601; either end may be left open). */
  range?: { field: string; from?: string; until?: string };
  /** Only rows whose key (the `entityKeys` fields, as text) comes after this one in list order: the next page after a page's last row. */
  after?: readonly string[];
}

/**
 * The published run: one row of the store, switched by the promotion gate (and rollback) in one
 * transaction. `generation` counts switches (1 = the first publication): a switch names the
 * generation it read, and loses to any switch committed in between (compare-and-set).
 */
export interface Publication {
  runId: string;
  /** ISO 8601 instant of the switch. */
  publishedAt: string;
  /** Earlier published runs, newest first, for rollback. */
  history: { runId: string; publishedAt: string }[];
  generation: number;
}

/**
 * One shelf of a home answer whose impressions wait until the listener sees it (the web app's
 * `?impressions=on-view`), kept in the store so that the page can be rendered by one API node and
 * reported seen to another. Keyed by (request, shelf).
 */
export interface StagedShelf {
  requestId: string;
  userId: string;
  shelf: string;
  /** The shelf's cards as impressions, logged once it is seen. */
  impressions: Impression[];
  /** ISO 8601 instant after which the shelf is no longer logged (and {@link Store.expireStagedShelves} drops it). */
  expiresAt: string;
}

export interface Store {
  /** `memory` is the test backend (src/store/testing/memory.ts). */
  readonly backend: 'duckdb' | 'postgres' | 'memory';
  /** True when opened read-only: every write throws DeepcutError('conflict'). */
  readonly readOnly: boolean;

  /** Insert rows of one entity in one transaction; rows whose key exists count as duplicates. */
  put<K extends EntityKind>(kind: K, rows: readonly EntityRow<K>[]): Promise<PutResult>;
  /** Insert many rows fast (appender / COPY), same duplicate rule; for imports and the generator. */
  bulkPut<K extends EntityKind>(kind: K, rows: AsyncIterable<readonly EntityRow<K>[]> | Iterable<readonly EntityRow<K>[]>): Promise<PutResult>;
  /** One row by its key (the key fields in `entityKeys` order), or undefined. */
  get<K extends EntityKind>(kind: K, key: readonly string[]): Promise<EntityRow<K> | undefined>;
  list<K extends EntityKind>(kind: K, opts?: ListOptions): Promise<EntityRow<K>[]>;
  count(kind: EntityKind): Promise<number>;

  /** Every listen as typed columns (streamed from the database in chunks). */
  readListens(opts?: { since?: Date; until?: Date }): Promise<ListenColumns>;
  readInteractions(opts?: { itemKind?: 'track' | 'artist' }): Promise<InteractionColumns>;

  quarantine(rows: readonly QuarantinedRow[]): Promise<void>;
  /** Kept rows in id order; `afterId` gives the page after a page's last id (linear, where `offset` re-reads). */
  listQuarantine(opts?: { batch?: string; afterId?: number; limit?: number; offset?: number }): Promise<QuarantinedRow[]>;
  /** Remove rows from the quarantine (after a successful replay). */
  releaseQuarantine(ids: readonly number[]): Promise<number>;

  /** Small JSON documents by namespace and key: schemas, statistics, runs, import progress, API keys. */
  putMeta(namespace: string, key: string, value: unknown): Promise<void>;
  getMeta<T = unknown>(namespace: string, key: string): Promise<T | undefined>;
  listMeta<T = unknown>(namespace: string): Promise<{ key: string; value: T }[]>;
  deleteMeta(namespace: string, key: string): Promise<boolean>;
  /**
   * Insert `value` under (namespace, key) only if nothing is there: true for the one caller that
   * inserted it, false for every other (the row is unique), however many race. A fleet's scheduler
   * claims each day's run this way, so the run starts once.
   */
  claimMeta(namespace: string, key: string, value: unknown): Promise<boolean>;

  /** The published run, or undefined before the first publication. */
  getPublication(): Promise<Publication | undefined>;
  /**
   * Switch the published run in one transaction, if the stored generation is still `expected`
   * (0: nothing published yet). Returns the new row (generation `expected + 1`), or undefined when
   * another switch committed first. PostgreSQL announces the switch on commit (see `Notifier`).
   */
  switchPublication(next: Omit<Publication, 'generation'>, expected: number): Promise<Publication | undefined>;

  /** Stage shelves waiting to be seen; a (request, shelf) staged again keeps its first row. */
  stageShelves(rows: readonly StagedShelf[]): Promise<void>;
  /** The staged shelves named, of `requestId` for `userId`, not expired at `now` (ISO 8601), in `shelves` order. */
  stagedShelves(userId: string, requestId: string, shelves: readonly string[], now: string): Promise<StagedShelf[]>;
  /** Delete staged shelves of `requestId`; returns the shelves this call deleted (a concurrent call gets the others). */
  unstageShelves(requestId: string, shelves: readonly string[]): Promise<string[]>;
  /** Drop shelves expired at `now` (ISO 8601); returns how many. */
  expireStagedShelves(now: string): Promise<number>;

  close(): Promise<void>;
}

/**
 * An optional ability of a store (PostgreSQL: LISTEN/NOTIFY): messages to every process on the same
 * database and schema, on a topic. Delivery is at most once, to subscribers connected at the time;
 * payloads are at most {@link NOTIFY_MAX_BYTES} bytes. Topic `publication` carries the run id of every
 * switch (sent by `switchPublication` in its transaction).
 */
export interface Notifier {
  /** Send each payload (in order, one round trip for all). */
  notify(topic: string, payloads: readonly string[]): Promise<void>;
  /**
   * Call `onMessage` for each message on `topic` from now on; `onGap` after a reconnect (messages
   * may have been missed meanwhile: catch up from the store). Resolves once listening; the returned
   * function stops it.
   */
  subscribe(topic: string, onMessage: (payload: string) => void, onGap?: () => void): Promise<() => Promise<void>>;
}

/** PostgreSQL's NOTIFY payload limit is 8000 bytes; a little less leaves room for encoding. */
export const NOTIFY_MAX_BYTES = 7900;

export function canNotify(s: Store): s is Store & Notifier {
  return typeof (s as Partial<Notifier>).notify === 'function' && typeof (s as Partial<Notifier>).subscribe === 'function';
}

export interface OpenOptions {
  /** DuckDB file folder (`<home>/store.duckdb`); ignored for PostgreSQL. */
  home: string;
  databaseUrl?: string;
  readOnly?: boolean;
}

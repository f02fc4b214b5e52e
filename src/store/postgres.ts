/**
 * The server store: PostgreSQL through a `pg` pool, chosen when `DATABASE_URL` is set. Same tables
 * as the DuckDB store (see migrations.ts). A batch of rows travels as one JSON parameter and is
 * inserted by one `INSERT … SELECT … FROM json_populate_recordset(…) ON CONFLICT DO NOTHING`
 * statement, so each batch commits atomically and duplicates are counted by the row count.
 * Sessions run with TimeZone UTC; the schema is whatever `search_path` the URL selects
 * (`?options=-c%20search_path%3Dmy_schema`).
 */
import pg from 'pg';
import { pipeline } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { entityKeys, type EntityKind, type EntityRow } from '../domain/schemas.ts';
import { IdMap, type UserId, type TrackId } from '../domain/ids.ts';
import { DeepcutError } from '../errors.ts';
import { createHash } from 'node:crypto';
import type { Store, Notifier, PutResult, QuarantinedRow, ListenColumns, InteractionColumns, ListOptions, OpenOptions, Publication, StagedShelf } from './store.ts';
import { NOTIFY_MAX_BYTES } from './store.ts';
import { entityColumns, quarantineColumns, migrations, schemaMigrationsDdl, q, type Column } from './migrations.ts';
import { listConditions, orderExpr, quarantineWhere } from './query.ts';
import { decodeRow, readOnlyError, decodePublication, PUBLICATION_SELECT, decodeStagedShelf, STAGED_SELECT, inShelfOrder } from './rows.ts';
import { log } from '../log.ts';

const OID_INT8 = 20;
const OID_DATE = 1082;
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === OID_INT8) return (s: string) => Number(s);
    if (oid === OID_DATE) return (s: string) => s;
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

/** Rows fetched per round trip when streaming listens through a cursor. */
const FETCH = 50_000;
/** Arbitrary fixed key for the advisory lock that serialises concurrent migrations. */
const MIGRATION_LOCK = 0x6465_6570;

/** `url` with its password removed, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '';
    return u.toString().replace(/:@/, '@');
  } catch {
    return '<unparseable DATABASE_URL>';
  }
}

/** `url` with `-c name=value` session settings added to its `options` parameter (kept: any already there). */
function withSessionSettings(url: string, settings: Record<string, string>): string {
  try {
    const u = new URL(url);
    const extra = Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`);
    u.searchParams.set('options', [u.searchParams.get('options') ?? '', ...extra].join(' ').trim());
    return u.toString();
  } catch {
    throw new DeepcutError('config', `DATABASE_URL is not a URL: ${redactUrl(url)}`);
  }
}

/**
 * The NOTIFY channel of `topic` for a schema: `deepcut_<topic>_<schema>`, so that stores on
 * different schemas of one database (parallel tests, several deployments) never hear each other;
 * a name past PostgreSQL's 63-byte identifier limit ends in a hash of the schema instead.
 */
export function channelName(topic: string, schema: string): string {
  const name = `deepcut_${topic}_${schema}`;
  return name.length <= 63 ? name : `deepcut_${topic}_${createHash('sha1').update(schema).digest('hex').slice(0, 20)}`;
}

/** PostgreSQL implementation of {@link Store}; open with {@link PostgresStore.open}. */
export class PostgresStore implements Store, Notifier {
  readonly backend = 'postgres' as const;
  /** The schema the URL's search_path selects (`current_schema()` at open). */
  schema = 'public';

  private constructor(
    private readonly pool: pg.Pool,
    readonly readOnly: boolean,
    readonly url: string,
    private readonly connectionString: string,
  ) {}

  /**
   * Connect to `opts.databaseUrl` and apply pending migrations (unless read-only). An unreachable
   * server is `unavailable`, with the URL (password removed) in the message.
   */
  static async open(opts: OpenOptions): Promise<Store> {
    if (!opts.databaseUrl) throw new DeepcutError('config', 'PostgresStore needs databaseUrl (DATABASE_URL)');
    const readOnly = opts.readOnly ?? false;
    const safe = redactUrl(opts.databaseUrl);
    const connectionString = withSessionSettings(opts.databaseUrl, { TimeZone: 'UTC', ...(readOnly ? { default_transaction_read_only: 'on' } : {}) });
    const pool = new pg.Pool({ connectionString, types: typeParsers, max: 4, connectionTimeoutMillis: 5000 });
    pool.on('error', () => undefined); // idle-client errors surface on the next query instead of crashing
    try {
      await pool.query('SELECT 1');
    } catch (e) {
      await pool.end().catch(() => undefined);
      const msg = e instanceof Error ? e.message || (e as { code?: string }).code || String(e) : String(e);
      throw new DeepcutError('unavailable', `PostgreSQL at ${safe} is unreachable: ${msg}`, {}, { cause: e });
    }
    const store = new PostgresStore(pool, readOnly, safe, connectionString);
    store.schema = String((await pool.query('SELECT current_schema() AS s')).rows[0].s);
    if (!readOnly) await store.migrate();
    return store;
  }

  /** Apply every migration not yet in `schema_migrations`, under an advisory lock; returns the versions applied. */
  async migrate(): Promise<number[]> {
    if (this.readOnly) throw readOnlyError('migrate');
    return this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await c.query(schemaMigrationsDdl);
      const done = new Set((await c.query('SELECT version FROM schema_migrations')).rows.map((r) => Number(r.version)));
      const applied: number[] = [];
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        for (const stmt of m.sql('postgres')) await c.query(stmt);
        await c.query('INSERT INTO schema_migrations VALUES ($1, $2, now())', [m.version, m.name]);
        applied.push(m.version);
      }
      return applied;
    });
  }

  async put<K extends EntityKind>(kind: K, rows: readonly EntityRow<K>[]): Promise<PutResult> {
    if (this.readOnly) throw readOnlyError(`put ${kind}`);
    if (rows.length === 0) return { inserted: 0, duplicates: 0 };
    return this.writeBatch(kind, entityColumns[kind], rows as readonly object[], 'ON CONFLICT DO NOTHING');
  }

  /** Each batch the iterable yields is one statement (one transaction); the next is pulled only after it committed. */
  async bulkPut<K extends EntityKind>(
    kind: K,
    rows: AsyncIterable<readonly EntityRow<K>[]> | Iterable<readonly EntityRow<K>[]>,
  ): Promise<PutResult> {
    if (this.readOnly) throw readOnlyError(`bulkPut ${kind}`);
    const total = { inserted: 0, duplicates: 0 };
    for await (const batch of rows) {
      if (batch.length === 0) continue;
      const r = await this.writeBatch(kind, entityColumns[kind], batch as readonly object[], 'ON CONFLICT DO NOTHING');
      total.inserted += r.inserted;
      total.duplicates += r.duplicates;
    }
    return total;
  }

  /**
   * Bulk imports (ingest/bulk.ts): `csv()` opens rows of `kind` with each key once, columns in
   * `entityColumns` order, as CSV without a header (empty unquoted = NULL). They are streamed with
   * `COPY … FROM STDIN` straight into the table; when a key is stored already, that COPY is rolled
   * back (to a savepoint) and the rows are streamed again into a temp staging table, then inserted
   * by one `INSERT … SELECT … ON CONFLICT DO NOTHING`. All in one transaction, committed without
   * waiting for the WAL flush. Returns rows inserted, and rows whose key was already stored.
   */
  async copyFrom(kind: EntityKind, csv: () => Readable): Promise<PutResult> {
    if (this.readOnly) throw readOnlyError(`bulk import ${kind}`);
    const names = entityColumns[kind].map((c) => q(c.name)).join(', ');
    const stage = q(`bulk_${kind}`);
    return this.tx(async (c) => {
      // the load is one transaction that a crash rolls back whole: its commit need not wait for the WAL flush
      await c.query('SET LOCAL synchronous_commit = off');
      // straight into the table (COPY's multi-row insert, no staging table, no speculative ON CONFLICT insert); a key stored already
      // or repeated aborts it at that row, rolled back to the savepoint, and the rows go the staged way
      await c.query('SAVEPOINT bulk_direct');
      try {
        const direct = c.query(copyFrom(`COPY ${q(kind)} (${names}) FROM STDIN (FORMAT csv)`));
        await pipeline(csv(), direct);
        await c.query('RELEASE SAVEPOINT bulk_direct');
        return { inserted: direct.rowCount, duplicates: 0 };
      } catch (e) {
        if ((e as { code?: string }).code !== '23505') throw e;
        await c.query('ROLLBACK TO SAVEPOINT bulk_direct');
      }
      await c.query(`CREATE TEMP TABLE ${stage} (LIKE ${q(kind)}) ON COMMIT DROP`);
      await pipeline(csv(), c.query(copyFrom(`COPY ${stage} (${names}) FROM STDIN (FORMAT csv)`)));
      const n = Number((await c.query(`SELECT count(*) AS n FROM ${stage}`)).rows[0].n);
      const r = await c.query(`INSERT INTO ${q(kind)} (${names}) SELECT ${names} FROM ${stage} ON CONFLICT DO NOTHING`);
      return { inserted: r.rowCount ?? 0, duplicates: n - (r.rowCount ?? 0) };
    });
  }


  /** Exports (ingest/export.ts): stream the output of `sql` (a `COPY … TO STDOUT`) into `out`, ended when done. */
  async copyTo(sql: string, out: Writable): Promise<void> {
    const c = await this.pool.connect();
    try {
      await pipeline(c.query(copyTo(sql)), out);
    } finally {
      c.release();
    }
  }

  async get<K extends EntityKind>(kind: K, key: readonly string[]): Promise<EntityRow<K> | undefined> {
    const keys = entityKeys[kind] as readonly string[];
    if (key.length !== keys.length) throw new DeepcutError('invalid_input', `${kind} is keyed by ${keys.join(', ')}: got ${key.length} key values`);
    const cols = entityColumns[kind];
    const where = keys.map((k, i) => `${cond(cols, k)} = $${i + 1}`).join(' AND ');
    const r = await this.pool.query(`SELECT ${selectList(cols)} FROM ${q(kind)} WHERE ${where}`, [...key]);
    return r.rows.length ? (decodeRow(cols, r.rows[0]) as EntityRow<K>) : undefined;
  }

  async list<K extends EntityKind>(kind: K, opts: ListOptions = {}): Promise<EntityRow<K>[]> {
    const cols = entityColumns[kind];
    const params: string[] = [];
    const where = Object.entries(opts.where ?? {}).map(([name, value]) => {
      params.push(value);
      return `${cond(cols, name)} = $${params.length}`;
    });
    where.push(...listConditions('postgres', cols, entityKeys[kind] as readonly string[], opts, params));
    const order = (entityKeys[kind] as readonly string[]).map((k) => orderExpr('postgres', cols.find((c) => c.name === k)!)).join(', ');
    const sql =
      `SELECT ${selectList(cols)} FROM ${q(kind)}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order}` +
      `${opts.limit !== undefined ? ` LIMIT ${count(opts.limit, 'limit')}` : ''}${opts.offset ? ` OFFSET ${count(opts.offset, 'offset')}` : ''}`;
    const r = await this.pool.query(sql, params);
    return r.rows.map((row) => decodeRow(cols, row) as EntityRow<K>);
  }

  async count(kind: EntityKind): Promise<number> {
    return Number((await this.pool.query(`SELECT count(*) AS n FROM ${q(kind)}`)).rows[0].n);
  }

  /** Listens ordered by (started_at, listen_id); users and tracks numbered in id order; one snapshot. */
  async readListens(opts: { since?: Date; until?: Date } = {}): Promise<ListenColumns> {
    const params: string[] = [];
    const conds: string[] = [];
    if (opts.since) {
      params.push(opts.since.toISOString());
      conds.push(`started_at >= $${params.length}::timestamptz`);
    }
    if (opts.until) {
      params.push(opts.until.toISOString());
      conds.push(`started_at < $${params.length}::timestamptz`);
    }
    const where = conds.length ? `WHERE ${conds.join(' AND ')}` : '';
    return this.snapshot(async (c) => {
      const n = Number((await c.query(`SELECT count(*) AS n FROM listens ${where}`, params)).rows[0].n);
      const users = new IdMap<UserId>((await c.query(`SELECT user_id FROM (SELECT DISTINCT user_id FROM listens ${where}) d ORDER BY user_id COLLATE "C"`, params)).rows.map((r) => r.user_id as UserId));
      const tracks = new IdMap<TrackId>((await c.query(`SELECT track_id FROM (SELECT DISTINCT track_id FROM listens ${where}) d ORDER BY track_id COLLATE "C"`, params)).rows.map((r) => r.track_id as TrackId));
      const out: ListenColumns = { users, tracks, user: new Int32Array(n), track: new Int32Array(n), msPlayed: new Int32Array(n), startedAt: new Float64Array(n), skipped: new Uint8Array(n) };
      const sql = `WITH l AS (SELECT * FROM listens ${where}),
        u AS (SELECT user_id, (row_number() OVER (ORDER BY user_id COLLATE "C") - 1)::int AS r FROM (SELECT DISTINCT user_id FROM l) x),
        t AS (SELECT track_id, (row_number() OVER (ORDER BY track_id COLLATE "C") - 1)::int AS r FROM (SELECT DISTINCT track_id FROM l) y)
        SELECT u.r, t.r, l.ms_played, (extract(epoch FROM l.started_at) * 1000)::float8, l.skipped::int
        FROM l JOIN u USING (user_id) JOIN t USING (track_id) ORDER BY l.started_at, l.listen_id COLLATE "C"`;
      const got = await readColumns(c, sql, params, [out.user, out.track, out.msPlayed, out.startedAt, out.skipped]);
      if (got !== n) throw new Error(`readListens read ${got} rows, expected ${n}`);
      return out;
    });
  }

  /** Interactions of one item kind (default `track`), ordered by (user_id, item_id); ids numbered in id order. */
  async readInteractions(opts: { itemKind?: 'track' | 'artist' } = {}): Promise<InteractionColumns> {
    const params = [opts.itemKind ?? 'track'];
    const where = 'WHERE item_kind = $1';
    return this.snapshot(async (c) => {
      const n = Number((await c.query(`SELECT count(*) AS n FROM interactions ${where}`, params)).rows[0].n);
      const users = new IdMap<UserId>((await c.query(`SELECT user_id FROM (SELECT DISTINCT user_id FROM interactions ${where}) d ORDER BY user_id COLLATE "C"`, params)).rows.map((r) => r.user_id as UserId));
      const items = new IdMap<string>((await c.query(`SELECT item_id FROM (SELECT DISTINCT item_id FROM interactions ${where}) d ORDER BY item_id COLLATE "C"`, params)).rows.map((r) => r.item_id as string));
      const out: InteractionColumns = { users, items, user: new Int32Array(n), item: new Int32Array(n), weight: new Float32Array(n) };
      const sql = `WITH l AS (SELECT * FROM interactions ${where}),
        u AS (SELECT user_id, (row_number() OVER (ORDER BY user_id COLLATE "C") - 1)::int AS r FROM (SELECT DISTINCT user_id FROM l) x),
        i AS (SELECT item_id, (row_number() OVER (ORDER BY item_id COLLATE "C") - 1)::int AS r FROM (SELECT DISTINCT item_id FROM l) y)
        SELECT u.r, i.r, l.weight FROM l JOIN u USING (user_id) JOIN i USING (item_id) ORDER BY l.user_id COLLATE "C", l.item_id COLLATE "C"`;
      const got = await readColumns(c, sql, params, [out.user, out.item, out.weight]);
      if (got !== n) throw new Error(`readInteractions read ${got} rows, expected ${n}`);
      return out;
    });
  }

  async quarantine(rows: readonly QuarantinedRow[]): Promise<void> {
    if (this.readOnly) throw readOnlyError('quarantine');
    if (rows.length === 0) return;
    await this.writeBatch('quarantine', quarantineColumns, rows, '');
  }

  async listQuarantine(opts: { batch?: string; afterId?: number; limit?: number; offset?: number } = {}): Promise<QuarantinedRow[]> {
    const params: string[] = [];
    const where = quarantineWhere(opts, params);
    const sql =
      `SELECT id, ${selectList(quarantineColumns)} FROM quarantine${where} ORDER BY id` +
      `${opts.limit !== undefined ? ` LIMIT ${count(opts.limit, 'limit')}` : ''}${opts.offset ? ` OFFSET ${count(opts.offset, 'offset')}` : ''}`;
    const r = await this.pool.query(sql, params);
    return r.rows.map((row) => ({ id: Number(row.id), ...decodeRow(quarantineColumns, row), field: (row.field as string | null) ?? null }) as QuarantinedRow);
  }

  async releaseQuarantine(ids: readonly number[]): Promise<number> {
    if (this.readOnly) throw readOnlyError('releaseQuarantine');
    if (ids.length === 0) return 0;
    ids.forEach((id) => count(id, 'quarantine id'));
    return (await this.pool.query('DELETE FROM quarantine WHERE id = ANY($1::bigint[])', [ids])).rowCount ?? 0;
  }

  async putMeta(namespace: string, key: string, value: unknown): Promise<void> {
    if (this.readOnly) throw readOnlyError('putMeta');
    const json = JSON.stringify(value);
    if (json === undefined) throw new DeepcutError('invalid_input', 'meta value must be JSON-serialisable (got undefined or a function)');
    await this.pool.query(
      'INSERT INTO meta VALUES ($1, $2, $3::jsonb, now()) ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
      [namespace, key, json],
    );
  }

  async claimMeta(namespace: string, key: string, value: unknown): Promise<boolean> {
    if (this.readOnly) throw readOnlyError('claimMeta');
    const json = JSON.stringify(value);
    if (json === undefined) throw new DeepcutError('invalid_input', 'meta value must be JSON-serialisable (got undefined or a function)');
    const r = await this.pool.query('INSERT INTO meta VALUES ($1, $2, $3::jsonb, now()) ON CONFLICT (namespace, key) DO NOTHING', [namespace, key, json]);
    return r.rowCount === 1;
  }

  async getMeta<T = unknown>(namespace: string, key: string): Promise<T | undefined> {
    const r = await this.pool.query('SELECT value FROM meta WHERE namespace = $1 AND key = $2', [namespace, key]);
    return r.rows.length ? (r.rows[0].value as T) : undefined;
  }

  async listMeta<T = unknown>(namespace: string): Promise<{ key: string; value: T }[]> {
    const r = await this.pool.query('SELECT key, value FROM meta WHERE namespace = $1 ORDER BY key COLLATE "C"', [namespace]);
    return r.rows.map((row) => ({ key: row.key as string, value: row.value as T }));
  }

  async deleteMeta(namespace: string, key: string): Promise<boolean> {
    if (this.readOnly) throw readOnlyError('deleteMeta');
    return ((await this.pool.query('DELETE FROM meta WHERE namespace = $1 AND key = $2', [namespace, key])).rowCount ?? 0) > 0;
  }

  async getPublication(): Promise<Publication | undefined> {
    const r = await this.pool.query(PUBLICATION_SELECT.replace('%MS%', '(extract(epoch FROM published_at) * 1000)::int8'));
    return decodePublication(r.rows[0]);
  }

  /** One transaction: compare the generation (row locked), write the row, NOTIFY `publication` (delivered on commit). */
  async switchPublication(next: Omit<Publication, 'generation'>, expected: number): Promise<Publication | undefined> {
    if (this.readOnly) throw readOnlyError('switchPublication');
    const row = { runId: next.runId, publishedAt: new Date(next.publishedAt).toISOString(), history: next.history, generation: expected + 1 };
    return this.tx(async (c) => {
      const cur = await c.query('SELECT generation FROM publication WHERE slot = 1 FOR UPDATE');
      if ((cur.rows.length ? Number(cur.rows[0].generation) : 0) !== expected) return undefined;
      const w = await c.query(
        'INSERT INTO publication VALUES (1, $1, $2::timestamptz, $3, $4) ON CONFLICT (slot) DO UPDATE SET run_id = excluded.run_id, published_at = excluded.published_at, history = excluded.history, generation = excluded.generation WHERE publication.generation = $5',
        [row.runId, row.publishedAt, JSON.stringify(row.history), row.generation, expected],
      );
      if (w.rowCount !== 1) return undefined; // a first publication raced by another
      await c.query('SELECT pg_notify($1, $2)', [channelName('publication', this.schema), row.runId]);
      return row;
    });
  }

  async stageShelves(rows: readonly StagedShelf[]): Promise<void> {
    if (this.readOnly) throw readOnlyError('stageShelves');
    if (rows.length === 0) return;
    const json = rows.map((r) => ({ request_id: r.requestId, shelf: r.shelf, user_id: r.userId, impressions: JSON.stringify(r.impressions), expires_at: new Date(r.expiresAt).toISOString() }));
    await this.pool.query(
      'INSERT INTO staged_shelves SELECT * FROM json_populate_recordset(NULL::staged_shelves, $1::json) ON CONFLICT (request_id, shelf) DO NOTHING',
      [JSON.stringify(json)],
    );
  }

  async stagedShelves(userId: string, requestId: string, shelves: readonly string[], now: string): Promise<StagedShelf[]> {
    if (shelves.length === 0) return [];
    const sql = STAGED_SELECT.replace('%MS%', '(extract(epoch FROM expires_at) * 1000)::int8').replace('%IN%', 'shelf = ANY($4::text[])');
    const r = await this.pool.query(sql, [userId, requestId, new Date(now).toISOString(), [...shelves]]);
    return inShelfOrder(r.rows.map(decodeStagedShelf), shelves);
  }

  /** One DELETE … RETURNING: of two concurrent calls, each row goes to exactly one. */
  async unstageShelves(requestId: string, shelves: readonly string[]): Promise<string[]> {
    if (this.readOnly) throw readOnlyError('unstageShelves');
    if (shelves.length === 0) return [];
    const r = await this.pool.query('DELETE FROM staged_shelves WHERE request_id = $1 AND shelf = ANY($2::text[]) RETURNING shelf', [requestId, [...shelves]]);
    return r.rows.map((row) => String(row.shelf));
  }

  async expireStagedShelves(now: string): Promise<number> {
    if (this.readOnly) throw readOnlyError('expireStagedShelves');
    return (await this.pool.query('DELETE FROM staged_shelves WHERE expires_at <= $1::timestamptz', [new Date(now).toISOString()])).rowCount ?? 0;
  }

  async notify(topic: string, payloads: readonly string[]): Promise<void> {
    for (const p of payloads) if (Buffer.byteLength(p) > NOTIFY_MAX_BYTES) throw new DeepcutError('invalid_input', `notify ${topic}: payload of ${Buffer.byteLength(p)} bytes, at most ${NOTIFY_MAX_BYTES}`);
    if (payloads.length === 0) return;
    await this.pool.query('SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS u(p, i) ORDER BY i', [channelName(topic, this.schema), payloads]);
  }

  /**
   * LISTEN on a connection of its own (not the pool's); a lost connection is reopened after 1 s,
   * then `onGap` runs, since messages sent meanwhile were not delivered.
   */
  async subscribe(topic: string, onMessage: (payload: string) => void, onGap?: () => void): Promise<() => Promise<void>> {
    const channel = channelName(topic, this.schema);
    let client: pg.Client | undefined;
    let stopped = false;
    let retry: NodeJS.Timeout | undefined;
    const again = () => {
      if (stopped) return;
      retry = setTimeout(() => {
        connect().then(
          () => onGap?.(),
          (e: Error) => (log('store').warn({ channel, err: e.message }, 'LISTEN reconnect failed: retrying in 1 s'), again()),
        );
      }, 1000);
      retry.unref();
    };
    const connect = async (): Promise<void> => {
      const c = new pg.Client({ connectionString: this.connectionString, connectionTimeoutMillis: 5000 });
      c.on('notification', (m) => {
        if (m.channel === channel) onMessage(m.payload ?? '');
      });
      // `client` is set only once listening: errors before that reject connect() instead
      const lost = (e?: Error) => {
        if (client !== c) return;
        client = undefined;
        c.end().catch(() => undefined);
        if (stopped) return;
        log('store').warn({ channel, err: e?.message }, 'LISTEN connection lost: reconnecting in 1 s');
        again();
      };
      c.on('error', lost);
      c.on('end', () => lost());
      try {
        await c.connect();
        await c.query(`LISTEN ${q(channel)}`);
      } catch (e) {
        await c.end().catch(() => undefined);
        throw e;
      }
      if (stopped) return void (await c.end().catch(() => undefined));
      client = c;
    };
    await connect();
    return async () => {
      stopped = true;
      clearTimeout(retry);
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────────

  /** Insert `rows` into `table` with one statement (atomic on its own). */
  private async writeBatch(table: string, cols: readonly Column[], rows: readonly object[], conflict: string): Promise<PutResult> {
    const names = cols.map((c) => q(c.name)).join(', ');
    const r = await this.pool.query(
      `INSERT INTO ${q(table)} (${names}) SELECT ${names} FROM json_populate_recordset(NULL::${q(table)}, $1::json) ${conflict}`,
      [JSON.stringify(rows)],
    );
    const inserted = r.rowCount ?? 0;
    return { inserted, duplicates: rows.length - inserted };
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query(begin);
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  /** Run `fn` in a read-only REPEATABLE READ transaction: every query sees one snapshot. */
  private snapshot<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.tx(fn, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  }
}

/** Stream `sql`'s rows through a cursor, column i into `dst[i]`; returns the row count. */
async function readColumns(c: pg.PoolClient, sql: string, params: string[], dst: (Int32Array | Float64Array | Float32Array | Uint8Array)[]): Promise<number> {
  await c.query(`DECLARE deepcut_read NO SCROLL CURSOR FOR ${sql}`, params);
  let n = 0;
  for (;;) {
    const r = await c.query({ text: `FETCH ${FETCH} FROM deepcut_read`, rowMode: 'array' });
    const rows = r.rows as unknown[][];
    if (rows.length === 0) break;
    for (let j = 0; j < dst.length; j++) {
      const out = dst[j];
      for (let i = 0; i < rows.length; i++) out[n + i] = rows[i][j] as number;
    }
    n += rows.length;
  }
  await c.query('CLOSE deepcut_read');
  return n;
}

/** SELECT list returning instants as µs since the epoch (int8) and dates as text. */
function selectList(cols: readonly Column[]): string {
  return cols
    .map((c) =>
      c.kind === 'ts'
        ? `(extract(epoch FROM ${q(c.name)}) * 1000000)::int8 AS ${q(c.name)}`
        : c.kind === 'date'
          ? `${q(c.name)}::text AS ${q(c.name)}`
          : q(c.name),
    )
    .join(', ');
}

/** Left side of an equality filter on a column given as text. */
function cond(cols: readonly Column[], name: string): string {
  const col = cols.find((c) => c.name === name);
  if (!col) throw new DeepcutError('invalid_input', `unknown column "${name}"; known: ${cols.map((c) => c.name).join(', ')}`);
  if (col.kind === 'text') return q(name);
  if (col.kind === 'ts') return `to_char(${q(name)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
  return `${q(name)}::text`;
}

function count(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new DeepcutError('invalid_input', `${what} must be a non-negative integer, got ${n}`);
  return n;
}

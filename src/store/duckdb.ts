/**
 * The embedded store: one DuckDB file `<home>/store.duckdb`. One process may open it read-write
 * (DuckDB locks the file); others open it read-only. Inside the process, writes go through one
 * connection, one at a time; every read takes its own connection, so it sees only committed
 * transactions while a load runs.
 *
 * Writes (`put`, each batch of `bulkPut`, `quarantine`) are one transaction each: a batch is either
 * fully stored or not at all. An entity batch is first appended straight into its table with
 * DuckDB's appender, which is 2–3× cheaper; when that hits an existing key (a re-import, a
 * duplicate inside the batch) the transaction is rolled back and the batch goes the keyed way:
 * appended to a per-connection staging table, then `INSERT … SELECT … ON CONFLICT DO NOTHING`.
 */
import { mkdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DuckDBInstance, LIST, VARCHAR, timestampTZValue, type DuckDBAppender, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { entityKeys, ISO_INSTANT, type EntityKind, type EntityRow } from '../domain/schemas.ts';
import { IdMap, type UserId, type TrackId } from '../domain/ids.ts';
import { DeepcutError } from '../errors.ts';
import type { Store, PutResult, QuarantinedRow, ListenColumns, InteractionColumns, ListOptions, OpenOptions, Publication, StagedShelf } from './store.ts';
import { entityColumns, quarantineColumns, migrations, schemaMigrationsDdl, sqlType, q, type Column } from './migrations.ts';
import { decodeRow, readOnlyError, Mutex, decodePublication, PUBLICATION_SELECT, decodeStagedShelf, STAGED_SELECT, inShelfOrder } from './rows.ts';
import { listConditions, quarantineWhere } from './query.ts';

const listOfText = LIST(VARCHAR);

/** DuckDB implementation of {@link Store}; open with {@link DuckDbStore.open}. */
export class DuckDbStore implements Store {
  readonly backend = 'duckdb' as const;
  private readonly writes = new Mutex();
  private readonly staged = new Set<string>();
  /** Per table: do its columns, in order, match the entity's (so the appender can write it directly)? */
  private readonly direct = new Map<string, boolean>();
  private closed = false;
  /** Set once the connection is really closed (inside the write lock, after earlier writes). */
  private shut = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    readonly readOnly: boolean,
    /** Path of the database file. */
    readonly path: string,
  ) {}

  /**
   * Open (creating folder and file when needed) `<opts.home>/store.duckdb` and apply pending
   * migrations. Read-only opens never create or migrate; a missing file is `not_found`, a file
   * locked by another process is `unavailable`.
   */
  static async open(opts: OpenOptions): Promise<Store> {
    const path = join(opts.home, 'store.duckdb');
    const readOnly = opts.readOnly ?? false;
    if (readOnly && !existsSync(path)) throw new DeepcutError('not_found', `no store at ${path} to open read-only`);
    if (!readOnly) mkdirSync(opts.home, { recursive: true });
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(path, readOnly ? { access_mode: 'READ_ONLY' } : {});
    } catch (e) {
      throw openError(path, readOnly, e);
    }
    const writer = await instance.connect();
    await writer.run("SET TimeZone = 'UTC'");
    const store = new DuckDbStore(instance, writer, readOnly, path);
    if (!readOnly) await store.migrate();
    return store;
  }

  /** Apply every migration not yet recorded in `schema_migrations`; returns the versions applied. */
  async migrate(): Promise<number[]> {
    if (this.readOnly) throw readOnlyError('migrate');
    return this.write(async () => {
      await this.writer.run(schemaMigrationsDdl);
      const done = new Set((await this.all(this.writer, 'SELECT version FROM schema_migrations')).map((r) => Number(r.version)));
      const applied: number[] = [];
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        await this.transaction(async () => {
          for (const stmt of m.sql('duckdb')) await this.writer.run(stmt);
          await this.writer.run('INSERT INTO schema_migrations VALUES ($1, $2, now())', [m.version, m.name]);
        });
        applied.push(m.version);
      }
      return applied;
    });
  }

  async put<K extends EntityKind>(kind: K, rows: readonly EntityRow<K>[]): Promise<PutResult> {
    if (this.readOnly) throw readOnlyError(`put ${kind}`);
    if (rows.length === 0) return { inserted: 0, duplicates: 0 };
    return this.write(() => this.writeBatch(kind, entityColumns[kind], rows as readonly object[], 'ON CONFLICT DO NOTHING'));
  }

  /** Each batch the iterable yields is one transaction; the next batch is pulled only after it committed. */
  async bulkPut<K extends EntityKind>(
    kind: K,
    rows: AsyncIterable<readonly EntityRow<K>[]> | Iterable<readonly EntityRow<K>[]>,
  ): Promise<PutResult> {
    if (this.readOnly) throw readOnlyError(`bulkPut ${kind}`);
    const total = { inserted: 0, duplicates: 0 };
    for await (const batch of rows) {
      if (batch.length === 0) continue;
      const r = await this.write(() => this.writeBatch(kind, entityColumns[kind], batch as readonly object[], 'ON CONFLICT DO NOTHING'));
      total.inserted += r.inserted;
      total.duplicates += r.duplicates;
    }
    return total;
  }

  /**
   * Bulk imports (ingest/bulk.ts): a connection of its own on this database, where DuckDB's readers
   * stage a file in temp tables; close it when done. Its writes to entity tables go through
   * {@link exclusive}, so they never interleave with this store's other writes.
   */
  async bulkConnection(): Promise<DuckDBConnection> {
    if (this.readOnly) throw readOnlyError('bulk import');
    const c = await this.instance.connect();
    await c.run("SET TimeZone = 'UTC'");
    return c;
  }

  /** Exports (ingest/export.ts): a connection of its own on this database for `COPY (SELECT …) TO`, also when the store is open read-only; close it when done. */
  async readConnection(): Promise<DuckDBConnection> {
    const c = await this.instance.connect();
    await c.run("SET TimeZone = 'UTC'");
    return c;
  }

  /** Run `fn` under this store's write lock (a bulk import's set-based insert from its own connection). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.readOnly) return Promise.reject(readOnlyError('bulk import'));
    return this.write(fn);
  }

  async get<K extends EntityKind>(kind: K, key: readonly string[]): Promise<EntityRow<K> | undefined> {
    const keys = entityKeys[kind] as readonly string[];
    if (key.length !== keys.length) throw new DeepcutError('invalid_input', `${kind} is keyed by ${keys.join(', ')}: got ${key.length} key values`);
    const cols = entityColumns[kind];
    const where = keys.map((k, i) => `${cond(cols, k)} = $${i + 1}`).join(' AND ');
    const rows = await this.read((c) => this.all(c, `SELECT ${selectList(cols)} FROM ${q(kind)} WHERE ${where}`, [...key]));
    return rows.length ? (decodeRow(cols, rows[0]) as EntityRow<K>) : undefined;
  }

  async list<K extends EntityKind>(kind: K, opts: ListOptions = {}): Promise<EntityRow<K>[]> {
    const cols = entityColumns[kind];
    const params: DuckDBValue[] = [];
    const where = Object.entries(opts.where ?? {}).map(([name, value]) => {
      params.push(value);
      return `${cond(cols, name)} = $${params.length}`;
    });
    where.push(...listConditions('duckdb', cols, entityKeys[kind] as readonly string[], opts, params));
    const order = (entityKeys[kind] as readonly string[]).map(q).join(', ');
    const sql =
      `SELECT ${selectList(cols)} FROM ${q(kind)}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order}` +
      `${opts.limit !== undefined ? ` LIMIT ${count(opts.limit, 'limit')}` : ''}${opts.offset ? ` OFFSET ${count(opts.offset, 'offset')}` : ''}`;
    const rows = await this.read((c) => this.all(c, sql, params));
    return rows.map((r) => decodeRow(cols, r) as EntityRow<K>);
  }

  async count(kind: EntityKind): Promise<number> {
    const rows = await this.read((c) => this.all(c, `SELECT count(*) AS n FROM ${q(kind)}`));
    return Number(rows[0].n);
  }

  /**
   * Listens ordered by (started_at, listen_id). Users and tracks are numbered in id order (the
   * dictionaries are built once in SQL as temp tables, so no id string crosses into JS per row);
   * everything is read in one snapshot.
   */
  async readListens(opts: { since?: Date; until?: Date } = {}): Promise<ListenColumns> {
    const params: DuckDBValue[] = [];
    const conds: string[] = [];
    if (opts.since) {
      params.push(opts.since.toISOString());
      conds.push(`started_at >= CAST($${params.length} AS TIMESTAMPTZ)`);
    }
    if (opts.until) {
      params.push(opts.until.toISOString());
      conds.push(`started_at < CAST($${params.length} AS TIMESTAMPTZ)`);
    }
    const where = conds.length ? `WHERE ${conds.join(' AND ')}` : '';
    return this.read((c) =>
      this.snapshot(c, async () => {
        const [users, tracks] = await numberIds(c, 'listens', where, params, ['user_id', 'track_id']);
        const n = Number((await this.all(c, `SELECT count(*) AS n FROM listens ${where}`, params))[0].n);
        const out: ListenColumns = {
          users: new IdMap<UserId>(users as UserId[]),
          tracks: new IdMap<TrackId>(tracks as TrackId[]),
          user: new Int32Array(n),
          track: new Int32Array(n),
          msPlayed: new Int32Array(n),
          startedAt: new Float64Array(n),
          skipped: new Uint8Array(n),
        };
        const sql = `SELECT d_user_id.r, d_track_id.r, l.ms_played, CAST(epoch_ms(l.started_at) AS DOUBLE), CAST(l.skipped AS UTINYINT)
          FROM (SELECT * FROM listens ${where}) l JOIN d_user_id USING (user_id) JOIN d_track_id USING (track_id) ORDER BY l.started_at, l.listen_id`;
        const got = await readColumns(c, sql, params, [out.user, out.track, out.msPlayed, out.startedAt, out.skipped]);
        if (got !== n) throw new Error(`readListens read ${got} rows, expected ${n}`);
        return out;
      }),
    );
  }

  /** Interactions of one item kind (default `track`), ordered by (user_id, item_id); ids numbered in id order. */
  async readInteractions(opts: { itemKind?: 'track' | 'artist' } = {}): Promise<InteractionColumns> {
    const params: DuckDBValue[] = [opts.itemKind ?? 'track'];
    const where = 'WHERE item_kind = $1';
    return this.read((c) =>
      this.snapshot(c, async () => {
        const [users, items] = await numberIds(c, 'interactions', where, params, ['user_id', 'item_id']);
        const n = Number((await this.all(c, `SELECT count(*) AS n FROM interactions ${where}`, params))[0].n);
        const out: InteractionColumns = {
          users: new IdMap<UserId>(users as UserId[]),
          items: new IdMap<string>(items),
          user: new Int32Array(n),
          item: new Int32Array(n),
          weight: new Float32Array(n),
        };
        const sql = `SELECT d_user_id.r, d_item_id.r, CAST(l.weight AS FLOAT)
          FROM (SELECT * FROM interactions ${where}) l JOIN d_user_id USING (user_id) JOIN d_item_id USING (item_id) ORDER BY l.user_id, l.item_id`;
        const got = await readColumns(c, sql, params, [out.user, out.item, out.weight]);
        if (got !== n) throw new Error(`readInteractions read ${got} rows, expected ${n}`);
        return out;
      }),
    );
  }

  async quarantine(rows: readonly QuarantinedRow[]): Promise<void> {
    if (this.readOnly) throw readOnlyError('quarantine');
    if (rows.length === 0) return;
    await this.write(() => this.writeBatch('quarantine', quarantineColumns, rows, ''));
  }

  async listQuarantine(opts: { batch?: string; afterId?: number; limit?: number; offset?: number } = {}): Promise<QuarantinedRow[]> {
    const params: DuckDBValue[] = [];
    const where = quarantineWhere(opts, params);
    const sql =
      `SELECT id, ${selectList(quarantineColumns)} FROM quarantine${where} ORDER BY id` +
      `${opts.limit !== undefined ? ` LIMIT ${count(opts.limit, 'limit')}` : ''}${opts.offset ? ` OFFSET ${count(opts.offset, 'offset')}` : ''}`;
    const rows = await this.read((c) => this.all(c, sql, params));
    return rows.map((r) => ({ id: Number(r.id), ...decodeRow(quarantineColumns, r), field: (r.field as string | null) ?? null }) as QuarantinedRow);
  }

  async releaseQuarantine(ids: readonly number[]): Promise<number> {
    if (this.readOnly) throw readOnlyError('releaseQuarantine');
    if (ids.length === 0) return 0;
    const list = ids.map((id) => count(id, 'quarantine id')).join(', ');
    return this.write(async () => (await this.writer.run(`DELETE FROM quarantine WHERE id IN (${list})`)).rowsChanged);
  }

  async putMeta(namespace: string, key: string, value: unknown): Promise<void> {
    if (this.readOnly) throw readOnlyError('putMeta');
    const json = toJson(value);
    await this.write(() =>
      this.writer.run(
        'INSERT INTO meta VALUES ($1, $2, $3, now()) ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
        [namespace, key, json],
      ),
    );
  }

  async claimMeta(namespace: string, key: string, value: unknown): Promise<boolean> {
    if (this.readOnly) throw readOnlyError('claimMeta');
    const json = toJson(value);
    return this.write(async () => (await this.writer.run('INSERT INTO meta VALUES ($1, $2, $3, now()) ON CONFLICT (namespace, key) DO NOTHING', [namespace, key, json])).rowsChanged === 1);
  }

  async getMeta<T = unknown>(namespace: string, key: string): Promise<T | undefined> {
    const rows = await this.read((c) => this.all(c, 'SELECT value FROM meta WHERE namespace = $1 AND key = $2', [namespace, key]));
    return rows.length ? (JSON.parse(rows[0].value as string) as T) : undefined;
  }

  async listMeta<T = unknown>(namespace: string): Promise<{ key: string; value: T }[]> {
    const rows = await this.read((c) => this.all(c, 'SELECT key, value FROM meta WHERE namespace = $1 ORDER BY key', [namespace]));
    return rows.map((r) => ({ key: r.key as string, value: JSON.parse(r.value as string) as T }));
  }

  async deleteMeta(namespace: string, key: string): Promise<boolean> {
    if (this.readOnly) throw readOnlyError('deleteMeta');
    return this.write(async () => (await this.writer.run('DELETE FROM meta WHERE namespace = $1 AND key = $2', [namespace, key])).rowsChanged > 0);
  }

  async getPublication(): Promise<Publication | undefined> {
    const rows = await this.read((c) => this.all(c, PUBLICATION_SELECT.replace('%MS%', 'epoch_ms(published_at)')));
    return decodePublication(rows[0]);
  }

  async switchPublication(next: Omit<Publication, 'generation'>, expected: number): Promise<Publication | undefined> {
    if (this.readOnly) throw readOnlyError('switchPublication');
    const row = { runId: next.runId, publishedAt: new Date(next.publishedAt).toISOString(), history: next.history, generation: expected + 1 };
    return this.write(() =>
      this.transaction(async () => {
        const cur = await this.all(this.writer, 'SELECT generation FROM publication WHERE slot = 1');
        if ((cur.length ? Number(cur[0].generation) : 0) !== expected) return undefined;
        await this.writer.run(
          'INSERT INTO publication VALUES (1, $1, $2::TIMESTAMPTZ, $3, $4) ON CONFLICT (slot) DO UPDATE SET run_id = excluded.run_id, published_at = excluded.published_at, history = excluded.history, generation = excluded.generation',
          [row.runId, row.publishedAt, JSON.stringify(row.history), row.generation],
        );
        return row;
      }),
    );
  }

  async stageShelves(rows: readonly StagedShelf[]): Promise<void> {
    if (this.readOnly) throw readOnlyError('stageShelves');
    if (rows.length === 0) return;
    const values = rows.map((_, i) => `($${5 * i + 1}, $${5 * i + 2}, $${5 * i + 3}, $${5 * i + 4}, $${5 * i + 5}::TIMESTAMPTZ)`).join(', ');
    const params = rows.flatMap((r) => [r.requestId, r.shelf, r.userId, JSON.stringify(r.impressions), new Date(r.expiresAt).toISOString()]);
    await this.write(() => this.writer.run(`INSERT INTO staged_shelves VALUES ${values} ON CONFLICT (request_id, shelf) DO NOTHING`, params));
  }

  async stagedShelves(userId: string, requestId: string, shelves: readonly string[], now: string): Promise<StagedShelf[]> {
    if (shelves.length === 0) return [];
    const sql = STAGED_SELECT.replace('%MS%', 'epoch_ms(expires_at)').replace('%IN%', `shelf IN (${shelves.map((_, i) => `$${i + 4}`).join(', ')})`);
    const rows = await this.read((c) => this.all(c, sql, [userId, requestId, new Date(now).toISOString(), ...shelves]));
    return inShelfOrder(rows.map(decodeStagedShelf), shelves);
  }

  /** Under the write lock: of two concurrent calls, each row goes to exactly one. */
  async unstageShelves(requestId: string, shelves: readonly string[]): Promise<string[]> {
    if (this.readOnly) throw readOnlyError('unstageShelves');
    if (shelves.length === 0) return [];
    const rows = await this.write(() =>
      this.all(this.writer, `DELETE FROM staged_shelves WHERE request_id = $1 AND shelf IN (${shelves.map((_, i) => `$${i + 2}`).join(', ')}) RETURNING shelf`, [requestId, ...shelves]),
    );
    return rows.map((r) => String(r.shelf));
  }

  async expireStagedShelves(now: string): Promise<number> {
    if (this.readOnly) throw readOnlyError('expireStagedShelves');
    return this.write(async () => (await this.writer.run('DELETE FROM staged_shelves WHERE expires_at <= $1::TIMESTAMPTZ', [new Date(now).toISOString()])).rowsChanged);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writes.run(async () => {
      this.shut = true;
      this.writer.closeSync();
      this.instance.closeSync();
    });
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────────

  /**
   * Store `rows` in `table` in one transaction (caller holds the write lock): appended directly
   * when `conflict` is set and the batch holds no stored or repeated key, else staged and inserted
   * with `conflict` (duplicates skipped and counted).
   */
  private async writeBatch(table: string, cols: readonly Column[], rows: readonly object[], conflict: string): Promise<PutResult> {
    if (conflict && (await this.appendsDirectly(table, cols))) {
      try {
        return await this.transaction(async () => {
          const app = await this.writer.createAppender(table);
          try {
            appendRows(app, cols, rows);
            app.closeSync();
          } catch (e) {
            // Drop what is buffered, or closing (now or when collected) flushes it again and aborts a later transaction.
            app.clear();
            try {
              app.closeSync();
            } catch {
              // already failed: the error that matters is e
            }
            throw e;
          }
          return { inserted: rows.length, duplicates: 0 };
        });
      } catch (e) {
        if (!/constraint violation|duplicate key/i.test(e instanceof Error ? e.message : String(e))) throw e;
      }
    }
    const stage = `stage_${table}`;
    if (!this.staged.has(stage)) {
      // Dates are staged as text and cast by DuckDB; instants are appended as µs (see appendRows).
      const defs = cols.map((c) => `${q(c.name)} ${c.kind === 'date' ? 'VARCHAR' : sqlType('duckdb', c.kind)}`);
      await this.writer.run(`CREATE OR REPLACE TEMP TABLE ${stage} (${defs.join(', ')})`);
      this.staged.add(stage);
    }
    const names = cols.map((c) => q(c.name)).join(', ');
    const exprs = cols.map((c) => (c.kind === 'date' ? `CAST(${q(c.name)} AS DATE)` : q(c.name))).join(', ');
    return this.transaction(async () => {
      const app = await this.writer.createAppender(stage, 'main', 'temp');
      try {
        appendRows(app, cols, rows);
      } finally {
        app.closeSync();
      }
      const r = await this.writer.run(`INSERT INTO ${q(table)} (${names}) SELECT ${exprs} FROM ${stage} ${conflict}`);
      await this.writer.run(`DELETE FROM ${stage}`);
      const inserted = r.rowsChanged;
      return { inserted, duplicates: rows.length - inserted };
    });
  }

  /** Whether `table`'s columns are exactly `cols`, in order (checked once per table). */
  private async appendsDirectly(table: string, cols: readonly Column[]): Promise<boolean> {
    let ok = this.direct.get(table);
    if (ok === undefined) {
      const got = await this.all(this.writer, "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = $1 ORDER BY ordinal_position", [table]);
      ok = got.length === cols.length && got.every((r, i) => r.column_name === cols[i].name);
      this.direct.set(table, ok);
    }
    return ok;
  }

  /**
   * Run a write under the write lock; after `close()` it is `unavailable` instead of a call into a
   * closed connection (which the native binding answers by aborting the process). Writes asked for
   * before `close()` still run: the lock is first come, first served.
   */
  private write<T>(fn: () => Promise<T>): Promise<T> {
    const closed = () => new DeepcutError('unavailable', `store ${this.path} is closed`);
    if (this.closed) return Promise.reject(closed());
    return this.writes.run(() => (this.shut ? Promise.reject(closed()) : fn().catch((e: unknown) => Promise.reject(writeError(this.path, e)))));
  }

  private async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.writer.run('BEGIN TRANSACTION');
    try {
      const out = await fn();
      await this.writer.run('COMMIT');
      return out;
    } catch (e) {
      await this.writer.run('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  /** Run `fn` inside one read transaction on `c`, so every query sees the same snapshot. */
  private async snapshot<T>(c: DuckDBConnection, fn: () => Promise<T>): Promise<T> {
    await c.run('BEGIN TRANSACTION');
    try {
      return await fn();
    } finally {
      await c.run('COMMIT');
    }
  }

  /** Run `fn` on a fresh connection (sees committed data only), closed afterwards. */
  private async read<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('store is closed');
    const c = await this.instance.connect();
    try {
      return await fn(c);
    } finally {
      c.closeSync();
    }
  }

  private async all(c: DuckDBConnection, sql: string, params: DuckDBValue[] = []): Promise<Record<string, unknown>[]> {
    const reader = await c.runAndReadAll(sql, params);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  }
}

/** How a file system refuses writes: a read-only mount, missing permission. */
const READ_ONLY_FS = /read-only file system|permission denied|EROFS|EACCES/i;
/** How a file system runs out of room. */
const NO_SPACE = /no space left|disk is full|ENOSPC|quota exceeded/i;

/**
 * The DeepcutError for a failed open: another process holds the file (`unavailable`, naming
 * what to do), the file or folder cannot be written (`conflict`: the store is read-only for this
 * process, as a write to a store opened read-only is), anything else `unavailable`.
 */
export function openError(path: string, readOnly: boolean, e: unknown): DeepcutError {
  const msg = e instanceof Error ? e.message : String(e);
  if (/lock/i.test(msg))
    return new DeepcutError(
      'unavailable',
      `store ${path} is in use by another process (${msg}). The embedded store has one writer and no readers beside it: stop that process, or, when it is \`deepcut serve\`, go through its HTTP API (\`deepcut keys\` does so by itself)`,
      {},
      { cause: e },
    );
  if (!readOnly && READ_ONLY_FS.test(msg))
    return new DeepcutError('conflict', `store ${path} is read-only for this process (${msg}): commands that only read (quarantine list, validate, keys list) still work; to write, make ${dirname(path)} writable`, {}, { cause: e });
  return new DeepcutError('unavailable', `cannot open store ${path}: ${msg}`, {}, { cause: e });
}

/**
 * The DeepcutError for a failed write, when the cause is the file system: read-only (`conflict`,
 * like any write to a read-only store) or full (`unavailable`). Other errors pass unchanged.
 */
export function writeError(path: string, e: unknown): unknown {
  if (e instanceof DeepcutError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  if (READ_ONLY_FS.test(msg)) return new DeepcutError('conflict', `store ${path} refused a write, its file is read-only (${msg})`, {}, { cause: e });
  if (NO_SPACE.test(msg)) return new DeepcutError('unavailable', `store ${path} cannot write, the disk is full (${msg})`, {}, { cause: e });
  return e;
}

/**
 * Append `rows` with the appender. Instants go as µs, read by {@link isoMicros}: the appender's
 * own text conversion drops a non-UTC offset, and DuckDB's cast refuses `HH:MM` without seconds,
 * which the domain schema allows.
 */
export function appendRows(app: DuckDBAppender, cols: readonly Column[], rows: readonly object[]): void {
  for (const row of rows) {
    const r = row as Record<string, unknown>;
    for (const col of cols) {
      const v = r[col.name];
      if (v === undefined || v === null) {
        app.appendNull();
        continue;
      }
      switch (col.kind) {
        case 'int':
          app.appendInteger(v as number);
          break;
        case 'double':
          app.appendDouble(v as number);
          break;
        case 'bool':
          app.appendBoolean(v as boolean);
          break;
        case 'list':
          app.appendList(v as string[], listOfText);
          break;
        case 'ts':
          app.appendTimestampTZ(timestampTZValue(isoMicros(v as string)));
          break;
        default:
          app.appendVarchar(v as string);
      }
    }
    app.endRow();
  }
}

/**
 * µs since the epoch of an ISO 8601 instant in the domain's form ({@link ISO_INSTANT}); digits past
 * µs are dropped, as DuckDB's cast does.
 */
export function isoMicros(s: string): bigint {
  const m = ISO_INSTANT.exec(s);
  if (!m) throw new DeepcutError('invalid_input', `"${s}" is not an ISO 8601 timestamp with a zone`);
  const offsetMin = m[8] ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  // Date.UTC reads years 0–99 as 1900–1999; the Gregorian calendar repeats every 400 years (146,097 days)
  const year = Number(m[1]);
  const shift = year < 100 ? 400 : 0;
  const ms = Date.UTC(year + shift, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)) - (shift / 400) * 146_097 * 86_400_000 - offsetMin * 60_000;
  const frac = m[7] ? Number(m[7].slice(0, 6).padEnd(6, '0')) : 0;
  return BigInt(ms) * 1000n + BigInt(frac);
}

/**
 * Number the distinct values of each column of `table` (filtered by `where`) in value order: a
 * temp table `d_<column>(<column>, r)` per column for the caller's join, and the values in row
 * order returned to JS (one string per distinct value, never one per row).
 */
async function numberIds(c: DuckDBConnection, table: string, where: string, params: DuckDBValue[], columns: readonly string[]): Promise<string[][]> {
  const out: string[][] = [];
  for (const col of columns) {
    const d = `d_${col}`;
    await c.run(
      `CREATE OR REPLACE TEMP TABLE ${d} AS SELECT ${q(col)}, CAST(row_number() OVER (ORDER BY ${q(col)}) - 1 AS INTEGER) AS r FROM (SELECT DISTINCT ${q(col)} FROM ${table} ${where})`,
      params,
    );
    const reader = await c.runAndReadAll(`SELECT ${q(col)} FROM ${d} ORDER BY r`);
    out.push(reader.getColumnsJS()[0] as string[]);
  }
  return out;
}

type NumericColumn = Int32Array | Float64Array | Float32Array | Uint8Array;

/**
 * Stream `sql`'s result chunk by chunk into the typed arrays, column i into `dst[i]`; returns the
 * row count. The SQL must yield column i in `dst[i]`'s type (INTEGER, DOUBLE, FLOAT, UTINYINT) and
 * no NULLs. A vector whose values sit in a typed array of that type is copied in one `set`;
 * otherwise it is read value by value.
 */
async function readColumns(c: DuckDBConnection, sql: string, params: DuckDBValue[], dst: NumericColumn[]): Promise<number> {
  const result = await c.stream(sql, params);
  let n = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const m = chunk.rowCount;
    for (let j = 0; j < dst.length; j++) {
      const vec = chunk.getColumnVector(j);
      const out = dst[j];
      const items = vectorItems(vec, out, m);
      if (items) out.set(items, n);
      else for (let i = 0; i < m; i++) out[n + i] = vec.getItem(i) as number;
    }
    n += m;
  }
  return n;
}

/**
 * The first `m` values of a numeric vector as a typed array of `like`'s type, when the binding
 * keeps them in one (it does for fixed-width types: a view on DuckDB's own vector memory); else
 * undefined. The binding does not expose this publicly, so it is checked, not assumed.
 */
function vectorItems(vec: unknown, like: NumericColumn, m: number): NumericColumn | undefined {
  const items = (vec as { items?: unknown }).items;
  if (items && Object.getPrototypeOf(items) === Object.getPrototypeOf(like) && (items as NumericColumn).length >= m) return (items as NumericColumn).subarray(0, m);
  return undefined;
}

/** SELECT list that returns instants as µs since the epoch and dates as text. */
function selectList(cols: readonly Column[]): string {
  return cols
    .map((c) => (c.kind === 'ts' ? `epoch_us(${q(c.name)}) AS ${q(c.name)}` : c.kind === 'date' ? `CAST(${q(c.name)} AS VARCHAR) AS ${q(c.name)}` : q(c.name)))
    .join(', ');
}

/** Left side of an equality filter on a column given as text: the column, cast to text when it is not text. */
function cond(cols: readonly Column[], name: string): string {
  const col = cols.find((c) => c.name === name);
  if (!col) throw new DeepcutError('invalid_input', `unknown column "${name}"; known: ${cols.map((c) => c.name).join(', ')}`);
  if (col.kind === 'text') return q(name);
  if (col.kind === 'ts') return `strftime(${q(name)}, '%Y-%m-%dT%H:%M:%SZ')`;
  return `CAST(${q(name)} AS VARCHAR)`;
}

/** A non-negative integer for LIMIT/OFFSET/ids, or invalid_input. */
function count(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new DeepcutError('invalid_input', `${what} must be a non-negative integer, got ${n}`);
  return n;
}

function toJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new DeepcutError('invalid_input', 'meta value must be JSON-serialisable (got undefined or a function)');
  return json;
}

/**
 * An in-memory {@link Store} backend for tests: the whole logical schema in Maps, no file, no
 * server. It passes the store contract (memory.test.ts) except the crash case, which needs storage
 * that outlives a process. Reopening a store on the same {@link MemoryData} sees what was written,
 * as reopening a DuckDB file does; `readOnly` refuses writes as the real backends do.
 *
 * `failWrites`, when set, makes every write throw it (store-failure tests).
 */
import { entityKeys, type EntityKind, type EntityRow, type Listen } from '../../domain/schemas.ts';
import { IdMap, type TrackId, type UserId } from '../../domain/ids.ts';
import { DeepcutError } from '../../errors.ts';
import type { InteractionColumns, ListOptions, ListenColumns, Publication, PutResult, QuarantinedRow, StagedShelf, Store } from '../store.ts';
import { entityColumns } from '../migrations.ts';
import { listConditions } from '../query.ts';
import { decodeRow, readOnlyError } from '../rows.ts';
import { isoMicros } from '../duckdb.ts';
import { listInMemory } from './data.ts';
import { InProcessStaging } from '../staged.ts';

/** What a memory store holds; share it between opens to "reopen" a store. */
export class MemoryData {
  readonly rows = new Map<EntityKind, Map<string, unknown>>();
  readonly meta = new Map<string, Map<string, unknown>>();
  quarantine: QuarantinedRow[] = [];
  nextQuarantineId = 1;
  publication: Publication | undefined;
  /** Staged home shelves. */
  readonly staged = new InProcessStaging();
}

const keyText = (kind: EntityKind, r: object) => (entityKeys[kind] as readonly string[]).map((k) => String((r as Record<string, unknown>)[k])).join('\u0000');

export class MemoryStore implements Store {
  readonly backend = 'memory' as const;
  readonly readOnly: boolean;
  /** When set, every write throws this (store failure tests). */
  failWrites: Error | undefined;

  constructor(
    readonly data: MemoryData = new MemoryData(),
    opts: { readOnly?: boolean } = {},
  ) {
    this.readOnly = opts.readOnly ?? false;
  }

  private write(op: string): void {
    if (this.readOnly) throw readOnlyError(op);
    if (this.failWrites) throw this.failWrites;
  }

  private table(kind: EntityKind): Map<string, unknown> {
    let t = this.data.rows.get(kind);
    if (!t) this.data.rows.set(kind, (t = new Map()));
    return t;
  }

  /** The row as a backend returns it: instants in canonical UTC form, optional fields absent when unset. */
  private stored<K extends EntityKind>(kind: K, r: EntityRow<K>): EntityRow<K> {
    const values: Record<string, unknown> = {};
    for (const c of entityColumns[kind]) {
      const v = (r as Record<string, unknown>)[c.name];
      values[c.name] = v === undefined ? null : c.kind === 'ts' ? isoMicros(v as string) : structuredClone(v);
    }
    return decodeRow(entityColumns[kind], values) as EntityRow<K>;
  }

  async put<K extends EntityKind>(kind: K, rows: readonly EntityRow<K>[]): Promise<PutResult> {
    this.write(`put ${kind}`);
    const t = this.table(kind);
    let inserted = 0;
    for (const r of rows) {
      const key = keyText(kind, r);
      if (t.has(key)) continue;
      t.set(key, this.stored(kind, r));
      inserted++;
    }
    return { inserted, duplicates: rows.length - inserted };
  }

  async bulkPut<K extends EntityKind>(kind: K, batches: AsyncIterable<readonly EntityRow<K>[]> | Iterable<readonly EntityRow<K>[]>): Promise<PutResult> {
    this.write(`bulkPut ${kind}`);
    const total = { inserted: 0, duplicates: 0 };
    for await (const b of batches) {
      const r = await this.put(kind, b);
      total.inserted += r.inserted;
      total.duplicates += r.duplicates;
    }
    return total;
  }

  async get<K extends EntityKind>(kind: K, key: readonly string[]): Promise<EntityRow<K> | undefined> {
    const r = this.table(kind).get(key.join('\u0000'));
    return r === undefined ? undefined : (structuredClone(r) as EntityRow<K>);
  }

  async list<K extends EntityKind>(kind: K, opts: ListOptions = {}): Promise<EntityRow<K>[]> {
    // the backends' own checks of where/range/after, so errors read the same
    for (const name of Object.keys(opts.where ?? {})) this.column(kind, name);
    listConditions('duckdb', entityColumns[kind], entityKeys[kind] as readonly string[], opts, []);
    return structuredClone(listInMemory(kind, [...this.table(kind).values()] as EntityRow<K>[], opts));
  }

  private column(kind: EntityKind, name: string): void {
    const cols = entityColumns[kind];
    if (!cols.some((c) => c.name === name)) throw new DeepcutError('invalid_input', `unknown column "${name}"; known: ${cols.map((c) => c.name).join(', ')}`);
  }

  async count(kind: EntityKind): Promise<number> {
    return this.table(kind).size;
  }

  async readListens(opts: { since?: Date; until?: Date } = {}): Promise<ListenColumns> {
    const since = opts.since?.getTime() ?? -Infinity;
    const until = opts.until?.getTime() ?? Infinity;
    const ls = ([...this.table('listens').values()] as Listen[])
      .map((l) => ({ l, t: Date.parse(l.started_at) }))
      .filter(({ t }) => t >= since && t < until)
      .sort((a, b) => a.t - b.t || (a.l.listen_id < b.l.listen_id ? -1 : 1));
    const users = new IdMap<UserId>();
    const tracks = new IdMap<TrackId>();
    const n = ls.length;
    const c: ListenColumns = { users, tracks, user: new Int32Array(n), track: new Int32Array(n), msPlayed: new Int32Array(n), startedAt: new Float64Array(n), skipped: new Uint8Array(n) };
    ls.forEach(({ l, t }, i) => {
      c.user[i] = users.add(l.user_id as UserId);
      c.track[i] = tracks.add(l.track_id as TrackId);
      c.msPlayed[i] = l.ms_played;
      c.startedAt[i] = t;
      c.skipped[i] = l.skipped ? 1 : 0;
    });
    return c;
  }

  async readInteractions(opts: { itemKind?: 'track' | 'artist' } = {}): Promise<InteractionColumns> {
    const kind = opts.itemKind ?? 'track';
    const rows = (listInMemory('interactions', [...this.table('interactions').values()] as EntityRow<'interactions'>[]) as EntityRow<'interactions'>[]).filter((r) => r.item_kind === kind);
    const users = new IdMap<UserId>();
    const items = new IdMap<string>();
    // ids numbered in sorted order, as the SQL backends number them
    for (const u of [...new Set(rows.map((r) => r.user_id))].sort()) users.add(u as UserId);
    for (const i of [...new Set(rows.map((r) => r.item_id))].sort()) items.add(i);
    const out: InteractionColumns = { users, items, user: new Int32Array(rows.length), item: new Int32Array(rows.length), weight: new Float32Array(rows.length) };
    rows
      .map((r) => ({ u: users.row(r.user_id as UserId)!, i: items.row(r.item_id)!, w: r.weight }))
      .sort((a, b) => a.u - b.u || a.i - b.i)
      .forEach((x, k) => {
        out.user[k] = x.u;
        out.item[k] = x.i;
        out.weight[k] = x.w;
      });
    return out;
  }

  async quarantine(rows: readonly QuarantinedRow[]): Promise<void> {
    this.write('quarantine');
    for (const r of rows) this.data.quarantine.push({ ...structuredClone(r), id: this.data.nextQuarantineId++ });
  }

  async listQuarantine(opts: { batch?: string; afterId?: number; limit?: number; offset?: number } = {}): Promise<QuarantinedRow[]> {
    if (opts.afterId !== undefined && (!Number.isSafeInteger(opts.afterId) || opts.afterId < 0)) throw new DeepcutError('invalid_input', `afterId must be a non-negative integer, got ${opts.afterId}`);
    const rows = this.data.quarantine.filter((r) => (opts.batch === undefined || r.batch === opts.batch) && r.id! > (opts.afterId ?? 0));
    const off = opts.offset ?? 0;
    return structuredClone(rows.slice(off, opts.limit !== undefined ? off + opts.limit : undefined));
  }

  async releaseQuarantine(ids: readonly number[]): Promise<number> {
    this.write('releaseQuarantine');
    const drop = new Set(ids);
    const before = this.data.quarantine.length;
    this.data.quarantine = this.data.quarantine.filter((r) => !drop.has(r.id!));
    return before - this.data.quarantine.length;
  }

  async putMeta(ns: string, key: string, value: unknown): Promise<void> {
    this.write('putMeta');
    const json = JSON.stringify(value);
    if (json === undefined) throw new DeepcutError('invalid_input', 'meta value must be JSON-serialisable (got undefined or a function)');
    let m = this.data.meta.get(ns);
    if (!m) this.data.meta.set(ns, (m = new Map()));
    m.set(key, JSON.parse(json));
  }

  async claimMeta(ns: string, key: string, value: unknown): Promise<boolean> {
    if (this.data.meta.get(ns)?.has(key)) return (this.write('claimMeta'), false);
    await this.putMeta(ns, key, value);
    return true;
  }

  async getMeta<T>(ns: string, key: string): Promise<T | undefined> {
    const m = this.data.meta.get(ns);
    return m?.has(key) ? (structuredClone(m.get(key)) as T) : undefined;
  }

  async listMeta<T>(ns: string): Promise<{ key: string; value: T }[]> {
    return [...(this.data.meta.get(ns) ?? new Map<string, unknown>()).entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => ({ key, value: structuredClone(value) as T }));
  }

  async deleteMeta(ns: string, key: string): Promise<boolean> {
    this.write('deleteMeta');
    return this.data.meta.get(ns)?.delete(key) ?? false;
  }

  async getPublication(): Promise<Publication | undefined> {
    return structuredClone(this.data.publication);
  }

  async switchPublication(next: Omit<Publication, 'generation'>, expected: number): Promise<Publication | undefined> {
    this.write('switchPublication');
    if ((this.data.publication?.generation ?? 0) !== expected) return undefined;
    this.data.publication = { ...structuredClone(next), publishedAt: new Date(next.publishedAt).toISOString(), generation: expected + 1 };
    return structuredClone(this.data.publication);
  }

  async stageShelves(rows: readonly StagedShelf[]): Promise<void> {
    this.write('stageShelves');
    return this.data.staged.stageShelves(rows);
  }

  async stagedShelves(userId: string, requestId: string, shelves: readonly string[], now: string): Promise<StagedShelf[]> {
    return this.data.staged.stagedShelves(userId, requestId, shelves, now);
  }

  async unstageShelves(requestId: string, shelves: readonly string[]): Promise<string[]> {
    this.write('unstageShelves');
    return this.data.staged.unstageShelves(requestId, shelves);
  }

  async expireStagedShelves(now: string): Promise<number> {
    this.write('expireStagedShelves');
    return this.data.staged.expireStagedShelves(now);
  }

  /** Nothing to apply: the logical schema is the Maps. */
  async migrate(): Promise<number[]> {
    return [];
  }

  async close(): Promise<void> {
    /* nothing to release */
  }
}

/**
 * Test support for the server: an in-memory {@link Store} (enough of the contract for route tests;
 * not a backend — the real ones are DuckDB and PostgreSQL) and a tiny known-answer world.
 */
import { entityKeys, type EntityKind, type EntityRow, type Listen } from '../domain/schemas.ts';
import { IdMap, type TrackId, type UserId } from '../domain/ids.ts';
import type { Csr } from '../signals/csr.ts';
import type { Factorized, FoldIn, Ranked, Recommender, RecommendOptions } from '../cf/recommender.ts';
import { excludeMask, topK } from '../cf/base.ts';
import type { InteractionColumns, ListOptions, ListenColumns, PutResult, QuarantinedRow, Store } from '../store/store.ts';
import { listInMemory } from '../store/testdata.ts';

export class MemoryStore implements Store {
  readonly backend = 'duckdb' as const;
  readonly readOnly = false;
  private readonly rows = new Map<EntityKind, Map<string, unknown>>();
  private readonly meta = new Map<string, Map<string, unknown>>();
  private q: QuarantinedRow[] = [];
  /** When set, every write throws this (store failure tests). */
  failWrites: Error | undefined;

  private table(kind: EntityKind): Map<string, unknown> {
    let t = this.rows.get(kind);
    if (!t) this.rows.set(kind, (t = new Map()));
    return t;
  }

  async put<K extends EntityKind>(kind: K, rows: readonly EntityRow<K>[]): Promise<PutResult> {
    if (this.failWrites) throw this.failWrites;
    const t = this.table(kind);
    let inserted = 0;
    for (const r of rows) {
      const key = (entityKeys[kind] as readonly string[]).map((k) => String((r as Record<string, unknown>)[k])).join('\u0000');
      if (t.has(key)) continue;
      t.set(key, structuredClone(r));
      inserted++;
    }
    return { inserted, duplicates: rows.length - inserted };
  }

  async bulkPut<K extends EntityKind>(kind: K, batches: AsyncIterable<readonly EntityRow<K>[]> | Iterable<readonly EntityRow<K>[]>): Promise<PutResult> {
    const total = { inserted: 0, duplicates: 0 };
    for await (const b of batches) {
      const r = await this.put(kind, b);
      total.inserted += r.inserted;
      total.duplicates += r.duplicates;
    }
    return total;
  }

  async get<K extends EntityKind>(kind: K, key: readonly string[]): Promise<EntityRow<K> | undefined> {
    return this.table(kind).get(key.join('\u0000')) as EntityRow<K> | undefined;
  }

  async list<K extends EntityKind>(kind: K, opts: ListOptions = {}): Promise<EntityRow<K>[]> {
    return listInMemory(kind, [...this.table(kind).values()] as EntityRow<K>[], opts);
  }

  async count(kind: EntityKind): Promise<number> {
    return this.table(kind).size;
  }

  async readListens(): Promise<ListenColumns> {
    const ls = [...this.table('listens').values()] as Listen[];
    const users = new IdMap<UserId>();
    const tracks = new IdMap<TrackId>();
    const n = ls.length;
    const c: ListenColumns = { users, tracks, user: new Int32Array(n), track: new Int32Array(n), msPlayed: new Int32Array(n), startedAt: new Float64Array(n), skipped: new Uint8Array(n) };
    ls.forEach((l, i) => {
      c.user[i] = users.add(l.user_id as UserId);
      c.track[i] = tracks.add(l.track_id as TrackId);
      c.msPlayed[i] = l.ms_played;
      c.startedAt[i] = Date.parse(l.started_at);
      c.skipped[i] = l.skipped ? 1 : 0;
    });
    return c;
  }

  async readInteractions(): Promise<InteractionColumns> {
    return { users: new IdMap(), items: new IdMap(), user: new Int32Array(0), item: new Int32Array(0), weight: new Float32Array(0) };
  }

  async quarantine(rows: readonly QuarantinedRow[]): Promise<void> {
    this.q.push(...rows.map((r, i) => ({ ...r, id: this.q.length + i + 1 })));
  }

  async listQuarantine(opts: { batch?: string; afterId?: number; limit?: number; offset?: number } = {}): Promise<QuarantinedRow[]> {
    const rows = this.q.filter((r) => (opts.batch === undefined || r.batch === opts.batch) && r.id! > (opts.afterId ?? 0));
    const off = opts.offset ?? 0;
    return rows.slice(off, opts.limit !== undefined ? off + opts.limit : undefined);
  }

  async releaseQuarantine(ids: readonly number[]): Promise<number> {
    const before = this.q.length;
    this.q = this.q.filter((r) => !ids.includes(r.id!));
    return before - this.q.length;
  }

  async putMeta(ns: string, key: string, value: unknown): Promise<void> {
    if (this.failWrites) throw this.failWrites;
    let m = this.meta.get(ns);
    if (!m) this.meta.set(ns, (m = new Map()));
    m.set(key, structuredClone(value));
  }

  async getMeta<T>(ns: string, key: string): Promise<T | undefined> {
    return this.meta.get(ns)?.get(key) as T | undefined;
  }

  async listMeta<T>(ns: string): Promise<{ key: string; value: T }[]> {
    return [...(this.meta.get(ns) ?? new Map()).entries()].map(([key, value]) => ({ key, value: value as T }));
  }

  async deleteMeta(ns: string, key: string): Promise<boolean> {
    return this.meta.get(ns)?.delete(key) ?? false;
  }

  async close(): Promise<void> {
    /* nothing to release */
  }
}

/**
 * A factor model with fixed item vectors for tests: a user's vector is the confidence-weighted sum
 * of their items' vectors (a crude but exact-answer fold-in), scores are dot products.
 */
export class FixedFactorModel implements Recommender, FoldIn, Factorized {
  readonly name = 'fixed-factors';
  private user: Float32Array;
  constructor(
    readonly factors: number,
    private readonly item: Float32Array,
    userItems: Csr,
  ) {
    this.user = new Float32Array(userItems.rows * factors);
    for (let u = 0; u < userItems.rows; u++) this.foldIn(u, userItems.indices.subarray(userItems.indptr[u], userItems.indptr[u + 1]), userItems.data.subarray(userItems.indptr[u], userItems.indptr[u + 1]));
  }
  /** Calls of foldIn after construction (tests check the fold-in happened). */
  foldIns = 0;
  async fit(): Promise<void> {}
  foldIn(u: number, items: Int32Array, conf: Float32Array): void {
    const f = this.factors;
    if (u * f >= this.user.length) {
      const grown = new Float32Array((u + 1) * f);
      grown.set(this.user);
      this.user = grown;
    }
    const x = this.user.subarray(u * f, (u + 1) * f);
    x.fill(0);
    for (let i = 0; i < items.length; i++) for (let j = 0; j < f; j++) x[j] += conf[i] * this.item[items[i] * f + j];
    this.foldIns++;
  }
  recommend(u: number, userItems: Csr, k: number, opts: RecommendOptions = {}): Ranked {
    const f = this.factors;
    const n = this.item.length / f;
    const s = new Float32Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) s[i] += this.user[u * f + j] * this.item[i * f + j];
    return topK(s, k, excludeMask(u, userItems, n, opts));
  }
  similarItems(item: number, k: number): Ranked {
    const f = this.factors;
    const n = this.item.length / f;
    const s = new Float32Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) s[i] += this.item[item * f + j] * this.item[i * f + j];
    const mask = new Uint8Array(n);
    mask[item] = 1;
    return topK(s, k, mask);
  }
  similarUsers(): Ranked {
    return { items: new Int32Array(0), scores: new Float32Array(0) };
  }
  async save(): Promise<void> {}
  itemFactors(): Float32Array {
    return this.item;
  }
  userFactors(): Float32Array {
    return this.user;
  }
}

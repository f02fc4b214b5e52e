/**
 * Batches over HTTP, checked row by row with the file import's validator (`checkRow` of
 * src/validate: the entity's schema, then the domain rules — time range 2000-01-01 … now + 1 min,
 * foreign ids stored or earlier in the batch, play time against the track's length). Good rows are
 * stored; each bad row is quarantined (the store's quarantine, as file import does) and listed in
 * the answer with its index, field, code and reason, so one bad row never fails its batch and
 * never turns into a 5xx that a scrobbler would retry forever.
 *
 * New listeners are first-class: a listen or follow whose `user_id` the store does not hold
 * creates that user (`{ user_id, time_zone: 'UTC' }`), as a listening-history import does (so the
 * validator's known-user rule always passes over HTTP). Every
 * other foreign id (track, artist, album, document subject) must be stored already or come earlier
 * in the same batch, as in file import.
 */
import { z } from 'zod';
import { entityKeys, isStorableText, type EntityKind, type EntityRow, type User } from '../domain/schemas.ts';
import { checkRow, KnownIds, type AnomalyCode, type CheckContext } from '../validate/index.ts';
import type { QuarantinedRow, Store } from '../store/index.ts';
import { pagesOf } from '../store/index.ts';

export const Rejection = z.object({
  index: z.number().int().describe('0-based position of the row in the batch (of the listen in `payload` for ListenBrainz)'),
  field: z.string().nullable().describe('the offending field, as a dotted path inside the row; null when the row as a whole is wrong'),
  code: z.string().describe('anomaly code: missing, wrong_type, invalid_value, out_of_range, unknown_enum, unknown_id'),
  reason: z.string(),
});
export type Rejection = z.infer<typeof Rejection>;

export const BatchAnswer = z.object({
  inserted: z.number().int().describe('rows newly stored'),
  duplicates: z.number().int().describe('rows whose key was stored already (left unchanged), or repeated in the batch'),
  rejected: z.number().int().describe('rows refused and quarantined'),
  rejections: z.array(Rejection).describe('one entry per refused row, in batch order'),
});
export type BatchAnswer = z.infer<typeof BatchAnswer>;

/**
 * Catalog ids already seen in the store, per store, so a busy ingest path does not ask for them
 * again (rows are never deleted). When a batch names more than {@link POINT_LOOKUPS} unseen ids of
 * one entity, the whole table is read into it page by page (at most once a minute per entity)
 * instead of one query per id: 1,500 point lookups took 5 s on a loaded DuckDB here.
 */
interface Seen {
  known: KnownIds;
  loadedAt: Map<RefKind, number>;
}
const seen = new WeakMap<Store, Seen>();
const SEEN_CAP = 2_000_000;
const POINT_LOOKUPS = 256;

type RefKind = 'users' | 'artists' | 'albums' | 'tracks';
/** A foreign id worth looking up: what the schema would accept as an id, trimmed. */
function idText(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  return s.length >= 1 && s.length <= 512 && isStorableText(s) ? s : undefined;
}

/** The foreign ids a raw row of `kind` names, by the entity that holds them. */
function refsOf(kind: EntityKind, r: Record<string, unknown>, add: (k: RefKind, v: unknown) => void): void {
  const each = (k: RefKind, v: unknown) => (Array.isArray(v) ? v.slice(0, 64).forEach((x) => add(k, x)) : undefined);
  switch (kind) {
    case 'listens':
      add('users', r.user_id);
      add('tracks', r.track_id);
      break;
    case 'follows':
      add('users', r.user_id);
      add('artists', r.artist_id);
      break;
    case 'tracks':
      each('artists', r.artist_ids);
      add('albums', r.album_id);
      break;
    case 'albums':
      each('artists', r.artist_ids);
      break;
    case 'documents':
      add(r.subject_kind === 'artist' ? 'artists' : 'tracks', r.subject_id);
      break;
    default:
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Text a store can keep whatever a client sent: lone surrogates replaced, NUL escaped. */
const storable = (s: string) => s.toWellFormed().replaceAll('\0', '\\u0000');

/**
 * Checks the rows of one request against the validator, with the ids they refer to looked up in
 * the store first. Use: `const c = await RowChecker.open(store, now, [['listens', rows]])`, then
 * `c.check(kind, row)` / `c.accept(…)` per row, then `c.newUsers()` for the users to create.
 */
export class RowChecker {
  private readonly ctx: CheckContext;
  private readonly users = new Set<string>();
  private constructor(
    readonly known: KnownIds,
    now: number,
    private readonly cache: KnownIds,
  ) {
    this.ctx = { now, known };
  }

  /**
   * Look up every catalog id the raw rows name (missing ones stay unknown). Users are not looked
   * up: every user passes, and {@link newUsers} lists those not yet seen, to be stored (a stored
   * one is a duplicate, left unchanged).
   */
  static async open(store: Store, now: number, batches: [EntityKind, readonly unknown[]][]): Promise<RowChecker> {
    let s = seen.get(store);
    const size = (k: KnownIds) => k.users.size + k.artists.size + k.albums.size + k.tracks.size;
    if (!s || size(s.known) > SEEN_CAP) seen.set(store, (s = { known: new KnownIds(), loadedAt: new Map() }));
    const cache = s.known;
    const want = new Map<RefKind, Set<string>>([['users', new Set()], ['artists', new Set()], ['albums', new Set()], ['tracks', new Set()]]);
    for (const [kind, rows] of batches)
      for (const r of rows)
        if (isObject(r))
          refsOf(kind, r, (k, v) => {
            const id = idText(v);
            if (id !== undefined) want.get(k)!.add(id);
          });
    const has = (k: RefKind, id: string) => (k === 'tracks' ? cache.tracks.has(id) : cache[k].has(id));
    for (const k of ['artists', 'albums', 'tracks'] as const) {
      const missing = [...want.get(k)!].filter((id) => !has(k, id));
      if (missing.length > POINT_LOOKUPS && Date.now() - (s.loadedAt.get(k) ?? -Infinity) > 60_000) {
        s.loadedAt.set(k, Date.now());
        for await (const rows of pagesOf(store, k, {}, 50_000)) for (const row of rows) cache.add(k, row as Record<string, unknown>);
        continue;
      }
      for (let i = 0; i < missing.length; i += 64) {
        await Promise.all(
          missing.slice(i, i + 64).map(async (id) => {
            const row = await store.get(k, [id]);
            if (row) cache.add(k, row as Record<string, unknown>);
          }),
        );
      }
    }
    const known = new KnownIds();
    for (const id of want.get('users')!) known.users.add(id);
    for (const [k, ids] of want)
      for (const id of ids) {
        if (k === 'tracks') {
          const d = cache.tracks.get(id);
          if (d !== undefined) known.tracks.set(id, d);
        } else if (k !== 'users' && cache[k].has(id)) known[k].add(id);
      }
    return new RowChecker(known, now, cache);
  }

  /** Check one raw row: its schema, then the import's domain rules. */
  check<K extends EntityKind>(kind: K, value: unknown): { ok: true; row: EntityRow<K> } | { ok: false; field: string | null; code: AnomalyCode; reason: string } {
    if (!isObject(value)) return { ok: false, field: null, code: 'wrong_type', reason: `expected a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}` };
    const r = checkRow(kind, value, this.ctx);
    if (!r.ok) return { ok: false, field: r.field === null ? null : storable(r.field), code: r.code, reason: storable(r.reason) };
    return { ok: true, row: r.row };
  }

  /** Record an accepted row: later rows may refer to it; a listen's or follow's user is remembered for {@link newUsers}. */
  accept(kind: EntityKind, row: Record<string, unknown>): void {
    this.known.add(kind, row);
    if ((kind === 'listens' || kind === 'follows') && !this.cache.users.has(row.user_id as string)) this.users.add(row.user_id as string);
  }

  /** Take back an accepted row's id (its group failed later: a ListenBrainz listen whose artist passed but whose listen did not). */
  forget(kind: 'artists' | 'albums' | 'tracks', id: string): void {
    if (kind === 'artists') this.known.artists.delete(id);
    else if (kind === 'albums') this.known.albums.delete(id);
    else this.known.tracks.delete(id);
  }

  /** Users of accepted rows not seen in the store yet, to be stored before those rows (new listeners are accepted). */
  newUsers(): User[] {
    return [...this.users].map((user_id) => ({ user_id, time_zone: 'UTC' }));
  }

  /** The users of {@link newUsers} are stored now: later batches need not store them again. */
  usersStored(): void {
    for (const u of this.users) this.cache.users.add(u);
  }
}

/** The key of a row as text, for finding repeats inside one batch. */
export function rowKey(kind: EntityKind, row: Record<string, unknown>): string {
  return (entityKeys[kind] as readonly string[]).map((k) => String(row[k])).join('\u0001');
}

/** A quarantine record for a refused row of an HTTP batch (`line` is the 1-based position in the batch). */
export function quarantined(at: { batch: string; entity: string; format: string; file: string; now: Date }, index: number, raw: unknown, r: { field: string | null; code: string; reason: string }): QuarantinedRow {
  let text: string;
  try {
    text = JSON.stringify(raw) ?? 'null';
  } catch (e) {
    text = `(not kept: ${e instanceof Error ? e.message : 'unserialisable'})`; // nested too deep for JSON.stringify
  }
  return { batch: storable(at.batch), entity: at.entity, format: at.format, file: at.file, line: index + 1, field: r.field === null ? null : storable(r.field), code: r.code, reason: storable(r.reason), raw: storable(text), quarantined_at: at.now.toISOString() };
}

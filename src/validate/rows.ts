/**
 * Row checks: the entity's zod schema (the single definition of the format), then the domain rules
 * a schema cannot say (time ranges, play time against the track's length, foreign ids), then the
 * inferred schema's value domains. Every failure names its field and an anomaly code.
 */
import { entitySchemas, isCalendarDay, isStorableText, ISO_INSTANT, MAX_INT32, MAX_OFFSET_MIN, UNKNOWN_RELEASE_DATE, type EntityKind, type EntityRow, type Listen } from '../domain/schemas.ts';
import type { ZodError } from 'zod';
import type { DataSchema } from './schema.ts';

export type AnomalyCode =
  | 'missing' // a required field is absent
  | 'wrong_type' // a field has the wrong type
  | 'invalid_value' // a value breaks its field's rule (pattern, length)
  | 'out_of_range' // a number or time outside its range
  | 'unknown_enum' // a value outside the field's listed or inferred domain
  | 'unknown_id' // a foreign id not in the store nor earlier in the import
  | 'invalid_json'
  | 'invalid_csv'
  | 'encoding'
  | 'line_too_long'
  | 'truncated'
  | 'unsupported' // a record deepcut does not model (a podcast episode): kept, not an anomaly
  | 'store_refused'; // a checked row the store would not hold (a schema/store mismatch: a bug)

export type RowCheck<K extends EntityKind> = { ok: true; row: EntityRow<K> } | { ok: false; field: string | null; code: AnomalyCode; reason: string };

/** Ids the import may refer to: everything stored before it plus every row accepted so far. */
export class KnownIds {
  readonly artists = new Set<string>();
  readonly albums = new Set<string>();
  readonly users = new Set<string>();
  /** Track id → duration in ms, 0 when the duration is a placeholder (track made from a history). */
  readonly tracks = new Map<string, number>();

  /** Record an accepted row's own id. */
  add(kind: EntityKind, row: Record<string, unknown>): void {
    if (kind === 'artists') this.artists.add(row.artist_id as string);
    else if (kind === 'albums') this.albums.add(row.album_id as string);
    else if (kind === 'users') this.users.add(row.user_id as string);
    else if (kind === 'tracks') this.tracks.set(row.track_id as string, row.release_date === UNKNOWN_RELEASE_DATE ? 0 : (row.duration_ms as number));
  }
}

export interface CheckContext {
  /** Now, in ms since the epoch (an injected clock). */
  now: number;
  known: KnownIds;
  /** The stored schema of the entity, when one has been inferred. */
  schema?: DataSchema;
  /** A listen longer than `durationFactor` × the track's duration (and a minute over it) is out of range. Default 3. */
  durationFactor?: number;
}

/** Earliest timestamp accepted: 2000-01-01T00:00:00Z. */
export const MIN_TIME_MS = Date.UTC(2000, 0, 1);
/** Clock skew tolerated for timestamps "in the future": one minute. */
export const FUTURE_SLACK_MS = 60_000;

let memoText = '';
let memoMs = NaN;
/** `Date.parse` remembering its last input: a row's timestamp is checked, range-tested and counted in the statistics, parsed once. */
export function parseTime(s: string): number {
  if (s !== memoText) {
    memoText = s;
    memoMs = Date.parse(s);
  }
  return memoMs;
}

const REASONS = new Set(entitySchemas.listens.shape.reason_end.unwrap().options as readonly string[]);

/** Map a zod error's first issue to an anomaly. */
export function zodAnomaly(error: ZodError, input: unknown): { field: string | null; code: AnomalyCode; reason: string } {
  const issue = error.issues[0];
  const field = issue.path.length ? issue.path.join('.') : null;
  let value: unknown = input;
  for (const p of issue.path) value = value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[p] : undefined;
  let code: AnomalyCode = 'invalid_value';
  if (issue.code === 'invalid_type') code = value === undefined ? 'missing' : 'wrong_type';
  else if (issue.code === 'invalid_value') code = 'unknown_enum';
  else if (issue.code === 'too_small' || issue.code === 'too_big') code = issue.origin === 'number' || issue.origin === 'int' ? 'out_of_range' : 'invalid_value';
  const shown = value === undefined ? '' : `, got ${JSON.stringify(value)?.slice(0, 80)}`;
  return { field, code, reason: code === 'missing' ? 'required field is missing' : `${issue.message}${shown}` };
}

/** A string every store keeps as sent (the domain's `storableText`): well-formed UTF-16, no NUL. */
const storable = (s: unknown): s is string => typeof s === 'string' && isStorableText(s);

const digits2 = (s: string, i: number) => (s.charCodeAt(i) - 48) * 10 + s.charCodeAt(i + 1) - 48;

/**
 * `isIsoInstant` for the hot path, without its match array (4× faster): the regex's shape, then
 * the day, clock and zone offset read from fixed positions. Agrees with `isIsoInstant` (tested
 * through the fast listen check against zod).
 */
function plainInstant(s: string): boolean {
  if (!ISO_INSTANT.test(s)) return false;
  const year = digits2(s, 0) * 100 + digits2(s, 2);
  if (!isCalendarDay(year, digits2(s, 5), digits2(s, 8)) || digits2(s, 11) > 23 || digits2(s, 14) > 59) return false;
  if (s.charCodeAt(16) === 58 && digits2(s, 17) > 59) return false; // ':' then seconds
  const end = s.length;
  if (s.charCodeAt(end - 1) === 90) return true; // 'Z'
  // ±HH:MM or ±HHMM at the end
  const minutes = digits2(s, end - 2);
  const hours = digits2(s, s.charCodeAt(end - 3) === 58 ? end - 5 : end - 4);
  return hours * 60 + minutes <= MAX_OFFSET_MIN;
}

/**
 * A listen checked by hand, for speed on the import hot path; undefined when any field is not
 * plainly valid, and then the zod schema decides (and words the error). Gives exactly what
 * `Listen.parse` gives for the inputs it accepts (tested against it).
 */
export function fastListen(v: Record<string, unknown>): Listen | undefined {
  let { listen_id, user_id, track_id } = v;
  const { started_at, ms_played, reason_end, skipped, context, platform } = v;
  if (!storable(listen_id) || !storable(user_id) || !storable(track_id)) return undefined;
  listen_id = listen_id.trim();
  user_id = user_id.trim();
  track_id = track_id.trim();
  const l1 = (listen_id as string).length, l2 = (user_id as string).length, l3 = (track_id as string).length;
  if (l1 < 1 || l1 > 512 || l2 < 1 || l2 > 512 || l3 < 1 || l3 > 512) return undefined;
  if (typeof started_at !== 'string' || !plainInstant(started_at) || Number.isNaN(parseTime(started_at))) return undefined;
  if (typeof ms_played !== 'number' || !Number.isInteger(ms_played) || ms_played < 0 || ms_played > MAX_INT32) return undefined;
  if (reason_end !== undefined && (typeof reason_end !== 'string' || !REASONS.has(reason_end))) return undefined;
  if (skipped !== undefined && typeof skipped !== 'boolean') return undefined;
  if (context !== undefined && !storable(context)) return undefined;
  if (platform !== undefined && !storable(platform)) return undefined;
  return {
    listen_id: listen_id as string,
    user_id: user_id as string,
    track_id: track_id as string,
    started_at,
    ms_played,
    reason_end: (reason_end ?? 'unknown') as Listen['reason_end'],
    skipped: skipped ?? false,
    context: context ?? 'unknown',
    platform: platform ?? 'unknown',
  };
}

function timeRange(field: string, value: string | undefined, now: number): { field: string; code: AnomalyCode; reason: string } | undefined {
  if (value === undefined) return undefined;
  const t = parseTime(value);
  if (t < MIN_TIME_MS) return { field, code: 'out_of_range', reason: `${value} is before 2000-01-01` };
  if (t > now + FUTURE_SLACK_MS) return { field, code: 'out_of_range', reason: `${value} is in the future (now is ${new Date(now).toISOString()})` };
  return undefined;
}

const unknownId = (field: string, id: string, what: string) => ({ field, code: 'unknown_id' as const, reason: `${what} ${JSON.stringify(id)} is neither in the store nor earlier in this import` });

/** Domain rules of one parsed row; undefined when it passes. */
function domainCheck(kind: EntityKind, r: Record<string, unknown>, ctx: CheckContext): { field: string | null; code: AnomalyCode; reason: string } | undefined {
  const k = ctx.known;
  switch (kind) {
    case 'listens': {
      const bad = timeRange('started_at', r.started_at as string, ctx.now);
      if (bad) return bad;
      if (!k.users.has(r.user_id as string)) return unknownId('user_id', r.user_id as string, 'user');
      const dur = k.tracks.get(r.track_id as string);
      if (dur === undefined) return unknownId('track_id', r.track_id as string, 'track');
      const ms = r.ms_played as number;
      const f = ctx.durationFactor ?? 3;
      if (dur > 0 && ms > f * dur && ms > dur + 60_000) return { field: 'ms_played', code: 'out_of_range', reason: `${ms} ms played is far beyond the track's duration of ${dur} ms` };
      return undefined;
    }
    case 'follows':
      return timeRange('since', r.since as string, ctx.now) ?? (!k.users.has(r.user_id as string) ? unknownId('user_id', r.user_id as string, 'user') : !k.artists.has(r.artist_id as string) ? unknownId('artist_id', r.artist_id as string, 'artist') : undefined);
    case 'albums': {
      for (const a of r.artist_ids as string[]) if (!k.artists.has(a)) return unknownId('artist_ids', a, 'artist');
      return undefined;
    }
    case 'tracks': {
      for (const a of r.artist_ids as string[]) if (!k.artists.has(a)) return unknownId('artist_ids', a, 'artist');
      if (r.album_id !== undefined && !k.albums.has(r.album_id as string)) return unknownId('album_id', r.album_id as string, 'album');
      return undefined;
    }
    case 'users':
      return timeRange('created_at', r.created_at as string | undefined, ctx.now);
    case 'interactions':
      return timeRange('at', r.at as string | undefined, ctx.now);
    case 'documents': {
      const bad = timeRange('published_at', r.published_at as string | undefined, ctx.now);
      if (bad) return bad;
      const id = r.subject_id as string;
      if (r.subject_kind === 'artist' ? !k.artists.has(id) : !k.tracks.has(id)) return unknownId('subject_id', id, r.subject_kind as string);
      return undefined;
    }
    case 'impressions':
      return timeRange('shown_at', r.shown_at as string, ctx.now) ?? (!k.users.has(r.user_id as string) ? unknownId('user_id', r.user_id as string, 'user') : undefined);
    default:
      return undefined;
  }
}

/**
 * Check one input row of `kind`: schema, domain rules, inferred value domains.
 * Example: `checkRow('listens', { …, ms_played: -5 }, ctx)` → `{ ok: false, field: 'ms_played', code: 'out_of_range', … }`.
 */
export function checkRow<K extends EntityKind>(kind: K, value: Record<string, unknown>, ctx: CheckContext): RowCheck<K> {
  let row: Record<string, unknown> | undefined = kind === 'listens' ? fastListen(value) : undefined;
  if (!row) {
    const r = entitySchemas[kind].safeParse(value);
    if (!r.success) return { ok: false, ...zodAnomaly(r.error, value) };
    row = r.data as Record<string, unknown>;
  }
  const bad = domainCheck(kind, row, ctx);
  if (bad) return { ok: false, ...bad };
  if (ctx.schema) {
    for (const f of ctx.schema.domains) {
      const v = row[f.name];
      if (v !== undefined && !f.values.has(String(v))) return { ok: false, field: f.name, code: 'unknown_enum', reason: `${JSON.stringify(v)} is not in the schema's domain for ${f.name} (${[...f.values].slice(0, 10).join(', ')}${f.values.size > 10 ? ', …' : ''}); edit the schema to allow it` };
    }
  }
  return { ok: true, row: row as EntityRow<K> };
}

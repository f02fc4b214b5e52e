/**
 * The domain model and deepcut's own import format: one zod schema per entity. A JSONL line or a
 * CSV row of entity E must parse with `entitySchemas[E]`; everything inside the engine trusts the
 * parsed types. Field names are snake_case, as in the files. Timestamps are ISO 8601 strings with a
 * zone (`2024-05-01T12:00:00Z`); dates are `YYYY-MM-DD`.
 */
import { z } from 'zod';

/**
 * Text every store keeps as it was sent: well-formed UTF-16 (no lone surrogate) without NUL, which
 * PostgreSQL's TEXT refuses. Every string field of the domain is one.
 */
export const isStorableText = (s: string): boolean => s.isWellFormed() && !s.includes('\0');
export const storableText = () => z.string().refine(isStorableText, { message: 'expected text without NUL characters or lone UTF-16 surrogates' });
const id = storableText().trim().min(1).max(512);
/** Largest value of an integer field: the stores keep them as 32-bit integers. */
export const MAX_INT32 = 2_147_483_647;
/** An integer a store column holds, `min` ≤ n ≤ 2^31 − 1. */
const int32 = (min = 0) => z.number().int().min(min).max(MAX_INT32);

/** Whether year-month-day names a real day of the proleptic Gregorian calendar, years 1–9999. */
export function isCalendarDay(year: number, month: number, day: number): boolean {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return day <= days;
}
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const isoDate = z.string().refine(
  (s) => {
    const m = ISO_DATE.exec(s);
    return m !== null && isCalendarDay(Number(m[1]), Number(m[2]), Number(m[3]));
  },
  { message: 'expected a calendar date YYYY-MM-DD (years 0001–9999)' },
);
/**
 * An instant as the domain accepts it: `YYYY-MM-DD[T ]HH:MM[:SS[.f…]]` then `Z` or `±HH[:]MM`.
 * Groups: year, month, day, hour, minute, second?, fraction?, `Z`?, sign?, offset hours?, offset minutes?
 */
export const ISO_INSTANT = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?(?:(Z)|([+-])(\d\d):?(\d\d))$/;
/** Largest zone offset accepted, in minutes (±15:59, PostgreSQL's limit; real zones span −12:00 to +14:00). */
export const MAX_OFFSET_MIN = 15 * 60 + 59;
/** Whether `s` is an instant in the domain's form naming a real moment (calendar day, 00:00–23:59:59, offset within ±15:59). */
export function isIsoInstant(s: string): boolean {
  const m = ISO_INSTANT.exec(s);
  if (!m || !isCalendarDay(Number(m[1]), Number(m[2]), Number(m[3]))) return false;
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6] ?? 0) > 59) return false;
  if (!m[8] && Number(m[10]) * 60 + Number(m[11]) > MAX_OFFSET_MIN) return false;
  return true;
}
const isoTimestamp = z.string().refine(isIsoInstant, {
  message: 'expected an ISO 8601 timestamp with a zone, e.g. 2024-05-01T12:00:00Z (years 0001–9999, offset within ±15:59)',
});

/** IANA time zone names that this Node's Intl knows, e.g. `Europe/Berlin`. */
const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected an IANA time zone such as Europe/Berlin' },
);

/**
 * Release date given to tracks and albums created from a listening history (or a scrobble), which does not say
 * when they were released. It also marks a track whose `duration_ms` is a guess, so validation
 * does not compare `ms_played` against it.
 */
export const UNKNOWN_RELEASE_DATE = '1900-01-01';

export const AlbumType = z.enum(['album', 'single', 'ep', 'compilation']);
export type AlbumType = z.infer<typeof AlbumType>;

/** Why a stream ended, after Spotify's `reason_end` values. */
export const ReasonEnd = z.enum(['trackdone', 'fwdbtn', 'backbtn', 'endplay', 'logout', 'remote', 'clickrow', 'playbtn', 'trackerror', 'unexpected-exit', 'unknown']);
export type ReasonEnd = z.infer<typeof ReasonEnd>;

export const Artist = z.object({
  artist_id: id,
  name: storableText().min(1),
  genres: z.array(storableText()).default([]),
  country: storableText().length(2).optional(),
  mbid: storableText().optional(),
});
export type Artist = z.infer<typeof Artist>;

export const Album = z.object({
  album_id: id,
  title: storableText().min(1),
  artist_ids: z.array(id).min(1),
  release_date: isoDate,
  album_type: AlbumType.default('album'),
});
export type Album = z.infer<typeof Album>;

export const Track = z.object({
  track_id: id,
  title: storableText().min(1),
  album_id: id.optional(),
  artist_ids: z.array(id).min(1),
  duration_ms: int32(1),
  release_date: isoDate,
  isrc: z.string().regex(/^[A-Z]{2}[A-Z0-9]{3}\d{7}$/, 'expected a 12-character ISRC').optional(),
  /** Path or URI of the audio file, relative paths resolved against the import file's folder. */
  audio_path: storableText().optional(),
  /** MusicBrainz recording id: submitted listens that carry it match this track first. */
  mbid: storableText().optional(),
});
export type Track = z.infer<typeof Track>;

export const User = z.object({
  user_id: id,
  time_zone: timeZone.default('UTC'),
  country: storableText().length(2).optional(),
  created_at: isoTimestamp.optional(),
});
export type User = z.infer<typeof User>;

export const Follow = z.object({
  user_id: id,
  artist_id: id,
  since: isoTimestamp,
});
export type Follow = z.infer<typeof Follow>;

/**
 * One stream of a track. `context` says where it was started from: `home:<shelf>:<card>`,
 * `playlist:<id>`, `album:<id>`, `artist:<id>`, `radio:<seed>`, `search`, `library`, `unknown`.
 */
export const Listen = z.object({
  listen_id: id,
  user_id: id,
  track_id: id,
  started_at: isoTimestamp,
  ms_played: int32(),
  reason_end: ReasonEnd.default('unknown'),
  skipped: z.boolean().default(false),
  context: storableText().default('unknown'),
  platform: storableText().default('unknown'),
});
export type Listen = z.infer<typeof Listen>;

/**
 * An aggregated interaction: `weight` plays (or any positive strength) of a user with an item,
 * for sources that only have counts (HetRec Last.fm play counts, generic `user,item,weight` CSVs).
 * `item_kind` says whether the item is a track or an artist.
 */
export const Interaction = z.object({
  user_id: id,
  item_id: id,
  item_kind: z.enum(['track', 'artist']).default('track'),
  weight: z.number().positive().finite(),
  at: isoTimestamp.optional(),
});
export type Interaction = z.infer<typeof Interaction>;

/** Text written about an artist or a track: a review, a blog post, a bio, a tag. */
export const Document = z.object({
  document_id: id,
  subject_kind: z.enum(['artist', 'track']),
  subject_id: id,
  source: storableText().default('unknown'),
  url: storableText().optional(),
  title: storableText().optional(),
  body: storableText(),
  published_at: isoTimestamp.optional(),
});
export type Document = z.infer<typeof Document>;

/**
 * One card shown on a home page (or a position of a recommendation widget), logged with the
 * propensity the policy gave it. Logged bandit feedback from elsewhere (the Open Bandit Dataset)
 * also carries the observed `reward` (a click) and the request's `features` (a JSON object: user
 * features as the log gives them); deepcut's own home page leaves both out (its rewards are the
 * streams its cards start, joined from listens).
 */
export const Impression = z.object({
  request_id: id,
  user_id: id,
  shelf: storableText().min(1),
  card: storableText().min(1),
  slot: int32(),
  policy: storableText().min(1),
  propensity: z.number().gt(0).lte(1),
  shown_at: isoTimestamp,
  reward: z.number().min(0).max(1e9).optional(),
  features: storableText().max(65536).optional(),
});
export type Impression = z.infer<typeof Impression>;

export const entitySchemas = {
  artists: Artist,
  albums: Album,
  tracks: Track,
  users: User,
  follows: Follow,
  listens: Listen,
  interactions: Interaction,
  documents: Document,
  impressions: Impression,
} as const;

export type EntityKind = keyof typeof entitySchemas;
export type EntityRow<K extends EntityKind> = z.infer<(typeof entitySchemas)[K]>;
export const entityKinds = Object.keys(entitySchemas) as EntityKind[];

/** The field(s) that identify a row of each entity; a second row with the same key is a duplicate. */
export const entityKeys: { [K in EntityKind]: readonly (keyof EntityRow<K>)[] } = {
  artists: ['artist_id'],
  albums: ['album_id'],
  tracks: ['track_id'],
  users: ['user_id'],
  follows: ['user_id', 'artist_id'],
  listens: ['listen_id'],
  interactions: ['user_id', 'item_kind', 'item_id'],
  documents: ['document_id'],
  impressions: ['request_id', 'slot'],
};

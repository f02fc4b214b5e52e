/**
 * ListenBrainz `POST /1/submit-listens` compatibility: the request body schema and the mapping of
 * a submitted listen to deepcut rows. The mapping is the importer's: each listen is read by
 * `lbNamedListen` and resolved by the ingest stage's `ListenResolver` against the live catalog
 * (see src/ingest/identity.ts), so a listen sent here and the same listen imported from a
 * ListenBrainz export have the same `listen_id` and `track_id` — the second is a duplicate:
 *
 * - listen: `listen:<hash(user, listened_at, hash(artist, title))>`
 * - track:  the catalog track it matches (recording MBID, ISRC, then normalised artist + title +
 *   duration), else a created `track:<hash(artist, title)>` (release date 1900-01-01, unknown;
 *   duration 1 ms when none was sent), linked to the catalog track when the catalog gains it
 * - artist of a created track: the catalog artist (MBID, then name), else `artist:<hash(name)>`
 *
 * `ms_played` is the track's duration when known, else `signals.minStreamMs` (ListenBrainz counts
 * a listen after 4 minutes or half the track: a full play). See
 * https://listenbrainz.readthedocs.io/en/latest/users/json.html
 */
import { z } from 'zod';
import { storableText, type Album, type Artist, type Listen, type Track } from '../domain/schemas.ts';
import { lbNamedListen, ListenResolver, TrackMatcher, type MatchOutcome } from '../ingest/index.ts';
import { defaultConfidence } from '../signals/index.ts';

/** Names as ListenBrainz takes them, in text every store can keep (no NUL, no lone surrogate). */
const text = storableText().trim().min(1).max(1024);
const mbid = storableText().max(64);

export const LbAdditionalInfo = z
  .looseObject({
    duration_ms: z.number().int().positive().max(86_400_000).optional(),
    duration: z.number().int().positive().max(86_400).optional(),
    recording_mbid: mbid.optional(),
    isrc: storableText().max(32).optional(),
    release_mbid: mbid.optional(),
    artist_mbids: z.array(mbid).max(32).optional(),
    listening_from: storableText().max(256).optional(),
    media_player: storableText().max(256).optional(),
    submission_client: storableText().max(256).optional(),
  })
  .describe('ListenBrainz additional_info; unknown keys are accepted and ignored');

/** One listen of a submission. `listened_at` is required except in `playing_now` (checked by the route). */
export const LbListen = z.object({
  listened_at: z.number().int().min(0).max(4_102_444_800).optional().describe('seconds since the epoch, UTC; absent for playing_now; before 2000 or in the future is refused'),
  track_metadata: z.object({
    artist_name: text,
    track_name: text,
    release_name: storableText().max(1024).optional(),
    additional_info: LbAdditionalInfo.optional(),
  }),
});
export type LbListen = z.infer<typeof LbListen>;

export const LbListenType = z.enum(['single', 'playing_now', 'import']);

/**
 * The envelope of `POST /1/submit-listens`: the listen type and 1–1000 listens, each checked on
 * its own by the route (an `import` stores the good listens and lists the bad ones). A body that
 * is not this envelope is a 400.
 */
export const LbEnvelope = z
  .object({
    listen_type: LbListenType,
    payload: z.array(z.unknown()).min(1).max(1000),
  })
  .superRefine((s, ctx) => {
    if (s.listen_type !== 'import' && s.payload.length !== 1) ctx.addIssue({ code: 'custom', path: ['payload'], message: `listen_type ${s.listen_type} takes exactly one listen, got ${s.payload.length}` });
  });

/** The submission as documented (the spec's request body): the envelope with its listens' shape. */
export const LbSubmission = z
  .object({
    listen_type: LbListenType,
    payload: z.array(LbListen).min(1).max(1000),
  })
  .superRefine((s, ctx) => {
    if (s.listen_type !== 'import' && s.payload.length !== 1) ctx.addIssue({ code: 'custom', path: ['payload'], message: `listen_type ${s.listen_type} takes exactly one listen, got ${s.payload.length}` });
    if (s.listen_type !== 'playing_now')
      s.payload.forEach((l, i) => {
        if (l.listened_at === undefined) ctx.addIssue({ code: 'custom', path: ['payload', i, 'listened_at'], message: `listened_at is required for listen_type ${s.listen_type}` });
      });
  });
export type LbSubmission = z.infer<typeof LbSubmission>;

export interface LbRows {
  listens: Listen[];
  artists: Artist[];
  albums: Album[];
  tracks: Track[];
  /** Listens by how their track resolved (matched to the catalog by mbid, isrc, name; an earlier created track; created). */
  outcomes: Record<MatchOutcome, number>;
}

/**
 * Rows for a submission by `user`, resolved against `catalog` (the live catalog's matcher).
 * `playing_now` yields no listen (and no catalog rows): it is a notification, not a listen.
 * `minStreamMs` is the fallback `ms_played` when no duration is sent. The rows created here are
 * not added to `catalog`: the caller adds them once they are stored.
 */
export function lbToRows(user: string, s: LbSubmission, minStreamMs = defaultConfidence.minStreamMs, catalog: TrackMatcher = new TrackMatcher()): LbRows {
  const created = new TrackMatcher();
  const resolver = new ListenResolver([catalog, created], created);
  const out: LbRows = { listens: [], artists: [], albums: [], tracks: [], outcomes: resolver.counts };
  if (s.listen_type === 'playing_now') return out;
  for (const l of s.payload) {
    const r = resolver.resolve(lbNamedListen(user, l.listened_at!, l.track_metadata, minStreamMs));
    if (r.artist) out.artists.push({ genres: [], ...r.artist });
    if (r.album) out.albums.push({ album_type: 'album', ...r.album });
    if (r.track) out.tracks.push(r.track);
    out.listens.push(r.listen as Listen);
  }
  return out;
}

/**
 * ListenBrainz `POST /1/submit-listens` compatibility: the request body schema and the mapping of
 * a submitted listen to deepcut rows (a Listen, plus the Artist and Track it names, so unknown
 * tracks enter the catalog). Ids are deterministic, so a resubmitted listen is a duplicate:
 *
 * - artist: `mbid:<first artist_mbid>` when given, else `lb-artist:<sha1(normalised name)[:16]>`
 * - track:  `mbid:<recording_mbid>` when given, else `lb-track:<sha1(artist \t track)[:16]>`
 * - listen: `lb:<sha1(user \t listened_at \t track_id)[:20]>`
 *
 * Names are normalised (NFKC, lower case, whitespace collapsed) before hashing. ListenBrainz
 * counts a listen after 4 minutes or half the track, so a listen is a full play: `ms_played` is
 * the track's duration when known, else 30 s (the stream threshold). A track created here has
 * release date 1970-01-01 (unknown: never inside a Release Radar window) and duration 1 ms when
 * none was sent. See https://listenbrainz.readthedocs.io/en/latest/users/json.html
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { storableText, type Artist, type Listen, type Track } from '../domain/schemas.ts';

/** Names as ListenBrainz takes them, in text every store can keep (no NUL, no lone surrogate). */
const text = storableText().trim().min(1).max(1024);
const mbid = storableText().max(64);

export const LbAdditionalInfo = z
  .looseObject({
    duration_ms: z.number().int().positive().max(86_400_000).optional(),
    duration: z.number().int().positive().max(86_400).optional(),
    recording_mbid: mbid.optional(),
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

const norm = (s: string) => s.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
const sha1 = (s: string, n: number) => createHash('sha1').update(s).digest('hex').slice(0, n);

/** Deterministic artist id for a ListenBrainz artist (see the module comment). */
export function lbArtistId(name: string, mbid?: string): string {
  return mbid ? `mbid:${mbid.toLowerCase()}` : `lb-artist:${sha1(norm(name), 16)}`;
}

/** Deterministic track id for a ListenBrainz recording (see the module comment). */
export function lbTrackId(artistName: string, trackName: string, recordingMbid?: string): string {
  return recordingMbid ? `mbid:${recordingMbid.toLowerCase()}` : `lb-track:${sha1(norm(artistName) + '\t' + norm(trackName), 16)}`;
}

export interface LbRows {
  listens: Listen[];
  artists: Artist[];
  tracks: Track[];
}

/**
 * Rows for a submission by `user`. `playing_now` yields no listen (and no catalog rows): it is a
 * notification, not a listen. `minStreamMs` is the fallback `ms_played` when no duration is sent.
 */
export function lbToRows(user: string, s: LbSubmission, minStreamMs = 30_000): LbRows {
  const out: LbRows = { listens: [], artists: [], tracks: [] };
  if (s.listen_type === 'playing_now') return out;
  const seenArtist = new Set<string>();
  const seenTrack = new Set<string>();
  for (const l of s.payload) {
    const m = l.track_metadata;
    const info = m.additional_info ?? {};
    const artist_id = lbArtistId(m.artist_name, info.artist_mbids?.[0]);
    const track_id = lbTrackId(m.artist_name, m.track_name, info.recording_mbid);
    const duration = info.duration_ms ?? (info.duration !== undefined ? info.duration * 1000 : undefined);
    if (!seenArtist.has(artist_id)) {
      seenArtist.add(artist_id);
      out.artists.push({ artist_id, name: m.artist_name, genres: [], ...(info.artist_mbids?.[0] ? { mbid: info.artist_mbids[0] } : {}) });
    }
    if (!seenTrack.has(track_id)) {
      seenTrack.add(track_id);
      out.tracks.push({ track_id, title: m.track_name, artist_ids: [artist_id], duration_ms: duration ?? 1, release_date: '1970-01-01' });
    }
    const started = new Date(l.listened_at! * 1000).toISOString();
    out.listens.push({
      listen_id: `lb:${sha1(`${user}\t${l.listened_at}\t${track_id}`, 20)}`,
      user_id: user,
      track_id,
      started_at: started,
      ms_played: duration ?? minStreamMs,
      reason_end: 'trackdone',
      skipped: false,
      context: 'unknown',
      platform: info.media_player ?? info.listening_from ?? info.submission_client ?? 'listenbrainz',
    });
  }
  return out;
}

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
import type { Artist, Listen, Track } from '../domain/schemas.ts';

const text = z.string().trim().min(1).max(1024);

export const LbAdditionalInfo = z
  .looseObject({
    duration_ms: z.number().int().positive().max(86_400_000).optional(),
    duration: z.number().int().positive().max(86_400).optional(),
    recording_mbid: z.string().max(64).optional(),
    release_mbid: z.string().max(64).optional(),
    artist_mbids: z.array(z.string().max(64)).max(32).optional(),
    listening_from: z.string().max(256).optional(),
    media_player: z.string().max(256).optional(),
    submission_client: z.string().max(256).optional(),
  })
  .describe('ListenBrainz additional_info; unknown keys are accepted and ignored');

export const LbListen = z.object({
  listened_at: z.number().int().min(0).max(4_102_444_800).optional().describe('seconds since the epoch, UTC; absent for playing_now'),
  track_metadata: z.object({
    artist_name: text,
    track_name: text,
    release_name: z.string().max(1024).optional(),
    additional_info: LbAdditionalInfo.optional(),
  }),
});

export const LbSubmission = z
  .object({
    listen_type: z.enum(['single', 'playing_now', 'import']),
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

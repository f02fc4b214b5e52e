/**
 * Shared by the listening-history formats (Spotify, ListenBrainz): turn one stream described by
 * names into an artist, an album, a track, a user and a listen with deterministic ids, each
 * catalog row sent once per import.
 */
import { isIsoInstant, MAX_INT32, type ReasonEnd } from '../../domain/schemas.ts';
import { albumIdOf, artistIdOf, listenIdOf, trackIdOf, UNKNOWN_RELEASE_DATE } from '../derive.ts';
import type { Sink } from './types.ts';

export interface NamedStream {
  user: string;
  artist: string;
  track: string;
  album?: string;
  artistMbid?: string;
  /** When the stream started, ms since the epoch. */
  startedMs: number;
  /** The source's own timestamp text, part of the listen id (stable across re-imports). */
  stamp: string;
  msPlayed: number;
  durationMs?: number;
  reasonEnd?: ReasonEnd | string;
  skipped?: boolean;
  platform?: string;
  context?: string;
}

/** The source's own field names, so a rejected stream names the field of the file, not of deepcut's rows. */
export interface StreamFields {
  time: string;
  msPlayed: string;
  artist: string;
  track: string;
  album?: string;
  platform?: string;
  duration?: string;
}

/** `ms` since the epoch as an ISO 8601 instant, undefined when no calendar date of years 0001–9999 is that far (never throws). */
export function isoOfMs(ms: number): string | undefined {
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return undefined;
  const iso = new Date(ms).toISOString();
  return isIsoInstant(iso) ? iso : undefined;
}

const storable = (s: string) => s.isWellFormed() && !s.includes('\0');

/**
 * What is wrong with a stream before any row is made from it: a time or play time out of what
 * the domain holds, text a store cannot keep. One reject naming the source's field, instead of
 * a catalog row quarantined and the listen after it refused for an unknown id.
 */
function streamProblem(s: NamedStream, f: StreamFields): { field: string; code: string; reason: string } | undefined {
  if (!Number.isInteger(s.msPlayed) || s.msPlayed < 0 || s.msPlayed > MAX_INT32) return { field: f.msPlayed, code: 'out_of_range', reason: `expected whole milliseconds 0..${MAX_INT32}, got ${s.msPlayed}` };
  if (s.durationMs !== undefined && !(Number.isFinite(s.durationMs) && Math.round(s.durationMs) <= MAX_INT32)) return { field: f.duration ?? f.msPlayed, code: 'out_of_range', reason: `expected a track length 0..${MAX_INT32} ms, got ${s.durationMs}` };
  if (isoOfMs(s.startedMs) === undefined) return { field: f.time, code: 'out_of_range', reason: `${JSON.stringify(s.stamp)} (minus the play time) is not a time of years 0001–9999` };
  const text: [string | undefined, string | undefined][] = [[s.artist, f.artist], [s.track, f.track], [s.album, f.album], [s.platform, f.platform]];
  for (const [v, field] of text) if (v !== undefined && !storable(v)) return { field: field ?? f.track, code: 'invalid_value', reason: 'expected text without NUL characters or lone UTF-16 surrogates' };
  return undefined;
}

/** Emits catalog rows the first time an id is seen in this import, and the listen every time. */
export class HistoryEmitter {
  private readonly seen = new Set<string>();

  constructor(private readonly fields: StreamFields) {}

  emit(s: NamedStream, out: Sink): void {
    const bad = streamProblem(s, this.fields);
    if (bad) {
      out.reject('listens', bad.field, bad.code, bad.reason);
      return;
    }
    const artistId = artistIdOf(s.artist);
    const trackId = trackIdOf(s.artist, s.track);
    const albumId = s.album ? albumIdOf(s.artist, s.album) : undefined;
    if (!this.seen.has(s.user)) {
      this.seen.add(s.user);
      out.row('users', { user_id: s.user });
    }
    if (!this.seen.has(artistId)) {
      this.seen.add(artistId);
      out.row('artists', s.artistMbid ? { artist_id: artistId, name: s.artist.trim(), mbid: s.artistMbid } : { artist_id: artistId, name: s.artist.trim() });
    }
    if (albumId && !this.seen.has(albumId)) {
      this.seen.add(albumId);
      out.row('albums', { album_id: albumId, title: s.album!.trim(), artist_ids: [artistId], release_date: UNKNOWN_RELEASE_DATE });
    }
    if (!this.seen.has(trackId)) {
      this.seen.add(trackId);
      const row: Record<string, unknown> = {
        track_id: trackId,
        title: s.track.trim(),
        artist_ids: [artistId],
        // a history does not give the length: the known one, else a placeholder (>= 1) marked by the unknown release date
        duration_ms: s.durationMs && s.durationMs > 0 ? Math.round(s.durationMs) : Math.max(1, Math.round(s.msPlayed) || 1),
        release_date: UNKNOWN_RELEASE_DATE,
      };
      if (albumId) row.album_id = albumId;
      out.row('tracks', row);
    }
    const listen: Record<string, unknown> = {
      listen_id: listenIdOf(s.user, s.stamp, trackId),
      user_id: s.user,
      track_id: trackId,
      started_at: isoOfMs(s.startedMs),
      ms_played: s.msPlayed,
    };
    if (s.reasonEnd !== undefined) listen.reason_end = s.reasonEnd;
    if (s.skipped !== undefined) listen.skipped = s.skipped;
    if (s.platform !== undefined) listen.platform = s.platform;
    if (s.context !== undefined) listen.context = s.context;
    out.row('listens', listen);
  }
}

/**
 * Shared by the listening-history formats (Spotify, ListenBrainz): turn one stream described by
 * names into an artist, an album, a track, a user and a listen with deterministic ids, each
 * catalog row sent once per import.
 */
import type { ReasonEnd } from '../../domain/schemas.ts';
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

/** Emits catalog rows the first time an id is seen in this import, and the listen every time. */
export class HistoryEmitter {
  private readonly seen = new Set<string>();

  emit(s: NamedStream, out: Sink): void {
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
      started_at: Number.isFinite(s.startedMs) ? new Date(s.startedMs).toISOString() : s.stamp,
      ms_played: s.msPlayed,
    };
    if (s.reasonEnd !== undefined) listen.reason_end = s.reasonEnd;
    if (s.skipped !== undefined) listen.skipped = s.skipped;
    if (s.platform !== undefined) listen.platform = s.platform;
    if (s.context !== undefined) listen.context = s.context;
    out.row('listens', listen);
  }
}

/**
 * One identity for a listen, whatever door it came in by. Every source that names tracks instead
 * of giving catalog ids — `deepcut import spotify-history` and `listenbrainz`, and the HTTP
 * `POST /1/submit-listens` — turns a {@link NamedListen} into rows through {@link ListenResolver},
 * so the same stream gets the same ids everywhere:
 *
 * - listen: `listen:<hash(user, stamp, trackIdOf(artist, title))>`. The stamp is the source's own
 *   time (ListenBrainz: `listened_at` in whole seconds, by HTTP or from an export; Spotify: `ts`).
 *   It hashes the *named* track, not the catalog track it resolved to, so the id does not depend
 *   on the catalog at the time: a listen sent twice (or once by HTTP and once in an export) is one
 *   listen, a duplicate the second time.
 * - track: the catalog track the names resolve to ({@link TrackMatcher}: recording MBID, ISRC,
 *   then normalised artist + title, duration within a tolerance), else a track created as
 *   `track:<hash(artist, title)>` with release date {@link UNKNOWN_RELEASE_DATE}.
 * - artist (of a created track): the catalog artist the name or MBID resolves to, else
 *   `artist:<hash(artist)>`; album: `album:<hash(artist, album)>`.
 *
 * A created ("named") track is linked to the catalog later, when the catalog gains it: see
 * {@link TrackMatcher.links}, which the pipeline's snapshot applies on every run.
 */
import { createHash } from 'node:crypto';
import { isIsoInstant, type Album, type Artist, type ReasonEnd, type Track } from '../domain/schemas.ts';
import { TrackMatcher, UNKNOWN_DURATION_MS, UNKNOWN_RELEASE_DATE, type MatchOutcome } from '../domain/match.ts';

export { UNKNOWN_DURATION_MS, UNKNOWN_RELEASE_DATE };

/** Case-, space- and Unicode-form-insensitive key of a name, for ids: `"  Daft  Punk "` → `daft punk`. */
export function normName(s: string): string {
  return s.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/** 16 characters of base64url SHA-1 of the parts joined with U+001F. */
export function hashId(...parts: string[]): string {
  return createHash('sha1').update(parts.join('\u001f')).digest('base64url').slice(0, 16);
}

/** `artist:<hash of the normalised name>`. */
export const artistIdOf = (artist: string) => `artist:${hashId(normName(artist))}`;
/** `album:<hash of artist and album names>`. */
export const albumIdOf = (artist: string, album: string) => `album:${hashId(normName(artist), normName(album))}`;
/** `track:<hash of artist and track names>`: the id a named track gets when it is created. */
export const trackIdOf = (artist: string, track: string) => `track:${hashId(normName(artist), normName(track))}`;
/** `listen:<hash of user, timestamp and named track id>`: the same stream read twice gets the same id. */
export const listenIdOf = (user: string, stamp: string, namedTrackId: string) => `listen:${hashId(user, stamp, namedTrackId)}`;

/** `ms` since the epoch as an ISO 8601 instant, undefined when no calendar date of years 0001–9999 is that far (never throws). */
export function isoOfMs(ms: number): string | undefined {
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return undefined;
  const iso = new Date(ms).toISOString();
  return isIsoInstant(iso) ? iso : undefined;
}

/** One stream described by names, as every history format and the ListenBrainz route read it. */
export interface NamedListen {
  user: string;
  artist: string;
  track: string;
  album?: string;
  /** MusicBrainz ids of the credited artists (ListenBrainz `artist_mbids`). */
  artistMbids?: string[];
  /** MusicBrainz recording id. */
  recordingMbid?: string;
  isrc?: string;
  /** When the stream started, ms since the epoch. */
  startedMs: number;
  /** The source's own timestamp text, part of the listen id (stable across re-imports and doors). */
  stamp: string;
  msPlayed: number;
  /** The track's length when the source says it. */
  durationMs?: number;
  reasonEnd?: ReasonEnd | string;
  skipped?: boolean;
  platform?: string;
  context?: string;
}

/** Rows for one named listen: the listen, and the catalog rows created for it (first time only). */
export interface ResolvedListen {
  outcome: MatchOutcome;
  /** Not yet checked: a source may send values the schema refuses (an unknown `reason_end`), which the importer quarantines. */
  listen: Record<string, unknown>;
  artist?: Pick<Artist, 'artist_id' | 'name' | 'mbid'>;
  album?: Pick<Album, 'album_id' | 'title' | 'artist_ids' | 'release_date'>;
  track?: Track;
}

const ISRC = /^[A-Z]{2}[A-Z0-9]{3}\d{7}$/;
/** An ISRC in the stored form (`us-rc1-76-07839` → `USRC17607839`), or undefined when it is not one. */
export function cleanIsrc(s: string | undefined): string | undefined {
  const v = s?.replace(/[\s-]/g, '').toUpperCase();
  return v && ISRC.test(v) ? v : undefined;
}

/**
 * Resolves named listens to rows. `lookup` matchers are asked in order (e.g. the live catalog,
 * then what this request created); tracks and artists it creates are added to `learn`, so a later
 * listen of the same track in another spelling resolves to the created one. Created rows are
 * returned once per resolver.
 */
export class ListenResolver {
  private readonly sent = new Set<string>();
  /**
   * The track each exact description resolved to (histories repeat their tracks: a year of
   * streams names a few thousand tracks), so a repeat costs one Map get. Valid because the
   * matchers only gain tracks while a resolver lives, and what was matched stays matched.
   */
  private readonly cache = new Map<string, { track_id: string; outcome: MatchOutcome }>();
  readonly counts: Record<MatchOutcome, number> = { mbid: 0, isrc: 0, name: 0, history: 0, created: 0 };

  constructor(
    private readonly lookup: readonly TrackMatcher[],
    private readonly learn: TrackMatcher,
  ) {}

  resolve(s: NamedListen): ResolvedListen {
    const named = trackIdOf(s.artist, s.track);
    const duration = s.durationMs !== undefined && s.durationMs > 0 ? Math.round(s.durationMs) : undefined;
    const isrc = cleanIsrc(s.isrc);
    const query = { artist: s.artist, artistMbids: s.artistMbids, title: s.track, release: s.album, durationMs: duration, isrc, mbid: s.recordingMbid };
    const cacheKey = [s.artist, s.track, s.album ?? '', duration ?? '', isrc ?? '', s.recordingMbid ?? '', ...(s.artistMbids ?? [])].join('\u001f');
    let hit = this.cache.get(cacheKey);
    for (const m of hit ? [] : this.lookup) {
      const h = m.resolve(query);
      if (h && (!hit || (hit.outcome === 'history' && h.outcome !== 'history'))) hit = h;
      if (hit && hit.outcome !== 'history') break;
    }
    const out: ResolvedListen = { outcome: hit?.outcome ?? 'created', listen: {} };
    let trackId = hit?.track_id;
    if (!trackId) {
      trackId = named;
      const artistId = this.artistFor(s);
      if (!this.sent.has(artistId)) {
        this.sent.add(artistId);
        if (!this.knownArtist(artistId)) {
          out.artist = s.artistMbids?.length === 1 ? { artist_id: artistId, name: s.artist.trim(), mbid: s.artistMbids[0] } : { artist_id: artistId, name: s.artist.trim() };
          this.learn.addArtists([out.artist]);
        } else if (!this.learn.hasArtist(artistId)) this.learn.addArtists([{ artist_id: artistId, name: s.artist.trim() }]); // so `learn` finds the tracks it gets by this artist
      }
      const albumId = s.album?.trim() ? albumIdOf(s.artist, s.album) : undefined;
      if (albumId && !this.sent.has(albumId)) {
        this.sent.add(albumId);
        out.album = { album_id: albumId, title: s.album!.trim(), artist_ids: [artistId], release_date: UNKNOWN_RELEASE_DATE };
        this.learn.addAlbums([out.album]);
      }
      if (!this.sent.has(trackId)) {
        this.sent.add(trackId);
        const row: Track = {
          track_id: trackId,
          title: s.track.trim(),
          artist_ids: [artistId],
          duration_ms: duration ?? UNKNOWN_DURATION_MS,
          release_date: UNKNOWN_RELEASE_DATE,
        };
        if (albumId) row.album_id = albumId;
        if (isrc) row.isrc = isrc;
        if (s.recordingMbid) row.mbid = s.recordingMbid.toLowerCase();
        out.track = row;
        this.learn.addTracks([row]);
      }
    }
    this.counts[out.outcome]++;
    if (!this.cache.has(cacheKey)) this.cache.set(cacheKey, { track_id: trackId, outcome: out.outcome === 'created' ? 'history' : out.outcome });
    const listen: Record<string, unknown> = {
      listen_id: listenIdOf(s.user, s.stamp, named),
      user_id: s.user,
      track_id: trackId,
      started_at: isoOfMs(s.startedMs) ?? s.stamp, // a time no date holds stays text, which the schema refuses
      ms_played: s.msPlayed,
    };
    if (s.reasonEnd !== undefined) listen.reason_end = s.reasonEnd;
    if (s.skipped !== undefined) listen.skipped = s.skipped;
    if (s.platform !== undefined) listen.platform = s.platform;
    if (s.context !== undefined) listen.context = s.context;
    out.listen = listen;
    return out;
  }

  /** The artist of a created track: a known artist by MBID, then by name (whole, then the first credited), else a new id. */
  private artistFor(s: NamedListen): string {
    for (const m of this.lookup) {
      const a = m.resolveArtist(s.artist, s.artistMbids);
      if (a) return a;
    }
    return artistIdOf(s.artist);
  }

  private knownArtist(id: string): boolean {
    return this.lookup.some((m) => m.hasArtist(id));
  }
}

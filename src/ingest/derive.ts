/**
 * Deterministic ids for catalog entries that sources only name (Spotify and ListenBrainz histories
 * carry artist and track names, not catalog ids). The same names give the same ids in every file
 * and every format, so histories from several exports link up.
 */
import { createHash } from 'node:crypto';

export { UNKNOWN_RELEASE_DATE } from '../domain/schemas.ts';

/** Case-, space- and Unicode-form-insensitive key of a name: `"  Daft  Punk "` → `daft punk`. */
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
/** `track:<hash of artist and track names>`. */
export const trackIdOf = (artist: string, track: string) => `track:${hashId(normName(artist), normName(track))}`;
/** `listen:<hash of user, timestamp and track>`: the same stream read twice gets the same id. */
export const listenIdOf = (user: string, ts: string, trackId: string) => `listen:${hashId(user, ts, trackId)}`;

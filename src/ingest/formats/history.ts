/**
 * Shared by the listening-history formats (Spotify, ListenBrainz): each stream described by names
 * goes through the one {@link ListenResolver} (see `identity.ts`) — the listen id, the catalog
 * track it matches or the track, artist and album created for it — and the rows go to the sink,
 * each catalog row once per import.
 */
import { isoOfMs, ListenResolver, type NamedListen } from '../identity.ts';
import { isStorableText, MAX_INT32 } from '../../domain/schemas.ts';
import { MATCH_OUTCOMES, TrackMatcher } from '../../domain/match.ts';
import type { Sink } from './types.ts';

export type NamedStream = NamedListen;

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
  for (const [v, field] of text) if (v !== undefined && !isStorableText(v)) return { field: field ?? f.track, code: 'invalid_value', reason: 'expected text without NUL characters or lone UTF-16 surrogates' };
  return undefined;
}

/** Emits the user and created catalog rows the first time they are seen in this import, and the listen every time. */
export class HistoryEmitter {
  private readonly users = new Set<string>();
  private readonly resolver: ListenResolver;

  /** `matcher`: the store's catalog, shared by every file of the import (tracks created here are added to it). */
  constructor(
    private readonly fields: StreamFields,
    matcher: TrackMatcher = new TrackMatcher(),
  ) {
    this.resolver = new ListenResolver([matcher], matcher);
  }

  emit(s: NamedStream, out: Sink): void {
    const bad = streamProblem(s, this.fields);
    if (bad) {
      out.reject('listens', bad.field, bad.code, bad.reason);
      return;
    }
    const r = this.resolver.resolve(s);
    if (!this.users.has(s.user)) {
      this.users.add(s.user);
      out.row('users', { user_id: s.user });
    }
    if (r.artist) out.row('artists', r.artist);
    if (r.album) out.row('albums', r.album);
    if (r.track) out.row('tracks', r.track);
    out.row('listens', r.listen);
  }

  /** Notes for the import summary: how the named tracks of the listens resolved (`tracks matched by name`: n, …). */
  finish(out: Sink): void {
    for (const o of MATCH_OUTCOMES) if (this.resolver.counts[o]) out.note(o === 'created' ? 'listens of tracks created from names' : o === 'history' ? 'listens of tracks created earlier' : `listens matched to the catalog by ${o}`, this.resolver.counts[o]);
  }
}

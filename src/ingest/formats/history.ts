/**
 * Shared by the listening-history formats (Spotify, ListenBrainz): each stream described by names
 * goes through the one {@link ListenResolver} (see `identity.ts`) — the listen id, the catalog
 * track it matches or the track, artist and album created for it — and the rows go to the sink,
 * each catalog row once per import.
 */
import { ListenResolver, type NamedListen } from '../identity.ts';
import { MATCH_OUTCOMES, TrackMatcher } from '../../domain/match.ts';
import type { Sink } from './types.ts';

export type NamedStream = NamedListen;

/** Emits the user and created catalog rows the first time they are seen in this import, and the listen every time. */
export class HistoryEmitter {
  private readonly users = new Set<string>();
  private readonly resolver: ListenResolver;

  /** `matcher`: the store's catalog, shared by every file of the import (tracks created here are added to it). */
  constructor(matcher: TrackMatcher = new TrackMatcher()) {
    this.resolver = new ListenResolver([matcher], matcher);
  }

  emit(s: NamedStream, out: Sink): void {
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

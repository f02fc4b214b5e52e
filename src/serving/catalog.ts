/**
 * The catalog as serving needs it: track titles and artists, artist names, kept in memory and
 * updated by the catalog upsert routes. Loaded once from the store at start. It also keeps the
 * {@link TrackMatcher} that submitted listens resolve against, updated with every row added.
 */
import type { Artist } from '../domain/schemas.ts';
import { TrackMatcher, type MatchableTrack } from '../domain/match.ts';
import type { Store } from '../store/index.ts';
import { pagesOf } from '../store/index.ts';

export class Catalog {
  private readonly tracks = new Map<string, { title: string; artist_ids: string[]; release_date: string }>();
  private readonly artists = new Map<string, string>();
  /** Every track and artist added, indexed for matching named tracks (`POST /1/submit-listens`). */
  readonly matcher = new TrackMatcher();

  /** Every track and artist in the store (keyset pages of 10 000 rows). */
  static async load(store: Pick<Store, 'list'>): Promise<Catalog> {
    const c = new Catalog();
    for await (const rows of pagesOf(store, 'artists')) c.addArtists(rows);
    for await (const rows of pagesOf(store, 'albums')) c.matcher.addAlbums(rows); // release titles: a tiebreak between equally named tracks
    for await (const rows of pagesOf(store, 'tracks')) c.addTracks(rows);
    return c;
  }

  addTracks(rows: readonly MatchableTrack[]): void {
    for (const t of rows) this.tracks.set(t.track_id, { title: t.title, artist_ids: t.artist_ids, release_date: t.release_date });
    this.matcher.addTracks(rows);
  }

  addArtists(rows: readonly Pick<Artist, 'artist_id' | 'name' | 'mbid'>[]): void {
    for (const a of rows) this.artists.set(a.artist_id, a.name);
    this.matcher.addArtists(rows);
  }

  trackTitle(id: string): string | null {
    return this.tracks.get(id)?.title ?? null;
  }

  trackArtists(id: string): string[] {
    return this.tracks.get(id)?.artist_ids ?? [];
  }

  releaseDate(id: string): string | null {
    return this.tracks.get(id)?.release_date ?? null;
  }

  artistName(id: string): string | null {
    return this.artists.get(id) ?? null;
  }

  hasTrack(id: string): boolean {
    return this.tracks.has(id);
  }

  hasArtist(id: string): boolean {
    return this.artists.has(id) || [...this.tracks.values()].some((t) => t.artist_ids.includes(id));
  }

  get trackCount(): number {
    return this.tracks.size;
  }
}

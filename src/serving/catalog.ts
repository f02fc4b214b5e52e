/**
 * The catalog as serving needs it: track titles and artists, artist names, kept in memory and
 * updated by the catalog upsert routes. Loaded once from the store at start.
 */
import type { Artist, Track } from '../domain/schemas.ts';
import type { Store } from '../store/store.ts';
import { pagesOf } from '../store/pages.ts';

export class Catalog {
  private readonly tracks = new Map<string, { title: string; artist_ids: string[]; release_date: string }>();
  private readonly artists = new Map<string, string>();

  /** Every track and artist in the store (keyset pages of 10 000 rows). */
  static async load(store: Pick<Store, 'list'>): Promise<Catalog> {
    const c = new Catalog();
    for await (const rows of pagesOf(store, 'artists')) c.addArtists(rows);
    for await (const rows of pagesOf(store, 'tracks')) c.addTracks(rows);
    return c;
  }

  addTracks(rows: readonly Pick<Track, 'track_id' | 'title' | 'artist_ids' | 'release_date'>[]): void {
    for (const t of rows) this.tracks.set(t.track_id, { title: t.title, artist_ids: t.artist_ids, release_date: t.release_date });
  }

  addArtists(rows: readonly Pick<Artist, 'artist_id' | 'name'>[]): void {
    for (const a of rows) this.artists.set(a.artist_id, a.name);
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

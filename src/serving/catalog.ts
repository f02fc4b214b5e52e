/**
 * The catalog as serving needs it: track titles, artists, albums, durations and whether the track
 * has audio; artist names and genres; album titles, dates and types; each artist's tracks. Kept in
 * memory and updated by the catalog upsert routes; loaded from the store with each run the server
 * serves (serving/load.ts). It also keeps the {@link TrackMatcher} that submitted listens resolve
 * against, updated with every row added.
 */
import type { Album, Artist, Track } from '../domain/schemas.ts';
import { TrackMatcher, type MatchableTrack } from '../domain/match.ts';
import type { Store } from '../store/index.ts';
import { pagesOf } from '../store/index.ts';

/** A track as the catalog keeps it. */
export interface CatalogTrack {
  title: string;
  artist_ids: string[];
  release_date: string;
  album_id: string | null;
  duration_ms: number;
  /** The audio file as imported (relative to the import's folder, or absolute); never shown to clients. */
  audio_path: string | null;
}

/** A track row as the upsert routes and the store give it (the matcher's fields, with what pages show). */
export type CatalogTrackRow = MatchableTrack & Partial<Pick<Track, 'audio_path'>>;

export class Catalog {
  private readonly tracks = new Map<string, CatalogTrack>();
  private readonly artists = new Map<string, { name: string; genres: string[] }>();
  private readonly albums = new Map<string, Pick<Album, 'title' | 'release_date' | 'album_type'>>();
  /** Artist id → its track ids, in the order added. */
  private readonly byArtist = new Map<string, string[]>();
  /** Every track and artist added, indexed for matching named tracks (`POST /1/submit-listens`). */
  readonly matcher = new TrackMatcher();

  /** Every track and artist in the store (keyset pages of 10 000 rows). */
  static async load(store: Pick<Store, 'list'>): Promise<Catalog> {
    const c = new Catalog();
    for await (const rows of pagesOf(store, 'artists')) c.addArtists(rows);
    for await (const rows of pagesOf(store, 'albums')) c.addAlbums(rows);
    for await (const rows of pagesOf(store, 'tracks')) c.addTracks(rows);
    return c;
  }

  addTracks(rows: readonly CatalogTrackRow[]): void {
    for (const t of rows) {
      const before = this.tracks.get(t.track_id);
      this.tracks.set(t.track_id, { title: t.title, artist_ids: t.artist_ids, release_date: t.release_date, album_id: t.album_id ?? null, duration_ms: t.duration_ms ?? 0, audio_path: t.audio_path ?? null });
      if (before) for (const a of before.artist_ids) this.byArtist.set(a, (this.byArtist.get(a) ?? []).filter((x) => x !== t.track_id));
      for (const a of t.artist_ids) (this.byArtist.get(a) ?? this.byArtist.set(a, []).get(a)!).push(t.track_id);
    }
    this.matcher.addTracks(rows);
  }

  addArtists(rows: readonly (Pick<Artist, 'artist_id' | 'name' | 'mbid'> & Partial<Pick<Artist, 'genres'>>)[]): void {
    for (const a of rows) this.artists.set(a.artist_id, { name: a.name, genres: a.genres ?? [] });
    this.matcher.addArtists(rows);
  }

  /** Albums: their titles, dates and types; the titles also break ties between equally named tracks when matching. */
  addAlbums(rows: readonly (Pick<Album, 'album_id' | 'title'> & Partial<Pick<Album, 'release_date' | 'album_type'>>)[]): void {
    for (const a of rows) this.albums.set(a.album_id, { title: a.title, release_date: a.release_date ?? '', album_type: a.album_type ?? 'album' });
    this.matcher.addAlbums(rows);
  }

  /** A track's row, or undefined for an unknown id. */
  track(id: string): Readonly<CatalogTrack> | undefined {
    return this.tracks.get(id);
  }

  /** Every track id, in the order added. */
  trackIds(): IterableIterator<string> {
    return this.tracks.keys();
  }

  /** Track ids of `artist` (any credit), in the order added. */
  tracksOf(artist: string): readonly string[] {
    return this.byArtist.get(artist) ?? [];
  }

  album(id: string): Readonly<Pick<Album, 'title' | 'release_date' | 'album_type'>> | undefined {
    return this.albums.get(id);
  }

  artistGenres(id: string): string[] {
    return this.artists.get(id)?.genres ?? [];
  }

  /** Every artist id with its name. */
  artistEntries(): IterableIterator<[string, { name: string; genres: string[] }]> {
    return this.artists.entries();
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
    return this.artists.get(id)?.name ?? null;
  }

  hasTrack(id: string): boolean {
    return this.tracks.has(id);
  }

  hasArtist(id: string): boolean {
    return this.artists.has(id) || (this.byArtist.get(id)?.length ?? 0) > 0;
  }

  get trackCount(): number {
    return this.tracks.size;
  }
}

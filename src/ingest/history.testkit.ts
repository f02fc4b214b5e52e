/**
 * Realistic listening-history exports for tests, seeded: a Spotify Extended Streaming History
 * (`Streaming_History_Audio_*.json`) of one listener, with the fields and value shapes of a real
 * export (device strings with OS versions, skips, podcasts, incognito plays, nulls).
 */
import { Rng } from '../util/rng.ts';

export interface SpotifyExportOptions {
  seed: number;
  /** Streams in the file. */
  streams: number;
  /** First stream end, ISO 8601. */
  from: string;
  /** Device strings the listener used in this period. */
  platforms: string[];
  /** Every stream played 0 ms (a broken export), for drift tests. */
  zeroPlay?: boolean;
}

const ARTISTS = ['Radiohead', 'Björk', 'Daft Punk', 'Nina Simone', 'Aphex Twin', 'Khruangbin', 'Sigur Rós', 'Fela Kuti', 'Portishead', 'Massive Attack', 'Bonobo', 'Four Tet', 'Caribou', 'Floating Points', 'Burial', 'Nils Frahm', 'Ólafur Arnalds', 'Tame Impala', 'Beach House', 'Mazzy Star'];

/** One Spotify export: a JSON array, one stream object per line as Spotify writes them. */
export function spotifyExport(o: SpotifyExportOptions): string {
  const rng = new Rng(o.seed);
  let t = Date.parse(o.from);
  const rows: object[] = [];
  for (let i = 0; i < o.streams; i++) {
    const artist = ARTISTS[Math.min(ARTISTS.length - 1, Math.floor(ARTISTS.length * rng.next() ** 2))];
    const n = rng.int(12);
    const length = 150_000 + ((n * 37_113) % 180_000);
    const skipped = rng.next() < 0.25;
    const ms = o.zeroPlay ? 0 : skipped ? 1_000 + rng.int(29_000) : rng.next() < 0.9 ? length : rng.int(length);
    t += ms + rng.int(20 * 60_000);
    const ts = new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const platform = o.platforms[rng.int(o.platforms.length)];
    if (rng.next() < 0.03) {
      rows.push({ ts, platform, ms_played: ms, conn_country: 'DE', ip_addr: '192.0.2.1', master_metadata_track_name: null, master_metadata_album_artist_name: null, master_metadata_album_album_name: null, spotify_track_uri: null, episode_name: 'A talk', episode_show_name: 'A show', spotify_episode_uri: 'spotify:episode:0x', reason_start: 'clickrow', reason_end: 'endplay', shuffle: false, skipped, offline: false, offline_timestamp: null, incognito_mode: false });
      continue;
    }
    rows.push({
      ts,
      platform,
      ms_played: ms,
      conn_country: 'DE',
      ip_addr: '192.0.2.1',
      master_metadata_track_name: `${artist} song ${n}`,
      master_metadata_album_artist_name: artist,
      master_metadata_album_album_name: `${artist} album ${n % 3}`,
      spotify_track_uri: `spotify:track:${n}`,
      episode_name: null,
      episode_show_name: null,
      spotify_episode_uri: null,
      reason_start: rng.next() < 0.7 ? 'trackdone' : 'clickrow',
      reason_end: skipped ? 'fwdbtn' : rng.next() < 0.95 ? 'trackdone' : 'endplay',
      shuffle: rng.next() < 0.4,
      skipped: skipped ? true : rng.next() < 0.5 ? false : null,
      offline: false,
      offline_timestamp: null,
      incognito_mode: rng.next() < 0.02,
    });
  }
  return '[\n' + rows.map((r) => JSON.stringify(r)).join(',\n') + '\n]\n';
}

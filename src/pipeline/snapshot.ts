/**
 * A consistent snapshot of the store for one pipeline run: the catalog indexed by dense rows,
 * every user's history, and the user × track confidence matrix with the SAME rows (catalog track
 * rows are CF item rows; unplayed tracks are empty columns, so cold-start vectors fit in the same
 * table). Built once per run; every model and playlist maker reads it.
 */
import { IdMap, type UserId, type TrackId, type ArtistId, type AlbumId } from '../domain/ids.ts';
import type { Store } from '../store/index.ts';
import type { Config } from '../config/config.ts';
import type { CatalogView, UserHistory, TrackInfo } from '../playlists/index.ts';
import { confidenceFromCounts, confidenceSettings, listenSignal, STREAM, QUICK_SKIP, type ConfidenceOptions, type Csr } from '../signals/index.ts';
import { TrackMatcher } from '../domain/match.ts';

export interface Snapshot {
  catalog: CatalogView;
  users: IdMap<UserId>;
  /** By user row. */
  histories: UserHistory[];
  /** users × tracks confidence (rows = user rows, cols = catalog track rows). */
  userTracks: Csr;
  /** Listen count, and the latest listen time (ms since epoch) in the store. */
  listens: number;
  lastListenAt: number;
  /**
   * The signal settings `userTracks` and the histories were built with; serving folds new listens
   * into this run with them. undefined only for runs saved before snapshot version 2, which did
   * not record them.
   */
  signals: Required<ConfidenceOptions> | undefined;
}

/** Read the catalog, users, follows, dislikes and listens from the store into a snapshot. */
export async function buildSnapshot(store: Store, config: Config): Promise<Snapshot> {
  const [artistRows, albumRows, trackRowsRaw, userRows, follows] = await Promise.all([
    store.list('artists'),
    store.list('albums'),
    store.list('tracks'),
    store.list('users'),
    store.list('follows'),
  ]);
  const artistMap = new IdMap<ArtistId>();
  const artists = artistRows.map((a) => {
    artistMap.add(a.artist_id as ArtistId);
    return { id: a.artist_id as ArtistId, name: a.name, genres: a.genres ?? [] };
  });
  const albumMap = new IdMap<AlbumId>();
  const albums = albumRows.map((a) => {
    albumMap.add(a.album_id as AlbumId);
    return { id: a.album_id as AlbumId, title: a.title };
  });
  const trackMap = new IdMap<TrackId>();
  const tracks: TrackInfo[] = [];
  const tracksByArtist: number[][] = artists.map(() => []);
  for (const t of trackRowsRaw) {
    const row = trackMap.add(t.track_id as TrackId);
    const arts = t.artist_ids.map((a) => artistMap.row(a)).filter((r) => r >= 0);
    tracks.push({ id: t.track_id as TrackId, title: t.title, artists: arts, album: t.album_id ? albumMap.row(t.album_id) : -1, releaseDate: t.release_date, durationMs: t.duration_ms, audioPath: t.audio_path, plays: 0 });
    for (const a of arts) tracksByArtist[a].push(row);
  }
  const users = new IdMap<UserId>(userRows.map((u) => u.user_id as UserId));
  const tz = new Map(userRows.map((u) => [u.user_id, u.time_zone]));

  // Tracks created from names (scrobbles, histories) that the catalog has since gained count for the catalog track (see domain/match.ts).
  const links = TrackMatcher.of({ artists: artistRows, albums: albumRows, tracks: trackRowsRaw }).links();
  const l = await store.readListens();
  // listen rows → snapshot rows (users seen only in listens are added; unknown tracks are skipped)
  const userOf = new Int32Array(l.users.size);
  for (let r = 0; r < l.users.size; r++) userOf[r] = users.add(l.users.id(r));
  const trackOf = new Int32Array(l.tracks.size);
  for (let r = 0; r < l.tracks.size; r++) trackOf[r] = trackMap.row(links.get(l.tracks.id(r)) ?? l.tracks.id(r));

  const histories: UserHistory[] = users.toArray().map((id) => ({ id, timeZone: tz.get(id) ?? 'UTC', plays: new Map(), follows: new Set<number>(), dislikedTracks: new Set<number>(), dislikedArtists: new Set<number>() }));
  const n = l.user.length;
  const row = new Int32Array(n);
  const col = new Int32Array(n);
  const plays = new Float64Array(n);
  const skips = new Float64Array(n);
  let m = 0;
  let lastListenAt = 0;
  const signals = confidenceSettings(config);
  for (let i = 0; i < n; i++) {
    const t = trackOf[l.track[i]];
    if (t < 0) continue;
    const u = userOf[l.user[i]];
    const signal = listenSignal(l.msPlayed[i], l.skipped[i], signals);
    const skip = signal === QUICK_SKIP;
    const stream = signal === STREAM;
    const at = l.startedAt[i];
    if (at > lastListenAt) lastListenAt = at;
    const h = histories[u].plays;
    const e = h.get(t) ?? { streams: 0, skips: 0, lastAt: 0 };
    if (stream) e.streams++;
    if (skip) e.skips++;
    if (at > e.lastAt) e.lastAt = at;
    h.set(t, e);
    if (stream) tracks[t].plays++;
    row[m] = u;
    col[m] = t;
    plays[m] = stream ? 1 : 0;
    skips[m++] = skip ? 1 : 0;
  }
  for (const f of follows) {
    const u = users.row(f.user_id);
    const a = artistMap.row(f.artist_id);
    if (u >= 0 && a >= 0) histories[u].follows.add(a);
  }
  for (const { key, value } of await store.listMeta<{ tracks?: string[]; artists?: string[] }>('dislikes')) {
    const u = users.row(key);
    if (u < 0) continue;
    for (const t of value.tracks ?? []) if (trackMap.row(t) >= 0) histories[u].dislikedTracks.add(trackMap.row(t));
    for (const a of value.artists ?? []) if (artistMap.row(a) >= 0) histories[u].dislikedArtists.add(artistMap.row(a));
  }
  const userTracks = confidenceFromCounts(users.size, trackMap.size, row.subarray(0, m), col.subarray(0, m), plays.subarray(0, m), skips.subarray(0, m), signals);
  return {
    catalog: { tracks, artists, albums, trackRows: trackMap, artistRows: artistMap, tracksByArtist },
    users,
    histories,
    userTracks,
    listens: m,
    lastListenAt,
    signals,
  };
}

/**
 * Saving and loading a run's snapshot (catalog JSON + histories and the confidence matrix as a
 * self-describing artifact), so steps of a resumed run, and serving, read exactly what the
 * signals step saw.
 */
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IdMap, type UserId, type TrackId, type ArtistId } from '../domain/ids.ts';
import { readArtifact, writeArtifact } from '../cf/artifact.ts';
import type { Snapshot } from './snapshot.ts';
import type { UserHistory, TrackInfo, ArtistInfo } from '../playlists/types.ts';

interface SnapshotJson {
  version: 1;
  tracks: TrackInfo[];
  artists: ArtistInfo[];
  albums: Snapshot['catalog']['albums'];
  users: { id: string; timeZone: string; follows: number[]; dislikedTracks: number[]; dislikedArtists: number[] }[];
  listens: number;
  lastListenAt: number;
}

export async function saveSnapshot(dir: string, s: Snapshot, runId: string): Promise<void> {
  const json: SnapshotJson = {
    version: 1,
    tracks: s.catalog.tracks,
    artists: s.catalog.artists,
    albums: s.catalog.albums,
    users: s.histories.map((h) => ({ id: h.id, timeZone: h.timeZone, follows: [...h.follows], dislikedTracks: [...h.dislikedTracks], dislikedArtists: [...h.dislikedArtists] })),
    listens: s.listens,
    lastListenAt: s.lastListenAt,
  };
  await writeFile(join(dir, 'snapshot.json'), JSON.stringify(json));
  // histories as flat columns: user row, track row, streams, skips, last listen (s since epoch)
  let n = 0;
  for (const h of s.histories) n += h.plays.size;
  const hu = new Int32Array(n), ht = new Int32Array(n), hs = new Int32Array(n), hk = new Int32Array(n), hl = new Int32Array(n);
  let i = 0;
  s.histories.forEach((h, u) => {
    for (const [t, p] of h.plays) {
      hu[i] = u;
      ht[i] = t;
      hs[i] = p.streams;
      hk[i] = p.skips;
      hl[i++] = Math.floor(p.lastAt / 1000);
    }
  });
  const m = s.userTracks;
  await writeArtifact(join(dir, 'signals.bin'), { kind: 'signals', runId, metric: 'confidence', params: { users: m.rows, tracks: m.cols, nnz: m.indices.length } }, [
    { name: 'indptr', data: m.indptr, shape: [m.rows + 1] },
    { name: 'indices', data: m.indices, shape: [m.indices.length] },
    { name: 'data', data: m.data, shape: [m.data.length] },
    { name: 'h_user', data: hu, shape: [n] },
    { name: 'h_track', data: ht, shape: [n] },
    { name: 'h_streams', data: hs, shape: [n] },
    { name: 'h_skips', data: hk, shape: [n] },
    { name: 'h_last', data: hl, shape: [n] },
  ]);
}

export async function loadSnapshot(dir: string): Promise<Snapshot> {
  const json = JSON.parse(await readFile(join(dir, 'snapshot.json'), 'utf8')) as SnapshotJson;
  const a = await readArtifact(join(dir, 'signals.bin'), { kind: 'signals' });
  const users = new IdMap<UserId>(json.users.map((u) => u.id as UserId));
  const histories: UserHistory[] = json.users.map((u) => ({ id: u.id as UserId, timeZone: u.timeZone, plays: new Map(), follows: new Set(u.follows), dislikedTracks: new Set(u.dislikedTracks), dislikedArtists: new Set(u.dislikedArtists) }));
  const [hu, ht, hs, hk, hl] = ['h_user', 'h_track', 'h_streams', 'h_skips', 'h_last'].map((k) => a.arrays[k] as Int32Array);
  for (let i = 0; i < hu.length; i++) histories[hu[i]].plays.set(ht[i], { streams: hs[i], skips: hk[i], lastAt: hl[i] * 1000 });
  const tracksByArtist: number[][] = json.artists.map(() => []);
  json.tracks.forEach((t, r) => t.artists.forEach((ar) => tracksByArtist[ar].push(r)));
  const rows = Number(a.header.params.users);
  const cols = Number(a.header.params.tracks);
  return {
    catalog: {
      tracks: json.tracks,
      artists: json.artists,
      albums: json.albums,
      trackRows: new IdMap<TrackId>(json.tracks.map((t) => t.id)),
      artistRows: new IdMap<ArtistId>(json.artists.map((x) => x.id)),
      tracksByArtist,
    },
    users,
    histories,
    userTracks: { rows, cols, indptr: a.arrays.indptr as Int32Array, indices: a.arrays.indices as Int32Array, data: a.arrays.data as Float32Array },
    listens: json.listens,
    lastListenAt: json.lastListenAt,
  };
}

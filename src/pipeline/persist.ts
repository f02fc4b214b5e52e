/**
 * Saving and loading a run's snapshot (catalog JSON + histories and the confidence matrix as a
 * self-describing artifact), so steps of a resumed run, and serving, read exactly what the
 * signals step saw.
 */
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IdMap, type UserId, type TrackId, type ArtistId } from '../domain/ids.ts';
import { readArtifact, writeArtifact } from '../cf/index.ts';
import type { Snapshot } from './snapshot.ts';
import type { UserHistory, TrackInfo, ArtistInfo } from '../playlists/index.ts';
import type { ConfidenceOptions } from '../signals/index.ts';
import { DeepcutError } from '../errors.ts';
import type { StepContext } from './runner.ts';

/**
 * Version of the snapshot files. 2: the signals artifact's header records the signal settings the
 * run was built with (`minStreamMs`, `quickSkipMs`, `alpha`, `epsilon`, `scale`, `skips`).
 * 1 (still read, fixture in fixtures/snapshot-v1): no settings recorded.
 */
export const SNAPSHOT_VERSION = 2;

interface SnapshotJson {
  version: number;
  tracks: TrackInfo[];
  artists: ArtistInfo[];
  albums: Snapshot['catalog']['albums'];
  users: { id: string; timeZone: string; follows: number[]; dislikedTracks: number[]; dislikedArtists: number[] }[];
  listens: number;
  lastListenAt: number;
}

export async function saveSnapshot(dir: string, s: Snapshot, runId: string): Promise<void> {
  if (!s.signals) throw new Error('saveSnapshot: the snapshot does not say which signal settings built it');
  const json: SnapshotJson = {
    version: SNAPSHOT_VERSION,
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
  await writeArtifact(join(dir, 'signals.bin'), { kind: 'signals', runId, metric: 'confidence', params: { users: m.rows, tracks: m.cols, nnz: m.indices.length, ...s.signals } }, [
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

/**
 * Load a snapshot saved by {@link saveSnapshot}. A version this deepcut does not read, or a version 2
 * signals header without its settings, is a DeepcutError('invalid_input') naming the file and the
 * mismatch.
 */
export async function loadSnapshot(dir: string): Promise<Snapshot> {
  const file = join(dir, 'snapshot.json');
  const json = JSON.parse(await readFile(file, 'utf8')) as SnapshotJson;
  if (json.version !== SNAPSHOT_VERSION && json.version !== 1) throw new DeepcutError('invalid_input', `${file}: snapshot version mismatch: expected ${SNAPSHOT_VERSION} (or 1), file has ${JSON.stringify(json.version)}`);
  const a = await readArtifact(join(dir, 'signals.bin'), { kind: 'signals' });
  const signals = json.version === 1 ? undefined : signalSettingsOf(a.header.params, join(dir, 'signals.bin'));
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
    signals,
  };
}

/** The signal settings recorded in a signals artifact's header; each missing or malformed one is named. */
function signalSettingsOf(p: Record<string, number | string>, file: string): Required<ConfidenceOptions> {
  const num = (k: string) => {
    if (typeof p[k] !== 'number' || !Number.isFinite(p[k])) throw new DeepcutError('invalid_input', `${file}: signal setting ${k} is ${JSON.stringify(p[k])}, expected a number`);
    return p[k];
  };
  const one = <T extends string>(k: string, allowed: readonly T[]): T => {
    if (!allowed.includes(p[k] as T)) throw new DeepcutError('invalid_input', `${file}: signal setting ${k} is ${JSON.stringify(p[k])}, expected one of ${allowed.join(', ')}`);
    return p[k] as T;
  };
  return { minStreamMs: num('minStreamMs'), quickSkipMs: num('quickSkipMs'), alpha: num('alpha'), epsilon: num('epsilon'), scale: one('scale', ['log', 'linear']), skips: one('skips', ['lower', 'negative']) };
}

const snapshotCache = new Map<string, Snapshot>();
/** Remember the snapshot the signals step just saved in `dir`, so later steps of the run skip reading it. */
export function cacheSnapshot(dir: string, s: Snapshot): void {
  snapshotCache.set(dir, s);
}
/** Forget the cached snapshots of every run but the one in `runDir` (a worker lives through many runs). */
export function keepSnapshotsOf(runDir: string): void {
  for (const dir of snapshotCache.keys()) if (!dir.startsWith(`${runDir}/`)) snapshotCache.delete(dir);
}

/** Forget every cached snapshot: a step whose parts run on worker threads (each loads its own) frees this thread's copy meanwhile. */
export function forgetSnapshots(): void {
  snapshotCache.clear();
}

/** The snapshot saved by the signals step of this run (cached per process). */
export async function runSnapshot(ctx: StepContext): Promise<Snapshot> {
  const dir = ctx.dirOf('signals');
  let s = snapshotCache.get(dir);
  if (!s) {
    s = await loadSnapshot(dir);
    snapshotCache.set(dir, s);
  }
  return s;
}

/**
 * The CLI and the API give the same lists for the same user, run and date: Discover Weekly,
 * Release Radar, radio (track seed), similar tracks and similar artists, on a small seeded world
 * served as `deepcut serve` serves it. And a weekly list the CLI has to make (nothing stored) is
 * the pipeline's own list: the same product function with the same inputs (text and audio).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { servedWorld, type ServedWorld } from '../../server/testing/served-world.ts';
import { buildServer } from '../../server/index.ts';
import { openPublished } from '../../pipeline/published.ts';
import { playlistSource } from '../../serving/index.ts';
import type { Playlist } from '../../playlists/index.ts';

const bin = fileURLToPath(new URL('../../../bin/deepcut.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'dc-playlist-'));
/** Wednesday of the run's week (the run is Monday 2026-11-23 06:00 UTC). */
const DATE = '2026-11-25';
let w: ServedWorld;
let app: FastifyInstance;
let user: string;
let track: string;
let artist: string;
let closeRun: () => Promise<void>;

const deepcut = (...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, '--home', w.config.home, ...args, '--json'], { encoding: 'utf8', env: { ...process.env, DEEPCUT_LOG_LEVEL: 'silent' } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
};
const api = async (url: string) => {
  const r = await app.inject(url);
  assert.equal(r.statusCode, 200, r.body);
  return r.json();
};
const runPlaylists = (kind: string): Playlist[] =>
  readFileSync(join(w.config.home, 'runs', w.runId, 'playlists', `${kind}.jsonl`), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Playlist);

before(async () => {
  w = await servedWorld(root, { size: 'small', seed: 5, audioClips: 6 });
  // the API's "now" is the test's date, as the CLI's --date
  const run = await openPublished(w.config.home);
  closeRun = run.close;
  w.state.playlists = await playlistSource(run, w.config.home, w.state.catalog, w.store, () => new Date(`${DATE}T12:00:00Z`));
  app = await buildServer({ store: w.store, state: w.state, config: w.config, auth: false });
  // a user whose Release Radar is not empty, a track they streamed, its main artist
  const rr = runPlaylists('release-radar').find((p) => p.tracks.length >= 3)!;
  user = rr.userId!;
  const c = run.snapshot.catalog;
  const h = run.snapshot.histories[run.snapshot.users.row(user)];
  const t = [...h.plays.entries()].sort((a, b) => b[1].streams - a[1].streams || a[0] - b[0])[0][0];
  track = c.tracks[t].id;
  artist = c.artists[c.tracks[t].artists[0]].id;
});

after(async () => {
  await app?.close();
  await closeRun?.();
  await w?.store.close();
  rmSync(root, { recursive: true, force: true });
});

const ids = (xs: { trackId?: string; track_id?: string }[]) => xs.map((x) => x.trackId ?? x.track_id);

test('discover-weekly and release-radar: the CLI lists what the API serves for the same user, run and date', async () => {
  for (const kind of ['discover-weekly', 'release-radar'] as const) {
    const served = (await api(`/v1/users/${user}/playlists/${kind}`)).playlists[0];
    const cli = deepcut('playlist', kind, user, '--date', DATE);
    assert.ok(cli.tracks.length >= 3, kind);
    assert.deepEqual(ids(cli.tracks), ids(served.tracks), kind);
    assert.equal(cli.id, served.playlist_id, kind);
  }
});

test('a weekly list that is not stored is made with the pipeline\'s function and inputs: the pipeline\'s own list', () => {
  const archive = join(w.config.home, 'playlists');
  renameSync(archive, `${archive}.away`);
  try {
    for (const kind of ['discover-weekly', 'release-radar'] as const) {
      const reference = runPlaylists(kind).find((p) => p.userId === user)!;
      const made = deepcut('playlist', kind, user, '--date', DATE);
      assert.equal(made.key, reference.key, kind);
      assert.deepEqual(ids(made.tracks), ids(reference.tracks), kind);
      assert.deepEqual(made.tracks.map((t: { reason: string }) => t.reason), reference.tracks.map((t) => t.reason), kind);
    }
  } finally {
    renameSync(`${archive}.away`, archive);
  }
});

test('radio from a track: the CLI and GET /v1/radio give the same list, with the radio rules (≤ 2 per artist, seed left out)', async () => {
  const served = await api(`/v1/radio?seed=${track}`);
  const cli = deepcut('playlist', 'radio', track);
  assert.ok(cli.tracks.length >= 20, String(cli.tracks.length));
  assert.deepEqual(ids(cli.tracks), ids(served.items));
  assert.ok(!ids(cli.tracks).includes(track));
  const perArtist = new Map<string, number>();
  for (const c of served.items as { artist_ids: string[] }[]) for (const a of c.artist_ids) perArtist.set(a, (perArtist.get(a) ?? 0) + 1);
  assert.ok(Math.max(...perArtist.values()) <= 2, JSON.stringify([...perArtist]));
});

test('similar tracks and similar artists (by cf): the CLI and the API give the same neighbours', async () => {
  const tracks = await api(`/v1/tracks/${track}/similar?k=10`);
  const cliTracks = deepcut('similar', 'track', track, '--k', '10');
  assert.equal(cliTracks.similar.length, 10);
  assert.deepEqual(cliTracks.similar.map((s: { id: string }) => s.id), ids(tracks.items));
  const artists = await api(`/v1/artists/${artist}/similar?k=8`);
  const cliArtists = deepcut('similar', 'artist', artist, '--by', 'cf', '--k', '8');
  assert.equal(cliArtists.similar.length, 8);
  assert.deepEqual(cliArtists.similar.map((s: { id: string }) => s.id), artists.items.map((a: { artist_id: string }) => a.artist_id));
  assert.ok(!artists.items.some((a: { artist_id: string }) => a.artist_id === artist));
});

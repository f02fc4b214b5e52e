/**
 * The product over one run: radio by its rules (track and artist seeds), the weekly key, and the
 * stored weekly lookup every reader shares; and the stage wall (playlists imports no later stage).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IdMap, TrackId, ArtistId, AlbumId, UserId } from '../domain/ids.ts';
import type { Recommender } from '../cf/index.ts';
import { topK } from '../cf/index.ts';
import { openArtifactStore } from '../artifacts/index.ts';
import { Product, PlaylistArchive, storedWeekly, weeklyKey, type CatalogView, type Playlist, type UserHistory } from './index.ts';

/** 6 artists × 4 tracks (track t: artist floor(t/4), its own album); factors: artist a's tracks point along axis a % 2, slightly apart. */
function run(): { product: Product; catalog: CatalogView } {
  const tracks = Array.from({ length: 24 }, (_, t) => ({ id: TrackId(`t${t}`), title: `Track ${t}`, artists: [Math.floor(t / 4)], album: t, releaseDate: '2026-01-01', durationMs: 1000, plays: t % 4 === 3 ? 0 : 10 }));
  const artists = Array.from({ length: 6 }, (_, a) => ({ id: ArtistId(`a${a}`), name: `Artist ${a}`, genres: [] }));
  const catalog: CatalogView = {
    tracks,
    artists,
    albums: tracks.map((_, i) => ({ id: AlbumId(`al${i}`), title: `Album ${i}` })),
    trackRows: new IdMap(tracks.map((t) => t.id)),
    artistRows: new IdMap(artists.map((a) => a.id)),
    tracksByArtist: artists.map((_, a) => [0, 1, 2, 3].map((i) => a * 4 + i)),
  };
  const F = new Float32Array(24 * 2);
  for (let t = 0; t < 24; t++) (F[t * 2 + (Math.floor(t / 4) % 2)] = 1), (F[t * 2 + 1 - (Math.floor(t / 4) % 2)] = t / 100);
  const model = {
    name: 'stub',
    factors: 2,
    itemFactors: () => F,
    userFactors: () => new Float32Array(0),
    similarItems(t: number, k: number) {
      const s = new Float32Array(24);
      for (let i = 0; i < 24; i++) s[i] = (F[i * 2] * F[t * 2] + F[i * 2 + 1] * F[t * 2 + 1]) / Math.hypot(F[i * 2], F[i * 2 + 1]) / Math.hypot(F[t * 2], F[t * 2 + 1]);
      const ex = new Uint8Array(24);
      ex[t] = 1;
      return topK(s, k, ex);
    },
  } as unknown as Recommender;
  const users = new IdMap([UserId('u')]);
  const histories: UserHistory[] = [{ id: UserId('u'), timeZone: 'UTC', plays: new Map(), follows: new Set(), dislikedTracks: new Set(), dislikedArtists: new Set() }];
  const userTracks = { rows: 1, cols: 24, indptr: Int32Array.of(0, 0), indices: new Int32Array(0), data: new Float32Array(0) };
  return { product: new Product({ world: { catalog, users, histories, userTracks }, model, seed: 1 }), catalog };
}

test('radio from a track: its neighbours, the seed left out, at most 2 per artist, explained by the seed', () => {
  const { product, catalog } = run();
  const r = product.radio('t0')!;
  assert.equal(r.seedName, 'Track 0');
  const tracks = r.tracks.map((c) => c.track);
  assert.ok(!tracks.includes(0));
  // artists 0, 2, 4 share axis 0 with the seed: their tracks come first, two each
  assert.deepEqual(tracks.slice(0, 6).map((t) => catalog.tracks[t].artists[0]).sort(), [0, 0, 2, 2, 4, 4]);
  const per = new Map<number, number>();
  for (const t of tracks) per.set(catalog.tracks[t].artists[0], (per.get(catalog.tracks[t].artists[0]) ?? 0) + 1);
  assert.ok([...per.values()].every((n) => n <= 2));
  assert.deepEqual(r.tracks[0].reason, { kind: 'similar_to_seed', seed: 'Track 0', by: 'cf' });
  assert.equal(product.radio('t0', 3)!.tracks.length, 3);
});

test('radio from an artist: seeded by its streamed tracks, which stay out; an unknown id is undefined', () => {
  const { product } = run();
  const r = product.radio('a1')!;
  assert.equal(r.seedName, 'Artist 1');
  const tracks = r.tracks.map((c) => c.track);
  for (const seed of [4, 5, 6]) assert.ok(!tracks.includes(seed), `seed ${seed}`);
  assert.equal(product.radio('nobody'), undefined);
});

test('similar artists through the product: same axis first, itself left out', () => {
  const { product } = run();
  assert.deepEqual(product.similarArtists(0, 2)!.map((n) => n.row), [2, 4]);
});

test('weekly key: Monday for Discover Weekly, Friday for Release Radar, in the listener\'s zone', () => {
  const wed = new Date('2026-11-25T12:00:00Z');
  assert.equal(weeklyKey('discover-weekly', wed, 'UTC'), '2026-11-23');
  assert.equal(weeklyKey('release-radar', wed, 'UTC'), '2026-11-20');
  // Monday 06:00 UTC is still Sunday in Los Angeles
  assert.equal(weeklyKey('discover-weekly', new Date('2026-11-23T06:00:00Z'), 'America/Los_Angeles'), '2026-11-16');
});

test('storedWeekly: this week\'s list, else the latest of the 4 weeks before, else nothing', async () => {
  const home = mkdtempSync(join(tmpdir(), 'dc-weekly-'));
  try {
    const a = new PlaylistArchive(await openArtifactStore(home));
    const p = (key: string): Playlist => ({ kind: 'discover-weekly', id: `discover-weekly:u:${key}`, title: 'Discover Weekly', userId: UserId('u'), key, createdAt: `${key}T00:00:00Z`, runId: 'r', tracks: [] });
    await a.put('discover-weekly', '2026-11-02', 'u', p('2026-11-02'));
    await a.put('discover-weekly', '2026-11-09', 'u', p('2026-11-09'));
    await a.flush();
    const read = new PlaylistArchive(await openArtifactStore(home));
    assert.equal((await storedWeekly(read, 'discover-weekly', 'u', 'UTC', new Date('2026-11-10T12:00:00Z')))?.key, '2026-11-09');
    assert.equal((await storedWeekly(read, 'discover-weekly', 'u', 'UTC', new Date('2026-12-01T12:00:00Z')))?.key, '2026-11-09', '3 weeks back');
    assert.equal(await storedWeekly(read, 'discover-weekly', 'u', 'UTC', new Date('2026-12-15T12:00:00Z')), undefined, '5 weeks back is too old');
    assert.equal(await storedWeekly(read, 'discover-weekly', 'someone-else', 'UTC', new Date('2026-11-10T12:00:00Z')), undefined);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('the playlists stage imports no later stage (pipeline, serving, server, cli)', () => {
  const dir = dirname(fileURLToPath(import.meta.url));
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    const bad = [...readFileSync(join(dir, f), 'utf8').matchAll(/from '\.\.\/(pipeline|serving|server|cli|web)\//g)].map((m) => m[0]);
    assert.deepEqual(bad, [], f);
  }
});

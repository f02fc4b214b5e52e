import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdMap, TrackId, ArtistId, AlbumId, UserId } from '../domain/ids.ts';
import type { CatalogView, CandidateSource, UserHistory, Candidate, FlowFeatures } from './types.ts';
import { discoverWeekly, releaseRadar, dailyMixes, radio } from './makers.ts';
import { camelot, keyDistance, sequence } from './rules.ts';

/** 20 artists × 3 albums × 4 tracks; track t: artist floor(t/12), album floor(t/4), released 2026-11-(1 + t % 30). */
function world(): CatalogView {
  const tracks = Array.from({ length: 240 }, (_, t) => ({
    id: TrackId(`t${t}`),
    title: `Track ${t}`,
    artists: [Math.floor(t / 12)],
    album: Math.floor(t / 4),
    releaseDate: `2026-11-${String(1 + (t % 30)).padStart(2, '0')}`,
    durationMs: 200_000,
    plays: 240 - t,
  }));
  const artists = Array.from({ length: 20 }, (_, a) => ({ id: ArtistId(`a${a}`), name: `Artist ${a}`, genres: [a < 5 ? 'rock' : 'jazz'] }));
  return {
    tracks,
    artists,
    albums: Array.from({ length: 60 }, (_, i) => ({ id: AlbumId(`al${i}`), title: `Album ${i}` })),
    trackRows: new IdMap(tracks.map((t) => t.id)),
    artistRows: new IdMap(artists.map((a) => a.id)),
    tracksByArtist: artists.map((_, a) => Array.from({ length: 12 }, (_, i) => a * 12 + i)),
  };
}

function user(heard: number[], extra: Partial<UserHistory> = {}): UserHistory {
  return { id: UserId('u'), timeZone: 'UTC', plays: new Map(heard.map((t) => [t, { streams: 3, skips: 0, lastAt: 0 }])), follows: new Set(), dislikedTracks: new Set(), dislikedArtists: new Set(), ...extra };
}

const source = (name: string, order: number[]): CandidateSource => ({
  name,
  candidates: (_u, k) => order.slice(0, k).map((track, i): Candidate => ({ track, score: 1 - i / 1000, source: name, reason: { kind: 'popular' } })),
});

test('Discover Weekly: 30 never-heard tracks, ≤ 2 per artist, ≤ 1 per album, nothing disliked', () => {
  const c = world();
  const heard = [0, 1, 2, 3, 50, 51];
  const u = user(heard, { dislikedArtists: new Set([9]), dislikedTracks: new Set([20]) });
  u.plays.set(60, { streams: 0, skips: 2, lastAt: 0 }); // skipped
  const all = Array.from({ length: 240 }, (_, i) => i);
  const dw = discoverWeekly(u, c, [source('cf', all), source('text', [...all].reverse())]);
  assert.equal(dw.length, 30);
  const tracks = dw.map((x) => x.track);
  assert.equal(new Set(tracks).size, 30);
  for (const t of tracks) {
    assert.ok(!u.plays.has(t), `heard ${t}`);
    assert.notEqual(t, 20);
    assert.notEqual(Math.floor(t / 12), 9, 'disliked artist');
  }
  const perArtist = new Map<number, number>(), perAlbum = new Map<number, number>();
  for (const t of tracks) {
    perArtist.set(Math.floor(t / 12), (perArtist.get(Math.floor(t / 12)) ?? 0) + 1);
    perAlbum.set(Math.floor(t / 4), (perAlbum.get(Math.floor(t / 4)) ?? 0) + 1);
  }
  assert.ok([...perArtist.values()].every((n) => n <= 2));
  assert.ok([...perAlbum.values()].every((n) => n <= 1));
});

test('Discover Weekly follows the quotas and falls back when a source runs dry', () => {
  const c = world();
  const all = Array.from({ length: 240 }, (_, i) => i);
  const dw = discoverWeekly(user([]), c, [source('cf', all), source('audio', [...all].reverse())], { size: 10, quotas: { cf: 0.8, audio: 0.2 }, maxPerArtist: 10, maxPerAlbum: 10 });
  assert.equal(dw.filter((x) => x.source === 'cf').length, 8);
  const dry = discoverWeekly(user([]), c, [source('cf', [5, 17]), source('audio', all)], { size: 10, quotas: { cf: 0.8, audio: 0.2 } });
  assert.equal(dry.length, 10);
  assert.equal(dry.filter((x) => x.source === 'cf').length, 2);
});

test('Release Radar: the 7 days up to Friday, followed artists first, by affinity', () => {
  const c = world();
  const u = user([72, 73, 74], { follows: new Set([1]) }); // streams artist 6, follows artist 1
  const rr = releaseRadar(u, c, { friday: '2026-11-20', affinity: (_u, ts) => ts.map((t) => t % 7) });
  assert.ok(rr.length > 0);
  for (const x of rr) {
    const d = c.tracks[x.track].releaseDate;
    assert.ok(d >= '2026-11-14' && d <= '2026-11-20', d);
    assert.ok([1, 6].includes(c.tracks[x.track].artists[0]));
  }
  assert.ok(rr.some((x) => x.reason.kind === 'new_release' && x.reason.followed));
  for (let i = 1; i < rr.length; i++) assert.ok(rr[i - 1].score >= rr[i].score);
  // a week later nothing of these artists is fresh
  assert.equal(releaseRadar(u, c, { friday: '2026-12-04', affinity: (_u, ts) => ts.map(() => 0) }).length, 0);
});

test('Daily Mixes cluster favourites and add new tracks near each cluster', () => {
  const c = world();
  // two taste clusters: rock tracks point one way, jazz tracks the other
  const vec = (t: number) => Float32Array.from(t < 60 ? [1, 0.1 * (t % 3)] : [0.1 * (t % 3), 1]);
  const u = user([0, 1, 4, 5, 8, 9, 60, 61, 64, 65, 68, 69]);
  const mixes = dailyMixes(u, c, {
    vector: vec,
    nearest: (q, k) => Array.from({ length: 240 }, (_, t) => ({ track: t, score: q[0] * vec(t)[0] + q[1] * vec(t)[1] })).sort((a, b) => b.score - a.score).slice(0, k),
    seed: 1,
    size: 10,
  });
  assert.equal(mixes.length, 2);
  for (const m of mixes) {
    const sides = new Set(m.tracks.map((x) => (x.track < 60 ? 'rock' : 'jazz')));
    assert.equal(sides.size, 1, `${m.title} mixes clusters`);
    assert.ok(m.tracks.some((x) => x.source === 'favourites') && m.tracks.some((x) => x.source === 'cf'));
  }
  assert.match(mixes[0].title, /^Daily Mix 1: (rock|jazz) with Artist \d$/);
});

test('two Daily Mixes of one genre and one anchor artist get different titles', () => {
  const c = world();
  // favourites of Artist 0 and Artist 1 (both rock) in two clusters by parity: both clusters start with Artist 0
  const vec = (t: number) => Float32Array.from(t % 2 ? [1, 0] : [0, 1]);
  const u = user([0, 1, 2, 3, 4, 5, 12, 13, 14, 15, 16, 17]);
  const mixes = dailyMixes(u, c, {
    vector: vec,
    nearest: (q, k) => Array.from({ length: 240 }, (_, t) => ({ track: t, score: q[0] * vec(t)[0] + q[1] * vec(t)[1] })).sort((a, b) => b.score - a.score || a.track - b.track).slice(0, k),
    seed: 1,
    size: 10,
  });
  assert.equal(mixes.length, 2);
  assert.notEqual(mixes[0].title.replace(/^Daily Mix \d: /, ''), mixes[1].title.replace(/^Daily Mix \d: /, ''), mixes.map((m) => m.title).join(' | '));
  for (const m of mixes) assert.match(m.title, /^Daily Mix \d: rock with Artist [01]$/);
});

test('radio blends signals and explains by seed', () => {
  const c = world();
  const r = radio(c, { seedName: 'Track 0', similar: { cf: [{ track: 1, score: 1 }, { track: 2, score: 0.9 }, { track: 3, score: 0.8 }], audio: [{ track: 40, score: 1 }] }, size: 4 });
  assert.deepEqual(r.map((x) => x.track).sort((a, b) => a - b), [1, 2, 40]); // artist 0 capped at 2
  assert.deepEqual(r.find((x) => x.track === 40)?.reason, { kind: 'similar_to_seed', seed: 'Track 0', by: 'audio' });
});

test('flow: Camelot neighbours and tempo-smooth sequencing', () => {
  assert.equal(camelot(0, 1), 8); // C major 8B
  assert.equal(camelot(9, 0), 8); // A minor 8A
  assert.equal(camelot(7, 1), 9); // G major 9B
  assert.equal(keyDistance({ tempo: 120, key: 0, mode: 1 }, { tempo: 120, key: 7, mode: 1 }), 1);
  assert.equal(keyDistance({ tempo: 120, key: 0, mode: 1 }, { tempo: 120, key: 6, mode: 1 }), 6);
  const f: Record<number, FlowFeatures> = { 0: { tempo: 90, key: 0, mode: 1 }, 1: { tempo: 170, key: 6, mode: 0 }, 2: { tempo: 92, key: 7, mode: 1 }, 3: { tempo: 168, key: 1, mode: 0 } };
  const seq = sequence([0, 1, 2, 3].map((t) => ({ track: t, score: 1, source: 'cf', reason: { kind: 'popular' as const } })), (t) => f[t]);
  assert.deepEqual(seq.map((x) => x.track), [0, 2, 1, 3]); // 2 (a fifth up, same tempo), then 1 (half time), then 3
});

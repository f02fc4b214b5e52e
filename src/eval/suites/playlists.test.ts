import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scoreLists, type PlaylistScoreInput } from './playlists.ts';
import type { ArtistTruth, TrackTruth } from '../../generate/index.ts';

test('scoreLists: hit rate, precision, shares and diversity on a hand-computed case', () => {
  // 5 artists (a0 is the head: top 20 % by streams), 10 tracks, two per artist
  const artists = Array.from({ length: 5 }, (_, i) => ({ artist_id: `a${i}`, is_new: i === 4, underrated: i === 3 }) as unknown as ArtistTruth);
  const tracks = Array.from({ length: 10 }, (_, i) => ({ track_id: `t${i}`, artist_ids: [`a${Math.floor(i / 2)}`] }) as unknown as TrackTruth);
  const plays = Float64Array.from([50, 50, 5, 5, 4, 4, 3, 3, 1, 1]);
  const x: PlaylistScoreInput = {
    tracks,
    artists,
    plays,
    heard: new Map(),
    positives: new Map([
      ['u1', new Set([2, 9])],
      ['u2', new Set([0])],
      ['u3', new Set([5])], // no list: not scored
    ]),
  };
  const lists = new Map([
    ['u1', [2, 3, 8, 9]], // 2 hits of 4; artists a1, a1, a4, a4
    ['u2', [1, 6]], // no hit; artists a0 (head), a3 (underrated)
  ]);
  const f = scoreLists(lists, x);
  assert.equal(f.users, 2);
  assert.equal(f.hit_rate, 0.5);
  assert.equal(f.precision, (2 / 4 + 0) / 2);
  assert.equal(f.long_tail_share, 5 / 6); // only track 1 (a0) is in the head
  assert.equal(f.new_artist_share, 2 / 6);
  assert.equal(f.underrated_share, 1 / 6);
  assert.equal(f.artists_per_list, (2 + 2) / 2);
});

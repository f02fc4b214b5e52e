import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportPlaylist } from './export.ts';
import type { Playlist } from './types.ts';
import { TrackId, UserId } from '../domain/ids.ts';

const p: Playlist = {
  kind: 'discover-weekly',
  id: 'discover-weekly:u1:2026-11-23',
  title: 'Discover Weekly',
  userId: UserId('u1'),
  key: '2026-11-23',
  createdAt: '2026-11-23T00:00:00Z',
  runId: 'r1',
  tracks: [
    { trackId: TrackId('t1'), title: 'Rock & <Roll>', artists: ['A', 'B'], durationMs: 185_400, reason: 'because you listen to C', source: 'cf', audioPath: '/music/a b.flac' },
    { trackId: TrackId('t2'), title: 'Quiet', artists: ['D'], durationMs: 60_000, reason: 'sounds like X by Y', source: 'audio' },
  ],
};

test('M3U8 lists local paths and EXTINF lines', () => {
  assert.equal(exportPlaylist(p, 'm3u8'), '#EXTM3U\n#PLAYLIST:Discover Weekly\n#EXTINF:185,A, B - Rock & <Roll>\n/music/a b.flac\n#EXTINF:60,D - Quiet\ndeepcut:track:t2\n');
});

test('XSPF escapes XML and carries file locations; JSPF parses back', () => {
  const x = exportPlaylist(p, 'xspf');
  assert.match(x, /<title>Rock &amp; &lt;Roll&gt;<\/title>/);
  assert.match(x, /<location>file:\/\/\/music\/a%20b\.flac<\/location>/);
  const j = JSON.parse(exportPlaylist(p, 'jspf'));
  assert.equal(j.playlist.track.length, 2);
  assert.equal(j.playlist.track[1].annotation, 'sounds like X by Y');
  assert.equal(j.playlist.track[1].location, undefined);
  assert.deepEqual(JSON.parse(exportPlaylist(p, 'json')), p);
  assert.throws(() => exportPlaylist(p, 'pls'), /unknown playlist format "pls"; expected one of json, jspf, xspf, m3u8/);
});

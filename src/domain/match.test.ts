import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Album, Artist, Track } from '../domain/schemas.ts';
import { generateWorld } from '../generate/index.ts';
import { readJsonl } from '../generate/index.ts';
import { artistKey, creditKeys, durationTolerance, titleKey, TrackMatcher, UNKNOWN_RELEASE_DATE } from './match.ts';
import { differentRecordings, perturbedScrobbles } from './match.testkit.ts';

describe('name keys', () => {
  test('titleKey drops case, accents, punctuation, spacing, featured artists and edition suffixes, and keeps other versions apart', () => {
    assert.equal(titleKey('Héroes (Remastered 2011) [feat. Brian Eno]'), 'heroes');
    assert.equal(titleKey('  HEROES!  '), 'heroes');
    assert.equal(titleKey('Heroes - 2017 Remaster'), 'heroes');
    assert.equal(titleKey('The - Rhymes - Remastered Version'), 'the rhymes', 'only the last dash part is a suffix');
    assert.equal(titleKey('Heroes featuring Brian Eno'), 'heroes');
    assert.equal(titleKey("Don't Stop Me Now"), titleKey('Dont Stop Me Now'));
    assert.equal(titleKey('Smørrebrød & Æble'), 'smorrebrod and aeble');
    assert.equal(titleKey('Heroes - Live'), 'heroes live');
    assert.equal(titleKey('Heroes (Extended Mix)'), 'heroes extended mix');
    assert.equal(titleKey('(Remastered)'), 'remastered', 'a title that is only a suffix keeps its words');
    assert.equal(titleKey('!!!'), '!!!');
  });
  test('artistKey and creditKeys', () => {
    assert.equal(artistKey('Beyoncé & JAY-Z'), 'beyonce and jay z');
    assert.deepEqual(creditKeys('Daft Punk feat. Pharrell Williams & Nile Rodgers'), ['daft punk', 'pharrell williams and nile rodgers', 'pharrell williams nile rodgers', 'pharrell williams', 'nile rodgers']);
    assert.deepEqual(creditKeys('Oskael & the Graves ft. Pharrell').slice(0, 2), ['oskael and the graves', 'pharrell'], 'an "&" inside a name survives a feat. split');
    assert.deepEqual(creditKeys('Sigur Rós'), ['sigur ros']);
  });
  test('durationTolerance: 5 s, or 3% of long tracks', () => {
    assert.equal(durationTolerance(200_000, 201_000), 6030);
    assert.equal(durationTolerance(60_000, 61_000), 5000);
  });
});

describe('TrackMatcher', () => {
  const artists = [
    { artist_id: 'a1', name: 'Daft Punk', mbid: 'dp-mbid' },
    { artist_id: 'a2', name: 'Pharrell Williams' },
    { artist_id: 'a3', name: 'Simon & Garfunkel' },
  ];
  const tracks: Track[] = [
    { track_id: 't1', title: 'Get Lucky (feat. Pharrell Williams)', artist_ids: ['a1', 'a2'], duration_ms: 369_000, release_date: '2013-05-17', isrc: 'USQX91300108', mbid: 'rec-get-lucky' },
    { track_id: 't2', title: 'Get Lucky - Radio Edit', artist_ids: ['a1', 'a2'], duration_ms: 248_000, release_date: '2013-04-19' },
    { track_id: 't3', title: 'The Boxer', artist_ids: ['a3'], duration_ms: 308_000, release_date: '1969-03-21', album_id: 'al1' },
    { track_id: 't4', title: 'The Boxer', artist_ids: ['a3'], duration_ms: 310_000, release_date: '1972-06-01', album_id: 'al2' },
  ];
  const m = TrackMatcher.of({ artists, albums: [{ album_id: 'al1', title: 'Bridge over Troubled Water' }, { album_id: 'al2', title: 'Greatest Hits' }], tracks });

  test('MBID, then ISRC, then names', () => {
    assert.deepEqual(m.resolve({ title: 'whatever', artist: 'whoever', mbid: 'REC-GET-LUCKY' }), { track_id: 't1', outcome: 'mbid' });
    assert.deepEqual(m.resolve({ title: 'whatever', isrc: 'USQX91300108' }), { track_id: 't1', outcome: 'isrc' });
    assert.deepEqual(m.resolve({ title: 'get lucky', artist: 'DAFT PUNK ft. Pharrell' }), { track_id: 't1', outcome: 'name' });
    assert.deepEqual(m.resolve({ title: 'Get Lucky', artist: 'Pharrell Williams', durationMs: 368_000 }), { track_id: 't1', outcome: 'name' }, 'a featured artist credits the track too');
    assert.deepEqual(m.resolve({ title: 'Get Lucky', artist: 'Unknown', artistMbids: ['DP-MBID'] }), { track_id: 't1', outcome: 'name' });
  });
  test('a known length must agree; another version is another track', () => {
    assert.equal(m.resolve({ title: 'Get Lucky', artist: 'Daft Punk', durationMs: 248_000 }), undefined);
    assert.deepEqual(m.resolve({ title: 'Get Lucky (Radio Edit)', artist: 'Daft Punk', durationMs: 249_000 }), { track_id: 't2', outcome: 'name' });
    assert.equal(m.resolve({ title: 'Get Lucky (Live)', artist: 'Daft Punk' }), undefined);
  });
  test('among equal names: the named release, then the closest length, then the smallest id', () => {
    assert.equal(m.resolve({ title: 'the boxer', artist: 'Simon and Garfunkel', release: 'Greatest Hits' })?.track_id, 't4');
    assert.equal(m.resolve({ title: 'the boxer', artist: 'Simon and Garfunkel', durationMs: 309_500 })?.track_id, 't4');
    assert.equal(m.resolve({ title: 'the boxer', artist: 'Simon and Garfunkel' })?.track_id, 't3');
  });
  test('resolveArtist: MBID, whole name, then the first of a feat. credit', () => {
    assert.equal(m.resolveArtist('x', ['dp-mbid']), 'a1');
    assert.equal(m.resolveArtist('daft  punk'), 'a1');
    assert.equal(m.resolveArtist('Daft Punk feat. Someone'), 'a1');
    assert.equal(m.resolveArtist('Simon'), undefined, 'an & credit is not split for a new track');
  });
  test('named tracks: found as `history`, never before a catalog track, linked when the catalog gains them', () => {
    const n = TrackMatcher.of({ artists: [...artists, { artist_id: 'artist:x', name: 'Röyksopp' }], tracks });
    const named: Track = { track_id: 'track:n1', title: 'Eple', artist_ids: ['artist:x'], duration_ms: 1, release_date: UNKNOWN_RELEASE_DATE };
    const named2: Track = { track_id: 'track:n2', title: 'Get Lucky', artist_ids: ['a1'], duration_ms: 369_500, release_date: UNKNOWN_RELEASE_DATE };
    n.addTracks([named, named2]);
    assert.deepEqual(n.resolve({ title: 'EPLE', artist: 'Royksopp' }), { track_id: 'track:n1', outcome: 'history' });
    assert.deepEqual(n.resolve({ title: 'get lucky', artist: 'daft punk' }), { track_id: 't1', outcome: 'name' });
    assert.deepEqual([...n.links()], [['track:n2', 't1']]);
    n.addArtists([{ artist_id: 'cat-r', name: 'Röyksopp' }]);
    n.addTracks([{ track_id: 'cat-eple', title: 'Eple', artist_ids: ['cat-r'], duration_ms: 220_000, release_date: '2001-01-01' }]);
    assert.deepEqual(new Map(n.links()), new Map([['track:n1', 'cat-eple'], ['track:n2', 't1']]), 'the created artist is matched by name, the unknown length does not rule it out');
    assert.deepEqual(n.resolve({ title: 'Eple', artist: 'Röyksopp' }), { track_id: 'cat-eple', outcome: 'name' });
  });
  test('tracks the ListenBrainz route created before the one identity count as named, and link', () => {
    const n = TrackMatcher.of({ artists, tracks });
    n.addArtists([{ artist_id: 'lb-artist:0123', name: 'Daft Punk' }]);
    n.addTracks([{ track_id: 'lb-track:abcd', title: 'Get Lucky', artist_ids: ['lb-artist:0123'], duration_ms: 1, release_date: '1970-01-01' }]);
    assert.equal(n.isNamed('lb-track:abcd'), true);
    assert.equal(n.links().get('lb-track:abcd'), 't1');
    n.addTracks([{ track_id: 'cat-1970', title: 'Old', artist_ids: ['a1'], duration_ms: 100_000, release_date: '1970-01-01' }]);
    assert.equal(n.isNamed('cat-1970'), false, 'a catalog track may be dated 1970-01-01');
  });

  test('re-adding a track (a catalog upsert) replaces its keys', () => {
    const u = TrackMatcher.of({ artists, tracks });
    u.addTracks([{ ...tracks[2], title: 'The Boxer (Live)' }]);
    assert.equal(u.resolve({ title: 'The Boxer', artist: 'Simon & Garfunkel' })?.track_id, 't4');
    assert.equal(u.resolve({ title: 'The Boxer - Live', artist: 'Simon & Garfunkel' })?.track_id, 't3');
    assert.equal(u.trackCount, 4);
  });
});

describe('matching scrobbles of the demo world', () => {
  let dir: string;
  let cat: { artists: Artist[]; albums: Album[]; tracks: Track[] };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deepcut-match-'));
    await generateWorld({ size: 'small', seed: 11, out: dir, audioClips: 0 });
    cat = { artists: readJsonl<Artist>(join(dir, 'artists.jsonl')), albums: readJsonl<Album>(join(dir, 'albums.jsonl')), tracks: readJsonl<Track>(join(dir, 'tracks.jsonl')) };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('≥ 95% of perturbed scrobbles find their track; none of the different recordings matches', () => {
    const m = TrackMatcher.of(cat);
    const good = perturbedScrobbles(cat, 5, 3);
    let right = 0;
    const wrong: string[] = [];
    const missed: string[] = [];
    for (const g of good) {
      const hit = m.resolve(g.query);
      if (hit?.track_id === g.expect) right++;
      else if (hit) wrong.push(`${g.how}: ${JSON.stringify(g.query)} → ${hit.track_id}, meant ${g.expect}`);
      else missed.push(`${g.how}: ${JSON.stringify(g.query)}`);
    }
    const bad = differentRecordings(cat, 6, 600);
    const falses = bad.flatMap((b) => {
      const hit = m.resolve(b.query);
      return hit ? [`${b.how}: ${JSON.stringify(b.query)} → ${hit.track_id}`] : [];
    });
    const rate = right / good.length;
    console.log(`demo world (small, seed 11, ${cat.tracks.length} tracks): ${right}/${good.length} perturbed scrobbles matched their track (${(rate * 100).toFixed(2)}%), ${wrong.length} to another track, ${missed.length} unmatched; ${falses.length}/${bad.length} different recordings matched`);
    assert.ok(rate >= 0.95, `match rate ${rate}; missed e.g. ${missed.slice(0, 5).join('\n')}`);
    assert.deepEqual(falses, [], 'false matches');
    assert.ok(wrong.length <= good.length * 0.01, `matched to another track:\n${wrong.slice(0, 10).join('\n')}`);
  });
});

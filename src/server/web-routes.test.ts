/**
 * The web app's catalog routes over the serving catalog (a track upserted after start is searchable
 * and playable at once) and cover art: embedded art read from a WAV's ID3v2 APIC frame, a FLAC
 * PICTURE block (files written here), an MP3 and an M4A made by ffmpeg (skipped without it), the album's art for a track whose own file has none, 204 for
 * files without art, 404 for a track without audio, ETag revalidation, no server path in an answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer } from './app.ts';
import { readCover } from './covers.ts';
import { featureWords } from './web-routes.ts';
import { webSources } from './web-files.ts';
import { MemoryStore } from '../store/testing/memory.ts';
import { play, seedWorld, worldListens } from './testing/world.ts';
import { FixedClock } from '../core/clock.ts';
import { PNG, flacWithPicture, id3WithPicture, wavWithTag } from './testing/cover-files.ts';

test('cover art embedded in a WAV (ID3v2 APIC) and a FLAC (PICTURE block) is read; a file without art has none', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dc-cover-'));
  try {
    writeFileSync(join(dir, 'a.wav'), wavWithTag(id3WithPicture(PNG, 'image/png')));
    writeFileSync(join(dir, 'b.flac'), flacWithPicture(PNG, 'image/png'));
    writeFileSync(join(dir, 'c.wav'), wavWithTag());
    writeFileSync(join(dir, 'd.wav'), Buffer.from('not audio at all'));
    for (const f of ['a.wav', 'b.flac']) {
      const art = await readCover(join(dir, f));
      assert.ok(art, f);
      assert.equal(art.type, 'image/png', f);
      assert.deepEqual(art.data, PNG, f);
      assert.match(art.etag, /^"[\w-]+"$/);
    }
    assert.equal(await readCover(join(dir, 'c.wav')), null);
    assert.equal(await readCover(join(dir, 'd.wav')), null, 'an unreadable file has no cover, no error');
    assert.equal(await readCover(join(dir, 'missing.wav')), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const ffmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
test('cover art in an MP3 (ID3v2 APIC) and an MP4/M4A (covr) made by ffmpeg is read', { skip: ffmpeg ? false : 'ffmpeg is not installed (apt-get install ffmpeg): the MP3 and MP4 covers are not checked' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dc-cover-'));
  try {
    writeFileSync(join(dir, 'cover.png'), PNG);
    const make = (out: string, codec: string[]) => {
      const r = spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-i', join(dir, 'cover.png'), '-map', '0', '-map', '1', ...codec, '-c:v', 'copy', '-disposition:v', 'attached_pic', join(dir, out)], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    };
    make('a.mp3', ['-c:a', 'libmp3lame', '-id3v2_version', '3']);
    make('a.m4a', ['-c:a', 'aac']);
    for (const f of ['a.mp3', 'a.m4a']) {
      const art = await readCover(join(dir, f));
      assert.ok(art, f);
      assert.equal(art.type, 'image/png', f);
      assert.deepEqual(art.data, PNG, f);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('covers and catalog pages over HTTP: a track upserted after start is found, its cover served with caching, the album art shared, no path shown', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dc-cover-'));
  const store = new MemoryStore();
  const { state, config } = await seedWorld(store);
  config.home = join(dir, 'home');
  const app = await buildServer({ store, state, config, auth: false });
  try {
    writeFileSync(join(dir, 'art.wav'), wavWithTag(id3WithPicture(PNG, 'image/png')));
    writeFileSync(join(dir, 'plain.wav'), wavWithTag());
    const albums = [{ album_id: 'al-art', title: 'Painted Sleeve', artist_ids: ['ra'], release_date: '2024-02-01', album_type: 'album' }, { album_id: 'al-plain', title: 'Plain Sleeve', artist_ids: ['ra'], release_date: '2024-03-01', album_type: 'single' }];
    const track = (id: string, title: string, album: string, file?: string) => ({ track_id: id, title, artist_ids: ['ra'], album_id: album, duration_ms: 100, release_date: '2024-02-01', ...(file ? { audio_path: join(dir, file) } : {}) });
    const post = (url: string, rows: unknown[]) => app.inject({ method: 'POST', url, payload: rows });
    assert.equal((await post('/v1/albums', albums)).statusCode, 200);
    const put = await post('/v1/tracks', [track('t-art', 'Velvet Lantern', 'al-art', 'art.wav'), track('t-sib', 'Velvet Sibling', 'al-art', 'plain.wav'), track('t-plain', 'Bare Room', 'al-plain', 'plain.wav'), track('t-none', 'Silent Room', 'al-plain')]);
    assert.equal(put.statusCode, 200, put.body);

    // the serving catalog has the new rows at once: search, track and artist pages
    const found = (await app.inject({ url: '/v1/search?q=velvet%20lantern' })).json() as { tracks: { track_id: string; album: string; has_audio: boolean }[] };
    assert.deepEqual(found.tracks.map((t) => [t.track_id, t.album, t.has_audio]), [['t-art', 'Painted Sleeve', true]]);
    const artist = (await app.inject({ url: '/v1/artists/ra' })).json() as { genres: string[]; releases: { title: string; type: string }[]; top_tracks: { track_id: string }[] };
    assert.deepEqual(artist.genres, ['ambient']);
    assert.deepEqual(artist.releases.map((r) => [r.title, r.type]), [['Plain Sleeve', 'single'], ['Painted Sleeve', 'album']]);
    assert.ok(artist.top_tracks.some((t) => t.track_id === 't-art'));
    assert.ok(((await app.inject({ url: '/v1/audio/tracks' })).json() as { track_ids: string[] }).track_ids.includes('t-art'));

    const art = await app.inject({ url: '/v1/tracks/t-art/cover' });
    assert.equal(art.statusCode, 200);
    assert.equal(art.headers['content-type'], 'image/png');
    assert.deepEqual(art.rawPayload, PNG);
    assert.match(String(art.headers['cache-control']), /max-age=\d+/);
    const again = await app.inject({ url: '/v1/tracks/t-art/cover', headers: { 'if-none-match': String(art.headers.etag) } });
    assert.equal(again.statusCode, 304);
    // a track whose own file has no art shows its album's
    const sib = await app.inject({ url: '/v1/tracks/t-sib/cover' });
    assert.equal(sib.statusCode, 200);
    assert.deepEqual(sib.rawPayload, PNG);
    // no art anywhere on the album: nothing to show, no error (the app draws its tile)
    const plain = await app.inject({ url: '/v1/tracks/t-plain/cover' });
    assert.equal(plain.statusCode, 204);
    assert.equal(plain.rawPayload.length, 0);
    const none = await app.inject({ url: '/v1/tracks/t-none/cover' });
    assert.equal(none.statusCode, 404);
    assert.ok(!none.body.includes(dir), 'the answer names no server path');
    assert.equal((await app.inject({ url: '/v1/tracks/no-such-track/cover' })).statusCode, 404);
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('web files: every page, module and library is served whole, gzipped when asked (the build\'s body or one made on first use)', async () => {
  const store = new MemoryStore();
  const { state, config } = await seedWorld(store);
  const app = await buildServer({ store, state, config, auth: false });
  try {
    const sources = webSources();
    assert.ok(['index.html', 'admin.html', 'app.js', 'admin.js', 'vendor/preact.js', 'vendor/uplot.js'].every((n) => sources.has(n)), [...sources.keys()].join(','));
    for (const [name, path] of sources) {
      const url = name === 'index.html' ? '/' : name === 'admin.html' ? '/admin' : `/web/${name}`;
      const gz = await app.inject({ url, headers: { 'accept-encoding': 'gzip, br' } });
      assert.equal(gz.statusCode, 200, url);
      assert.equal(gz.headers['content-encoding'], 'gzip', url);
      assert.deepEqual(gunzipSync(gz.rawPayload), readFileSync(path), url);
      const plain = await app.inject({ url });
      assert.equal(plain.headers['content-encoding'], undefined, url);
      assert.deepEqual(plain.rawPayload, readFileSync(path), url);
    }
    assert.equal((await app.inject({ url: '/web/no-such.js' })).statusCode, 404);
  } finally {
    await app.close();
  }
});

test('admin series: made once, then answered at once; a minute later the older answer is given while a new one is made in the background', async () => {
  const store = new MemoryStore();
  const { state, config } = await seedWorld(store);
  // the world's listens are on 2024-05-01 (testing/world.ts)
  const clock = new FixedClock('2024-05-02T12:00:00Z');
  const app = await buildServer({ store, state, config, auth: false, clock });
  try {
    const total = async () => ((await app.inject({ url: '/v1/admin/series?days=7' })).json() as { listens: number[] }).listens.reduce((a, b) => a + b, 0);
    const before = await total();
    assert.equal(before, worldListens().length);
    const added = await app.inject({ method: 'POST', url: '/v1/listens', payload: [play('u0', 'a4', 600)] });
    assert.equal(added.statusCode, 200, added.body);
    assert.equal(await total(), before, 'the same minute: the same answer');
    clock.advance(60_000);
    assert.equal(await total(), before, 'a minute later: the older answer at once…');
    let after = before;
    for (let i = 0; i < 200 && after === before; i++) {
      await new Promise((r) => setTimeout(r, 25));
      after = await total();
    }
    assert.equal(after, before + 1, '…and the new one once made');
  } finally {
    await app.close();
  }
});

test('audio features in words: key names, tempo in BPM, 6 read as compound 6/8 (not 6/4), an unknown meter (0) left out, LUFS with a minus sign', () => {
  assert.equal(featureWords({ key: 0, mode: 1, tempo_bpm: 120, time_signature: 3, loudness_lufs: -9.4 }).summary, 'C major · 120 BPM · 3/4 · −9.4 LUFS');
  assert.equal(featureWords({ key: 9, mode: 0, tempo_bpm: 64.6, time_signature: 6 }).summary, 'A minor · 65 BPM · 6/8');
  assert.equal(featureWords({ key: 2, mode: 1, time_signature: 2 }).summary, 'D major · 2/4');
  assert.equal(featureWords({ tempo_bpm: 90, time_signature: 0 }).summary, '90 BPM');
});

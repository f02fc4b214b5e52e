/**
 * The web app's catalog routes over the serving catalog (a track upserted after start is searchable
 * and playable at once) and cover art: embedded art read from a WAV's ID3v2 APIC frame and a FLAC
 * PICTURE block (files written here), the album's art for a track whose own file has none, 204 for
 * files without art, 404 for a track without audio, ETag revalidation, no server path in an answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer } from './app.ts';
import { readCover } from './covers.ts';
import { webSources } from './web-files.ts';
import { MemoryStore } from '../store/testing/memory.ts';
import { seedWorld } from './testing/world.ts';
import { encodeWav } from '../generate/index.ts';

/** A 1×1 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');

const u32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const syncsafe = (n: number) => Buffer.from([(n >>> 21) & 127, (n >>> 14) & 127, (n >>> 7) & 127, n & 127]);

/** An ID3v2.3 tag with one APIC frame (front cover) holding `image` of type `mime`. */
function id3WithPicture(image: Buffer, mime: string): Buffer {
  const body = Buffer.concat([Buffer.from([0]), Buffer.from(`${mime}\0`, 'latin1'), Buffer.from([3]), Buffer.from('\0', 'latin1'), image]);
  const frame = Buffer.concat([Buffer.from('APIC', 'latin1'), u32(body.length), Buffer.from([0, 0]), body]);
  return Buffer.concat([Buffer.from('ID3', 'latin1'), Buffer.from([3, 0, 0]), syncsafe(frame.length), frame]);
}

/** A short WAV with `tag` as its `id3 ` chunk (how WAV files carry ID3 tags). */
function wavWithTag(tag?: Buffer): Buffer {
  const wav = encodeWav(new Float32Array(2_205).fill(0.1), 22_050);
  if (!tag) return wav;
  const pad = tag.length % 2 ? Buffer.from([0]) : Buffer.alloc(0);
  const chunk = Buffer.concat([Buffer.from('id3 ', 'latin1'), Buffer.from(new Uint32Array([tag.length]).buffer), tag, pad]);
  const out = Buffer.concat([wav, chunk]);
  out.writeUInt32LE(out.length - 8, 4);
  return out;
}

/** A FLAC stream's metadata: STREAMINFO, then a PICTURE block (front cover) holding `image`; no audio frames. */
function flacWithPicture(image: Buffer, mime: string): Buffer {
  const info = Buffer.alloc(34);
  info.writeUInt16BE(4096, 0);
  info.writeUInt16BE(4096, 2);
  // 20 bits sample rate (44 100), 3 bits channels − 1 (0), 5 bits bits per sample − 1 (15), 36 bits samples (0)
  const packed = (44_100n << 44n) | (0n << 41n) | (15n << 36n);
  info.writeBigUInt64BE(packed, 10);
  const pic = Buffer.concat([u32(3), u32(mime.length), Buffer.from(mime, 'latin1'), u32(0), u32(1), u32(1), u32(24), u32(0), u32(image.length), image]);
  const header = (last: boolean, type: number, len: number) => Buffer.from([(last ? 0x80 : 0) | type, (len >>> 16) & 255, (len >>> 8) & 255, len & 255]);
  return Buffer.concat([Buffer.from('fLaC', 'latin1'), header(false, 0, 34), info, header(true, 6, pic.length), pic]);
}

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

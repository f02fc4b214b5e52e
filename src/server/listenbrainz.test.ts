import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from './app.ts';
import { MemoryStore } from '../store/testing/memory.ts';
import { seedWorld } from './testing/world.ts';
import { createKey } from './auth.ts';
import { importPath, trackIdOf } from '../ingest/index.ts';
import { lbToRows, type LbSubmission } from './listenbrainz.ts';
import { TrackMatcher } from '../domain/match.ts';

/** The same three listens, as a scrobbler sends them and as a ListenBrainz export holds them: two of catalog tracks in other spellings, one unknown. */
const payload = [
  { listened_at: 1714564800, track_metadata: { artist_name: 'Radio Alpha', track_name: 'Alpha Song 1 (Remastered 2011)', additional_info: { duration_ms: 201_000 } } },
  { listened_at: 1714565100, track_metadata: { artist_name: 'RADIO ALPHA feat. Someone', track_name: 'alpha  song 2' } },
  { listened_at: 1714565400, track_metadata: { artist_name: 'Dool', track_name: 'Vantablack', release_name: 'Here Now, There Then', additional_info: { duration_ms: 240_000 } } },
];

describe('one identity for a listen, by HTTP and by import', () => {
  let app: FastifyInstance;
  let store: MemoryStore;
  let dir: string;
  const keys: Record<string, string> = {};
  before(async () => {
    store = new MemoryStore();
    const { state, config } = await seedWorld(store);
    config.home = '/nonexistent-deepcut-home';
    app = await buildServer({ store, state, config });
    for (const u of ['http-first', 'import-first']) keys[u] = (await createKey(store, { scopes: ['ingest'], userId: u })).key;
    dir = mkdtempSync(join(tmpdir(), 'deepcut-lb-doors-'));
  });
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const submit = (user: string) => app.inject({ method: 'POST', url: '/1/submit-listens', headers: { authorization: `Token ${keys[user]}` }, payload: { listen_type: 'import', payload } });
  const exportFile = (user: string) => {
    const f = join(dir, `${user}.jsonl`);
    writeFileSync(f, payload.map((l) => JSON.stringify({ ...l, user_name: user })).join('\n') + '\n');
    return f;
  };
  const expected = ['a1', 'a2', trackIdOf('Dool', 'Vantablack')].sort();

  test('HTTP then export: 3 listens on the same 3 tracks, the import all duplicates', async () => {
    assert.equal((await submit('http-first')).statusCode, 200);
    const sent = await store.list('listens', { where: { user_id: 'http-first' } });
    assert.deepEqual(sent.map((l) => l.track_id).sort(), expected, 'catalog tracks matched by name, the unknown one created');
    const summary = await importPath(store, 'listenbrainz', exportFile('http-first'));
    assert.deepEqual(summary.totals.listens, { read: 3, imported: 0, duplicates: 3, quarantined: 0 });
    const all = await store.list('listens', { where: { user_id: 'http-first' } });
    assert.equal(all.length, 3);
    assert.deepEqual(all.map((l) => l.listen_id).sort(), sent.map((l) => l.listen_id).sort());
  });

  test('export then HTTP: the submission stores nothing new', async () => {
    const tracksBefore = await store.count('tracks');
    const summary = await importPath(store, 'listenbrainz', exportFile('import-first'));
    assert.equal(summary.totals.listens?.imported, 3);
    assert.equal(await store.count('tracks'), tracksBefore, 'no track created twice: Vantablack exists from the first test');
    const before = await store.count('listens');
    assert.equal((await submit('import-first')).statusCode, 200);
    assert.equal(await store.count('listens'), before);
    assert.deepEqual((await store.list('listens', { where: { user_id: 'import-first' } })).map((l) => l.track_id).sort(), expected);
  });

  test('matched scrobbles reach the recommendations: the listener of two Alpha songs is offered the other Alpha songs', async () => {
    const read = (await createKey(store, { scopes: ['read'] })).key;
    const r = await app.inject({ url: '/v1/users/http-first/recommendations?k=3', headers: { authorization: `Bearer ${read}` } });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json().items.map((c: { track_id: string }) => c.track_id).sort(), ['a0', 'a3', 'a4']);
  });

  test('/metrics counts the submitted listens by match outcome', async () => {
    const text = (await app.inject({ url: '/metrics' })).body;
    assert.match(text, /deepcut_track_matches_total\{endpoint="listenbrainz",outcome="name"\} 4/);
    assert.match(text, /deepcut_track_matches_total\{endpoint="listenbrainz",outcome="created"\} 1/);
    assert.match(text, /deepcut_track_matches_total\{endpoint="listenbrainz",outcome="history"\} 1/);
  });
});

describe('lbToRows', () => {
  test('resolves against the catalog it is given; a second spelling in the same request finds the track created for the first', () => {
    const catalog = TrackMatcher.of({ artists: [{ artist_id: 'ar1', name: 'Sigur Rós', mbid: 'A-MBID' }], tracks: [{ track_id: 'cat1', title: 'Hoppípolla', artist_ids: ['ar1'], duration_ms: 268_000, release_date: '2005-09-12', mbid: 'REC-1' }] });
    const s: LbSubmission = {
      listen_type: 'import',
      payload: [
        { listened_at: 10, track_metadata: { artist_name: 'Sigur Ros', track_name: 'Hoppipolla', additional_info: { duration: 270 } } },
        { listened_at: 20, track_metadata: { artist_name: 'whoever', track_name: 'anything', additional_info: { recording_mbid: 'rec-1' } } },
        { listened_at: 30, track_metadata: { artist_name: 'Sigur Rós', track_name: 'Glósóli' } },
        { listened_at: 40, track_metadata: { artist_name: 'sigur rós', track_name: 'GLOSOLI!' } },
      ],
    };
    const r = lbToRows('u', s, 30_000, catalog);
    assert.deepEqual(r.listens.map((l) => l.track_id), ['cat1', 'cat1', trackIdOf('Sigur Rós', 'Glósóli'), trackIdOf('Sigur Rós', 'Glósóli')]);
    assert.deepEqual(r.outcomes, { mbid: 1, isrc: 0, name: 1, history: 1, created: 1 });
    assert.deepEqual(r.artists, [], 'the created track is by the catalog artist');
    assert.deepEqual(r.tracks.map((t) => [t.title, t.artist_ids, t.duration_ms, t.release_date]), [['Glósóli', ['ar1'], 1, '1900-01-01']]);
    assert.equal(new Set(r.listens.map((l) => l.listen_id)).size, 4);
    assert.deepEqual(lbToRows('u', { listen_type: 'playing_now', payload: [s.payload[0]] }, 30_000, catalog).listens, []);
  });
});
